"""The operator's organisations and signer keys, mirrored into ``OrganisationRegistry``.

The relayer account holds the registry's registrar role (see the deployment),
so when the operator creates an organisation or an organisation admin registers
or revokes a signer key, the matching registry call is queued in the same
transaction as the service's record: ``registerOrganisation`` (the id derived
from the slug), ``addKey`` (vouched for by the registrar, no key consent) and
``revokeKey``. The registry then decides: names, roles and key validity are
read back from the indexed registry (``backend.orgs.registry``), never from
the service's own tables.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend.chain import ChainClient
from backend.chain.organisations import (
    KeyGrant,
    OrganisationInput,
    OrganisationRegistryClient,
    Role,
    org_id_for,
)
from backend.orgs.models import Organisation, SignerKey
from backend.relayer.models import RelayRequest
from backend.relayer.service import RelayHandler, enqueue
from backend.relayer.signed import EffectHandler

PURPOSE_REGISTER = "org_register"
PURPOSE_ADD_KEY = "org_key_add"
PURPOSE_REVOKE_KEY = "org_key_revoke"


class RelayRegistrar:
    """Queues the registry writes that mirror the operator's records (``orgs.service.Registrar``)."""

    def __init__(self, registry: OrganisationRegistryClient) -> None:
        self.registry = registry

    def organisation_created(self, session: Session, org: Organisation) -> None:
        data = self.registry.register_calldata(
            org_id_for(org.slug), OrganisationInput(org.name, org.country, "", Role(org.roles))
        )
        self._queue(session, PURPOSE_REGISTER, data, org.id)

    def key_added(self, session: Session, org: Organisation, signer: SignerKey) -> None:
        grant = KeyGrant(org_id_for(org.slug), signer.address, Role(signer.roles))
        self._queue(session, PURPOSE_ADD_KEY, self.registry.add_key_calldata(grant), org.id)

    def key_revoked(self, session: Session, org: Organisation, signer: SignerKey) -> None:
        data = self.registry.revoke_key_calldata(signer.address)
        self._queue(session, PURPOSE_REVOKE_KEY, data, org.id)

    def _queue(self, session: Session, purpose: str, data: str, org_id: int) -> RelayRequest:
        # Not simulated: the registration a key grant depends on may still be queued.
        return enqueue(session, purpose=purpose, to=self.registry.address, data=data, org_id=org_id)


def _nothing(_session: Session, _request: RelayRequest) -> None:
    # The registry refuses a repeat with a named error, which the handler treats as done.
    return None


def registrar_relay_handlers(chain: ChainClient) -> dict[str, RelayHandler]:
    return {
        PURPOSE_REGISTER: EffectHandler(chain, _nothing, frozenset({"OrgAlreadyRegistered"})),
        PURPOSE_ADD_KEY: EffectHandler(chain, _nothing, frozenset({"OrgKeyAlreadyRegistered"})),
        PURPOSE_REVOKE_KEY: EffectHandler(chain, _nothing, frozenset({"OrgKeyAlreadyRevoked"})),
    }
