"""EIP-712 structs of the alliance contracts (``CapacityPool``).

Each ``type_string`` must hash to the contract's TYPEHASH constant; the test in
``tests/contracts/test_capacity_pool.py`` asserts it against the deployed code.
"""

from __future__ import annotations

from backend.chain.eip712 import StructType

#: Consent of ``to`` to take over ``units`` of ``from``'s booking, paying ``price``.
BOOKING_TRANSFER = StructType(
    "BookingTransfer",
    (
        ("uint256", "poolId"),
        ("uint256", "periodId"),
        ("address", "from"),
        ("address", "to"),
        ("uint64", "units"),
        ("uint256", "price"),
        ("uint256", "nonce"),
        ("uint256", "deadline"),
    ),
)

#: A member's co-signature of the operator's usage report for one period.
USAGE_REPORT = StructType(
    "UsageReport",
    (
        ("uint256", "poolId"),
        ("uint256", "periodId"),
        ("address", "member"),
        ("uint64", "usedUnits"),
        ("uint256", "nonce"),
        ("uint256", "deadline"),
    ),
)

#: Contract constant name for each struct, for the TYPEHASH equality test.
TYPEHASH_CONSTANTS = {
    "BOOKING_TRANSFER_TYPEHASH": BOOKING_TRANSFER,
    "USAGE_REPORT_TYPEHASH": USAGE_REPORT,
}
