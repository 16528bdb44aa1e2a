"""Evidence photos of milestones, stored in the database so every replica serves them.

Content-addressed: a photo is stored under the SHA-256 of its bytes, the value a
milestone signs as ``evidenceHash`` (as ``waymark milestone sign --evidence`` puts it). The server recomputes the hash and
refuses a photo whose bytes do not match the hash it is uploaded under, so a
stored photo is always the one a signature names. Only JPEG, PNG and WebP
images that Pillow can parse are kept, up to :data:`MAX_BYTES`. A shipment's
parties upload and read its photos; the operator reads them too.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.common.types import to_hex
from backend.errors import InvalidInput, NotFound, PayloadTooLarge, UnsupportedMediaType
from backend.orgs.service import Principal
from backend.shipments.models import ShipmentEvidence
from backend.shipments.queries import party_shipment

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


def evidence_hash(content: bytes) -> str:
    """The ``evidenceHash`` of a photo: SHA-256 of its bytes, 0x-hex."""
    return to_hex(hashlib.sha256(content).digest())


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
    shipment_id: str,
    claimed_hash: str,
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
    actual = evidence_hash(content)
    if actual != claimed_hash.lower():
        raise InvalidInput(
            f"evidence_hash: the photo's SHA-256 is {actual}, not {claimed_hash.lower()}"
        )
    media_type = image_type(content)
    row = session.get(ShipmentEvidence, (shipment_id, actual))
    if row is not None:
        return Stored(actual, row.media_type, row.size, created=False)
    session.add(
        ShipmentEvidence(
            shipment_id=shipment_id,
            evidence_hash=actual,
            media_type=media_type,
            size=len(content),
            content=content,
            org_id=org_id,
            uploaded_by=uploaded_by,
        )
    )
    session.commit()
    return Stored(actual, media_type, len(content), created=True)


def held(*, session: Session, shipment_id: str, hash_: str) -> bool:
    """Whether the store holds a photo with this hash for this shipment."""
    found = session.scalar(
        select(ShipmentEvidence.evidence_hash).where(
            ShipmentEvidence.shipment_id == shipment_id, ShipmentEvidence.evidence_hash == hash_
        )
    )
    return found is not None


def read(*, session: Session, shipment_id: str, hash_: str) -> ShipmentEvidence:
    """One stored photo of a shipment (404 when there is none)."""
    row = session.get(ShipmentEvidence, (shipment_id, hash_))
    if row is None:
        raise NotFound(f"no evidence {hash_} for shipment {shipment_id}")
    return row


def read_for(
    *, session: Session, principal: Principal, shipment_id: str, hash_: str
) -> ShipmentEvidence:
    """A stored photo for the operator or a party of the shipment (404 for anyone else)."""
    if not principal.operator:
        party_shipment(session=session, principal=principal, shipment_id=shipment_id)
    return read(session=session, shipment_id=shipment_id, hash_=hash_)
