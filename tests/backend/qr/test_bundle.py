"""verify_bundle: every claim checked against the chain and a trust manifest, never trusted.

The shared anvil cases (issue 14) run in tests/integration/test_proof_cases.py;
here each single claim of a genuine bundle is altered in turn on the in-process
chain and must fail exactly its own check, and broken input must end in
"could not check" rather than a traceback or a verdict.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eth_account import Account

from backend.chain import ChainClient
from backend.chain.anvil import free_port
from backend.chain.organisations import Role
from backend.cli import cli
from backend.cli.chainio import verifier_rpc
from backend.qr.bundle.verify import CouldNotCheck, Trust, Verdict, verify_bundle
from tests.backend.qr.third_party import rpc_of, trust_of
from tests.conftest import deployment_for
from tests.helpers import BAD_ADDRESSES, BAD_BYTES32
from tests.integration.proof_cases import CaseBuilder

Bundle = dict[str, Any]


def genuine(chain: ChainClient) -> Bundle:
    """A passport issued by a registered brand key and two events it signed, anchored."""
    b = CaseBuilder(chain, deployment_for(chain), "in-process")
    brand = b.register("bundle-brand", "Bundle Brand", ("8936045",), Role.ISSUER)
    issuer = b.add_key(brand)
    chain.send_value(issuer.address, 10**18)
    as_brand = CaseBuilder(chain.with_account(issuer), b.dep, "in-process")
    path, document = as_brand.issue("BUNDLE-1")
    events = [b.event(issuer, path, 0), b.event(issuer, path, 3)]
    b.anchor(events)
    return b.bundle(path, document, issuer.address, events)


@pytest.fixture
def bundle(tester: ChainClient) -> Bundle:
    return genuine(tester)


def failed(report: Any) -> set[str]:
    return {c.id for c in report.failures()}


def test_genuine_bundle_is_valid_with_every_check_listed(
    tester: ChainClient, bundle: Bundle
) -> None:
    report = verify_bundle(bundle, rpc_of(tester), trust_of(tester))
    assert report.verdict is Verdict.VALID, report.failures()
    assert report.passport_status == "active"
    assert report.organisation == "Bundle Brand"
    ids = [c.id for c in report.checks]
    assert ids[:2] == ["trust.chain_id", "trust.contracts"]
    assert set(ids) == {
        "trust.chain_id",
        "trust.contracts",
        "trust.anchorer",
        "passport.id",
        "passport.document_hash",
        "passport.on_chain_hash",
        "passport.current_version",
        "passport.status",
        "passport.issuer",
        "event.digest",
        "event.signature",
        "event.merkle",
        "event.anchored",
        "event.confirmations",
        "event.signer_key",
        "event.authorised",
    }
    assert sum(c.id == "event.anchored" for c in report.checks) == 2


def _set(path: str, value: Any) -> Callable[[Bundle], None]:
    def edit(b: Bundle) -> None:
        *head, last = path.split(".")
        node: Any = b
        for part in head:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value(node) if callable(value) else value

    return edit


FLIP = "0x" + "11" * 32
# Changing what was signed changes the digest, so its signature, leaf and anchor fail with it.
RESIGNED = {"event.digest", "event.signature", "event.merkle", "event.anchored"}
ALTERATIONS: list[tuple[str, Callable[[Bundle], None], set[str]]] = [
    ("chain id", _set("chain_id", 1), {"trust.chain_id"}),
    ("anchor registry", _set("contracts.AnchorRegistry", "0x" + "22" * 20), {"trust.contracts"}),
    ("anchorer", _set("anchorer", "0x" + "66" * 20), {"trust.anchorer"}),
    ("gs1 path", _set("subject.gs1_path", "/01/08936045870013/10/OTHER"), {"passport.id"}),
    ("canonical hash", _set("passport.canonical_hash", FLIP), {"passport.document_hash"}),
    ("issuer", _set("passport.issuer", "0x" + "33" * 20), {"passport.issuer"}),
    ("event kind", _set("events.0.typed_data.message.kind", 9), RESIGNED),
    (
        "event domain chain",
        _set("events.0.typed_data.domain.chainId", 1),
        RESIGNED,
    ),
    ("event subject", _set("events.0.typed_data.message.subject", FLIP), RESIGNED),
    (
        "event signer",
        _set("events.0.signer", "0x" + "44" * 20),
        {"event.signature", "event.signer_key", "event.authorised"},  # nobody's key
    ),
    ("proof step", _set("events.0.proof.0", FLIP), {"event.merkle", "event.anchored"}),
    ("root", _set("events.0.root", FLIP), {"event.merkle", "event.anchored"}),
    (
        "anchor block",
        _set("events.0.anchor.block_number", lambda a: a["block_number"] - 1),
        {"event.anchored"},
    ),
    ("anchor tx", _set("events.0.anchor.tx_hash", FLIP), {"event.anchored"}),
]


@pytest.mark.parametrize(
    ("edit", "expected"), [(e, x) for _, e, x in ALTERATIONS], ids=[n for n, _, _ in ALTERATIONS]
)
def test_each_altered_claim_fails_its_own_check(
    tester: ChainClient, bundle: Bundle, edit: Callable[[Bundle], None], expected: set[str]
) -> None:
    forged = copy.deepcopy(bundle)
    edit(forged)
    report = verify_bundle(forged, rpc_of(tester), trust_of(tester))
    assert report.verdict is Verdict.INVALID
    assert failed(report) == expected, report.failures()


def test_a_root_a_stranger_anchored_is_not_the_pinned_anchorers(tester: ChainClient) -> None:
    """The registry is open: anyone may anchor a root of events (here, ones the brand's
    key signed but the operator never anchored). Only the pinned anchorer's anchor counts,
    and the failing check names it."""
    b = CaseBuilder(tester, deployment_for(tester), "in-process")
    brand = b.register("bundle-brand", "Bundle Brand", ("8936045",), Role.ISSUER)
    issuer = b.add_key(brand)
    tester.send_value(issuer.address, 10**18)
    path, document = CaseBuilder(tester.with_account(issuer), b.dep, "in-process").issue("S-1")
    outsider = Account.create()
    tester.send_value(outsider.address, 10**18)
    events = [b.event(issuer, path, 0)]
    CaseBuilder(tester.with_account(outsider), b.dep, "in-process").anchor(events)
    forged = b.bundle(path, document, issuer.address, events)
    report = verify_bundle(forged, rpc_of(tester), trust_of(tester))
    assert report.verdict is Verdict.INVALID
    (bad,) = report.failures()
    assert bad.id == "event.anchored"
    pinned = b.dep.anchor_account.lower()
    assert f"the pinned anchorer {pinned} never anchored root {events[0]['root']}" in bad.detail
    # Naming the stranger as the anchorer is answered by the trust checks.
    forged["anchorer"] = outsider.address
    report = verify_bundle(forged, rpc_of(tester), trust_of(tester))
    assert report.verdict is Verdict.INVALID
    (bad,) = report.failures()
    assert bad.id == "trust.anchorer"
    assert outsider.address.lower() in bad.detail
    assert pinned in bad.detail


def test_contract_named_differently_from_the_manifest_is_named_in_the_check(
    tester: ChainClient, bundle: Bundle
) -> None:
    forged = copy.deepcopy(bundle)
    forged["contracts"]["ProductPassportRegistry"] = "0x" + "55" * 20
    report = verify_bundle(forged, rpc_of(tester), trust_of(tester))
    (bad,) = report.failures()
    assert bad.item == "ProductPassportRegistry"
    assert "0x" + "55" * 20 in bad.detail


def test_too_few_confirmations_is_invalid(tester: ChainClient, bundle: Bundle) -> None:
    report = verify_bundle(bundle, rpc_of(tester), trust_of(tester), confirmations=10_000)
    assert report.verdict is Verdict.INVALID
    assert failed(report) == {"event.confirmations"}


def _drop(path: str) -> Callable[[Bundle], None]:
    def edit(b: Bundle) -> None:
        *head, last = path.split(".")
        node: Any = b
        for part in head:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return edit


UNREADABLE: list[tuple[str, Callable[[Bundle], None], str]] = [
    ("format 1", _set("format", "waymark-proof-bundle/1"), "unknown bundle format"),
    ("no format", _drop("format"), "unknown bundle format"),
    ("no passport", _drop("passport"), "missing field 'passport'"),
    ("no gs1 path", _drop("subject.gs1_path"), "missing field 'gs1_path'"),
    ("signature not hex", _set("events.0.signature", "0xZZ"), "malformed bundle"),
    ("no authorisation", _drop("events.0.authorisation"), "authorisation.basis"),
    (
        "delegation out of range",
        _set("events.0.authorisation", {"basis": "delegate", "delegation": 3}),
        "delegations",
    ),
    ("chain id not a number", _set("chain_id", "main"), "malformed bundle"),
    ("document a list", _set("passport.document", []), "passport.document"),
]


@pytest.mark.parametrize(
    ("edit", "says"), [(e, s) for _, e, s in UNREADABLE], ids=[n for n, _, _ in UNREADABLE]
)
def test_unreadable_bundle_could_not_be_checked(
    tester: ChainClient, bundle: Bundle, edit: Callable[[Bundle], None], says: str
) -> None:
    broken = copy.deepcopy(bundle)
    edit(broken)
    report = verify_bundle(broken, rpc_of(tester), trust_of(tester))
    assert report.verdict is Verdict.UNCHECKED
    assert says in (report.problem or ""), report.problem


MALFORMED: list[tuple[str, str, str, str]] = [
    *(("subject.passport_id", "subject.passport_id", v, f) for v, f in BAD_BYTES32),
    ("events.0.root", "events[].root", *BAD_BYTES32[-1]),
    *(("events.0.signer", "events[].signer", v, f) for v, f in BAD_ADDRESSES),
    ("passport.issuer", "passport.issuer", *BAD_ADDRESSES[-1]),
    ("contracts.AnchorRegistry", "contracts.AnchorRegistry", *BAD_ADDRESSES[-1]),
]


@pytest.mark.parametrize(
    ("path", "what", "value", "fault"),
    MALFORMED,
    ids=[f"{path}-{fault}" for path, _, _, fault in MALFORMED],
)
def test_a_malformed_hex_field_could_not_be_checked_naming_the_field_and_fault(
    tester: ChainClient, bundle: Bundle, path: str, what: str, value: str, fault: str
) -> None:
    broken = copy.deepcopy(bundle)
    _set(path, value)(broken)
    report = verify_bundle(broken, rpc_of(tester), trust_of(tester))
    assert report.verdict is Verdict.UNCHECKED
    assert report.problem == f"malformed bundle: {what} {fault}"


def test_a_list_is_not_a_bundle(tester: ChainClient) -> None:
    report = verify_bundle([1, 2], rpc_of(tester), trust_of(tester))
    assert report.verdict is Verdict.UNCHECKED


def test_unreachable_node_could_not_be_checked(tester: ChainClient, bundle: Bundle) -> None:
    rpc = verifier_rpc(f"http://127.0.0.1:{free_port()}", timeout=2)
    report = verify_bundle(bundle, rpc, trust_of(tester))
    assert report.verdict is Verdict.UNCHECKED
    assert "did not answer" in (report.problem or "")


@pytest.mark.parametrize(
    "manifest",
    [[], {}, {"chainId": 1}, {"chainId": 1, "contracts": {"AnchorRegistry": {"address": "x"}}}],
)
def test_a_manifest_without_the_registries_is_refused(manifest: Any) -> None:
    with pytest.raises(CouldNotCheck):
        Trust.from_manifest(manifest)


def test_a_manifest_without_the_anchorer_is_refused(tester: ChainClient) -> None:
    manifest = deployment_for(tester).to_json()
    del manifest["anchorer"]
    with pytest.raises(CouldNotCheck, match="names no anchorer"):
        Trust.from_manifest(manifest)


def test_cli_could_not_check_is_one_line_and_exit_2(tmp_path: Path, tester: ChainClient) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    not_json = tmp_path / "bundle.json"
    not_json.write_text("{not json")
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(deployment_for(tester).to_json()))
    runs = [
        ["proof", "verify", str(not_json), "--rpc", closed, "--trust", str(manifest)],
        ["proof", "verify", str(tmp_path / "missing.json"), "--rpc", closed, "--trust", "x"],
    ]
    bundle = tmp_path / "ok.json"
    bundle.write_text(json.dumps({"format": "waymark-proof-bundle/2"}))
    runs.append(["proof", "verify", str(bundle), "--rpc", closed, "--trust", str(manifest)])
    runs.append(["proof", "verify", str(bundle), "--rpc", closed])  # no manifest to find
    runs.append(["proof", "verify", str(bundle), "--rpc", closed, "--trust", f"{closed}/m.json"])
    for args in runs:
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == ""
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("could not check: "), line
        assert "Traceback" not in result.output
