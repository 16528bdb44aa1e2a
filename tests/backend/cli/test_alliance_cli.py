"""``waymark pool`` / ``waymark transfer`` as subprocesses against uvicorn on anvil.

One dedicated anvil node and one server (127.0.0.1, worker and indexer in
process); member keystores are real encrypted files; every call the contracts
bind to ``msg.sender`` goes through ``--rpc``, relayed calls and reads through
``--api``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from backend.alliance.members import member_proof_text
from backend.chain import ChainClient, make_chain
from backend.chain.alliance import TokenClient
from backend.chain.anvil import AnvilNode, free_port, start_anvil
from backend.chain.compiler import Artifact
from backend.chain.organisations import OrganisationRegistryClient, Role
from backend.chain.shipments import ShipmentRegistryClient
from backend.chain.typed_data.shipments import MilestoneType as M
from backend.config import Settings
from backend.paths import PROJECT_ROOT
from tests.cli_process import run_cli
from tests.contracts.alliance_drivers import PoolDriver, StockDriver
from tests.contracts.alliance_support import DAY, HOUR, USD, mint
from tests.contracts.shipment_factory import Parties, ShipmentDriver

TOKEN = "cli-operator-token"
OP = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "cli-test-password"
CHAIN_ID = 31_391


@pytest.fixture(scope="module")
def node() -> Iterator[AnvilNode]:
    anvil = start_anvil(chain_id=CHAIN_ID)
    try:
        yield anvil
    finally:
        anvil.stop()


@pytest.fixture(scope="module")
def server(node: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    db = tmp_path_factory.mktemp("cli-db") / "waymark.sqlite3"
    env = {
        **os.environ,
        "WAYMARK_CHAIN_BACKEND": "anvil",
        "WAYMARK_RPC_URL": node.url,
        "WAYMARK_DATABASE_URL": f"sqlite:///{db}",
        "WAYMARK_ADMIN_TOKEN": TOKEN,
        "WAYMARK_ENVIRONMENT": "test",
        "WAYMARK_ANCHOR_INTERVAL_SECONDS": "0.1",
        "WAYMARK_INDEXER_INTERVAL_SECONDS": "0.1",
        # The agreement keeper runs with the SLA sweep.
        "WAYMARK_WEBHOOK_WATCH_INTERVAL_SECONDS": "0.5",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "backend.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=PROJECT_ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _keystore(path: Path, account: LocalAccount) -> Path:
    # pbkdf2 with few rounds keeps each CLI start fast; the format is the same.
    path.write_text(json.dumps(Account.encrypt(account.key, PASSWORD, kdf="pbkdf2", iterations=2)))
    return path


def _cli(*args: str, keystore: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    cmd = ["--json", *args[:1]]
    group_opts: list[str] = []
    if keystore is not None:
        group_opts += ["--keystore", str(keystore)]
    # A forked process per command running the entry point (tests/cli_process.py).
    return run_cli(
        [*cmd, *group_opts, *args[1:]],
        env={**os.environ, "WAYMARK_KEYSTORE_PASSWORD": PASSWORD, **env},
        timeout=120,
    )


ANVIL_SECOND_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


def _ok(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def _wait(predicate: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not reached")


def test_pool_and_transfer_commands_against_a_running_server(
    server: str, node: AnvilNode, artifacts: dict[str, Artifact], tmp_path: Path
) -> None:
    http = httpx.Client(base_url=server, timeout=30)
    # The test funds members from anvil's second account: the server's relayer (the first
    # account) is busy relaying the organisations' registrations at the same time.
    chain: ChainClient = make_chain(
        Settings(
            chain_backend="anvil",
            rpc_url=node.url,
            receipt_timeout_seconds=30,
            relayer_private_key=ANVIL_SECOND_KEY,  # type: ignore[arg-type]
        ),
        artifacts,
    )
    config = http.get("/v1/alliance/config", headers=OP)
    # the operator can read the config; members need their own keys below
    assert config.status_code == 200, config.text
    cfg = config.json()
    token = TokenClient(chain, cfg["settlement_token"])
    accounts = {name: Account.create() for name in ("factory", "a", "b")}
    keys: dict[str, dict[str, str]] = {}
    stores: dict[str, Path] = {}
    for name, acct in accounts.items():
        chain.send_value(acct.address, 10**18)
        mint(token, acct.address, 1_000 * USD)
        org = http.post("/v1/orgs", json={"slug": name, "name": name}, headers=OP).json()
        key = org["admin_key"]["key"]
        keys[name] = {"Authorization": f"Bearer {key}"}
        sig = acct.sign_message(encode_defunct(text=member_proof_text(acct.address, name)))
        reg = http.post(
            "/v1/alliance/members",
            json={"address": acct.address, "signature": "0x" + bytes(sig.signature).hex()},
            headers=keys[name],
        )
        assert reg.status_code == 201, reg.text
        stores[name] = _keystore(tmp_path / f"{name}.json", acct)
    a, b, factory = accounts["a"], accounts["b"], accounts["factory"]

    resp = http.post(
        "/v1/alliance/pools",
        json={
            "operator": factory.address,
            "lease_per_period": 700 * USD,
            "rate_per_unit": 3 * USD,
            "dispute_window": DAY,
            "report_window": DAY,
            "members": [a.address, b.address],
        },
        headers=keys["a"],
    )
    assert resp.status_code == 202, resp.text
    pools = _wait(lambda: http.get("/v1/alliance/pools", headers=keys["a"]).json()["items"])
    pid = pools[0]["pool_id"]
    now = chain.block()["timestamp"]
    operator = PoolDriver(chain.with_account(factory), cfg["capacity_pool"])
    per, _ = operator.open_period(
        pid, start=now + DAY, end=now + 2 * DAY, cutoff=now + 12 * HOUR, capacity=10
    )

    def run(who: str, *args: str) -> subprocess.CompletedProcess[str]:
        key = keys[who]["Authorization"].removeprefix("Bearer ")
        return _cli(
            args[0],
            "--api",
            server,
            "--rpc",
            node.url,
            *args[1:],
            keystore=stores[who],
            WAYMARK_API_KEY=key,
        )

    assert _ok(run("a", "pool", "deposit", str(pid), str(500 * USD)))["free"] == 500 * USD
    _ok(run("b", "pool", "deposit", str(pid), str(500 * USD)))
    assert _ok(run("a", "pool", "book", str(pid), str(per), "6"))["units"] == 6
    _ok(run("b", "pool", "book", str(pid), str(per), "3"))
    # Over capacity: exit 2 with the decoded contract error on one line.
    over = run("b", "pool", "book", str(pid), str(per), "5")
    assert over.returncode == 2
    assert "PoolCapacityExceeded(" in over.stderr
    assert "available=1" in over.stderr
    assert len(over.stderr.strip().splitlines()) == 1

    consent = _ok(
        run(
            "b",
            "pool",
            "consent",
            str(pid),
            str(per),
            "--from",
            a.address,
            "--units",
            "2",
            "--price",
            str(10 * USD),
        )
    )
    _ok(
        run(
            "a",
            "pool",
            "transfer-booking",
            str(pid),
            str(per),
            "--to",
            b.address,
            "--units",
            "2",
            "--price",
            str(10 * USD),
            "--deadline",
            # The deadline given back as ISO 8601, the same instant.
            datetime.fromtimestamp(consent["deadline"], UTC).isoformat(),
            "--consent",
            consent["signature"],
        )
    )
    chain.advance_time(2 * DAY + HOUR)
    _ok(
        run(
            "factory",
            "pool",
            "report-usage",
            str(pid),
            str(per),
            f"{a.address}=4",
            f"{b.address}=5",
        )
    )
    cosigned = _ok(run("a", "pool", "cosign", str(pid), str(per), "4"))
    assert cosigned["status"] == "final"
    evidence = tmp_path / "meter.csv"
    evidence.write_text("line,units\n1,4\n")
    _ok(run("b", "pool", "dispute", str(pid), str(per), "4", "--evidence", str(evidence)))
    resolved = http.post(
        f"/v1/alliance/pools/{pid}/periods/{per}/resolve",
        json={"member": b.address, "used_units": 4},
        headers=OP,
    )
    assert resolved.status_code == 202, resolved.text
    _wait(
        lambda: (
            http.get(f"/v1/alliance/actions/{resolved.json()['id']}", headers=OP).json()["status"]
            == "final"
        )
    )
    settled = _ok(run("b", "pool", "settle", str(pid), str(per)))
    assert settled["status"] == "final"

    pool_view = PoolDriver(chain, cfg["capacity_pool"])
    logs = [
        ev
        for ev in chain.get_logs(
            [cfg["capacity_pool"]], settled["block_number"], settled["block_number"]
        )
        if ev.name == "MemberSettled"
    ]
    charges = {ev.args["member"]: ev.args for ev in logs}

    def statement(who: str, member: str) -> dict[str, Any]:
        return _wait(
            lambda: (
                (s := _ok(run(who, "pool", "statement", str(pid), str(per), member)))["settled"]
                and s
            )
        )

    for who, acct, used, booked in (("a", a, 4, 4), ("b", b, 4, 5)):
        st = statement(who, acct.address)
        ev = charges[acct.address]
        assert (st["booked_units"], st["used_units"]) == (booked, used)
        assert int(st["lease_share"]) == ev["leaseCharge"]
        assert int(st["variable_charge"]) == ev["usageCharge"]
        assert int(st["released_lock"]) == ev["released"]
    assert pool_view.operator_credit(pid) == sum(
        ev["leaseCharge"] + ev["usageCharge"] for ev in charges.values()
    )
    free_a = pool_view.free_balance(pid, a.address)
    _ok(run("a", "pool", "withdraw", str(pid), str(free_a)))
    assert pool_view.free_balance(pid, a.address) == 0

    # Emergency stock: membership by the operator, then the members' own calls.
    for acct in (a, b):
        grant = http.post("/v1/alliance/stock-members", json={"address": acct.address}, headers=OP)
        assert grant.status_code == 202, grant.text
        _wait(
            lambda g=grant: (
                http.get(f"/v1/alliance/actions/{g.json()['id']}", headers=OP).json()["status"]
                == "final"
            )
        )
    now = chain.block()["timestamp"]
    req = _ok(
        run(
            "a",
            "transfer",
            "request",
            "--gtin",
            "9506000134352",
            "--quantity",
            "10",
            "--destination",
            "nlrtm",
            "--needed-by",
            str(now + 3 * DAY),
            "--terms",
            "in-kind",
            "--return-by",
            str(now + 30 * DAY),
        )
    )
    rid = req["request_id"]
    listed = _wait(lambda: json.loads(run("b", "transfer", "list").stdout)["items"])
    assert [t["request_id"] for t in listed] == [rid]
    offer = _ok(run("b", "transfer", "offer", str(rid)))
    _ok(run("a", "transfer", "accept", str(rid), str(offer["offer_id"])))
    _ok(run("a", "transfer", "confirm-receipt", str(rid)))
    stock = StockDriver(chain, cfg["stock_transfer"])
    on_chain = stock.net_position(a.address, b.address, 9_506_000_134_352)
    assert on_chain.units == 10
    net = _wait(
        lambda: (
            (
                n := _ok(
                    run(
                        "a",
                        "transfer",
                        "net-positions",
                        a.address,
                        b.address,
                        "--gtin",
                        "9506000134352",
                    )
                )
            )["units"]
            == on_chain.units
            and n
        )
    )
    assert int(net["amount"]) == on_chain.amount == 0


def test_agreement_commands_and_the_keeper_pay_late_delivery_compensation(
    server: str, node: AnvilNode, artifacts: dict[str, Artifact], tmp_path: Path
) -> None:
    http = httpx.Client(base_url=server, timeout=30)
    # Funded from anvil's second account, as above: the server's relayer is busy too.
    chain: ChainClient = make_chain(
        Settings(
            chain_backend="anvil",
            rpc_url=node.url,
            receipt_timeout_seconds=30,
            relayer_private_key=ANVIL_SECOND_KEY,  # type: ignore[arg-type]
        ),
        artifacts,
    )
    cfg = http.get("/v1/alliance/config", headers=OP).json()
    contracts = http.get("/health").json()["contracts"]
    token = TokenClient(chain, cfg["settlement_token"])
    names = ("ag-buyer", "ag-seller", "ag-carrier", "ag-arbiter")
    accounts = {name: Account.create() for name in names}
    keys: dict[str, str] = {}
    stores: dict[str, Path] = {}
    registry = OrganisationRegistryClient(chain, contracts["OrganisationRegistry"]["address"])
    for name, acct in accounts.items():
        chain.send_value(acct.address, 10**18)
        mint(token, acct.address, 10_000 * USD)
        # The arbiter is an accredited organisation; the others hold the default roles
        # (consignee, carrier, ...). Each account is also its organisation's signer key.
        body: dict[str, object] = {"slug": name, "name": name}
        if name == "ag-arbiter":
            body["roles"] = ["arbiter"]
        org = http.post("/v1/orgs", json=body, headers=OP).json()
        keys[name] = org["admin_key"]["key"]
        added = http.post(
            f"/v1/orgs/{name}/signers",
            json={"address": acct.address, "label": name},
            headers={"Authorization": f"Bearer {keys[name]}"},
        )
        assert added.status_code == 201, added.text
        sig = acct.sign_message(encode_defunct(text=member_proof_text(acct.address, name)))
        reg = http.post(
            "/v1/alliance/members",
            json={"address": acct.address, "signature": "0x" + bytes(sig.signature).hex()},
            headers={"Authorization": f"Bearer {keys[name]}"},
        )
        assert reg.status_code == 201, reg.text
        stores[name] = _keystore(tmp_path / f"{name}.json", acct)
    buyer, seller, carrier = accounts["ag-buyer"], accounts["ag-seller"], accounts["ag-carrier"]
    deadline = time.monotonic() + 60
    while not (
        registry.is_active(buyer.address, Role.CONSIGNEE)
        and registry.is_active(carrier.address, Role.CARRIER)
        and registry.is_active(accounts["ag-arbiter"].address, Role.ARBITER)
    ):
        assert time.monotonic() < deadline, "signer keys not on chain within 60 s"
        time.sleep(0.2)

    def run(who: str, *args: str) -> subprocess.CompletedProcess[str]:
        return _cli(
            "agreement",
            "--api",
            server,
            "--rpc",
            node.url,
            *args,
            keystore=stores[who],
            WAYMARK_API_KEY=keys[who],
        )

    proposed = _ok(
        run(
            "ag-buyer",
            "propose",
            "--seller",
            seller.address,
            "--price",
            str(1_000 * USD),
            "--promised-in",
            str(HOUR),
            "--final-in",
            str(20 * DAY),
            "--per-day",
            str(50 * USD),
            "--cap",
            str(300 * USD),
            "--bonder",
            carrier.address,
            "--bond",
            str(100 * USD),
            "--arbiter",
            accounts["ag-arbiter"].address,
        )
    )
    aid = proposed["agreement_id"]
    _ok(run("ag-carrier", "bond", str(aid), str(100 * USD)))
    # Shipment writes are relayed from a key of the test's own, not the server's relayer key.
    relay = Account.create()
    chain.send_value(relay.address, 10**18)
    registry = ShipmentRegistryClient(
        chain.with_account(relay), contracts["ShipmentRegistry"]["address"]
    )
    driver = ShipmentDriver(registry, Parties(seller=seller, carrier_a=carrier), consignee=buyer)
    sid = driver.create()
    signed = _ok(run("ag-seller", "sign-acceptance", str(aid), "--shipment", "0x" + sid.hex()))
    accepted = _ok(
        run(
            "ag-seller",
            "accept",
            str(aid),
            "--shipment",
            signed["shipment_id"],
            "--deadline",
            datetime.fromtimestamp(signed["deadline"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "--signature",
            signed["signature"],
        )
    )
    assert accepted["status"] == "final"
    early = run("ag-buyer", "settle", str(aid))
    assert early.returncode == 2
    assert "AgreementNotDue(" in early.stderr

    # Delivered two started days after the promise, with the buyer's proof of delivery;
    # nobody calls settle: the service's keeper does.
    for kind, who in ((M.PICKED_UP, None), (M.EXPORT_CLEARED, driver.parties.broker)):
        if who is None:
            driver.transfer(sid, kind, seller, carrier)
        else:
            driver.record(sid, kind, who)
    for kind in (M.DEPARTED, M.ARRIVED):
        driver.record(sid, kind, carrier)
    driver.record(sid, M.IMPORT_CLEARED, driver.parties.broker)
    driver.record(sid, M.OUT_FOR_DELIVERY, carrier)
    chain.advance_time(HOUR + DAY + 60)
    driver.deliver(sid, buyer, carrier=carrier)
    shown = _wait(
        lambda: (v := _ok(run("ag-buyer", "show", str(aid))))["status"] == "settled" and v,
        timeout=60,
    )
    payout = shown["payout"]
    assert (payout["outcome"], payout["days_late"]) == ("late", 2)
    assert (payout["to_buyer"], payout["to_seller"], payout["to_bonder"]) == (
        100 * USD,
        1_000 * USD,
        0,
    )
    before = token.balance_of(seller.address)
    _ok(run("ag-seller", "withdraw"))
    assert token.balance_of(seller.address) == before + 1_000 * USD


def test_missing_rpc_is_a_one_line_usage_error(tmp_path: Path) -> None:
    store = _keystore(tmp_path / "k.json", Account.create())
    proc = _cli("pool", "book", "1", "0", "1", keystore=store)
    assert proc.returncode == 2
    assert "--rpc" in proc.stderr


def test_an_unfunded_member_gets_one_line_not_a_traceback(
    server: str, node: AnvilNode, tmp_path: Path
) -> None:
    broke = Account.create()  # a stock member holding no ether to pay gas with
    store = _keystore(tmp_path / "broke.json", broke)
    http = httpx.Client(base_url=server, timeout=30)
    grant = http.post("/v1/alliance/stock-members", json={"address": broke.address}, headers=OP)
    assert grant.status_code == 202, grant.text
    action = f"/v1/alliance/actions/{grant.json()['id']}"
    _wait(lambda: http.get(action, headers=OP).json()["status"] == "final")
    proc = _cli(
        "transfer", "--api", server, "--rpc", node.url, "request", "--gtin", "8936045870013",
        "--quantity", "5", "--destination", "NLRTM", "--needed-by", f"+{DAY}",
        "--max-price", "100",
        keystore=store, WAYMARK_API_KEY=TOKEN,
    )  # fmt: skip
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "fund" in proc.stderr.lower(), proc.stderr
    assert json.loads(proc.stdout)["error"] == proc.stderr.strip().removeprefix("error: ")
