"""``SupplyEvent``: an off-chain event signed by an organisation's signer key.

The domain binds events to the anchoring chain: name ``Waymark Events``,
version ``1``, the chain id and the ``AnchorRegistry`` address as
``verifyingContract``. No contract checks these signatures; anyone can
recompute the digest from the public event fields and recover the signer.
"""

from __future__ import annotations

from enum import IntEnum

from eth_hash.auto import keccak

from backend.chain.eip712 import Domain, StructType

DOMAIN_NAME = "Waymark Events"
DOMAIN_VERSION = "1"

SUPPLY_EVENT = StructType(
    "SupplyEvent",
    (
        ("bytes32", "eventId"),
        ("bytes32", "subject"),
        ("uint8", "kind"),
        ("uint64", "occurredAt"),
        ("bytes8", "location"),
        ("bytes32", "payloadHash"),
    ),
)
SUPPLY_EVENT_TYPEHASH = SUPPLY_EVENT.typehash

# An issuer organisation's grant letting ``delegate`` (an organisation's slug)
# add events about ``subject`` (a passport id; 32 zero bytes: every passport
# the issuer issues). Signed by one of the issuer's signer keys over the same
# domain as the events it governs; ``salt`` makes each grant distinct.
SUBJECT_DELEGATION = StructType(
    "SubjectDelegation",
    (
        ("address", "issuer"),
        ("bytes32", "subject"),
        ("string", "delegate"),
        ("bytes32", "salt"),
    ),
)

# A brand's grant letting the organisation ``grantee`` (a slug) read the restricted
# passport sections up to ``level`` (``legitimate_interest`` or ``authority``) of
# ``passport`` (32 zero bytes: every passport the brand issues) until ``expiresAt``
# (unix seconds). Signed by an issuer key of the brand's organisation over the events
# domain; ``salt`` makes each grant distinct, and its digest is recorded once.
ACCESS_GRANT = StructType(
    "AccessGrant",
    (
        ("address", "issuer"),
        ("string", "grantee"),
        ("string", "level"),
        ("bytes32", "passport"),
        ("uint64", "expiresAt"),
        ("bytes32", "salt"),
    ),
)

# Withdraws the grant whose EIP-712 digest is ``grant``; signed by an issuer key of the
# same organisation (any of its current ones, so a rotated key can still revoke).
ACCESS_GRANT_REVOCATION = StructType("AccessGrantRevocation", (("bytes32", "grant"),))

# A captured EPCIS event signed by an organisation's signer key: ``digest`` is the
# SHA-256 inside its CBV 2.0 event hash id (``ni:///sha-256;<digest>?ver=CBV2.0``),
# signed over the same domain as supply events.
EPCIS_EVENT_HASH = StructType("EpcisEventHash", (("bytes32", "digest"),))


class EventKind(IntEnum):
    """What happened to the subject (a shipment or a passport)."""

    SCAN = 0
    SENSOR_READING = 1
    WAREHOUSE_MOVE = 2
    HANDOVER = 3
    INSPECTION = 4
    CUSTOMS_CLEARANCE = 5


def events_domain(chain_id: int, anchor_registry: str) -> Domain:
    return Domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, anchor_registry)


def location_bytes(code: str) -> bytes:
    """A UN/LOCODE (``NLRTM``) as ``bytes8``: ASCII, right-padded with zeros."""
    raw = code.encode("ascii")
    if len(raw) > 8:
        raise ValueError("location code longer than 8 bytes")
    return raw.ljust(8, b"\0")


def hash_supply_event(
    event_id: bytes,
    subject: bytes,
    kind: int,
    occurred_at: int,
    location: bytes,
    payload_hash: bytes,
) -> bytes:
    """``hashStruct(SupplyEvent)`` with the encoding spelled out (every field is one word).

    Same result as ``SUPPLY_EVENT.hash_struct`` (a test holds them equal) at a
    fraction of the cost of generic ABI encoding, which matters at ingest rates.
    """
    return keccak(
        SUPPLY_EVENT_TYPEHASH
        + event_id
        + subject
        + kind.to_bytes(32, "big")
        + occurred_at.to_bytes(32, "big")
        + location.ljust(32, b"\0")
        + payload_hash
    )


def supply_event_digest(domain_separator: bytes, struct_hash: bytes) -> bytes:
    return keccak(b"\x19\x01" + domain_separator + struct_hash)
