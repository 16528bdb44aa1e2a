"""Gas per passport issue, amend and attestation, direct and relayed.

Measured on the in-process EVM (eth-tester / py-evm, Prague rules) from the
sample bamboo tableware passport. Every figure sits next to a same-run baseline:
``PassportGasBaseline.store`` (one fresh bytes32 slot and one event), the least a
registry write can cost. Attestations are also shown against the published gas of
an EAS ``attest`` (about 230,000 gas for a small schema, EAS documentation and
community gas reports), which stores a comparable attestation record.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eth_account import Account
from eth_account.signers.local import LocalAccount

from backend.chain import make_chain
from backend.chain.compiler import compile_contracts
from backend.chain.deployments import deploy_all
from backend.chain.organisations import (
    KeyGrant,
    OrganisationInput,
    OrganisationRegistryClient,
    Role,
    org_id_for,
)
from backend.chain.passports import (
    AttestationRequest,
    PassportContent,
    PassportRegistryClient,
    ReasonCode,
    claim_type,
    passport_id_of,
)
from backend.config import Settings
from backend.gs1.keys import key as gs1_key
from backend.passports.canonical import document_hash
from backend.passports.carbon import TransportLeg, footprint
from backend.passports.schemas import parse_document
from backend.passports.summary import key_figures
from bench.common import Row, publish

ROUNDS = 5
EAS_ATTEST_GAS = 230_000
EAS_LABEL = "EAS attest, published"
SAMPLE = Path(__file__).resolve().parent.parent / "backend/passports/samples/bamboo_tableware.json"
# A typical content-addressed URI: 59-character CIDv1 plus scheme and file name.
SHORT_URI = "https://lt.example/p/7.json"  # fits one storage slot (< 32 bytes)
URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi/passport.json"


def main() -> None:
    chain = make_chain(Settings(chain_backend="tester"), compile_contracts())
    deployment = deploy_all(chain)
    registry = PassportRegistryClient(chain, deployment.address("ProductPassportRegistry"))
    baseline = chain.contract("PassportGasBaseline", chain.deploy("PassportGasBaseline").address)

    brand, certifier = _funded(chain), _funded(chain)
    orgs = OrganisationRegistryClient(chain, deployment.address("OrganisationRegistry"))
    brand_org, certifier_org = org_id_for("brand"), org_id_for("certifier")
    orgs.register(brand_org, OrganisationInput("Brand", "VN", "", Role.ISSUER), None, ("8936045",))
    orgs.register(certifier_org, OrganisationInput("Certifier", "NL", "", Role.CERTIFIER))
    orgs.add_key(KeyGrant(brand_org, brand.address, Role.ISSUER))
    orgs.add_key(KeyGrant(certifier_org, certifier.address, Role.CERTIFIER))
    as_brand, as_certifier = registry.as_account(brand), registry.as_account(certifier)

    doc = parse_document(json.loads(SAMPLE.read_text()))
    figures = key_figures(doc, footprint(doc, [TransportLeg("sea", 1.95, distance=14_000)]))
    content = PassportContent(
        document_hash=document_hash(doc),
        uri=URI,
        origin_country=figures.origin_country,
        recycled_content_bps=figures.recycled_content_bps,
        carbon_grams_co2e=figures.carbon_grams_co2e,
        water_litres=figures.water_litres,
    )
    claim = claim_type("carbon-verified")
    gas: dict[str, list[int]] = {
        k: []
        for k in (
            "baseline",
            "issue",
            "issue_sig",
            "amend",
            "amend_sig",
            "attest",
            "attest_sig",
            "recall",
            "revoke_attestation",
            "issue_short",
        )
    }

    def deadline() -> int:
        return int(chain.block()["timestamp"]) + 3600

    for i in range(ROUNDS):
        key = i.to_bytes(32, "big")
        gas["baseline"].append(
            chain.transact(baseline, "store", key, content.document_hash).gas_used
        )

        direct_path = gs1_key(doc.identity.gtin, lot=f"BENCH-{i}").path
        relayed_path = gs1_key(doc.identity.gtin, lot=f"RELAY-{i}").path
        direct, relayed = passport_id_of(direct_path), passport_id_of(relayed_path)
        gas["issue"].append(as_brand.issue(direct_path, content).gas_used)
        short = PassportContent(**{**content.__dict__, "uri": SHORT_URI})
        short_path = gs1_key(doc.identity.gtin, lot=f"SHORT-{i}").path
        gas["issue_short"].append(as_brand.issue(short_path, short).gas_used)
        d = deadline()
        sig = registry.sign_issue(brand.key, relayed, content, brand.address, d)
        gas["issue_sig"].append(
            registry.issue_signed(relayed_path, content, brand.address, d, sig).gas_used
        )

        amended = PassportContent(**{**content.__dict__, "document_hash": bytes([i + 1]) * 32})
        gas["amend"].append(as_brand.amend(direct, 1, amended).gas_used)
        d = deadline()
        sig = registry.sign_amend(brand.key, relayed, 1, amended, brand.address, d)
        gas["amend_sig"].append(
            registry.amend_signed(relayed, 1, amended, brand.address, d, sig).gas_used
        )

        valid_until = int(chain.block()["timestamp"]) + 365 * 86_400
        request = AttestationRequest(direct, 2, amended.document_hash, claim, valid_until)
        result = as_certifier.attest(request)
        gas["attest"].append(result.gas_used)
        d = deadline()
        relayed_request = AttestationRequest(relayed, 2, amended.document_hash, claim, valid_until)
        sig = registry.sign_attest(certifier.key, relayed_request, certifier.address, d)
        gas["attest_sig"].append(
            registry.attest_signed(relayed_request, certifier.address, d, sig).gas_used
        )
        attestation_id = result.event("AttestationRecorded").args["attestationId"]
        gas["revoke_attestation"].append(
            as_certifier.revoke_attestation(
                attestation_id, ReasonCode.CERTIFICATE_WITHDRAWN, "scope withdrawn"
            ).gas_used
        )
        gas["recall"].append(
            as_brand.recall(direct, ReasonCode.SAFETY_HAZARD, "adhesive migration").gas_used
        )

    base = statistics.median(gas["baseline"])
    label = "1 slot + event, same run"

    def row(metric: str, key: str, target: str = "") -> Row:
        return Row(metric, statistics.median(gas[key]), "gas", base, label, target)

    eas = f"EAS attest ≈ {EAS_ATTEST_GAS:,} (published)"
    rows = [
        Row("baseline: store bytes32 + event", base, "gas"),
        row("issue (direct, 80-byte URI)", "issue"),
        row("issue (direct, 27-byte URI)", "issue_short"),
        row("issue (relayed, EIP-712)", "issue_sig"),
        row("amend → version 2 (direct)", "amend"),
        row("amend → version 2 (relayed)", "amend_sig"),
        row("attest (direct)", "attest", eas),
        row("attest (relayed, EIP-712)", "attest_sig", eas),
        row("revoke attestation", "revoke_attestation"),
        row("recall", "recall"),
        Row(EAS_LABEL, EAS_ATTEST_GAS, "gas", target="published reference, not measured"),
    ]
    publish("gas_passports", f"Product passport gas (median of {ROUNDS}, eth-tester)", rows)


def _funded(chain: object) -> LocalAccount:
    acct: LocalAccount = Account.create()
    chain.send_value(acct.address, 10**18)  # type: ignore[attr-defined]
    return acct


if __name__ == "__main__":
    main()
