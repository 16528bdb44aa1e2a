// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ICapacityPool} from "./interfaces/ICapacityPool.sol";
import {SignatureRule} from "./utils/SignatureRule.sol";
import {Delegated} from "./utils/Delegated.sol";

/// @title CapacityPool
/// @notice Many alliance capacity pools in one contract; see {ICapacityPool} for the cost model,
///         the rounding rule and the conservation invariant.
contract CapacityPool is ICapacityPool, AccessControl, ReentrancyGuard, Delegated {
    using SafeERC20 for IERC20;


    /// @notice Role that resolves usage disputes.
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");

    /// @notice Consent of `to` to take over `units` of `from`'s booking for `price`.
    bytes32 public constant BOOKING_TRANSFER_TYPEHASH = keccak256(
        "BookingTransfer(uint256 poolId,uint256 periodId,address from,address to,uint64 units,uint256 price,uint256 nonce,uint256 deadline)"
    );

    /// @notice A member's co-signature of the operator's usage report.
    bytes32 public constant USAGE_REPORT_TYPEHASH = keccak256(
        "UsageReport(uint256 poolId,uint256 periodId,address member,uint64 usedUnits,uint256 nonce,uint256 deadline)"
    );

    uint256 private constant _BPS = 10_000;

    uint256 private _poolCount;
    mapping(uint256 poolId => Pool) private _pools;
    mapping(uint256 poolId => mapping(address account => bool)) private _members;
    mapping(uint256 poolId => mapping(uint256 periodId => Period)) private _periods;
    mapping(uint256 poolId => mapping(uint256 periodId => mapping(address member => Booking))) private _bookings;
    mapping(uint256 poolId => mapping(uint256 periodId => address[])) private _bookers;
    mapping(uint256 poolId => mapping(address account => uint256)) private _free;
    mapping(uint256 poolId => mapping(address account => uint256)) private _locked;
    mapping(uint256 poolId => uint256) private _operatorCredit;
    mapping(uint256 poolId => Totals) private _totals;
    mapping(address token => uint256) private _liabilities;

    constructor(address admin, address arbiter) Delegated("CapacityPool") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ARBITER_ROLE, arbiter);
    }

    // -- pools and membership -------------------------------------------------

    /// @inheritdoc ICapacityPool
    function createPool(PoolConfig calldata config, address[] calldata members) external returns (uint256 poolId) {
        if (config.token == address(0)) revert PoolTokenZero();
        if (config.operator == address(0)) revert PoolOperatorZero();
        if (config.cancelPenaltyBps > _BPS) revert PoolPenaltyInvalid(config.cancelPenaltyBps);
        if (config.disputeWindow == 0) revert PoolDisputeWindowZero();
        poolId = ++_poolCount;
        Pool storage pool = _pools[poolId];
        pool.config = config;
        pool.admin = msg.sender;
        emit PoolCreated(poolId, config.token, config.operator, msg.sender);
        for (uint256 i = 0; i < members.length; ++i) {
            _members[poolId][members[i]] = true;
            emit MemberAdded(poolId, members[i]);
        }
    }

    /// @inheritdoc ICapacityPool
    function addMember(uint256 poolId, address member) external {
        _onlyAdmin(poolId);
        _members[poolId][member] = true;
        emit MemberAdded(poolId, member);
    }

    /// @inheritdoc ICapacityPool
    function removeMember(uint256 poolId, address member) external {
        _onlyAdmin(poolId);
        _members[poolId][member] = false;
        emit MemberRemoved(poolId, member);
    }

    /// @inheritdoc ICapacityPool
    function openPeriod(uint256 poolId, uint64 start, uint64 end, uint64 cutoff, uint64 capacity)
        external
        returns (uint256 periodId)
    {
        Pool storage pool = _onlyOperator(poolId);
        if (capacity == 0 || cutoff > start || start >= end || cutoff <= _now()) {
            revert PoolPeriodInvalid(start, end, cutoff, capacity);
        }
        periodId = ++pool.periodCount;
        _periods[poolId][periodId] =
            Period({start: start, end: end, cutoff: cutoff, capacity: capacity, booked: 0, settledUnits: 0});
        emit PeriodOpened(poolId, periodId, start, end, cutoff, capacity);
    }

    // -- balances -------------------------------------------------------------

    /// @inheritdoc ICapacityPool
    function deposit(uint256 poolId, uint256 amount) external nonReentrant {
        Pool storage pool = _pool(poolId);
        _onlyMember(poolId);
        if (amount == 0) revert PoolAmountZero();
        IERC20 token = IERC20(pool.config.token);
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received != amount) revert PoolTokenTransferMismatch(address(token), amount, received);
        _free[poolId][msg.sender] += amount;
        _totals[poolId].free += amount;
        _liabilities[address(token)] += amount;
        emit Deposited(poolId, msg.sender, amount);
    }

    /// @inheritdoc ICapacityPool
    function withdraw(uint256 poolId, uint256 amount) external nonReentrant {
        Pool storage pool = _pool(poolId);
        if (amount == 0) revert PoolAmountZero();
        _debitFree(poolId, msg.sender, amount);
        _totals[poolId].free -= amount;
        _liabilities[pool.config.token] -= amount;
        emit Withdrawn(poolId, msg.sender, amount);
        IERC20(pool.config.token).safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ICapacityPool
    function withdrawOperatorCredit(uint256 poolId, uint256 amount) external nonReentrant {
        Pool storage pool = _onlyOperator(poolId);
        if (amount == 0) revert PoolAmountZero();
        uint256 credit = _operatorCredit[poolId];
        if (amount > credit) revert PoolInsufficientCredit(poolId, amount, credit);
        // Cannot underflow: checked against the credit just above.
        unchecked {
            _operatorCredit[poolId] = credit - amount;
        }
        _totals[poolId].operatorCredit -= amount;
        _liabilities[pool.config.token] -= amount;
        emit Withdrawn(poolId, msg.sender, amount);
        IERC20(pool.config.token).safeTransfer(msg.sender, amount);
    }

    // -- bookings -------------------------------------------------------------

    /// @inheritdoc ICapacityPool
    function book(uint256 poolId, uint256 periodId, uint64 units) external nonReentrant {
        Pool storage pool = _pool(poolId);
        _onlyMember(poolId);
        Period storage period = _beforeCutoff(poolId, periodId);
        if (units == 0) revert PoolAmountZero();
        uint256 available = period.capacity - period.booked;
        if (units > available) revert PoolCapacityExceeded(poolId, units, available);
        period.booked += units;
        Booking storage booking = _bookingFor(poolId, periodId, msg.sender);
        uint256 locked = _relock(pool, period, poolId, msg.sender, booking, booking.units + units);
        emit CapacityBooked(poolId, periodId, msg.sender, units, locked);
    }

    /// @inheritdoc ICapacityPool
    function transferBooking(
        uint256 poolId,
        uint256 periodId,
        address to,
        uint64 units,
        uint256 price,
        uint256 deadline,
        bytes calldata signature
    ) external nonReentrant {
        _onlyMember(poolId);
        if (!_members[poolId][to]) revert PoolNotMember(poolId, to);
        if (to == msg.sender) revert PoolSelfTransfer(to);
        _beforeCutoff(poolId, periodId);
        if (units == 0) revert PoolAmountZero();
        _checkTransferConsent(poolId, periodId, to, units, price, deadline, signature);
        _moveBooking(poolId, periodId, to, units, price);
        emit BookingTransferred(poolId, periodId, msg.sender, to, units, price);
    }

    function _checkTransferConsent(
        uint256 poolId,
        uint256 periodId,
        address to,
        uint64 units,
        uint256 price,
        uint256 deadline,
        bytes calldata signature
    ) private {
        if (_now() > deadline) revert PoolSignatureExpired(deadline, _now());
        bytes32 structHash = keccak256(
            abi.encode(BOOKING_TRANSFER_TYPEHASH, poolId, periodId, msg.sender, to, units, price, _useNonce(to), deadline)
        );
        if (!SignatureRule.isValidNow(to, _hashTypedDataV4(structHash), signature)) {
            revert PoolSignatureInvalid(to);
        }
    }

    function _moveBooking(uint256 poolId, uint256 periodId, address to, uint64 units, uint256 price) private {
        Pool storage pool = _pools[poolId];
        Period storage period = _periods[poolId][periodId];
        Booking storage source = _bookings[poolId][periodId][msg.sender];
        if (units > source.units) revert PoolBookingExceeded(poolId, periodId, msg.sender, units, source.units);
        Booking storage target = _bookingFor(poolId, periodId, to);
        if (price != 0) {
            _debitFree(poolId, to, price);
            _free[poolId][msg.sender] += price;
        }
        _relock(pool, period, poolId, msg.sender, source, source.units - units);
        _relock(pool, period, poolId, to, target, target.units + units);
    }

    /// @inheritdoc ICapacityPool
    function cancelBooking(uint256 poolId, uint256 periodId, uint64 units) external nonReentrant {
        Pool storage pool = _pool(poolId);
        Period storage period = _beforeCutoff(poolId, periodId);
        if (units == 0) revert PoolAmountZero();
        Booking storage booking = _bookings[poolId][periodId][msg.sender];
        if (units > booking.units) revert PoolBookingExceeded(poolId, periodId, msg.sender, units, booking.units);
        uint256 penalty =
            Math.mulDiv(pool.config.leasePerPeriod, units, period.capacity) * pool.config.cancelPenaltyBps / _BPS;
        period.booked -= units;
        _relock(pool, period, poolId, msg.sender, booking, booking.units - units);
        if (penalty != 0) {
            // The released lock covered ceil(L * units / C) >= penalty, so the free balance holds it.
            _free[poolId][msg.sender] -= penalty;
            _totals[poolId].free -= penalty;
            _operatorCredit[poolId] += penalty;
            _totals[poolId].operatorCredit += penalty;
        }
        emit BookingCancelled(poolId, periodId, msg.sender, units, penalty);
    }

    // -- usage ----------------------------------------------------------------

    /// @inheritdoc ICapacityPool
    function reportUsage(uint256 poolId, uint256 periodId, address[] calldata members, uint64[] calldata usedUnits)
        external
    {
        _onlyOperator(poolId);
        Period storage period = _period(poolId, periodId);
        if (_now() < period.end) revert PoolPeriodNotEnded(poolId, periodId, period.end, _now());
        if (members.length != usedUnits.length) revert PoolUsageLengthMismatch(members.length, usedUnits.length);
        for (uint256 i = 0; i < members.length; ++i) {
            address member = members[i];
            Booking storage booking = _bookings[poolId][periodId][member];
            if (booking.status != UsageStatus.None) {
                revert PoolUsageStatusInvalid(poolId, periodId, member, booking.status);
            }
            if (usedUnits[i] > booking.units) {
                revert PoolUsageExceedsBooking(poolId, periodId, member, usedUnits[i], booking.units);
            }
            booking.usedUnits = usedUnits[i];
            booking.reportedAt = uint64(_now());
            booking.status = UsageStatus.Reported;
            emit UsageReported(poolId, periodId, member, usedUnits[i]);
        }
    }

    /// @inheritdoc ICapacityPool
    function cosignUsage(
        uint256 poolId,
        uint256 periodId,
        address member,
        uint64 usedUnits,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _period(poolId, periodId);
        Booking storage booking = _bookings[poolId][periodId][member];
        if (booking.status != UsageStatus.Reported) {
            revert PoolUsageStatusInvalid(poolId, periodId, member, booking.status);
        }
        if (booking.usedUnits != usedUnits) {
            revert PoolUsageMismatch(poolId, periodId, member, booking.usedUnits, usedUnits);
        }
        if (_now() > deadline) revert PoolSignatureExpired(deadline, _now());
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(USAGE_REPORT_TYPEHASH, poolId, periodId, member, usedUnits, _useNonce(member), deadline)
            )
        );
        if (!SignatureRule.isValidNow(member, digest, signature)) revert PoolSignatureInvalid(member);
        booking.status = UsageStatus.Confirmed;
        emit UsageConfirmed(poolId, periodId, member, usedUnits);
    }

    /// @inheritdoc ICapacityPool
    function disputeUsage(uint256 poolId, uint256 periodId, uint64 claimedUnits, bytes32 evidenceHash) external {
        Pool storage pool = _pool(poolId);
        _period(poolId, periodId);
        Booking storage booking = _bookings[poolId][periodId][msg.sender];
        if (booking.status != UsageStatus.Reported) {
            revert PoolUsageStatusInvalid(poolId, periodId, msg.sender, booking.status);
        }
        uint256 closesAt = uint256(booking.reportedAt) + pool.config.disputeWindow;
        if (_now() >= closesAt) revert PoolDisputeWindowClosed(poolId, periodId, msg.sender, closesAt);
        booking.status = UsageStatus.Disputed;
        emit UsageDisputed(poolId, periodId, msg.sender, claimedUnits, evidenceHash);
    }

    /// @inheritdoc ICapacityPool
    function resolveDispute(uint256 poolId, uint256 periodId, address member, uint64 usedUnits)
        external
        onlyRole(ARBITER_ROLE)
    {
        _period(poolId, periodId);
        Booking storage booking = _bookings[poolId][periodId][member];
        if (booking.status != UsageStatus.Disputed) {
            revert PoolUsageStatusInvalid(poolId, periodId, member, booking.status);
        }
        if (usedUnits > booking.units) {
            revert PoolUsageExceedsBooking(poolId, periodId, member, usedUnits, booking.units);
        }
        booking.usedUnits = usedUnits;
        booking.status = UsageStatus.Resolved;
        emit DisputeResolved(poolId, periodId, member, usedUnits, msg.sender);
    }

    // -- settlement -----------------------------------------------------------

    /// @inheritdoc ICapacityPool
    function settle(uint256 poolId, uint256 periodId, address[] calldata members) external nonReentrant {
        Pool storage pool = _pool(poolId);
        Period storage period = _period(poolId, periodId);
        for (uint256 i = 0; i < members.length; ++i) {
            _settleMember(pool, period, poolId, periodId, members[i], false);
        }
    }

    /// @inheritdoc ICapacityPool
    function settlePeriod(uint256 poolId, uint256 periodId) external nonReentrant {
        Pool storage pool = _pool(poolId);
        Period storage period = _period(poolId, periodId);
        address[] storage bookers = _bookers[poolId][periodId];
        for (uint256 i = 0; i < bookers.length; ++i) {
            _settleMember(pool, period, poolId, periodId, bookers[i], true);
        }
    }

    function _settleMember(
        Pool storage pool,
        Period storage period,
        uint256 poolId,
        uint256 periodId,
        address member,
        bool sweep
    ) private {
        Booking storage booking = _bookings[poolId][periodId][member];
        if (!_readyToSettle(pool, period, booking, poolId, periodId, member, sweep)) return;
        (uint256 leaseCharge, uint256 usageCharge) = _charges(pool, period, booking);
        uint256 released = _applySettlement(poolId, member, booking, leaseCharge + usageCharge);
        emit MemberSettled(poolId, periodId, member, leaseCharge, usageCharge, released);
    }

    /// @dev Whether `booking` settles now; reverts when it cannot yet. With `sweep` (settlePeriod)
    ///      a settled or disputed booking is passed over (false) instead: one member's dispute
    ///      must not hold up everyone else's settlement.
    function _readyToSettle(
        Pool storage pool,
        Period storage period,
        Booking storage booking,
        uint256 poolId,
        uint256 periodId,
        address member,
        bool sweep
    ) private view returns (bool) {
        UsageStatus status = booking.status;
        if (status == UsageStatus.Settled) {
            if (sweep) return false;
            revert PoolUsageStatusInvalid(poolId, periodId, member, status);
        }
        if (status == UsageStatus.Disputed) {
            if (sweep) return false;
            revert PoolSettlementFrozen(poolId, periodId, member);
        }
        // Confirmed and Resolved usage is final: ready at once.
        uint256 readyAt = 0;
        if (status == UsageStatus.Reported) {
            readyAt = uint256(booking.reportedAt) + pool.config.disputeWindow;
        } else if (status == UsageStatus.None) {
            // The operator missed its report: after the report window the member settles as unused.
            readyAt = uint256(period.end) + pool.config.reportWindow;
        }
        if (_now() < readyAt) revert PoolSettlementTooEarly(poolId, periodId, member, readyAt);
        return true;
    }

    /// @dev Lease and usage charge of `booking`, advancing the period's settled-units cursor.
    function _charges(Pool storage pool, Period storage period, Booking storage booking)
        private
        returns (uint256 leaseCharge, uint256 usageCharge)
    {
        uint256 lease = pool.config.leasePerPeriod;
        uint256 settledBefore = period.settledUnits;
        uint256 settledAfter = settledBefore + booking.units;
        // Cumulative floor: Σ leaseCharge over a period telescopes to floor(L * booked / C).
        leaseCharge =
            Math.mulDiv(lease, settledAfter, period.capacity) - Math.mulDiv(lease, settledBefore, period.capacity);
        // An unreported booking (status None) keeps usedUnits == 0: it settles as unused.
        usageCharge = uint256(pool.config.ratePerUnit) * booking.usedUnits;
        period.settledUnits = uint64(settledAfter);
    }

    /// @dev Move `charge` from the member's lock to the operator and release the rest of the lock.
    function _applySettlement(uint256 poolId, address member, Booking storage booking, uint256 charge)
        private
        returns (uint256 released)
    {
        uint256 lock = booking.locked;
        // lock = ceil(L * units / C) + r * units >= charge (see ICapacityPool); checked all the same.
        released = lock - charge;
        booking.status = UsageStatus.Settled;
        booking.locked = 0;
        _locked[poolId][member] -= lock;
        _free[poolId][member] += released;
        _operatorCredit[poolId] += charge;
        Totals storage totals = _totals[poolId];
        totals.locked -= lock;
        totals.free += released;
        totals.operatorCredit += charge;
    }

    // -- views ----------------------------------------------------------------

    /// @inheritdoc ICapacityPool
    function lockFor(uint256 poolId, uint256 periodId, uint64 units) external view returns (uint256) {
        return _lockFor(_pool(poolId), _period(poolId, periodId), units);
    }

    /// @inheritdoc ICapacityPool
    function poolOf(uint256 poolId) external view returns (Pool memory) {
        return _pool(poolId);
    }

    /// @inheritdoc ICapacityPool
    function periodOf(uint256 poolId, uint256 periodId) external view returns (Period memory) {
        return _period(poolId, periodId);
    }

    /// @inheritdoc ICapacityPool
    function bookingOf(uint256 poolId, uint256 periodId, address member) external view returns (Booking memory) {
        return _bookings[poolId][periodId][member];
    }

    /// @inheritdoc ICapacityPool
    function bookersOf(uint256 poolId, uint256 periodId) external view returns (address[] memory) {
        return _bookers[poolId][periodId];
    }

    /// @inheritdoc ICapacityPool
    function isMember(uint256 poolId, address account) external view returns (bool) {
        return _members[poolId][account];
    }

    /// @inheritdoc ICapacityPool
    function freeBalanceOf(uint256 poolId, address account) external view returns (uint256) {
        return _free[poolId][account];
    }

    /// @inheritdoc ICapacityPool
    function lockedBalanceOf(uint256 poolId, address account) external view returns (uint256) {
        return _locked[poolId][account];
    }

    /// @inheritdoc ICapacityPool
    function operatorCreditOf(uint256 poolId) external view returns (uint256) {
        return _operatorCredit[poolId];
    }

    /// @inheritdoc ICapacityPool
    function totalsOf(uint256 poolId) external view returns (Totals memory) {
        return _totals[poolId];
    }

    /// @inheritdoc ICapacityPool
    function tokenLiabilities(address token) external view returns (uint256) {
        return _liabilities[token];
    }

    /// @inheritdoc ICapacityPool
    function poolCount() external view returns (uint256) {
        return _poolCount;
    }

    // -- internals ------------------------------------------------------------

    /// @dev Re-price `booking`'s lock to `lockFor(newUnits)`, moving the difference between the
    ///      member's free balance and its lock. Returns the new lock.
    function _relock(
        Pool storage pool,
        Period storage period,
        uint256 poolId,
        address member,
        Booking storage booking,
        uint256 newUnits
    ) private returns (uint256 newLock) {
        newLock = _lockFor(pool, period, newUnits);
        uint256 oldLock = booking.locked;
        booking.units = uint64(newUnits);
        booking.locked = uint128(newLock);
        Totals storage totals = _totals[poolId];
        if (newLock > oldLock) {
            uint256 delta = newLock - oldLock;
            _debitFree(poolId, member, delta);
            _locked[poolId][member] += delta;
            totals.free -= delta;
            totals.locked += delta;
        } else if (oldLock > newLock) {
            uint256 delta = oldLock - newLock;
            _locked[poolId][member] -= delta;
            _free[poolId][member] += delta;
            totals.locked -= delta;
            totals.free += delta;
        }
    }

    function _lockFor(Pool storage pool, Period storage period, uint256 units) private view returns (uint256) {
        return Math.mulDiv(pool.config.leasePerPeriod, units, period.capacity, Math.Rounding.Ceil)
            + uint256(pool.config.ratePerUnit) * units;
    }

    function _debitFree(uint256 poolId, address account, uint256 amount) private {
        uint256 available = _free[poolId][account];
        if (amount > available) revert PoolInsufficientFree(poolId, account, amount, available);
        // Cannot underflow: checked against the balance just above.
        unchecked {
            _free[poolId][account] = available - amount;
        }
    }

    function _bookingFor(uint256 poolId, uint256 periodId, address member) private returns (Booking storage booking) {
        booking = _bookings[poolId][periodId][member];
        // Every member that ever booked is listed once, so settlePeriod reaches it.
        if (!booking.listed) {
            booking.listed = true;
            _bookers[poolId][periodId].push(member);
        }
    }

    function _pool(uint256 poolId) private view returns (Pool storage pool) {
        pool = _pools[poolId];
        if (pool.config.token == address(0)) revert PoolUnknown(poolId);
    }

    function _period(uint256 poolId, uint256 periodId) private view returns (Period storage period) {
        _pool(poolId);
        period = _periods[poolId][periodId];
        if (period.capacity == 0) revert PoolPeriodUnknown(poolId, periodId);
    }

    function _beforeCutoff(uint256 poolId, uint256 periodId) private view returns (Period storage period) {
        period = _period(poolId, periodId);
        if (_now() >= period.cutoff) revert PoolCutoffPassed(poolId, periodId, period.cutoff, _now());
    }

    function _onlyAdmin(uint256 poolId) private view {
        if (_pool(poolId).admin != msg.sender) revert PoolNotAdmin(poolId, msg.sender);
    }

    function _onlyOperator(uint256 poolId) private view returns (Pool storage pool) {
        pool = _pool(poolId);
        if (pool.config.operator != msg.sender) revert PoolNotOperator(poolId, msg.sender);
    }

    function _onlyMember(uint256 poolId) private view {
        if (!_members[poolId][msg.sender]) revert PoolNotMember(poolId, msg.sender);
    }
}
