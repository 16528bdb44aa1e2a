"""Evidence photos of milestones, stored in the database so every replica serves them.

Content-addressed: a photo is stored under the SHA-256 of its bytes. The server
recomputes the hash and refuses a photo whose bytes do not match the hash it is
uploaded under, so a stored photo is always the one a hash names. Only JPEG, PNG
and WebP images that Pillow can parse are kept, up to :data:`MAX_BYTES` each.

A milestone signs one ``evidenceHash`` over all its photos
(:func:`backend.chain.typed_data.shipments.evidence_set_hash`, the rule
``waymark milestone sign --evidence … --evidence …`` applies too): one photo, its
hash; several, the SHA-256 of their hashes in order. The ordered list of several
is kept here as a row of its own (:data:`SET_MEDIA_TYPE`, the 32-byte hashes
concatenated), content-addressed like a photo, so its key *is* the signed hash and
the photos a milestone shows are exactly the ones its signature covers. A
shipment's parties upload and read its photos; the operator reads them too.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.chain.typed_data.shipments import MAX_EVIDENCE_FILES, evidence_set_hash
from backend.common.types import hex_bytes, to_hex
from backend.errors import InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType
from backend.orgs.service import Principal
from backend.shipments.models import ShipmentEvidence
from backend.shipments.queries import SET_MEDIA_TYPE, party_shipment

# Below the service-wide body limit, so a phone's photo gets this message, not the generic one.
MAX_BYTES = 3 * 1024 * 1024
# Pillow's format names → the media type the photo is served with.
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored photo: its hash (the signed ``evidenceHash``), type and size."""

    evidence_hash: str
    media_type: str
    size: int
    created: bool


def image_type(content: bytes) -> str:
    """The media type of a JPEG, PNG or WebP image (415 for anything else)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(content)) as image:
                kind = image.format
                image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        kind = None
    except (OSError, SyntaxError, ValueError):
        kind = None
    if kind not in MEDIA_TYPES:
        raise UnsupportedMediaType(
            "photo: only JPEG, PNG or WebP images are kept as evidence; this file is not one"
        )
    return MEDIA_TYPES[kind]


def store(
    *,
    session: Session,
    shipment_id: bytes,
    claimed_hash: bytes,
    content: bytes,
    org_id: int,
    uploaded_by: str,
) -> Stored:
    """Keep ``content`` as evidence of ``shipment_id`` under its hash (idempotent)."""
    if not content:
        raise InvalidInput("photo: the upload is empty")
    if len(content) > MAX_BYTES:
        raise PayloadTooLarge(
            f"photo: {len(content)} bytes is over the {MAX_BYTES // (1024 * 1024)} MiB limit; "
            "take it again at a lower resolution"
        )
    digest = hashlib.sha256(content).digest()
    actual = to_hex(digest)  # the stored form
    if digest != claimed_hash:
        raise InvalidInput(
            f"evidence_hash: the photo's SHA-256 is {actual}, not {to_hex(claimed_hash)}"
        )
    row, created = _keep(
        session, to_hex(shipment_id), actual, image_type(content), content, org_id, uploaded_by
    )
    return Stored(actual, row.media_type, row.size, created=created)


def _keep(
    session: Session,
    shipment_id: str,
    hash_: str,
    media_type: str,
    content: bytes,
    org_id: int,
    uploaded_by: str,
) -> tuple[ShipmentEvidence, bool]:
    """Store ``content`` under (shipment, hash), both 0x-hex as stored, unless it is kept
    already, also by a replica racing this one: content-addressed, the kept row is the same
    content. True if stored now."""
    key = (shipment_id, hash_)
    row = ShipmentEvidence(
        shipment_id=shipment_id,
        evidence_hash=hash_,
        media_type=media_type,
        size=len(content),
        content=content,
        org_id=org_id,
        uploaded_by=uploaded_by,
    )
    kept = session.get(ShipmentEvidence, key)
    if kept is not None:
        return kept, False
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return session.get(ShipmentEvidence, key) or row, False
    return row, True


def held(*, session: Session, shipment_id: bytes, hash_: str) -> bool:
    """Whether the store holds a photo with this hash for this shipment."""
    found = session.scalar(
        select(ShipmentEvidence.evidence_hash).where(
            ShipmentEvidence.shipment_id == to_hex(shipment_id),
            ShipmentEvidence.evidence_hash == hash_,
            ShipmentEvidence.media_type != SET_MEDIA_TYPE,
        )
    )
    return found is not None


def signed_hash(
    *, session: Session, shipment_id: bytes, photos: list[str], org_id: int, uploaded_by: str
) -> str:
    """The ``evidenceHash`` to sign over ``photos`` (held photos of this shipment, in order);
    the list of several is kept under that hash (idempotent)."""
    if not 1 <= len(photos) <= MAX_EVIDENCE_FILES:
        raise InvalidInput(f"evidence: attach 1 to {MAX_EVIDENCE_FILES} photos, not {len(photos)}")
    for hash_ in photos:
        if not held(session=session, shipment_id=shipment_id, hash_=hash_):
            raise InvalidInput(
                f"evidence: photo {hash_} has not reached the service; attach it again"
            )
    hashes = [hex_bytes(h) for h in photos]
    try:
        signed = to_hex(evidence_set_hash(hashes))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if len(photos) > 1:
        content = b"".join(hashes)
        _keep(session, to_hex(shipment_id), signed, SET_MEDIA_TYPE, content, org_id, uploaded_by)
    return signed


def read(*, session: Session, shipment_id: bytes, hash_: bytes) -> ShipmentEvidence:
    """One stored photo of a shipment (404 when there is none)."""
    sid, photo = to_hex(shipment_id), to_hex(hash_)
    row = session.get(ShipmentEvidence, (sid, photo))
    if row is None or row.media_type == SET_MEDIA_TYPE:
        raise NotFound(f"no evidence photo {photo} for shipment {sid}")
    return row


def read_for(
    *, session: Session, principal: Principal, shipment_id: bytes, hash_: bytes
) -> ShipmentEvidence:
    """A stored photo for the operator or a party of the shipment (404 for anyone else)."""
    if not principal.operator:
        party_shipment(session=session, principal=principal, shipment_id=shipment_id)
    return read(session=session, shipment_id=shipment_id, hash_=hash_)
