"""The ``waymark`` CLI as a user runs it: subprocesses against a server on anvil.

Sign milestones offline → co-sign custody → submit → visible in the API; a batch
signed offline with explicit domain and nonces; a supply event's proof verified
by the CLI against the node alone; failures exit 2 with the decoded contract error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import rfc8785
from click.testing import CliRunner, Result
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak

from backend.chain.anvil import AnvilNode, free_port, start_anvil
from backend.chain.eip712 import Domain
from backend.chain.typed_data import shipments as td
from backend.cli import cli
from backend.cli.chainio import read_nonce
from backend.cli.client import Api
from backend.cli.common import to_json
from backend.paths import PROJECT_ROOT
from tests.backend.factories import DEFAULT_ROLES, SAMPLE_PREFIX, signed_event
from tests.cli_process import run_cli

pytestmark = pytest.mark.anvil

ADMIN = "cli-test-operator"
PASSWORD = "correct horse battery staple"


@dataclass
class Server:
    base: str
    rpc: str
    tmp: Path

    def cli(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "WAYMARK_KEYSTORE_PASSWORD": PASSWORD, "WAYMARK_API": self.base}
        # A forked process per command, as ``python -m backend.cli`` (tests/cli_process.py).
        proc = run_cli(list(args), cwd=self.tmp, env=env, timeout=120)
        if ok:
            assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
        return proc

    def run(self, *args: str) -> Result:
        """In process (click's runner) for quick local-only commands."""
        env = {"WAYMARK_KEYSTORE_PASSWORD": PASSWORD, "WAYMARK_API": self.base}
        cwd = os.getcwd()
        os.chdir(self.tmp)
        try:
            return CliRunner().invoke(cli, list(args), env=env)
        finally:
            os.chdir(cwd)

    def api(self, method: str, path: str, key: str, body: Any = None) -> Any:
        resp = httpx.request(
            method,
            f"{self.base}{path}",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert resp.status_code < 300, (path, resp.status_code, resp.text)
        return resp.json()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("cli")
    node: AnvilNode = start_anvil()
    port = free_port()
    env = {
        **os.environ,
        "WAYMARK_CHAIN_BACKEND": "anvil",
        "WAYMARK_RPC_URL": node.url,
        "WAYMARK_DATABASE_URL": f"sqlite:///{tmp / 'waymark.sqlite3'}",
        "WAYMARK_ADMIN_TOKEN": ADMIN,
        "WAYMARK_ENVIRONMENT": "test",
        "WAYMARK_ANCHOR_INTERVAL_SECONDS": "0.05",
        "WAYMARK_INDEXER_INTERVAL_SECONDS": "0.2",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "backend.main:create_app",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "server.log").open("w"),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, (tmp / "server.log").read_text()
            time.sleep(0.2)
        else:
            raise AssertionError("server did not start: " + (tmp / "server.log").read_text())
        yield Server(base, node.url, tmp)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        node.stop()


@dataclass
class Party:
    account: LocalAccount
    keystore: str
    api_key: str


def _party(
    server: Server,
    slug: str,
    scopes: list[str],
    prefixes: tuple[str, ...] = (),
    roles: list[str] | None = None,
) -> Party:
    account: LocalAccount = Account.create()
    keystore = f"{slug}.json"
    os.environ["WAYMARK_TEST_IMPORT_KEY"] = "0x" + bytes(account.key).hex()
    try:
        imported = server.run(
            "keys", "import", "--keystore", keystore, "--private-key-env", "WAYMARK_TEST_IMPORT_KEY"
        )
    finally:
        del os.environ["WAYMARK_TEST_IMPORT_KEY"]
    assert imported.exit_code == 0, imported.output
    body: dict[str, Any] = {"slug": slug, "name": slug, "gs1_prefixes": list(prefixes)}
    if roles is not None:
        body["roles"] = roles
    created = server.api("POST", "/v1/orgs", ADMIN, body)
    admin = created["admin_key"]["key"]
    server.api("POST", f"/v1/orgs/{slug}/signers", admin,
               {"address": account.address})  # fmt: skip
    key = server.api("POST", f"/v1/orgs/{slug}/api-keys", admin, {"scopes": scopes})["key"]
    return Party(account, keystore, key)


@pytest.fixture(scope="module")
def world(server: Server) -> dict[str, Any]:
    """A seller, a carrier (also customs broker), a shipment VNSGN → USLAX, the lot's passport."""
    seller = _party(server, "hearth", ["seller"], (SAMPLE_PREFIX,))
    carrier = _party(server, "pacific", ["carrier"])
    health = httpx.get(f"{server.base}/health").json()
    registry = health["contracts"]["ShipmentRegistry"]
    domain = Domain(
        "Waymark ShipmentRegistry", registry["version"], health["chain_id"], registry["address"]
    )
    sid = _new_shipment(server, seller, carrier, domain)
    # The seller issues the lot's passport (validated, hashed and signed locally).
    doc = json.loads((PROJECT_ROOT / "backend/passports/samples/bamboo_tableware.json").read_text())
    doc["issuer"]["account"] = seller.account.address
    (server.tmp / "passport.json").write_text(json.dumps(doc))
    issued = server.cli(
        "--json", "passport", "issue", "passport.json", "--keystore", seller.keystore,
        "--rpc", server.rpc, "--api-key", seller.api_key, "--submit", "--wait",
    )  # fmt: skip
    assert json.loads(issued.stdout)["result"]["status"] in ("mined", "final")
    shown = json.loads(server.run("--json", "passport", "validate", "passport.json").output)
    return {
        "seller": seller,
        "carrier": carrier,
        "sid": sid,
        "domain": domain,
        "passport_id": shown["passport_id"],
    }


def _new_shipment(server: Server, seller: Party, carrier: Party, domain: Domain) -> str:
    """A shipment VNSGN → USLAX created by ``seller`` (carrier and broker ``carrier``)."""
    manifest = {
        "transportMode": "sea",
        "lines": [{"gtin": "08936045870013", "lot": "TH2611-07", "quantity": 240}],
    }
    sid = td.shipment_id(seller.account.address, os.urandom(12))
    terms = td.shipment_terms(
        shipment_id=sid, seller=seller.account.address, origin="VNSGN", destination="USLAX",
        declared_weight_grams=480_000, piece_count=24, weight_tolerance_bps=200,
        manifest_hash=keccak(rfc8785.dumps(manifest)), carriers=[carrier.account.address],
        customs_broker=carrier.account.address,
    )  # fmt: skip
    deadline = int(time.time()) + 3600
    nonce = _registry_nonce(server, domain, seller.account.address)
    sig = td.sign_create_shipment(seller.account.key, domain, terms, nonce=nonce, deadline=deadline)
    relay = server.api("POST", "/v1/shipments", seller.api_key, {
        "terms": to_json(td.SHIPMENT_TERMS, terms) | {"origin": "VNSGN", "destination": "USLAX"},
        "nonce": nonce, "deadline": deadline, "signature": "0x" + sig.hex(), "manifest": manifest,
    })  # fmt: skip
    # as the CLI's --wait does: mined, and shown by the service
    with httpx.Client(base_url=server.base, timeout=30) as http:
        Api(server.base, seller.api_key, http=http).wait_relay(relay["relay_id"], timeout=30)
    return "0x" + sid.hex()


def _registry_nonce(server: Server, domain: Domain, address: str) -> int:
    return read_nonce(server.rpc, "ShipmentRegistry", domain.verifying_contract, address)


def _milestones(server: Server, world: dict[str, Any]) -> list[str]:
    detail = server.api("GET", f"/v1/shipments/{world['sid']}", world["seller"].api_key)
    return [m["milestone_name"] for m in detail["milestones"]]


def test_sign_offline_cosign_submit_and_see_it(server: Server, world: dict[str, Any]) -> None:
    seller, carrier = world["seller"], world["carrier"]
    server.cli(
        "milestone", "sign", "--keystore", seller.keystore, "--shipment-id", world["sid"],
        "--milestone", "picked-up", "--location", "VN SGN", "--weight-grams", "480000",
        "--occurred-at=-120",
        "--counterparty", carrier.account.address, "--rpc", server.rpc, "--out", "pickup.json",
    )  # fmt: skip
    signed = json.loads((server.tmp / "pickup.json").read_text())
    assert signed["acceptance"] is None
    assert signed["domain"]["verifyingContract"] == world["domain"].verifying_contract
    # Submitting before the receiver accepted is refused locally.
    early = server.run("milestone", "submit", "pickup.json", "--api-key", seller.api_key)
    assert early.exit_code == 2
    assert "co-signature" in early.output
    server.cli(
        "milestone", "cosign", "pickup.json", "--keystore", carrier.keystore, "--rpc", server.rpc
    )
    shown = json.loads(server.run("--json", "milestone", "inspect", "pickup.json").output)
    assert shown["cosigned"] is True
    assert shown["location"] == "VNSGN"
    out = server.cli(
        "--json", "milestone", "submit", "pickup.json", "--api-key", seller.api_key, "--wait"
    )
    result = json.loads(out.stdout)["results"][0]
    assert result["status"] in ("mined", "final")
    assert result["tx_hash"].startswith("0x")
    assert _wait_for(lambda: _milestones(server, world) == ["picked_up"])

    # The product page of the lot shows the pickup, signed by the seller.
    def on_page() -> bool:
        page = httpx.get(f"{server.base}/01/08936045870013/10/TH2611-07")
        return page.status_code == 200 and seller.account.address in page.text

    assert _wait_for(on_page)
    page = httpx.get(f"{server.base}/01/08936045870013/10/TH2611-07").text
    assert "Picked up" in page
    assert "Ho Chi Minh City" in page

    # Later legs, signed by the carrier with no connection at all, then a replay of them.
    _batch_signed_fully_offline_then_submitted(server, world)
    _resubmitted_batch_is_the_same_write_and_a_spent_nonce_exits_2(server, world)


def _batch_signed_fully_offline_then_submitted(server: Server, world: dict[str, Any]) -> None:
    carrier, domain = world["carrier"], world["domain"]
    # Scanned earlier in the field (the node's clock only moves when it mines).
    batch = [
        {"shipment_id": world["sid"], "milestone": "EXPORT_CLEARED", "location": "VNSGN",
         "occurred_at": "-100"},
        {"shipment_id": world["sid"], "milestone": "DEPARTED", "location": "VNSGN",
         "occurred_at": "-90"},
        {"shipment_id": world["sid"], "milestone": "ARRIVED", "location": "USLAX",
         "weight_grams": 560_000, "occurred_at": "-80"},
    ]  # fmt: skip
    (server.tmp / "batch.json").write_text(json.dumps(batch))
    # Offline: domain and nonce given explicitly (the carrier used nonce 0 to accept).
    server.cli(
        "milestone", "sign", "--keystore", carrier.keystore, "--from-file", "batch.json",
        "--chain-id", str(domain.chain_id), "--registry", domain.verifying_contract,
        "--nonce", "1", "--out", "legs.json",
    )  # fmt: skip
    assert len(json.loads((server.tmp / "legs.json").read_text())["milestones"]) == 3
    first = server.cli(
        "--json", "milestone", "submit", "legs.json", "--api-key", carrier.api_key, "--wait"
    )
    (server.tmp / "legs.relays.json").write_text(first.stdout)
    assert _wait_for(
        lambda: _milestones(server, world) == ["picked_up", "export_cleared", "departed", "arrived"]
    )
    detail = server.api("GET", f"/v1/shipments/{world['sid']}", world["seller"].api_key)
    arrived = detail["milestones"][-1]
    assert (arrived["weight_reference_grams"], arrived["weight_measured_grams"]) == (
        480_000,
        560_000,
    )
    board = httpx.get(
        f"{server.base}/dashboard",
        headers={
            "Authorization": f"Bearer {world['seller'].api_key}",
            "Accept": "application/json",
        },
    ).json()
    assert board["shipments"][0]["colour"] == "red"


def _resubmitted_batch_is_the_same_write_and_a_spent_nonce_exits_2(
    server: Server, world: dict[str, Any]
) -> None:
    carrier, domain = world["carrier"], world["domain"]
    # The same signed file sent again (was it received?) is the write already made.
    first = json.loads((server.tmp / "legs.relays.json").read_text())["results"]
    again = server.cli("--json", "milestone", "submit", "legs.json", "--api-key", carrier.api_key)
    results = json.loads(again.stdout)["results"]
    assert [r["relay_id"] for r in results] == [r["relay_id"] for r in first]
    assert _milestones(server, world) == ["picked_up", "export_cleared", "departed", "arrived"]
    # Another message signed with the spent nonce is refused with the contract's error.
    (server.tmp / "late.json").write_text(json.dumps([
        {"shipment_id": world["sid"], "milestone": "DELIVERED", "location": "USLAX",
         "occurred_at": "-70"},
    ]))  # fmt: skip
    server.cli(
        "milestone", "sign", "--keystore", carrier.keystore, "--from-file", "late.json",
        "--chain-id", str(domain.chain_id), "--registry", domain.verifying_contract,
        "--nonce", "1", "--out", "late-signed.json",
    )  # fmt: skip
    spent = server.cli(
        "milestone", "submit", "late-signed.json", "--api-key", carrier.api_key, ok=False
    )
    assert spent.returncode == 2
    line = spent.stderr.strip().splitlines()[-1]
    assert line.startswith("error: ")
    assert "InvalidAccountNonce(" in line or "ShipmentMilestoneNotAllowed(" in line, line


def test_proof_verifies_against_the_node_without_the_server(
    server: Server, world: dict[str, Any]
) -> None:
    seller = world["seller"]
    health = httpx.get(f"{server.base}/health").json()
    domain = Domain(
        "Waymark Events", "1", health["chain_id"], health["contracts"]["AnchorRegistry"]["address"]
    )
    event = signed_event(domain, seller.account, subject=bytes.fromhex(world["sid"][2:]))
    accepted = server.api("POST", "/v1/events", seller.api_key, event)
    digest = accepted["digest"]

    def anchored() -> bool:
        proof = httpx.get(f"{server.base}/v1/proofs/{digest}").json()
        return bool(proof.get("on_chain"))

    assert _wait_for(anchored)
    server.cli("proof", "fetch", digest, "--out", "proof.json")
    trust = f"{server.base}/.well-known/waymark/deployment.json"
    verify = ("proof", "verify", "--rpc", server.rpc, "--trust", trust)
    verified = server.cli("--json", *verify[:2], "proof.json", *verify[2:])
    report = json.loads(verified.stdout)
    assert report["verdict"] == "VALID"
    assert {c["id"] for c in report["checks"]} >= {
        "trust.chain_id",
        "trust.contracts",
        "event.digest",
        "event.signature",
        "event.merkle",
        "event.anchored",
        "event.signer_key",
    }

    # The lot's proof bundle (passport version and the supply event) verifies the same way.
    bundle = httpx.get(f"{server.base}/proof-bundle/{world['passport_id']}.json")
    assert bundle.status_code == 200
    (server.tmp / "bundle.json").write_text(bundle.text)
    checked = json.loads(server.cli("--json", *verify[:2], "bundle.json", *verify[2:]).stdout)
    assert checked["verdict"] == "VALID", checked
    assert checked["passport_status"] == "active"
    text = server.cli(*verify[:2], "bundle.json", *verify[2:]).stdout
    assert "passport status: active" in text
    assert text.strip().endswith("verdict: VALID")

    # Altered event data no longer matches its signature: INVALID, exit 1, naming the check.
    proof = json.loads((server.tmp / "proof.json").read_text())
    proof["event"]["occurred_at"] += 1
    (server.tmp / "forged.json").write_text(json.dumps(proof))
    forged = server.cli(*verify[:2], "forged.json", *verify[2:], ok=False)
    assert forged.returncode == 1
    assert "FAILED  event.digest" in forged.stdout
    assert forged.stdout.strip().endswith("verdict: INVALID")


def test_qr_and_passport_commands_work_offline(server: Server) -> None:
    sample = PROJECT_ROOT / "backend/passports/samples/bamboo_tableware.json"
    shown = json.loads(server.run("--json", "passport", "validate", str(sample)).output)
    assert shown["digital_link"] == "/01/08936045870013/10/TH2611-07"
    assert server.run("qr", "png", "08936045870013/TH2611-07", "--out", "lot.png").exit_code == 0
    assert (server.tmp / "lot.png").read_bytes().startswith(b"\x89PNG")
    labels = server.run(
        "qr", "labels", "08936045870013/TH2611-07", "08936045870013", "--out-dir", "labels"
    )
    assert labels.exit_code == 0, labels.output
    sheet = (server.tmp / "labels" / "labels-001.svg").read_text()
    assert sheet.count('class="label"') == 2
    # A wrong check digit: exit 2 and one line saying so (as a user sees it).
    bad = server.cli("qr", "svg", "08936045870014", "--out", "x.svg", ok=False)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: ")
    assert len(bad.stderr.strip().splitlines()) == 1


def _wait_for(check: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_shipment_create_signs_with_the_keystore_and_the_api_relays_it(
    server: Server, world: dict[str, Any]
) -> None:
    seller, carrier = world["seller"], world["carrier"]
    manifest = server.tmp / "manifest.json"
    manifest.write_text(json.dumps({
        "transportMode": "air",
        "lines": [{"gtin": "08936045870013", "lot": "TH2611-08", "quantity": 12}],
    }))  # fmt: skip
    env_key = {"WAYMARK_API_KEY": seller.api_key}
    os.environ.update(env_key)
    try:
        made = server.cli(
            "--json", "shipment", "create", "--keystore", seller.keystore, "--manifest",
            "manifest.json", "--origin", "VNSGN", "--destination", "NLRTM", "--carrier",
            carrier.account.address, "--weight-grams", "24000", "--pieces", "2",
            "--sla", "picked_up_by=+86400", "--rpc", server.rpc, "--wait",
        )  # fmt: skip
        # A manifest the API would refuse is refused before signing, in one line.
        manifest.write_text(json.dumps({"transportMode": "air", "lines": []}))
        bad = server.cli(
            "shipment", "create", "--keystore", seller.keystore, "--manifest", "manifest.json",
            "--origin", "VNSGN", "--destination", "NLRTM", "--carrier", carrier.account.address,
            "--weight-grams", "1", "--pieces", "1", "--nonce", "0", ok=False,
        )  # fmt: skip
    finally:
        del os.environ["WAYMARK_API_KEY"]
    result = json.loads(made.stdout)
    assert result["status"] in ("mined", "final"), result
    detail = server.api("GET", f"/v1/shipments/{result['shipment_id']}", seller.api_key)
    assert detail["seller"].lower() == seller.account.address.lower()
    assert [c.lower() for c in detail["carriers"]] == [carrier.account.address.lower()]
    assert detail["destination"] == "NLRTM"
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "lines" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_passport_recall_and_revoke_are_signed_by_the_issuer_only(
    server: Server, world: dict[str, Any]
) -> None:
    seller, carrier = world["seller"], world["carrier"]
    doc = json.loads((PROJECT_ROOT / "backend/passports/samples/bamboo_tableware.json").read_text())
    doc["issuer"]["account"] = seller.account.address
    doc["identity"]["lot"] = "TH2611-09"
    (server.tmp / "passport-09.json").write_text(json.dumps(doc))
    issued = server.cli(
        "--json", "passport", "issue", "passport-09.json", "--keystore", seller.keystore,
        "--rpc", server.rpc, "--api-key", seller.api_key, "--submit", "--wait",
    )  # fmt: skip
    assert json.loads(issued.stdout)["result"]["status"] in ("mined", "final")
    shown = server.run("--json", "passport", "validate", str(server.tmp / "passport-09.json"))
    pid = json.loads(shown.output)["passport_id"]
    # Someone else's key cannot recall it: the API refuses, exit 2, one line.
    foreign = server.cli(
        "passport", "recall", pid, "--keystore", carrier.keystore, "--reason-code", "3",
        "--reason", "not mine to recall", "--rpc", server.rpc, "--api-key", carrier.api_key,
        ok=False,
    )  # fmt: skip
    assert foreign.returncode == 2, foreign.stdout
    assert len(foreign.stderr.strip().splitlines()) == 1, foreign.stderr
    for action in ("recall", "revoke"):
        done = server.cli(
            "--json", "passport", action, pid, "--keystore", seller.keystore, "--reason-code",
            "3", "--reason", "lead above limit in batch test", "--rpc", server.rpc,
            "--api-key", seller.api_key, "--wait",
        )  # fmt: skip
        assert json.loads(done.stdout)["status"] in ("mined", "final")

    def revoked() -> bool:
        shown = server.api("GET", f"/v1/passports/{pid}", seller.api_key)
        return str(shown.get("status")).lower() == "revoked"

    assert _wait_for(revoked)


def _one_line_failure(proc: subprocess.CompletedProcess[str], *expected: str) -> str:
    """A failure as promised: exit 2, one line on stderr starting ``error:``, no traceback."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in proc.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def test_supply_events_are_signed_offline_and_posted(server: Server, world: dict[str, Any]) -> None:
    carrier = world["carrier"]
    (server.tmp / "reading.csv").write_text("t,celsius\n0,4.1\n60,4.3\n")
    server.cli(
        "event", "sign", "--keystore", carrier.keystore, "--subject", world["sid"],
        "--kind", "sensor-reading", "--location", "vn sgn",
        "--occurred-at", "-300", "--rpc", server.rpc, "--payload", "reading.csv",
        "--out", "event.json",
    )  # fmt: skip
    signed = json.loads((server.tmp / "event.json").read_text())
    assert signed["location"] == "VNSGN"
    assert signed["kind"] == 1
    posted = server.cli("--json", "event", "submit", "event.json", "--api-key", carrier.api_key)
    accepted = json.loads(posted.stdout)
    assert accepted["signer"] == carrier.account.address
    assert accepted["event_id"] == signed["eventId"]
    # Signed and posted in one go, with an ISO time.
    now = server.cli(
        "--json", "event", "sign", "--keystore", carrier.keystore, "--subject", world["sid"],
        "--kind", "SCAN", "--location", "USLAX", "--occurred-at", "2026-11-22T08:00:00Z",
        "--api-key", carrier.api_key, "--submit",
    )  # fmt: skip
    assert json.loads(now.stdout)["signer"] == carrier.account.address
    # A batch with one good and one tampered event: the tampered one is named, exit 2.
    tampered = {**signed, "eventId": "0x" + "ab" * 32}
    (server.tmp / "events.json").write_text(json.dumps({"events": [signed, tampered]}))
    batch = server.cli("event", "submit", "events.json", "--api-key", carrier.api_key, ok=False)
    _one_line_failure(batch, "1 of 2 events rejected", "event 1")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--kind", "teleported"], "not an event kind (SCAN, SENSOR_READING"),
        (["--kind", "SCAN", "--occurred-at", "yesterday"], "not a time: 'yesterday'"),
        (["--kind", "SCAN", "--location", "VN-SGN!"], "a UN/LOCODE is letters and digits"),
        (["--kind", "SCAN", "--payload-hash", "0x1234"], "--payload-hash must be 32 bytes"),
    ],
)
def test_event_sign_failures_are_one_line(
    server: Server, world: dict[str, Any], flags: list[str], expected: str
) -> None:
    args = ["--location", "NLRTM", *flags] if "--location" not in flags else flags
    proc = server.cli(
        "event", "sign", "--keystore", world["carrier"].keystore, "--subject", world["sid"],
        *args, ok=False,
    )  # fmt: skip
    _one_line_failure(proc, expected)


def test_a_milestone_is_corrected_from_the_cli(server: Server, world: dict[str, Any]) -> None:
    seller, carrier = world["seller"], world["carrier"]
    sid = _new_shipment(server, seller, carrier, world["domain"])
    server.cli(
        "milestone", "sign", "--keystore", seller.keystore, "--shipment-id", sid,
        "--milestone", "picked-up", "--location", "VNSGN", "--weight-grams", "470000",
        "--counterparty", carrier.account.address, "--rpc", server.rpc, "--out", "p2.json",
    )  # fmt: skip
    server.cli(
        "milestone", "cosign", "p2.json", "--keystore", carrier.keystore, "--rpc", server.rpc
    )
    server.cli("milestone", "submit", "p2.json", "--api-key", seller.api_key, "--wait")
    # The wrong weight was entered: the seller declares entry 0 incorrect, with a new ticket.
    (server.tmp / "ticket.txt").write_text("gross 480000 g\n")
    out = server.cli(
        "--json", "milestone", "correct", "--keystore", seller.keystore, "--shipment-id", sid,
        "--index", "0", "--reason", "incorrect-data", "--evidence", "ticket.txt",
        "--rpc", server.rpc, "--api-key", seller.api_key, "--submit", "--wait",
    )  # fmt: skip
    assert json.loads(out.stdout)["status"] in ("mined", "final")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        shipment = server.api("GET", f"/v1/shipments/{sid}", seller.api_key)
        if shipment["corrections"]:
            break
        time.sleep(0.2)
    correction = shipment["corrections"][0]
    assert correction["corrected_index"] == 0
    assert correction["corrected_record_hash"] == shipment["milestones"][0]["record_hash"]
    assert correction["reason_code"] == 2
    assert correction["signer"] == seller.account.address
    # An entry that does not exist, a reason that is not one, a time that is not one.
    for flags, expected in (
        (["--index", "7", "--reason", "other"], "has no milestone at index 7"),
        (["--index", "0", "--reason", "typo"], "not a correction reason"),
        (["--index", "0", "--reason", "other", "--deadline", "soon"], "not a time: 'soon'"),
    ):
        proc = server.cli(
            "milestone", "correct", "--keystore", seller.keystore, "--shipment-id", sid,
            *flags, "--rpc", server.rpc, "--api-key", seller.api_key, "--submit", ok=False,
        )  # fmt: skip
        _one_line_failure(proc, expected)


def test_a_certifier_attests_a_passport_version_from_the_cli(
    server: Server, world: dict[str, Any]
) -> None:
    seller = world["seller"]
    # The operator accredits certifiers: the organisation holds the certifier role on chain.
    certifier = _party(server, "fsc-audit", ["certifier"], roles=[*DEFAULT_ROLES, "certifier"])
    doc = json.loads((PROJECT_ROOT / "backend/passports/samples/bamboo_tableware.json").read_text())
    doc["issuer"]["account"] = seller.account.address
    doc["identity"]["lot"] = "TH2611-11"
    (server.tmp / "passport-11.json").write_text(json.dumps(doc))
    server.cli(
        "passport", "issue", "passport-11.json", "--keystore", seller.keystore,
        "--rpc", server.rpc, "--api-key", seller.api_key, "--submit", "--wait",
    )  # fmt: skip
    pid = json.loads(server.run("--json", "passport", "validate", "passport-11.json").output)[
        "passport_id"
    ]
    assert _wait_for(
        lambda: bool(server.api("GET", f"/v1/passports/{pid}", seller.api_key)["versions"])
    )
    attested = server.cli(
        "--json", "passport", "attest", pid, "--keystore", certifier.keystore, "--claim",
        "fsc-coc", "--valid-until", "+31536000", "--rpc", server.rpc,
        "--api-key", certifier.api_key, "--wait",
    )  # fmt: skip
    result = json.loads(attested.stdout)
    assert result["version"] == 1
    assert result["status"] in ("mined", "final")

    def attested_now() -> bool:
        shown = server.api("GET", f"/v1/passports/{pid}", seller.api_key)
        return any(a["status"] == "valid" for a in shown["attestations"])

    assert _wait_for(attested_now)
    shown = server.api("GET", f"/v1/passports/{pid}", seller.api_key)
    attestation = shown["attestations"][0]
    assert attestation["certifier"] == certifier.account.address
    assert attestation["claim"] == "0x" + keccak(b"fsc-coc").hex()
    # A version that does not exist, a validity in the past: one line, exit 2.
    for flags, expected in (
        (["--version", "4", "--valid-until", "+600"], "has no version 4 (it has [1])"),
        (["--valid-until", "2020-01-01T00:00:00Z"], "is not in the future"),
    ):
        proc = server.cli(
            "passport", "attest", pid, "--keystore", certifier.keystore, "--claim", "fsc-coc",
            *flags, "--rpc", server.rpc, "--api-key", certifier.api_key, ok=False,
        )  # fmt: skip
        _one_line_failure(proc, expected)
