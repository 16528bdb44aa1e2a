// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title ICapacityPool
/// @notice Shared factory capacity leased jointly by alliance members and paid in one ERC-20.
/// @dev One contract hosts many pools, each identified by `poolId` (1, 2, ...). A pool has a
///      settlement token, an operator (the factory, credited with charges), a pool admin (manages
///      membership), members, and periods with a capacity in units.
///
///      Cost model of a period with capacity `C`, lease `L` and rate `r` per used unit. A member
///      that holds `b` booked units and used `u` of them is charged
///
///          charge = leaseCharge + r * u
///          leaseCharge = floor(L * (S + b) / C) - floor(L * S / C)
///
///      where `S` is the number of booked units already settled in that period before this member
///      (settlement order). The lease is priced per unit of capacity: idle (unbooked) capacity is
///      the operator's vacancy and is charged to nobody. The cumulative-floor rule telescopes, so
///      however the members are ordered the period's lease charges sum to exactly
///      `floor(L * B / C)` (`B` = booked units; `L` itself when the period is fully booked), and
///      each member pays its exact share rounded down or up by less than one token unit. Rounding
///      never creates or destroys tokens: every charge moves from a member's lock to the operator's
///      credit, every other locked unit returns to the member's free balance.
///
///      Booking `b` units locks `lockFor(b) = ceil(L * b / C) + r * b`, the most that settlement can
///      charge for them, taken from the member's free balance. Changing a booking re-prices the lock
///      to `lockFor(newUnits)`, so the lock always equals the maximum charge of what is booked.
///
///      Invariant (per token, tested): `token.balanceOf(this) == Σ free + Σ locked + Σ operator
///      credit` over all pools using that token; {tokenLiabilities} exposes the right-hand side.
interface ICapacityPool {
    /// @notice How a member's reported usage stands.
    /// @dev None: nothing reported; Reported: operator report inside its dispute window;
    ///      Confirmed: co-signed by the member; Disputed: frozen until the arbiter resolves it;
    ///      Resolved: arbiter set the units; Settled: charged and unlocked.
    enum UsageStatus {
        None,
        Reported,
        Confirmed,
        Disputed,
        Resolved,
        Settled
    }

    /// @notice Parameters of a pool, fixed at creation.
    /// @param token Settlement ERC-20 (fee-on-transfer tokens are refused at deposit).
    /// @param operator The factory: opens periods, reports usage, is credited with charges.
    /// @param leasePerPeriod Fixed lease `L` of one period's full capacity, in token units.
    /// @param ratePerUnit Variable charge `r` per used capacity unit, in token units.
    /// @param disputeWindow Seconds after a usage report during which the member may dispute it.
    /// @param reportWindow Seconds after a period's end after which an unreported member settles
    ///        with zero usage (the operator missed its report).
    /// @param cancelPenaltyBps Share, in basis points, of a cancelled booking's lease share that is
    ///        forfeited to the operator.
    struct PoolConfig {
        address token;
        address operator;
        uint128 leasePerPeriod;
        uint128 ratePerUnit;
        uint32 disputeWindow;
        uint32 reportWindow;
        uint16 cancelPenaltyBps;
    }

    /// @notice A pool as stored.
    struct Pool {
        PoolConfig config;
        address admin;
        uint64 periodCount;
    }

    /// @notice One period of a pool. Bookings change only before `cutoff`; usage is reported after `end`.
    struct Period {
        uint64 start;
        uint64 end;
        uint64 cutoff;
        uint64 capacity;
        uint64 booked;
        uint64 settledUnits;
    }

    /// @notice One member's booking in one period.
    /// @param units Booked units.
    /// @param usedUnits Reported (or arbitrated) used units.
    /// @param reportedAt When the operator reported usage (0 before).
    /// @param status Usage status.
    /// @param listed Whether the member is in {bookersOf} (packed here to save a storage slot).
    /// @param locked Current lock, `lockFor(units)` until settled, then 0.
    struct Booking {
        uint64 units;
        uint64 usedUnits;
        uint64 reportedAt;
        UsageStatus status;
        bool listed;
        uint128 locked;
    }

    /// @notice Sums over one pool's accounts.
    struct Totals {
        uint256 free;
        uint256 locked;
        uint256 operatorCredit;
    }

