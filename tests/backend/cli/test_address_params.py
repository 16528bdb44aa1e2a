"""Every ``waymark`` address option, argument and file field follows the API's address
rule (``parse_address``): ``0x`` and 40 hex digits, EIP-55 checksummed on the way in, a
mixed-case address with a wrong checksum refused. The refusal comes before any node or
API is asked: the ``--rpc`` and ``--api`` URLs below answer nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from eth_account import Account

from backend.cli import cli

KEY = Account.from_key("0x" + "11" * 32).address
NO_PREFIX = KEY[2:]
LOWER = KEY.lower()
# The checksum's case flipped on one letter: still 40 hex digits, no longer EIP-55.
_at = next(i for i, c in enumerate(KEY) if i > 1 and c.isalpha())
WRONG_CASE = KEY[:_at] + KEY[_at].swapcase() + KEY[_at + 1 :]
NOWHERE = "http://127.0.0.1:9"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("value", "fault"),
    [
        (WRONG_CASE, "invalid EIP-55 checksum"),
        (NO_PREFIX, "address"),
        (KEY[:-2], "address"),
        ("0x" + "zz" * 20, "address"),
    ],
)
def test_org_show_refuses_a_key_that_is_not_an_address(value: str, fault: str) -> None:
    code, out = _run("org", "show", "--rpc", NOWHERE, "--key", value)
    assert code == 2
    assert "Invalid value for '--key'" in out
    assert fault in out
    assert "chain" not in out  # refused before any node was asked


@pytest.mark.parametrize("value", [WRONG_CASE, NO_PREFIX])
def test_alliance_shipment_and_spec_addresses_use_the_same_rule(value: str, tmp_path: Path) -> None:
    code, out = _run("pool", "--rpc", NOWHERE, "statement", "0", "0", value)
    assert code == 2, out
    assert "Invalid value for 'MEMBER'" in out, out
    code, out = _run("pool", "--rpc", NOWHERE, "report-usage", "0", "0", f"{value}=5")
    assert code == 2, out
    assert "Invalid value" in out, out
    assert "address" in out, out
    keystore = tmp_path / "k.json"
    keystore.write_text(json.dumps(Account.encrypt(Account.create().key, "pw")))
    manifest = tmp_path / "manifest.json"
    manifest.write_text("{}")
    code, out = _run(
        "shipment", "create", "--keystore", str(keystore), "--manifest", str(manifest),
        "--origin", "VNSGN", "--destination", "USLAX", "--carrier", KEY, "--consignee", value,
        "--weight-grams", "1", "--pieces", "1", "--api", NOWHERE,
    )  # fmt: skip
    assert code == 2, out
    assert "Invalid value for '--consignee'" in out, out


def test_a_lowercase_address_is_taken_without_a_checksum() -> None:
    """All-lower carries no checksum: accepted, and the command gets as far as the node."""
    code, out = _run("org", "show", "--rpc", NOWHERE, "--key", LOWER)
    assert code == 2, out
    assert "Invalid value" not in out, out
