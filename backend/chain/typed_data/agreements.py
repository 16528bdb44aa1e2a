"""EIP-712 structs of ``DeliveryAgreement``.

Each ``type_string`` must hash to the contract's TYPEHASH constant; the test in
``tests/contracts/test_delivery_agreement.py`` asserts it against the deployed code.
"""

from __future__ import annotations

from backend.chain.eip712 import StructType

#: What buyer and seller agree on (also hashed into the seller's acceptance).
AGREEMENT_TERMS = StructType(
    "AgreementTerms",
    (
        ("address", "buyer"),
        ("address", "seller"),
        ("address", "token"),
        ("uint128", "price"),
        ("uint64", "promisedBy"),
        ("uint64", "finalDeadline"),
        ("uint128", "compensationPerDay"),
        ("uint128", "compensationCap"),
        ("bool", "compensationFromPrice"),
        ("uint16", "weightToleranceBps"),
        ("address", "bonder"),
        ("uint128", "bondAmount"),
        ("address", "arbiter"),
        ("uint32", "disputeWindow"),
    ),
)

#: The seller's acceptance of one agreement's terms, naming the shipment that carries the goods.
ACCEPTANCE = StructType(
    "Acceptance",
    (
        ("uint256", "agreementId"),
        ("bytes32", "termsHash"),
        ("bytes32", "shipmentId"),
        ("uint256", "nonce"),
        ("uint256", "deadline"),
    ),
)

#: Contract constant name for each struct, for the TYPEHASH equality test.
TYPEHASH_CONSTANTS = {
    "AGREEMENT_TERMS_TYPEHASH": AGREEMENT_TERMS,
    "ACCEPTANCE_TYPEHASH": ACCEPTANCE,
}
