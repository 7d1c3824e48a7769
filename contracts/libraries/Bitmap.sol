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

    /// @dev The index of the one bit set in `x` (the inverse of `bit`: index(bit(i)) == i), by a
    /// binary search over the 64 bits; 0 for x == 0. For several bits set, the highest one's.
    function index(uint64 x) internal pure returns (uint256 i) {
        assembly ("memory-safe") {
            i := shl(5, gt(x, 0xffffffff))
            i := or(i, shl(4, gt(shr(i, x), 0xffff)))
            i := or(i, shl(3, gt(shr(i, x), 0xff)))
            i := or(i, shl(2, gt(shr(i, x), 0xf)))
            i := or(i, shl(1, gt(shr(i, x), 0x3)))
            i := or(i, gt(shr(i, x), 0x1))
        }
    }

    /// @dev Whether bit `i` is set.
    function has(uint64 x, uint256 i) internal pure returns (bool) {
        return (x >> i) & 1 == 1;
    }
}
