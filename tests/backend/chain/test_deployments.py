"""The deploy plan: the settlement token, the pinned anchorer and EmergencyStockTransfer wiring."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.chain import ChainClient, DeploymentMissing
from backend.chain.compiler import Artifact
from backend.chain.deployments import Deployment, deploy_all, load, require_anchorer, save
from backend.config import Settings
from tests.conftest import deployment_for
from tests.contracts.alliance_drivers import StockDriver


def test_dev_chain_deploys_test_stablecoin_as_settlement_token(tester: ChainClient) -> None:
    dep = deployment_for(tester)
    assert dep.settlement_token == dep.address("TestStablecoin")
    stock = tester.contract("EmergencyStockTransfer", dep.address("EmergencyStockTransfer"))
    assert tester.call(stock, "token") == dep.settlement_token
    assert tester.call(stock, "shipments") == dep.address("ShipmentRegistry")
    assert tester.call(stock, "gracePeriod") == 2 * 86_400


def test_configured_token_skips_the_test_stablecoin(tester: ChainClient) -> None:
    token = tester.deploy("NoReturnToken").address
    dep = deploy_all(tester, settlement_token=token.lower())
    assert "TestStablecoin" not in dep.contracts
    assert dep.settlement_token == token
    assert StockDriver(tester, dep.address("EmergencyStockTransfer")).token().address == token


def test_real_chain_without_a_token_is_refused(
    tester: ChainClient, artifacts: dict[str, Artifact]
) -> None:
    real = ChainClient(
        tester.w3, tester.account, backend="rpc", artifacts=artifacts, tester=tester._tester
    )
    with pytest.raises(DeploymentMissing, match="WAYMARK_SETTLEMENT_TOKEN"):
        deploy_all(real)


def test_manifest_round_trips_the_settlement_token(tmp_path: Path, tester: ChainClient) -> None:
    dep = deployment_for(tester)
    save(dep, tmp_path)
    again = load(dep.chain_id, tmp_path)
    assert again == dep
    legacy = Deployment.from_json({"chainId": 1, "contracts": {}})
    assert legacy.settlement_token is None


def test_manifest_pins_the_deploying_relayer_as_the_anchorer(
    tmp_path: Path, tester: ChainClient
) -> None:
    dep = deployment_for(tester)
    assert dep.anchor_account == tester.address
    save(dep, tmp_path)
    again = load(dep.chain_id, tmp_path)
    assert again.to_json()["anchorer"] == tester.address
    require_anchorer(again, tester.address.lower())
    # A service whose relayer is another account would anchor where nobody looks.
    with pytest.raises(DeploymentMissing, match=f"pins anchorer {tester.address}, not"):
        require_anchorer(again, "0x" + "12" * 20)
    legacy = Deployment.from_json({"chainId": 1, "contracts": {}})
    with pytest.raises(DeploymentMissing, match="names no anchorer; redeploy"):
        require_anchorer(legacy, tester.address)


def test_settlement_token_setting_must_be_an_address() -> None:
    with pytest.raises(ValueError, match="settlement_token"):
        Settings(settlement_token="not-an-address")
