"""Gas of OrganisationRegistry operations next to a one-slot + event baseline (eth-tester).

Registration with one GS1 prefix, a further prefix, a key added by the registrar, by
an organisation admin with the key's consent, and relayed with the admin's EIP-712
signature, a revocation; and the views the other contracts call (`activeOrgOf`,
`ownerOfGtin` for a 7-digit prefix) measured as `eth_estimateGas` of the call.
"""

from __future__ import annotations

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
from backend.config import Settings
from bench.common import Row, publish

ROUNDS = 5
# A typical call's intrinsic cost, left out of the view figures' estimates.
TX_BASE = 21_000


def main() -> None:
    chain = make_chain(Settings(chain_backend="tester"), compile_contracts())
    deployment = deploy_all(chain)
    orgs = OrganisationRegistryClient(chain, deployment.address("OrganisationRegistry"))
    baseline = chain.contract("PassportGasBaseline", chain.deploy("PassportGasBaseline").address)
    gas: dict[str, list[int]] = {
        k: []
        for k in (
            "baseline",
            "register",
            "prefix",
            "key_registrar",
            "key_admin",
            "key_sig",
            "revoke",
            "active_org",
            "owner_of_gtin",
        )
    }
    for i in range(ROUNDS):
        gas["baseline"].append(
            chain.transact(baseline, "store", i.to_bytes(32, "big"), b"\x01" * 32).gas_used
        )
        org_id = org_id_for(f"bench-{i}")
        admin: LocalAccount = Account.create()
        chain.send_value(admin.address, 10**18)
        prefix = f"89360{i}1"
        org = OrganisationInput("Lang Tre Homeware JSC", "VN", "langtre.example", Role.ISSUER)
        gas["register"].append(orgs.register(org_id, org, admin.address, (prefix,)).gas_used)
        gas["prefix"].append(orgs.assign_prefix(org_id, f"89360{i}2").gas_used)
        gas["key_registrar"].append(
            orgs.add_key(KeyGrant(org_id, Account.create().address, Role.ISSUER)).gas_used
        )
        key: LocalAccount = Account.create()
        grant = KeyGrant(org_id, key.address, Role.ISSUER)
        consent = orgs.sign_key_consent(key.key, grant)
        gas["key_admin"].append(orgs.as_account(admin).add_key(grant, consent).gas_used)
        relayed: LocalAccount = Account.create()
        grant = KeyGrant(org_id, relayed.address, Role.ISSUER)
        consent = orgs.sign_key_consent(relayed.key, grant)
        deadline = int(chain.block()["timestamp"]) + 3600
        sig = orgs.sign_add_key(admin.key, grant, admin.address, deadline)
        gas["key_sig"].append(
            orgs.add_key_signed(grant, consent, admin.address, deadline, sig).gas_used
        )
        gas["active_org"].append(_view(chain, orgs, "activeOrgOf", key.address, int(Role.ISSUER)))
        gtin = _gtin("0" + prefix + "00001")
        gas["owner_of_gtin"].append(_view(chain, orgs, "ownerOfGtin", gtin))
        gas["revoke"].append(orgs.as_account(admin).revoke_key(key.address).gas_used)

    base = statistics.median(gas["baseline"])
    label = "1 slot + event, same run"

    def row(metric: str, k: str) -> Row:
        return Row(metric, statistics.median(gas[k]), "gas", base, label)

    rows = [
        Row("baseline: store bytes32 + event", base, "gas"),
        row("registerOrganisation (with first admin key and one prefix)", "register"),
        row("assignPrefix (7 digits)", "prefix"),
        row("addKey by the registrar", "key_registrar"),
        row("addKey by an organisation admin (with key consent)", "key_admin"),
        row("addKeyWithSig (relayed admin signature + key consent)", "key_sig"),
        row("revokeKey", "revoke"),
        row("activeOrgOf (view, execution only)", "active_org"),
        row("ownerOfGtin, 7-digit prefix (view, execution only)", "owner_of_gtin"),
    ]
    publish(
        "gas_organisations", f"Organisation registry gas (median of {ROUNDS}, eth-tester)", rows
    )


def _view(chain: object, orgs: OrganisationRegistryClient, fn: str, *args: object) -> int:
    data = orgs.chain.encode(orgs.contract, fn, *args)
    return orgs.chain.estimate_gas({"to": orgs.address, "data": data}) - TX_BASE - _calldata(data)


def _calldata(data: str) -> int:
    raw = bytes.fromhex(data[2:])
    return sum(4 if b == 0 else 16 for b in raw)


def _gtin(body: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


if __name__ == "__main__":
    main()
