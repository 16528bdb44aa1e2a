"""Relay handlers for passport writes (and the role grants queued before a first write)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend.chain import ChainClient
from backend.passports import writes
from backend.relayer.models import RelayRequest
from backend.relayer.service import RelayHandler
from backend.relayer.signed import EffectHandler


def _none(_session: Session, _request: RelayRequest) -> None:
    # grantRole is idempotent on chain (no revert, no event when already held):
    # re-sending it after a crash costs gas and changes nothing.
    return None


def passport_relay_handlers(chain: ChainClient) -> dict[str, RelayHandler]:
    return {
        writes.PURPOSE_ROLE: EffectHandler(chain, _none),
        writes.PURPOSE_ISSUE: EffectHandler(
            chain, done_errors=frozenset({"PassportAlreadyIssued"})
        ),
        writes.PURPOSE_AMEND: EffectHandler(chain),
        writes.PURPOSE_RECALL: EffectHandler(chain),
        writes.PURPOSE_REVOKE: EffectHandler(chain),
        writes.PURPOSE_ATTEST: EffectHandler(chain),
        writes.PURPOSE_REVOKE_ATTESTATION: EffectHandler(
            chain, done_errors=frozenset({"PassportAttestationAlreadyRevoked"})
        ),
    }
