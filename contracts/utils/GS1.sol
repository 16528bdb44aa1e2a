// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title GS1
/// @notice GS1 identification keys as the contracts need them: GTIN-14 validation and
///         company prefixes as comparable numbers.
/// @dev A company prefix is 6..12 digits and leading zeros matter ("0614141" is not
///      "614141"), so a prefix is keyed by `(length << 64) | numericValue`: distinct
///      digit strings get distinct keys, and no hashing is needed.
library GS1 {
    uint256 internal constant MIN_PREFIX_LENGTH = 6;
    uint256 internal constant MAX_PREFIX_LENGTH = 12;
    uint256 internal constant GTIN_LENGTH = 14;

    /// @notice The key of a prefix of `length` digits with numeric value `value`.
    function prefixKey(uint256 value, uint256 length) internal pure returns (uint256) {
        return (length << 64) | value;
    }

    /// @notice Whether `digits` is 6..12 ASCII digits; also its key.
    function parsePrefix(bytes memory digits) internal pure returns (bool ok, uint256 key) {
        uint256 n = digits.length;
        if (n < MIN_PREFIX_LENGTH || n > MAX_PREFIX_LENGTH) return (false, 0);
        uint256 value = 0;
        for (uint256 i; i < n; ++i) {
            uint8 c = uint8(digits[i]);
            if (c < 0x30 || c > 0x39) return (false, 0);
            value = value * 10 + (c - 0x30);
        }
        return (true, prefixKey(value, n));
    }

    /// @notice Whether `gtin` is 14 ASCII digits whose last digit is the GS1 check digit
    ///         (mod-10, weights 3 and 1 from the right, excluding the check digit).
    function isValidGtin14(bytes memory gtin) internal pure returns (bool) {
        if (gtin.length != GTIN_LENGTH) return false;
        uint256 sum = 0;
        for (uint256 i; i < GTIN_LENGTH; ++i) {
            uint8 c = uint8(gtin[i]);
            if (c < 0x30 || c > 0x39) return false;
            if (i < GTIN_LENGTH - 1) sum += uint256(c - 0x30) * (i % 2 == 0 ? 3 : 1);
        }
        return (10 - (sum % 10)) % 10 == uint8(gtin[GTIN_LENGTH - 1]) - 0x30;
    }
}
