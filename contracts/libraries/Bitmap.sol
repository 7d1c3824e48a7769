// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Bitmap
/// @notice Helpers for the 64-bit participant bitmaps (bit i = participant i).
library Bitmap {
    /// @dev Number of set bits (SWAR popcount, constant gas).
    function count(uint64 x) internal pure returns (uint256) {
        // All steps stay within 64 bits by construction of the masks.
        unchecked {
            x = x - ((x >> 1) & 0x5555555555555555);
            x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333);
            x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0f;
            return uint256((uint256(x) * 0x0101010101010101) >> 56) & 0xff;
        }
    }

    /// @dev A bitmap with the low `n` bits set (n <= 64).
    function full(uint256 n) internal pure returns (uint64) {
        return n >= 64 ? type(uint64).max : uint64((uint256(1) << n) - 1);
    }

    /// @dev The bitmap with only bit `i` set (i < 64).
    function bit(uint256 i) internal pure returns (uint64) {
        return uint64(uint256(1) << i);
    }

    /// @dev Whether bit `i` is set.
    function has(uint64 x, uint256 i) internal pure returns (bool) {
        return (x >> i) & 1 == 1;
    }
}
