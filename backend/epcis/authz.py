"""Who may report on the objects an EPCIS event names (the subject rule, for EPCIS).

The objects of an event are its EPCs (``epcList``, ``childEPCs``, ``inputEPCList``,
``outputEPCList``, ``parentID``) and the classes of its quantity lists. Each is
canonicalised (CBV 2.0 rules 17-18) and judged:

1. a **passport** (the GTIN with its serial, lot, or alone, as Waymark keys passports)
   or a **shipment** (its SSCC) that Waymark knows is judged by
   :func:`backend.orgs.subjects.refusals`, the rule of every write: the issuer, its
   delegates, and parties to a shipment carrying it speak for a passport; parties
   speak for a shipment, and through it for every passport it carries (so an event
   on the SSCC is refused once the issuer withdraws the seller's delegation);
2. any other GS1 key may be reported on by the organisation holding the GS1 company
   prefix it was allocated under (``OrganisationRegistry`` read model);
3. an identifier that is no GS1 key cannot be attributed to anyone and is refused.

Every refusal names :data:`backend.orgs.subjects.RULE` and the identifier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.common.types import to_hex
from backend.epcis.identifiers import COMPANY_PREFIX_KEYS, canonical_dl
from backend.errors import Forbidden
from backend.gs1.digital_link import CANONICAL_HOST
from backend.gs1.keys import passport_id
from backend.orgs import subjects
from backend.orgs.models import Organisation, RegistryPrefix
from backend.relayer.organisations import chain_org_id
from backend.shipments.models import ShipmentManifest

EPC_ROLES = (
    ("epcList", "epc"),
    ("childEPCs", "epc"),
    ("inputEPCList", "input"),
    ("outputEPCList", "output"),
)
CLASS_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def objects_of(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(role, canonical uri)`` of every object the event names (role as in the store)."""
    out: list[tuple[str, str]] = []

    def add(role: str, raw: Any) -> None:
        if isinstance(raw, str) and raw.strip():
            out.append((role, canonical_dl(raw.strip()) or raw.strip()))

    add("parent", event.get("parentID"))
    for key, role in EPC_ROLES:
        for raw in event.get(key) or []:
            add(role, raw)
    for key in CLASS_LISTS:
        for element in event.get(key) or []:
            if isinstance(element, Mapping):
                add("class", element.get("epcClass"))
    return out


@dataclass(frozen=True)
class _Key:
    ai: str
    value: str
    qualifier: tuple[str, str] | None


def _parse(uri: str) -> _Key | None:
    if not uri.startswith(CANONICAL_HOST + "/"):
        return None
    parts = uri[len(CANONICAL_HOST) + 1 :].split("/")
    if len(parts) not in (2, 4):
        return None
    qualifier = (parts[2], parts[3]) if len(parts) == 4 else None
    return _Key(parts[0], parts[1], qualifier)


def _company_part(key: _Key) -> str:
    """The digits that start with the GS1 company prefix the key was allocated under."""
    skip = COMPANY_PREFIX_KEYS.get(key.ai, 0)
    return key.value[skip:]


def _passport(key: _Key) -> str | None:
    if key.ai != "01" or not key.value.isdigit():
        return None
    lot = serial = None
    if key.qualifier is not None:
        ai, value = key.qualifier[0], unquote(key.qualifier[1])
        if ai == "10":
            lot = value
        elif ai == "21":
            serial = value
        else:
            return None
    try:
        return to_hex(passport_id(key.value, lot=lot, serial=serial))
    except ValueError:
        return None


def prefixes_of(session: Session, org: Organisation) -> set[str]:
    """GS1 company prefixes ``org`` holds now (as the registry read model has them)."""
    return set(
        session.scalars(
            select(RegistryPrefix.prefix).where(
                RegistryPrefix.org_id == chain_org_id(org),
                RegistryPrefix.released_block.is_(None),
            )
        )
    )


def refusals(
    *, session: Session, org: Organisation, events: Sequence[Iterable[str]]
) -> list[list[str]]:
    """For each event (its canonical object uris), the reasons ``org`` may not report it."""
    keys = {uri: _parse(uri) for uris in events for uri in uris}
    passports = {uri: p for uri, k in keys.items() if k and (p := _passport(k))}
    ssccs = {k.value: uri for uri, k in keys.items() if k and k.ai == "00"}
    shipments: dict[str, str] = {}
    if ssccs:
        for sid, sscc in session.execute(
            select(ShipmentManifest.shipment_id, ShipmentManifest.sscc).where(
                ShipmentManifest.sscc.in_(list(ssccs))
            )
        ):
            if sscc is not None:
                shipments[ssccs[sscc]] = sid
    known = {*passports.values(), *shipments.values()}
    found = subjects.speakers(session=session, subjects=known)
    # The one rule of every write: a shipment is also about the passports it carries.
    refused = subjects.refusals(session=session, org_id=org.id, subjects=known, org_slug=org.slug)
    held = prefixes_of(session, org)
    out: list[list[str]] = []
    for uris in events:
        reasons: list[str] = []
        for uri in dict.fromkeys(uris):
            reason = _judge(uri, keys[uri], passports, shipments, found, refused, held, org)
            if reason:
                reasons.append(reason)
        out.append(reasons)
    return out


def _judge(
    uri: str,
    key: _Key | None,
    passports: Mapping[str, str],
    shipments: Mapping[str, str],
    found: Mapping[str, subjects.Speakers],
    refused: Mapping[str, Forbidden],
    held: set[str],
    org: Organisation,
) -> str | None:
    who = f"organisation {org.slug!r}"
    for subject in (passports.get(uri), shipments.get(uri)):
        if subject is None:
            continue
        kind = found[subject].kind
        if kind is not subjects.SubjectKind.UNKNOWN:
            denial = refused.get(subject)
            if denial is None:
                return None
            if found[subject].basis(org.id) is None:
                return (
                    f"{subjects.RULE}: {who} may not report on {uri} "
                    f"({kind.value} {subject}); {subjects.RULE_TEXT}"
                )
            return f"{denial.detail} (reported as {uri})"
    if key is None or key.ai not in COMPANY_PREFIX_KEYS:
        return (
            f"{subjects.RULE}: {who} may not report on {uri}: it is not a GS1 key, "
            "so no organisation can be shown to own it"
        )
    company = _company_part(key)
    if any(company.startswith(p) for p in held):
        return None
    return (
        f"{subjects.RULE}: {who} may not report on {uri}: it is neither a passport or "
        "shipment it speaks for nor a GS1 key under a GS1 company prefix it holds"
    )
