"""Which passport answers a GS1 Digital Link, and the links that point at it.

Resolution order for a link: the item passport (GTIN + lot + serial as given),
then the batch passport (GTIN + lot), then the model passport (GTIN); the
answer says which one answered. Passport data comes from the passports public
reads (:mod:`backend.passports.public`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from backend.common.types import hex_bytes, to_hex
from backend.errors import NotFound
from backend.gs1.digital_link import DigitalLink, KeyLevel, build_digital_link
from backend.passports import public as passports_public
from backend.qr.linkset import linkset


@dataclass(frozen=True, slots=True)
class Resolved:
    """The passport that answers a link, and at which level it was found."""

    link: DigitalLink
    passport_id: str
    level: KeyLevel
    passport: Any  # passports_public.public_passport(...)


def resolve(*, session: Session, link: DigitalLink) -> Resolved:
    """The most specific passport for ``link``; :class:`NotFound` if none is published."""
    for key in link.fallbacks():
        passport = passports_public.public_passport(session=session, passport_id=key.passport_id)
        if passport is not None and passport.document is not None:
            return Resolved(link.without_link_type(), to_hex(key.passport_id), key.level, passport)
    raise NotFound(f"no passport is published for {link.hri}")


def by_id(*, session: Session, passport_id: str) -> Resolved:
    """The published passport ``passport_id`` at its own link; :class:`NotFound` otherwise."""
    pid = passport_id.lower()
    passport = passports_public.public_passport(session=session, passport_id=hex_bytes(pid))
    if passport is None or passport.document is None or passport.gtin is None:
        raise NotFound(f"no passport {pid}")
    link = build_digital_link(passport.gtin, lot=passport.lot, serial=passport.serial)
    return Resolved(link, pid, link.level, passport)


def link_header(path: str, *, base: str) -> str:
    """RFC 8288 ``Link`` header of a Digital Link path: its linkset and its page."""
    page = base.rstrip("/") + path
    return (
        f'<{page}?linkType=all>; rel="linkset"; type="application/linkset+json", '
        f'<{page}>; rel="https://gs1.org/voc/pip"; type="text/html"'
    )


def linkset_for(resolved: Resolved, *, base: str) -> dict[str, Any]:
    """The GS1 linkset of the resolved link."""
    return linkset(resolved.link, base=base, credential=credential_for(resolved, base=base))


def credential_for(resolved: Resolved, *, base: str) -> str:
    """The UNTP DPP credential of the resolved passport's latest version."""
    return f"{base.rstrip('/')}/v1/passports/{resolved.passport_id}/credential"
