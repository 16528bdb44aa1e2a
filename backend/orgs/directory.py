"""Names, not addresses: which verified organisation holds a signer key.

Every public view (consumer page, proof bundle, dashboard, CLI) names a
signer, issuer, certifier or pool member through :func:`parties`, so a reader
sees "Pacific Bridge Logistics · carrier" with the address one click away,
never a bare ``0x…``. A key no organisation holds is shown as unregistered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eth_utils import to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.orgs.models import Organisation, SignerKey

UNREGISTERED = "Unregistered key"


@dataclass(frozen=True, slots=True)
class Party:
    """The organisation behind an address (``name`` is ``None`` if nobody holds the key)."""

    address: str
    name: str | None = None
    slug: str | None = None

    @property
    def verified(self) -> bool:
        return self.name is not None

    @property
    def display(self) -> str:
        return self.name or UNREGISTERED

    def label(self, role: str | None) -> str:
        """``Name · role``, e.g. ``Pacific Bridge Logistics · carrier``."""
        return f"{self.display} · {role}" if role else self.display


def parties(*, session: Session, addresses: Iterable[str]) -> dict[str, Party]:
    """lower-case address → :class:`Party` for each address (unregistered ones included)."""
    wanted = {to_checksum_address(a) for a in addresses if a}
    found: dict[str, Party] = {}
    items = sorted(wanted)
    for i in range(0, len(items), 500):
        rows = session.execute(
            select(SignerKey.address, Organisation.name, Organisation.slug)
            .join(Organisation, Organisation.id == SignerKey.org_id)
            .where(SignerKey.address.in_(items[i : i + 500]))
        )
        for address, name, slug in rows:
            found[address.lower()] = Party(address, name, slug)
    for a in wanted:
        found.setdefault(a.lower(), Party(a))
    return found


def party(*, session: Session, address: str) -> Party:
    return parties(session=session, addresses=[address])[address.lower()]
