"""Test drivers of the alliance and agreement contracts: the chain verbs only tests use.

The product's clients (:mod:`backend.chain.alliance`, :mod:`backend.chain.agreements`)
carry what the service and the CLI send and read; these subclasses add the calls
the contract tests make besides (removing members, cancelling, returns,
liabilities and totals), as ``ShipmentDriver`` does for the shipment
registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_checksum_address

from backend.chain import TxResult
from backend.chain.agreements import AgreementTerms, DeliveryAgreementClient
from backend.chain.alliance import CapacityPoolClient, EmergencyStockTransferClient


@dataclass(frozen=True)
class PoolTotals:
    """Σ free, Σ locked and operator credit of one pool."""

    free: int
    locked: int
    operator_credit: int

    @property
    def total(self) -> int:
        return self.free + self.locked + self.operator_credit


class PoolDriver(CapacityPoolClient):
    """``CapacityPool`` with the calls only tests make."""

    def remove_member(self, pool_id: int, member: str) -> TxResult:
        return self._tx("removeMember", pool_id, to_checksum_address(member))

    def withdraw_operator_credit(self, pool_id: int, amount: int) -> TxResult:
        return self._tx("withdrawOperatorCredit", pool_id, amount)

    def cancel(self, pool_id: int, period_id: int, units: int) -> TxResult:
        return self._tx("cancelBooking", pool_id, period_id, units)

    def is_member(self, pool_id: int, account: str) -> bool:
        return bool(self._call("isMember", pool_id, to_checksum_address(account)))

    def locked_balance(self, pool_id: int, account: str) -> int:
        return int(self._call("lockedBalanceOf", pool_id, to_checksum_address(account)))

    def totals(self, pool_id: int) -> PoolTotals:
        return PoolTotals(*self._call("totalsOf", pool_id))

    def token_liabilities(self, token: str) -> int:
        return int(self._call("tokenLiabilities", to_checksum_address(token)))


class StockDriver(EmergencyStockTransferClient):
    """``EmergencyStockTransfer`` with the calls only tests make."""

    def cancel_request(self, request_id: int) -> TxResult:
        return self._tx("cancelRequest", request_id)

    def refund(self, request_id: int) -> TxResult:
        return self._tx("refund", request_id)

    def link_return_shipment(self, request_id: int, shipment_id: bytes) -> TxResult:
        return self._tx("linkReturnShipment", request_id, shipment_id)

    def close_return(self, request_id: int) -> TxResult:
        return self._tx("closeReturn", request_id)

    def confirm_return(self, request_id: int) -> TxResult:
        return self._tx("confirmReturn", request_id)

    def units_owed(self, debtor: str, creditor: str, gtin: int) -> int:
        return int(
            self._call(
                "unitsOwed", to_checksum_address(debtor), to_checksum_address(creditor), gtin
            )
        )

    def amount_owed(self, debtor: str, creditor: str) -> int:
        return int(
            self._call("amountOwed", to_checksum_address(debtor), to_checksum_address(creditor))
        )

    def total_liabilities(self) -> int:
        return int(self._call("totalLiabilities"))

    def request_count(self) -> int:
        return int(self._call("requestCount"))


class AgreementDriver(DeliveryAgreementClient):
    """``DeliveryAgreement`` with the calls only tests make."""

    def cancel(self, agreement_id: int) -> TxResult:
        return self._tx("cancel", agreement_id)

    def hash_terms(self, terms: AgreementTerms) -> bytes:
        return bytes(self._call("hashTerms", terms.as_tuple()))

    def liabilities(self, token: str) -> int:
        return int(self._call("liabilities", to_checksum_address(token)))
