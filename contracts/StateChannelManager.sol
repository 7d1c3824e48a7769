// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AFinality} from "./manager/AFinality.sol";
import {ARespond} from "./manager/ARespond.sol";

/// @title StateChannelManager
/// @notice Parley's on-chain court: holds balances, opens channels over any IStateMachine,
/// verifies signatures and finality proofs, settles, and runs disputes. Balances, opening,
/// finality and cooperative close are served here (ABalances → AChannels → AFinality), and so
/// is the accused's response to a timeout (ARespond: IRespond); the other dispute functions
/// (IDisputeManager), reclaim and the views (IReclaim, IChannelViews) by the
/// StateChannelCourt code this contract runs by
/// delegatecall on its own storage, so both live at this one address, emit their events from
/// it and see the caller as msg.sender. (One contract would exceed the EIP-170 code size.)
contract StateChannelManager is AFinality, ARespond {
    /// @dev The StateChannelCourt code that serves IDisputeManager's functions, IReclaim and
    /// IChannelViews. Not a public getter here: the court serves `court()` (its own address),
    /// so the getter's selector does not lengthen the dispatch every call runs.
    address private immutable _court;

    /// @notice Thrown when the court address has no code.
    error CourtInvalid(address court);

    /// @param court_ A deployed StateChannelCourt (same storage layout; checked by the build).
    constructor(address court_) {
        if (court_.code.length == 0) revert CourtInvalid(court_);
        _court = court_;
    }

    /// @notice Every call this contract does not serve itself runs the court's code on this
    /// contract's storage; the court's revert data and return data pass through unchanged.
    fallback() external {
        address target = _court;
        assembly ("memory-safe") {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), target, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }
}
