"""The shipment EIP-712 types match the contract and standard tooling."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from backend.chain import ChainClient, eip712
from backend.chain.eip712 import Domain
from backend.chain.typed_data import shipments as td
from tests.conftest import deployment_for

DOMAIN = Domain("Waymark ShipmentRegistry", "2.0.0", 31337, "0x" + "cc" * 20)
KEY = "0x" + "42" * 32
SIGNER = Account.from_key(KEY).address
TERMS = td.shipment_terms(
    shipment_id=keccak(text="s-1"),
    seller=SIGNER,
    origin="CN SHA",
    destination="NLRTM",
    declared_weight_grams=120_000,
    piece_count=12,
    weight_tolerance_bps=150,
    manifest_hash=keccak(text="manifest"),
    carriers=["0x" + "aa" * 20, "0x" + "bb" * 20],
    consignee="0x" + "cc" * 20,
    sla=td.service_level(picked_up_by=1_800_000_000, delivered_by=1_800_900_000),
)
MILESTONE = td.milestone(
    shipment_id=keccak(text="s-1"),
    kind=td.MilestoneType.DEPARTED,
    signer=SIGNER,
    nonce=3,
    deadline=1_900_000_000,
    occurred_at=1_800_000_100,
    location="CNSHA",
    measured_weight_grams=121_000,
    evidence_hash=keccak(text="scan"),
)


@pytest.mark.parametrize("constant", sorted(td.TYPEHASH_CONSTANTS))
def test_type_string_hashes_to_contract_typehash(tester_chain: ChainClient, constant: str) -> None:
    address = deployment_for(tester_chain).address("ShipmentRegistry")
    contract = tester_chain.contract("ShipmentRegistry", address)
    on_chain = bytes(tester_chain.call(contract, constant))
    assert td.TYPEHASH_CONSTANTS[constant].typehash == on_chain


def test_domain_version_matches_contract_version(tester_chain: ChainClient) -> None:
    address = deployment_for(tester_chain).address("ShipmentRegistry")
    contract = tester_chain.contract("ShipmentRegistry", address)
    domain = tester_chain.eip712_domain(contract)
    assert domain.name == "Waymark ShipmentRegistry"
    assert domain.version == tester_chain.call(contract, "VERSION")
    assert domain.chain_id == tester_chain.chain_id
    assert domain.verifying_contract.lower() == address.lower()


@pytest.mark.parametrize(
    ("struct", "message"),
    [
        (td.MILESTONE, MILESTONE),
        (td.CREATE_SHIPMENT, {"terms": TERMS, "nonce": 0, "deadline": 1_900_000_000}),
        (td.CUSTODY_ACCEPTANCE, td.acceptance_message(MILESTONE, nonce=1, deadline=5)),
        (
            td.CORRECTION,
            td.correction(
                shipment_id=keccak(text="s-1"),
                corrected_index=2,
                corrected_record_hash=keccak(text="r"),
                reason=td.CorrectionReason.INCORRECT_DATA,
                signer=SIGNER,
                nonce=0,
                deadline=9,
            ),
        ),
    ],
    ids=["Milestone", "CreateShipment", "CustodyAcceptance", "Correction"],
)
def test_digest_matches_eth_account_typed_data(struct: eip712.StructType, message: dict) -> None:
    signable = encode_typed_data(full_message=eip712.typed_data_payload(DOMAIN, struct, message))
    expected = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert eip712.digest(DOMAIN, struct, message) == expected


def test_signed_milestone_recovers_to_signer() -> None:
    sig = td.sign_milestone(KEY, DOMAIN, MILESTONE)
    assert eip712.recover(eip712.digest(DOMAIN, td.MILESTONE, MILESTONE), sig) == SIGNER


def test_record_hash_is_milestone_struct_hash() -> None:
    assert td.record_hash(MILESTONE) == td.MILESTONE.hash_struct(MILESTONE)
    assert td.record_hash({**MILESTONE, "nonce": 4}) != td.record_hash(MILESTONE)


def test_locode_accepts_spaced_and_compact_forms() -> None:
    assert td.locode("CN SHA") == b"CNSHA"
    assert td.locode("nlrtm") == b"NLRTM"
    assert td.locode_text(b"NLRTM") == "NLRTM"
    assert td.locode_text(bytes(5)) == ""


@pytest.mark.parametrize("bad", ["CNSH", "CNSHAX", "12SHA", "CN-SH"])
def test_locode_rejects_malformed_codes(bad: str) -> None:
    with pytest.raises(ValueError, match="UN/LOCODE"):
        td.locode(bad)


def test_as_abi_tuple_orders_fields_and_nests_structs() -> None:
    tup = td.as_abi_tuple(td.SHIPMENT_TERMS, TERMS)
    assert tup[0] == TERMS["shipmentId"]
    assert tup[8] == TERMS["carriers"]
    assert tup[11] == TERMS["consignee"]
    assert tup[12] == (1_800_000_000, 0, 0, 0, 0, 1_800_900_000)
    assert len(td.as_abi_tuple(td.MILESTONE, MILESTONE)) == len(td.MILESTONE.fields)


def test_enums_match_contract_numbering() -> None:
    assert [m.value for m in td.MilestoneType] == list(range(1, 14))
    assert td.Status.DELIVERED == 10
    assert td.Role.SELLER | td.Role.CARRIER == 3
