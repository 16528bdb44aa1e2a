"""Names, not addresses: which verified organisation holds a signer key.

Every public view (consumer page, proof bundle, dashboard, CLI) names a
signer, issuer, certifier or pool member through :func:`parties`, so a reader
sees "Pacific Bridge Logistics · carrier" with the address one click away,
never a bare ``0x…``. Names come from the indexed ``OrganisationRegistry``
(the chain is the authority); a key no organisation holds is shown as
unregistered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from eth_utils import to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.chain.organisations import Role
from backend.orgs.models import Organisation, RegistryKey, RegistryOrganisation, SignerKey

UNREGISTERED = "Unregistered key"


@dataclass(frozen=True, slots=True)
class Party:
    """The organisation behind an address.

    ``verified``: the key is in the indexed ``OrganisationRegistry`` and ``name``
    is the registered legal name. A key only the service's records know (its
    registration still on its way to the chain) keeps the operator's name but is
    not verified; a key nobody knows has no name.
    """

    address: str
    name: str | None = None
    slug: str | None = None
    verified: bool = False
    roles: tuple[str, ...] = ()
    added_block: int | None = None
    revoked_block: int | None = None
    registry_id: str | None = None

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
        chunk = items[i : i + 500]
        for key, org in session.execute(
            select(RegistryKey, RegistryOrganisation)
            .join(RegistryOrganisation, RegistryOrganisation.org_id == RegistryKey.org_id)
            .where(RegistryKey.key.in_(chunk))
        ):
            found[key.key.lower()] = Party(
                key.key,
                org.legal_name,
                None,
                True,
                tuple(Role(key.roles).names()),
                key.added_block,
                key.revoked_block,
                org.org_id,
            )
        for address, name, slug in session.execute(
            select(SignerKey.address, Organisation.name, Organisation.slug)
            .join(Organisation, Organisation.id == SignerKey.org_id)
            .where(SignerKey.address.in_(chunk))
        ):
            current = found.get(address.lower())
            if current is None:
                found[address.lower()] = Party(address, name, slug)
            else:
                found[address.lower()] = replace(current, slug=slug)
    for a in wanted:
        found.setdefault(a.lower(), Party(a))
    return found


def party(*, session: Session, address: str) -> Party:
    return parties(session=session, addresses=[address])[address.lower()]
