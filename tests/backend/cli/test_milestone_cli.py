"""``waymark milestone``: what it signs and refuses offline (in process, no server), and a
contract wallet's signed milestone submitted to a live service that checks it on chain."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from backend.chain import ChainClient, eip712
from backend.chain.anvil import AnvilNode
from backend.chain.eip712 import Domain
from backend.chain.typed_data import shipments as td
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.cli import cli
from backend.cli.client import error_line
from backend.cli.common import from_json, parse_time
from backend.cli.milestones import signed_document
from backend.common.types import to_hex
from tests.backend.factories import make_org
from tests.backend.shipments.factories import (
    Service,
    create_body,
    milestone_body,
    milestone_json,
    milestone_message,
    post,
)
from tests.backend.wallets import WalletKey, as_signer, register_key, two_key_wallet
from tests.integration.live_server import serve

PASSWORD = "correct horse"
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DOMAIN = Domain("Waymark ShipmentRegistry", "2.0.0", 31337, REGISTRY)
SID = "0x" + "ab" * 32


def _keystore(tmp: Path, name: str) -> tuple[Path, LocalAccount]:
    account: LocalAccount = Account.create()
    path = tmp / f"{name}.json"
    # A cheap scrypt work factor: these keystores only protect test keys.
    path.write_text(json.dumps(Account.encrypt(account.key, PASSWORD, iterations=2**10)))
    return path, account


def _run(tmp: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, list(args), env={"WAYMARK_KEYSTORE_PASSWORD": PASSWORD}, catch_exceptions=False
    )
    return result.exit_code, result.output


OFFLINE = ("--chain-id", "31337", "--registry", REGISTRY)


def test_signed_milestone_recovers_to_the_keystore_and_binds_the_domain(tmp_path: Path) -> None:
    ks, seller = _keystore(tmp_path, "seller")
    out = tmp_path / "m.json"
    code, text = _run(
        tmp_path, "milestone", "sign", "--keystore", str(ks), "--shipment-id", SID,
        "--milestone", "exception", "--reason", "damaged", "--location", "CN SZX",
        "--occurred-at", "2026-11-20T06:30:00Z", "--nonce", "7", *OFFLINE, "--out", str(out),
    )  # fmt: skip
    assert code == 0, text
    doc = json.loads(out.read_text())
    message = from_json(td.MILESTONE, doc["milestone"])
    assert message["location"] == b"CNSZX"
    assert message["reasonCode"] == td.ExceptionReason.DAMAGED
    assert message["occurredAt"] == 1795156200
    assert message["nonce"] == 7
    signature = bytes.fromhex(doc["signature"][2:])
    assert eip712.recover(eip712.digest(DOMAIN, td.MILESTONE, message), signature) == seller.address
    other = Domain("Waymark ShipmentRegistry", "2.0.0", 1, REGISTRY)
    assert eip712.recover(eip712.digest(other, td.MILESTONE, message), signature) != seller.address


def test_batch_uses_consecutive_nonces(tmp_path: Path) -> None:
    ks, _ = _keystore(tmp_path, "carrier")
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([
        {"shipment_id": SID, "milestone": "DEPARTED", "location": "VNSGN"},
        {"shipment_id": SID, "milestone": 4, "location": "CNSZX", "weight_grams": 1000},
    ]))  # fmt: skip
    out = tmp_path / "b.json"
    code, text = _run(
        tmp_path, "milestone", "sign", "--keystore", str(ks), "--from-file", str(batch),
        "--nonce", "3", *OFFLINE, "--out", str(out),
    )  # fmt: skip
    assert code == 0, text
    docs = json.loads(out.read_text())["milestones"]
    assert [d["milestone"]["nonce"] for d in docs] == [3, 4]
    assert [d["milestone"]["milestone"] for d in docs] == [3, 4]


def test_repeated_evidence_signs_one_hash_over_the_files_in_order(tmp_path: Path) -> None:
    ks, _ = _keystore(tmp_path, "carrier")
    files = []
    for i, content in enumerate((b"pallet front", b"pallet seal", b"scale ticket")):
        files.append(tmp_path / f"e{i}.jpg")
        files[-1].write_bytes(content)

    def signed(*paths: Path) -> bytes:
        out = tmp_path / "m.json"
        evidence = [a for p in paths for a in ("--evidence", str(p))]
        code, text = _run(
            tmp_path, "milestone", "sign", "--keystore", str(ks), "--shipment-id", SID,
            "--milestone", "departed", "--nonce", "0", *OFFLINE, *evidence, "--out", str(out),
        )  # fmt: skip
        assert code == 0, text
        return bytes(
            from_json(td.MILESTONE, json.loads(out.read_text())["milestone"])["evidenceHash"]
        )

    hashes = [hashlib.sha256(p.read_bytes()).digest() for p in files]
    # One file: its SHA-256, as before; several: SHA-256 over their hashes in order.
    assert signed(files[0]) == hashes[0]
    assert signed(*files) == hashlib.sha256(b"".join(hashes)).digest()
    assert signed(*files) != signed(files[1], files[0], files[2])
    assert signed(*files) != signed(*files[:2])


def test_a_batch_item_names_its_evidence_files_as_a_list(tmp_path: Path) -> None:
    ks, _ = _keystore(tmp_path, "carrier")
    paths = [tmp_path / "a.jpg", tmp_path / "b.jpg"]
    for path in paths:
        path.write_bytes(path.name.encode())
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([
        {"shipment_id": SID, "milestone": "DEPARTED", "evidence": [str(p) for p in paths]},
        {"shipment_id": SID, "milestone": "ARRIVED", "evidence": 7},
    ]))  # fmt: skip
    args = ("milestone", "sign", "--keystore", str(ks), "--from-file", str(batch),
            "--nonce", "0", *OFFLINE)  # fmt: skip
    code, text = _run(tmp_path, *args)
    assert code == 2
    assert (
        text.strip().splitlines()[-1] == "error: evidence must be a path or a list of paths, not 7"
    )
    batch.write_text(json.dumps(json.loads(batch.read_text())[:1]))
    out = tmp_path / "b.json"
    code, text = _run(tmp_path, *args, "--out", str(out))
    assert code == 0, text
    signed = json.loads(out.read_text())["milestone"]["evidenceHash"]
    hashes = b"".join(hashlib.sha256(p.read_bytes()).digest() for p in paths)
    assert signed == "0x" + hashlib.sha256(hashes).hexdigest()


@pytest.mark.parametrize(
    ("count", "same", "reason"),
    [(9, False, "give 1 to 8 files, not 9"), (2, True, "the same file is given twice")],
)
def test_evidence_beyond_the_bound_or_repeated_is_refused_in_one_line(
    tmp_path: Path, count: int, same: bool, reason: str
) -> None:
    ks, _ = _keystore(tmp_path, "carrier")
    args: list[str] = []
    for i in range(count):
        path = tmp_path / f"e{0 if same else i}.jpg"
        path.write_bytes(b"photo %d" % (0 if same else i))
        args += ["--evidence", str(path)]
    code, text = _run(
        tmp_path, "milestone", "sign", "--keystore", str(ks), "--shipment-id", SID,
        "--milestone", "departed", "--nonce", "0", *OFFLINE, *args,
    )  # fmt: skip
    assert code == 2
    assert reason in text
    assert len(text.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("--milestone", "picked-up"), "give --counterparty"),
        (("--milestone", "departed", "--counterparty", REGISTRY), "takes no counterparty"),
        (("--milestone", "teleported"), "unknown milestone 'teleported'"),
        (("--milestone", "departed", "--location", "XX"), "not a UN/LOCODE"),
        (("--milestone", "departed", "--occurred-at", "yesterday"), "not a time"),
    ],
)
def test_sign_refuses_bad_input_with_one_line(
    tmp_path: Path, args: tuple[str, ...], reason: str
) -> None:
    ks, _ = _keystore(tmp_path, "seller")
    code, text = _run(
        tmp_path, "milestone", "sign", "--keystore", str(ks), "--shipment-id", SID,
        "--nonce", "0", *OFFLINE, *args,
    )  # fmt: skip
    assert code == 2
    assert reason in text


def test_cosign_refuses_anyone_but_the_named_receiver(tmp_path: Path) -> None:
    seller_ks, _ = _keystore(tmp_path, "seller")
    carrier_ks, carrier = _keystore(tmp_path, "carrier")
    stranger_ks, _ = _keystore(tmp_path, "stranger")
    out = tmp_path / "pickup.json"
    code, text = _run(
        tmp_path, "milestone", "sign", "--keystore", str(seller_ks), "--shipment-id", SID,
        "--milestone", "PICKED_UP", "--counterparty", carrier.address, "--nonce", "0",
        *OFFLINE, "--out", str(out),
    )  # fmt: skip
    assert code == 0, text
    code, text = _run(
        tmp_path, "milestone", "cosign", str(out), "--keystore", str(stranger_ks), "--nonce", "0"
    )
    assert code == 2
    assert "as receiver" in text
    code, text = _run(
        tmp_path, "milestone", "cosign", str(out), "--keystore", str(carrier_ks), "--nonce", "5"
    )
    assert code == 0, text
    doc = json.loads(out.read_text())
    message = from_json(td.MILESTONE, doc["milestone"])
    acceptance = td.acceptance_message(message, nonce=5, deadline=doc["acceptance"]["deadline"])
    digest = eip712.digest(DOMAIN, td.CUSTODY_ACCEPTANCE, acceptance)
    signature = bytes.fromhex(doc["acceptance"]["signature"][2:])
    assert eip712.recover(digest, signature) == carrier.address


def test_a_tampered_key_signed_file_is_not_taken_for_the_signers_key(tmp_path: Path) -> None:
    """Edited after signing, a key's signature recovers to some other key: the file no longer
    passes the signer's-key check, and inspect names the key it recovers to (the service
    refuses it on submission: see the live test below)."""
    ks, carrier = _keystore(tmp_path, "carrier")
    out = tmp_path / "m.json"
    _run(
        tmp_path, "milestone", "sign", "--keystore", str(ks), "--shipment-id", SID,
        "--milestone", "ARRIVED", "--weight-grams", "500000", "--nonce", "0", *OFFLINE,
        "--out", str(out),
    )  # fmt: skip
    code, text = _run(tmp_path, "--json", "milestone", "inspect", str(out))
    assert code == 0, text
    assert json.loads(text)["signature_check"] == "signer's key"
    doc = json.loads(out.read_text())
    doc["milestone"]["measuredWeightGrams"] = 480000
    out.write_text(json.dumps(doc))
    code, text = _run(tmp_path, "--json", "milestone", "inspect", str(out))
    assert code == 0, text
    shown = json.loads(text)
    assert shown["signature_check"] == "checked on chain on submission"
    assert shown["recovers_to"] not in (carrier.address, shown["signer"])


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        ("0x", "signature must be 1 to 2047 bytes, got 0"),
        ("0x" + "ab" * 2048, "signature must be 1 to 2047 bytes, got 2048"),
        ("0xzz", "signature must be 0x followed by hex digits"),
    ],
)
def test_a_signature_of_no_bytes_or_beyond_a_wallets_bound_is_refused_in_one_line(
    tmp_path: Path, signature: str, reason: str
) -> None:
    ks, _ = _keystore(tmp_path, "carrier")
    out = tmp_path / "m.json"
    _run(
        tmp_path, "milestone", "sign", "--keystore", str(ks), "--shipment-id", SID,
        "--milestone", "DEPARTED", "--nonce", "0", *OFFLINE, "--out", str(out),
    )  # fmt: skip
    doc = json.loads(out.read_text())
    out.write_text(json.dumps({**doc, "signature": signature}))
    for command in ("inspect", "submit"):
        code, text = _run(tmp_path, "milestone", command, str(out))
        assert code == 2
        assert text.strip() == f"error: malformed signed milestone: {reason}"


def test_api_errors_read_as_one_line_with_the_decoded_contract_error() -> None:
    revert = httpx.Response(
        409,
        json={
            "error": "ShipmentMilestoneNotAllowed",
            "detail": "ShipmentMilestoneNotAllowed(shipmentId=0x01, status=2, milestone=10)",
            "arguments": {"shipmentId": "0x01", "status": 2, "milestone": 10},
        },
    )
    assert error_line(revert) == (
        "HTTP 409 ShipmentMilestoneNotAllowed(shipmentId=0x01, status=2, milestone=10)"
    )
    refused = httpx.Response(403, json={"error": "forbidden", "detail": "needs the seller scope"})
    assert error_line(refused) == "HTTP 403 forbidden: needs the seller scope"


@pytest.mark.anvil
def test_now_and_relative_times_count_from_the_chains_clock(
    tmp_path: Path, anvil_chain: ChainClient, anvil_node: AnvilNode
) -> None:
    """The contract judges occurredAt and deadlines by block time, which on a chain that
    mines on demand (or was moved forward) is not the wall clock."""
    ks, _ = _keystore(tmp_path, "carrier")
    snap = anvil_chain.snapshot()
    try:
        chain_time = anvil_chain.advance_time(3600)  # an hour ahead of the wall clock
        out = tmp_path / "m.json"
        code, text = _run(
            tmp_path, "milestone", "sign", "--keystore", str(ks), "--shipment-id", SID,
            "--milestone", "departed", "--location", "VNSGN", "--occurred-at", "now",
            "--deadline", "+600", "--nonce", "0", *OFFLINE, "--rpc", anvil_node.url,
            "--out", str(out),
        )  # fmt: skip
    finally:
        anvil_chain.revert(snap)
    assert code == 0, text
    message = from_json(td.MILESTONE, json.loads(out.read_text())["milestone"])
    assert message["occurredAt"] == chain_time
    assert message["deadline"] == chain_time + 600


def test_a_batch_with_unix_second_numbers_signs_and_bad_times_fail_in_one_line(
    tmp_path: Path,
) -> None:
    ks, _ = _keystore(tmp_path, "carrier")
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([
        {"shipment_id": SID, "milestone": "DEPARTED", "location": "VNSGN",
         "occurred_at": 1795156200, "deadline": 1795242600},
    ]))  # fmt: skip
    out = tmp_path / "b.json"
    code, text = _run(
        tmp_path, "milestone", "sign", "--keystore", str(ks), "--from-file", str(batch),
        "--nonce", "0", *OFFLINE, "--out", str(out),
    )  # fmt: skip
    assert code == 0, text
    message = from_json(td.MILESTONE, json.loads(out.read_text())["milestone"])
    assert (message["occurredAt"], message["deadline"]) == (1795156200, 1795242600)

    for bad in (True, 17.5, [1], "yesterday"):
        batch.write_text(json.dumps([{"shipment_id": SID, "milestone": "DEPARTED",
                                      "occurred_at": bad}]))  # fmt: skip
        code, text = _run(
            tmp_path, "milestone", "sign", "--keystore", str(ks), "--from-file", str(batch),
            "--nonce", "0", *OFFLINE,
        )  # fmt: skip
        assert code == 2, (bad, text)
        assert text.strip().splitlines() == [text.strip()]
        assert "not a time" in text, text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("now", 1000), ("+90", 1090), ("-30", 970), (" now ", 1000), (1795156200, 1795156200),
     ("1795156200", 1795156200), ("2026-11-20T06:30:00Z", 1795156200),
     ("2026-11-20T08:30:00+02:00", 1795156200)],
)  # fmt: skip
def test_times_accept_unix_seconds_iso_now_and_relative_seconds(
    text: str | int, expected: int
) -> None:
    assert parse_time(text, now=1000) == expected


def test_a_two_key_wallets_milestone_is_submitted_and_checked_on_chain(
    api: TestClient, tester: ChainClient, tmp_path: Path
) -> None:
    """The carrier's key is a 2-of-2 ERC-1271 wallet: its departure, signed by both keys
    (130 bytes), goes through ``milestone submit`` to a live service, which checks it on
    chain. One key's signature alone, and a key-signed file edited after signing, are
    refused by the service, each said in one line with exit 2."""
    svc = Service(api, tester)
    seller = make_org(api, "seller", ("seller",))
    carrier = make_org(api, "carrier", ("carrier",))
    broker = make_org(api, "broker", ("supplier",))
    wallet = two_key_wallet(tester)
    register_key(api, svc.settle, carrier, wallet.address)
    created = create_body(
        svc, seller.signer, [wallet.address], customs_broker=broker.signer.address
    )
    post(svc, "/v1/shipments", created, seller)
    svc.settle()
    sid = str(created["terms"]["shipmentId"])
    domain = svc.registry.domain()
    pickup = milestone_message(svc, sid, M.PICKED_UP, seller.signer, counterparty=wallet.address)
    nonce, deadline = svc.registry.nonce(wallet.address), svc.now() + 3600
    accepted = b"".join(
        td.sign_acceptance(k.key, domain, pickup, nonce=nonce, deadline=deadline)
        for k in (wallet.first, wallet.second)
    )
    post(svc, f"/v1/shipments/{sid}/milestones", {
        "milestone": milestone_json(pickup),
        "signature": to_hex(td.sign_milestone(seller.signer.key, domain, pickup)),
        "acceptance": {"nonce": nonce, "deadline": deadline, "signature": to_hex(accepted)},
    }, seller)  # fmt: skip
    svc.settle()
    post(svc, f"/v1/shipments/{sid}/milestones",
         milestone_body(svc, sid, M.EXPORT_CLEARED, broker.signer), broker)  # fmt: skip
    svc.settle()

    departed = milestone_message(svc, sid, M.DEPARTED, as_signer(WalletKey(wallet.address, b"")))
    halves = [td.sign_milestone(k.key, domain, departed) for k in (wallet.first, wallet.second)]
    key = carrier.writer["X-API-Key"]

    def write(name: str, message: dict[str, Any], signature: bytes) -> str:
        path = tmp_path / name
        path.write_text(json.dumps(signed_document(domain, message, signature)))
        return str(path)

    both = write("both.json", departed, b"".join(halves))
    one = write("one.json", departed, halves[0])
    # The carrier's own key signs a departure, then someone edits the weight.
    edited = milestone_message(svc, sid, M.DEPARTED, carrier.signer, measured_weight_grams=9)
    tampered = signed_document(
        domain, edited, td.sign_milestone(carrier.signer.key, domain, edited)
    )
    tampered["milestone"]["measuredWeightGrams"] = 1_000_000
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))

    code, text = _run(tmp_path, "--json", "milestone", "inspect", both)
    assert code == 0, text
    shown = json.loads(text)
    assert (shown["signer"], shown["signature_bytes"]) == (wallet.address, 130)
    assert shown["signature_check"] == "checked on chain on submission"
    assert "recovers_to" not in shown
    code, text = _run(tmp_path, "--json", "milestone", "inspect", one)
    assert json.loads(text)["recovers_to"] == wallet.first.address

    with serve(api.app, lifespan="off") as base:
        refusals = {
            one: f"contract wallet {wallet.address} does not accept it",
            str(tmp_path / "tampered.json"): "it was made by 0x",
        }
        for path, reason in refusals.items():
            code, text = _run(
                tmp_path, "milestone", "submit", path, "--api", base, "--api-key", key
            )
            assert code == 2, text
            assert text.strip().startswith("error: HTTP 422 ")
            assert reason in text
            assert len(text.strip().splitlines()) == 1
        code, text = _run(
            tmp_path, "--json", "milestone", "submit", both, "--api", base, "--api-key", key
        )
    assert code == 0, text
    assert json.loads(text)["submitted"] == 1
    svc.settle()
    state = api.get(f"/v1/shipments/{sid}", headers=seller.writer).json()
    assert state["status"] == "in_transit"
    assert state["milestones"][-1]["signer"] == wallet.address
