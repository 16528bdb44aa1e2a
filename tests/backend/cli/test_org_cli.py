"""``waymark org`` on anvil: an organisation admin adds and revokes keys on chain, and reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_account.signers.local import LocalAccount

from backend.chain import ChainClient
from backend.chain.anvil import AnvilNode
from backend.chain.organisations import (
    KeyGrant,
    OrganisationInput,
    OrganisationRegistryClient,
    Role,
    org_id_for,
)
from backend.cli import cli
from tests.conftest import deployment_for

PASSWORD = "org-cli-password"
pytestmark = pytest.mark.anvil


def _keystore(tmp_path: Path, account: LocalAccount, name: str) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(Account.encrypt(account.key, PASSWORD)))
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"WAYMARK_KEYSTORE_PASSWORD": PASSWORD})
    return result.exit_code, result.output


def test_admin_adds_and_revokes_a_key_and_a_non_admin_cannot(
    anvil_node: AnvilNode, anvil_chain: ChainClient, tmp_path: Path
) -> None:
    registry = OrganisationRegistryClient(
        anvil_chain, deployment_for(anvil_chain).address("OrganisationRegistry")
    )
    slug = f"cli-org-{tmp_path.name[-6:]}"
    admin, carrier = Account.create(), Account.create()
    # The registrar (the operator's relayer) registers the organisation and its admin key.
    registry.register(
        org_id_for(slug),
        OrganisationInput("Cli Freight Ltd", "NL", "", Role.ADMIN | Role.CARRIER),
    )
    registry.add_key(KeyGrant(org_id_for(slug), admin.address, Role.ADMIN))
    anvil_chain.rpc("anvil_setBalance", [admin.address, hex(10**18)])
    anvil_chain.rpc("anvil_setBalance", [carrier.address, hex(10**18)])
    common = ["--rpc", anvil_node.url, "--registry", registry.address]

    code, out = _run(
        "org", "add-key", *common,
        "--keystore", str(_keystore(tmp_path, admin, "admin")),
        "--org", slug,
        "--new-keystore", str(_keystore(tmp_path, carrier, "carrier")),
        "--roles", "carrier",
    )  # fmt: skip
    assert code == 0, out
    assert f"added {carrier.address} for Cli Freight Ltd as carrier" in out
    record = registry.key(carrier.address)
    assert record is not None
    assert record.roles == Role.CARRIER

    code, out = _run("org", "show", *common, "--org", slug, "--key", carrier.address)
    assert code == 0, out
    assert "Cli Freight Ltd (NL) · admin, carrier" in out
    assert (
        f"{carrier.address}: Cli Freight Ltd · carrier · valid from block {record.added_at}" in out
    )

    # The carrier key is not an admin: the registry refuses, naming why.
    code, out = _run(
        "org", "revoke-key", *common,
        "--keystore", str(_keystore(tmp_path, carrier, "carrier2")),
        "--key", admin.address,
    )  # fmt: skip
    assert code == 2
    assert "OrgNotAdmin(" in out

    code, out = _run(
        "org", "revoke-key", *common,
        "--keystore", str(_keystore(tmp_path, admin, "admin2")),
        "--key", carrier.address,
    )  # fmt: skip
    assert code == 0, out
    revoked = registry.key(carrier.address)
    assert revoked is not None
    assert revoked.revoked
    code, out = _run("--json", "org", "show", *common, "--key", carrier.address)
    assert code == 0, out
    shown = json.loads(out)["keys"][0]
    assert shown["revoked_at_block"] == revoked.revoked_at
    assert shown["organisation"] == "Cli Freight Ltd"
