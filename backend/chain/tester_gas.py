"""Gas estimates on the in-process chain in three EVM runs instead of py-evm's binary search.

py-evm estimates by bisecting between the intrinsic gas and the block gas limit
(about fifteen runs of the transaction), which made estimating most of the
cost of every eth-tester transaction. Here the transaction runs once at the
block limit, and the gas it consumed, raised by 1/64 for the gas EIP-150 keeps
back at each call and by the 2,300 that EIP-2200 wants left before an SSTORE,
is checked by a second run. Only when that limit still fails does the bisection
run, so the answer is always a limit the transaction succeeds with.
"""

from __future__ import annotations

from typing import cast

from eth.abc import ComputationAPI, SignedTransactionAPI, StateAPI
from eth.estimators.gas import binary_gas_search_intrinsic_tolerance
from eth.vm.spoof import SpoofTransaction
from eth_tester import PyEVMBackend

SSTORE_STIPEND = 2_300


def _run(state: StateAPI, transaction: SignedTransactionAPI, **spoof: int) -> ComputationAPI:
    snapshot = state.snapshot()
    try:
        return state.apply_transaction(
            cast(SignedTransactionAPI, SpoofTransaction(transaction, **spoof))
        )
    finally:
        state.revert(snapshot)


def estimate_from_usage(state: StateAPI, transaction: SignedTransactionAPI) -> int:
    """The smallest checked gas limit ``transaction`` succeeds with (raises as py-evm does)."""
    intrinsic = transaction.intrinsic_gas
    if not _run(state, transaction, gas=intrinsic, gas_price=0).is_error:
        return intrinsic
    top = _run(state, transaction, gas=state.gas_limit, gas_price=0)
    if top.is_error:
        raise top.error
    guess = intrinsic + top.get_gas_used() * 64 // 63 + SSTORE_STIPEND
    if guess >= state.gas_limit:
        return int(state.gas_limit)
    if not _run(state, transaction, gas=guess).is_error:
        return guess
    return binary_gas_search_intrinsic_tolerance(state, transaction)


def use_usage_estimates(backend: PyEVMBackend) -> None:
    """Estimate with :func:`estimate_from_usage` on ``backend``'s chain, across reverts."""
    # The chain class is made per backend; reverting to a snapshot builds a new
    # instance of it, which reads the estimator from the class.
    chain = backend.chain
    type(chain).gas_estimator = staticmethod(estimate_from_usage)
    chain.gas_estimator = estimate_from_usage
