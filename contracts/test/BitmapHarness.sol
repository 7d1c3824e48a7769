// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Bitmap} from "../libraries/Bitmap.sol";

/// @title BitmapHarness
/// @notice Test only: the library Bitmap's bit search, exposed so a test can hold it to the
/// client's rule (src/protocol/disputes.ts responseTransaction: the highest set bit).
contract BitmapHarness {
    /// @notice Bitmap.index(x): the index of x's one bit (the highest for several, 0 for none).
    function index(uint64 x) external pure returns (uint256) {
        return Bitmap.index(x);
    }
}