    event PoolCreated(uint256 indexed poolId, address indexed token, address indexed operator, address admin);
    event MemberAdded(uint256 indexed poolId, address indexed member);
    event MemberRemoved(uint256 indexed poolId, address indexed member);
    event PeriodOpened(
        uint256 indexed poolId, uint256 indexed periodId, uint64 start, uint64 end, uint64 cutoff, uint64 capacity
    );
    event Deposited(uint256 indexed poolId, address indexed member, uint256 amount);
    event Withdrawn(uint256 indexed poolId, address indexed account, uint256 amount);
    event CapacityBooked(
        uint256 indexed poolId, uint256 indexed periodId, address indexed member, uint64 units, uint256 locked
    );
    event BookingTransferred(
        uint256 indexed poolId,
        uint256 indexed periodId,
        address indexed from,
        address to,
        uint64 units,
        uint256 price
    );
    event BookingCancelled(
        uint256 indexed poolId, uint256 indexed periodId, address indexed member, uint64 units, uint256 penalty
    );
    event UsageReported(uint256 indexed poolId, uint256 indexed periodId, address indexed member, uint64 usedUnits);
    event UsageConfirmed(uint256 indexed poolId, uint256 indexed periodId, address indexed member, uint64 usedUnits);
    event UsageDisputed(
        uint256 indexed poolId, uint256 indexed periodId, address indexed member, uint64 claimedUnits, bytes32 evidenceHash
    );
    event DisputeResolved(
        uint256 indexed poolId, uint256 indexed periodId, address indexed member, uint64 usedUnits, address arbiter
    );
    event MemberSettled(
        uint256 indexed poolId,
        uint256 indexed periodId,
        address indexed member,
        uint256 leaseCharge,
        uint256 usageCharge,
        uint256 released
    );

    /// @notice No pool has this id.
    error PoolUnknown(uint256 poolId);
    /// @notice The pool has no period with this id.
    error PoolPeriodUnknown(uint256 poolId, uint256 periodId);
    /// @notice The pool names no settlement token (the zero address).
    error PoolTokenZero();
    /// @notice The pool names no operator (the zero address).
    error PoolOperatorZero();
    /// @notice Cancellation penalty above 10 000 basis points.
    error PoolPenaltyInvalid(uint16 cancelPenaltyBps);
    /// @notice The operator's dispute window is zero seconds.
    error PoolDisputeWindowZero();
    /// @notice Only the pool's admin may change membership.
    error PoolNotAdmin(uint256 poolId, address account);
    /// @notice Only the pool's operator may open periods, report usage and withdraw credit.
    error PoolNotOperator(uint256 poolId, address account);
    /// @notice `account` is not a member of the pool.
    error PoolNotMember(uint256 poolId, address account);
    /// @notice A period needs `now < cutoff <= start < end` and a non-zero capacity.
    error PoolPeriodInvalid(uint64 start, uint64 end, uint64 cutoff, uint64 capacity);
    /// @notice Zero amounts and zero units are refused.
    error PoolAmountZero();
    /// @notice The token delivered a different amount than requested (fee-on-transfer tokens).
    error PoolTokenTransferMismatch(address token, uint256 expected, uint256 received);
    /// @notice `account`'s free balance cannot cover `requested` (withdrawal, lock or price).
    error PoolInsufficientFree(uint256 poolId, address account, uint256 requested, uint256 available);
    /// @notice The operator's credit cannot cover the withdrawal.
    error PoolInsufficientCredit(uint256 poolId, uint256 requested, uint256 available);
    /// @notice The period has only `available` unbooked units.
    error PoolCapacityExceeded(uint256 poolId, uint256 requested, uint256 available);
    /// @notice The member holds only `booked` units to transfer or cancel.
    error PoolBookingExceeded(uint256 poolId, uint256 periodId, address member, uint64 requested, uint64 booked);
    /// @notice Bookings of the period are final since `cutoff`.
    error PoolCutoffPassed(uint256 poolId, uint256 periodId, uint64 cutoff, uint256 nowTime);
    /// @notice Usage can be reported only once the period has ended.
    error PoolPeriodNotEnded(uint256 poolId, uint256 periodId, uint64 end, uint256 nowTime);
    /// @notice The signed message's deadline has passed.
    error PoolSignatureExpired(uint256 deadline, uint256 nowTime);
    /// @notice The signature is not `signer`'s over the expected message and its current nonce.
    error PoolSignatureInvalid(address signer);
    /// @notice A booking cannot be transferred to its holder.
    error PoolSelfTransfer(address member);
    /// @notice Used units cannot exceed booked units.
    error PoolUsageExceedsBooking(uint256 poolId, uint256 periodId, address member, uint64 usedUnits, uint64 booked);
    /// @notice `members` and `usedUnits` differ in length.
    error PoolUsageLengthMismatch(uint256 members, uint256 units);
    /// @notice The member's usage is in `status`, which does not allow this step.
    error PoolUsageStatusInvalid(uint256 poolId, uint256 periodId, address member, UsageStatus status);
    /// @notice The co-signed units differ from the operator's report.
    error PoolUsageMismatch(uint256 poolId, uint256 periodId, address member, uint64 reported, uint64 signed);
    /// @notice The dispute window of the report closed at `closedAt`.
    error PoolDisputeWindowClosed(uint256 poolId, uint256 periodId, address member, uint256 closedAt);
    /// @notice The member's usage is disputed; it settles after the arbiter resolves it.
    error PoolSettlementFrozen(uint256 poolId, uint256 periodId, address member);
    /// @notice The member can be settled from `readyAt` on.
    error PoolSettlementTooEarly(uint256 poolId, uint256 periodId, address member, uint256 readyAt);

