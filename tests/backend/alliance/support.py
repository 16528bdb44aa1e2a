"""Shared pieces of the alliance API tests: orgs with member accounts, driving the workers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from backend.alliance.members import member_proof_text
from backend.chain import ChainClient
from backend.chain.alliance import TokenClient
from backend.chain.deployments import Deployment
from tests.backend.factories import OPERATOR, make_org
from tests.context import context, workers
from tests.contracts.alliance_drivers import PoolDriver, StockDriver
from tests.contracts.alliance_support import USD, mint


@dataclass
class Member:
    """An organisation with one registered member account that can send its own calls."""

    slug: str
    admin: dict[str, str]
    writer: dict[str, str]
    account: LocalAccount
    chain: ChainClient

    @property
    def address(self) -> str:
        return str(self.account.address)


def proof(account: LocalAccount, slug: str) -> str:
    text = member_proof_text(account.address, slug)
    return "0x" + bytes(account.sign_message(encode_defunct(text=text)).signature).hex()


def make_member(api: TestClient, chain: ChainClient, slug: str, *, cash: int = 0) -> Member:
    org = make_org(api, slug, scopes=("seller",))
    account = Account.create()
    chain.send_value(account.address, 10**18)
    resp = api.post(
        "/v1/alliance/members",
        json={"address": account.address, "signature": proof(account, slug)},
        headers=org.admin,
    )
    assert resp.status_code == 201, resp.text
    member = Member(slug, org.admin, org.writer, account, chain.with_account(account))
    if cash:
        mint(token(chain, deployment_of(api)), account.address, cash)
    return member


def deployment_of(api: TestClient) -> Deployment:
    return context(api).loaded().deployment


def token(chain: ChainClient, dep: Deployment) -> TokenClient:
    assert dep.settlement_token is not None
    return TokenClient(chain, dep.settlement_token)


def pool_client(chain: ChainClient, dep: Deployment) -> PoolDriver:
    return PoolDriver(chain, dep.address("CapacityPool"))


def stock_client(chain: ChainClient, dep: Deployment) -> StockDriver:
    return StockDriver(chain, dep.address("EmergencyStockTransfer"))


def drive(api: TestClient, rounds: int = 20) -> None:
    """Run the relayer and the indexer until neither has work left."""
    for _ in range(rounds):
        moved = workers(api).relay.relayer.drive()
        indexed = workers(api).indexer.step()
        if not moved and not indexed:
            return
    raise AssertionError("workers did not settle")


def action_done(api: TestClient, resp: Any, headers: dict[str, str]) -> dict[str, Any]:
    """Drive the workers and return the relayed action, asserting it reached ``final``."""
    assert resp.status_code == 202, resp.text
    drive(api)
    action = api.get(f"/v1/alliance/actions/{resp.json()['id']}", headers=headers).json()
    assert action["status"] == "final", action
    return dict(action)


__all__ = ["OPERATOR", "USD"]
