// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IStateMachine} from "../interfaces/IStateMachine.sol";

/// @title AStateMachine
/// @notice Base for Parley machines: sensible defaults and helpers for turn order over an
/// active-participant bitmap (bit i set = participant i still plays).
abstract contract AStateMachine is IStateMachine {
    /// @notice Thrown when `actor` may not move in this state.
    error MachineNotYourTurn(uint16 actor, uint16 expected);
    /// @notice Thrown when the move data cannot be decoded or is not allowed.
    error MachineInvalidMove();
    /// @notice Thrown when a state does not decode as this machine's state.
    error MachineInvalidState();

    /// @inheritdoc IStateMachine
    /// @dev Default: a state is never terminal (channels close by unanimous consent).
    function isTerminal(bytes calldata) external pure virtual returns (bool) {
        return false;
    }

    /// @inheritdoc IStateMachine
    /// @dev Default: the state is unchanged; the manager settles the channel if the next actor
    /// is no longer active. Machines with turn order override this.
    function onRemove(bytes calldata state, uint16) external pure virtual returns (bytes memory) {
        return state;
    }

    /// @dev The first participant after `from` (cyclically) whose bit is set in `active`.
    /// Returns `from` itself if it is the only active one.
    function _nextActive(uint64 active, uint16 from, uint16 n) internal pure returns (uint16) {
        for (uint16 i = 1; i <= n; ++i) {
            uint16 c = uint16((uint256(from) + i) % n);
            if (active & (uint64(1) << c) != 0) return c;
        }
        return from;
    }

    /// @dev A bitmap with the low `n` bits set.
    function _allActive(uint256 n) internal pure returns (uint64) {
        return n >= 64 ? type(uint64).max : uint64((uint256(1) << n) - 1);
    }
}
