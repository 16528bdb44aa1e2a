"""Who an address is, for pages: the one place that turns addresses into display names.

Today the name is the organisation that registered the address as a signer key
or an alliance member address; an address nobody registered is shown shortened
(``0x1234ab…cdef``). A trust registry of organisations plugs in here and every
page follows.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.alliance.models import AllianceMember
from backend.orgs.models import Organisation, SignerKey


def short_address(address: str) -> str:
    return address if len(address) <= 14 else f"{address[:8]}…{address[-4:]}"


def display_names(*, session: Session, addresses: Iterable[str | None]) -> dict[str, str]:
    """Display name per address (every address given is a key of the result)."""
    wanted = {a for a in addresses if a}
    if not wanted:
        return {}
    found: dict[str, str] = {}
    for model in (SignerKey, AllianceMember):
        rows = session.execute(
            select(model.address, Organisation.name)
            .join(Organisation, Organisation.id == model.org_id)
            .where(model.address.in_(wanted))
        ).all()
        for address, name in rows:
            found.setdefault(address, name)
    return {a: found.get(a) or short_address(a) for a in wanted}