    /// @notice Create a pool; the caller becomes its admin and `members` its first members.
    /// @return poolId The new pool's id.
    function createPool(PoolConfig calldata config, address[] calldata members) external returns (uint256 poolId);

    /// @notice Pool admin adds a member.
    function addMember(uint256 poolId, address member) external;

    /// @notice Pool admin removes a member; its balances and bookings stay and settle normally.
    function removeMember(uint256 poolId, address member) external;

    /// @notice Operator opens a period: `cutoff <= start < end`, cutoff in the future, capacity > 0.
    function openPeriod(uint256 poolId, uint64 start, uint64 end, uint64 cutoff, uint64 capacity)
        external
        returns (uint256 periodId);

    /// @notice Member deposits `amount` of the pool token into its free balance.
    /// @dev Pulls with SafeERC20 and measures the balance delta; a token that delivers less than
    ///      `amount` (fee on transfer) reverts {PoolTokenTransferMismatch}.
    function deposit(uint256 poolId, uint256 amount) external;

    /// @notice Withdraw `amount` of the caller's free balance (members and former members).
    function withdraw(uint256 poolId, uint256 amount) external;

    /// @notice Operator withdraws `amount` of its settled credit.
    function withdrawOperatorCredit(uint256 poolId, uint256 amount) external;

    /// @notice Member books `units` more of a period before its cutoff, locking `lockFor` delta.
    function book(uint256 poolId, uint256 periodId, uint64 units) external;

    /// @notice Move `units` of the caller's booking to `to`, who pays `price` from its free
    ///         balance to the caller and takes over the lock of those units.
    /// @dev `to` consents by signing the EIP-712 `BookingTransfer` struct; nonce is `to`'s.
    function transferBooking(
        uint256 poolId,
        uint256 periodId,
        address to,
        uint64 units,
        uint256 price,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Cancel `units` of the caller's booking before the cutoff; forfeits
    ///         `floor(floor(L * units / C) * cancelPenaltyBps / 10_000)` to the operator.
    function cancelBooking(uint256 poolId, uint256 periodId, uint64 units) external;

    /// @notice Operator reports used units per member after the period's end (once per member).
    function reportUsage(uint256 poolId, uint256 periodId, address[] calldata members, uint64[] calldata usedUnits)
        external;

    /// @notice Anyone relays the member's EIP-712 `UsageReport` signature confirming the report.
    function cosignUsage(
        uint256 poolId,
        uint256 periodId,
        address member,
        uint64 usedUnits,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Member disputes its report inside the dispute window; freezes its settlement.
    function disputeUsage(uint256 poolId, uint256 periodId, uint64 claimedUnits, bytes32 evidenceHash) external;

    /// @notice ARBITER_ROLE resolves a dispute with the corrected units.
    function resolveDispute(uint256 poolId, uint256 periodId, address member, uint64 usedUnits) external;

    /// @notice Settle the listed members of a period (anyone). Reverts on a member that is not ready.
    function settle(uint256 poolId, uint256 periodId, address[] calldata members) external;

    /// @notice Settle every booker of a period that is not settled yet (anyone). Members whose usage
    ///         is disputed are passed over and settle once the arbiter has resolved the dispute;
    ///         a member that is not ready yet (report or dispute window open) reverts the call.
    function settlePeriod(uint256 poolId, uint256 periodId) external;

    /// @notice The lock `ceil(L * units / C) + r * units` of `units` booked units of a period.
    function lockFor(uint256 poolId, uint256 periodId, uint64 units) external view returns (uint256);

    function poolOf(uint256 poolId) external view returns (Pool memory);
    function periodOf(uint256 poolId, uint256 periodId) external view returns (Period memory);
    function bookingOf(uint256 poolId, uint256 periodId, address member) external view returns (Booking memory);
    function bookersOf(uint256 poolId, uint256 periodId) external view returns (address[] memory);
    function isMember(uint256 poolId, address account) external view returns (bool);
    function freeBalanceOf(uint256 poolId, address account) external view returns (uint256);
    function lockedBalanceOf(uint256 poolId, address account) external view returns (uint256);
    function operatorCreditOf(uint256 poolId) external view returns (uint256);

    /// @notice Sums of free balances, locks and operator credit of one pool.
    function totalsOf(uint256 poolId) external view returns (Totals memory);

    /// @notice Σ free + Σ locked + Σ operator credit over all pools settled in `token`;
    ///         equals `token.balanceOf(this)` unless someone sent tokens without depositing.
    function tokenLiabilities(address token) external view returns (uint256);

    /// @notice Number of pools created.
    function poolCount() external view returns (uint256);
}
