// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IStateMachine} from "../interfaces/IStateMachine.sol";
import {IChannelsEvents} from "../interfaces/IStateChannelManager.sol";

/// @title AMachineCalls
/// @notice Every call into a channel's state machine: a static call with a fixed gas cap that
/// copies at most the return data its ABI type can need, and a strict decoding of the result.
/// A call that reverts, runs out of its cap, returns more than its bound or returns data that
/// is not exactly the declared type is a failure. The client applies the same rules to the same
/// bytecode (src/machine/codec.ts), so both sides reach the same verdict on every transition.
abstract contract AMachineCalls is IChannelsEvents {
    /// @notice Gas given to each machine call; a machine that needs more cannot be enforced.
    uint256 internal constant MACHINE_GAS = 5_000_000;
    /// @notice Largest state a machine may produce (bytes); a larger result is a failed call.
    uint256 internal constant MAX_STATE_BYTES = 32768;

    /// @dev Most return data of a call returning `bytes`: offset word, length word, the bytes.
    uint256 private constant STATE_RETURN = 64 + MAX_STATE_BYTES;
    /// @dev Gas the caller must leave: EIP-150 forwards at most 63/64, plus a margin for the call.
    uint256 private constant GAS_NEEDED = MACHINE_GAS + MACHINE_GAS / 63 + 10_000;

    /// @dev Static call into the machine with the MACHINE_GAS cap, copying at most `maxReturn`
    /// bytes of return data (a larger return is a failure, and nothing is copied: a machine
    /// cannot make the manager pay for memory it pads its answer with). Reverts
    /// MachineGasTooLow when the caller did not leave enough gas to pass the whole cap, so only
    /// the cap, never the caller, can starve a call.
    function _tryCallMachine(address machine, bytes memory callData, uint256 maxReturn)
        internal
        view
        returns (bool ok, bytes memory ret)
    {
        if (gasleft() < GAS_NEEDED) revert MachineGasTooLow(gasleft(), GAS_NEEDED);
        assembly ("memory-safe") {
            ok := staticcall(MACHINE_GAS, machine, add(callData, 32), mload(callData), 0, 0)
            let size := returndatasize()
            if gt(size, maxReturn) {
                ok := 0
                size := 0
            }
            ret := mload(0x40)
            mstore(ret, size)
            returndatacopy(add(ret, 32), 0, size)
            mstore(0x40, add(add(ret, 32), and(add(size, 31), not(31))))
        }
    }

    /// @dev A machine call returning `bytes` (initialState, transition, onRemove), or failure.
    function _tryState(address machine, bytes memory callData) internal view returns (bool ok, bytes memory state) {
        bytes memory ret;
        (ok, ret) = _tryCallMachine(machine, callData, STATE_RETURN);
        if (ok) (ok, state) = _asState(ret);
    }

    /// @dev Like _tryState, but reverts MachineCallFailed (with the revert data, when it fits the
    /// bound) or MachineResultInvalid.
    function _state(address machine, bytes memory callData) internal view returns (bytes memory state) {
        (bool ok, bytes memory ret) = _tryCallMachine(machine, callData, STATE_RETURN);
        if (!ok) revert MachineCallFailed(bytes4(callData), ret);
        (ok, state) = _asState(ret);
        if (!ok) revert MachineResultInvalid(bytes4(callData));
    }

    /// @dev nextActor(state), or failure. The result must be one word below 2^16.
    function _tryNextActor(address machine, bytes memory state) internal view returns (bool ok, uint256 actor) {
        bytes memory ret;
        (ok, ret) = _tryCallMachine(machine, abi.encodeCall(IStateMachine.nextActor, (state)), 32);
        if (ok) (ok, actor) = _asWord(ret, type(uint16).max);
    }

    /// @dev isTerminal(state), or failure. The result must be one word, 0 or 1.
    function _tryIsTerminal(address machine, bytes memory state) internal view returns (bool ok, bool terminal) {
        bytes memory ret;
        (ok, ret) = _tryCallMachine(machine, abi.encodeCall(IStateMachine.isTerminal, (state)), 32);
        uint256 v;
        if (ok) (ok, v) = _asWord(ret, 1);
        terminal = v == 1;
    }

    /// @dev isTerminal(state); reverts MachineCallFailed or MachineResultInvalid.
    function _isTerminal(address machine, bytes memory state) internal view returns (bool) {
        (bool ok, bytes memory ret) = _tryCallMachine(machine, abi.encodeCall(IStateMachine.isTerminal, (state)), 32);
        if (!ok) revert MachineCallFailed(IStateMachine.isTerminal.selector, ret);
        uint256 v;
        (ok, v) = _asWord(ret, 1);
        if (!ok) revert MachineResultInvalid(IStateMachine.isTerminal.selector);
        return v == 1;
    }

    /// @dev onRemove applied for every participant in `removals`, in ascending order; reverts
    /// when a call fails. This is the state a resolution continues or settles from.
    function _afterRemovals(address machine, bytes memory state, uint64 removals) internal view returns (bytes memory) {
        for (uint256 i; removals >> i != 0; ++i) {
            if ((removals >> i) & 1 == 1) state = _state(machine, abi.encodeCall(IStateMachine.onRemove, (state, uint16(i))));
        }
        return state;
    }

    /// @dev outcome(state): exactly n words; reverts MachineCallFailed, MachineResultInvalid or
    /// OutcomeLengthInvalid.
    function _payouts(address machine, bytes memory state, uint256 n) internal view returns (uint256[] memory payouts) {
        (bool ok, bytes memory ret) = _tryCallMachine(machine, abi.encodeCall(IStateMachine.outcome, (state)), 64 + 32 * n);
        if (!ok) revert MachineCallFailed(IStateMachine.outcome.selector, ret);
        if (ret.length < 64) revert MachineResultInvalid(IStateMachine.outcome.selector);
        uint256 offset;
        uint256 length;
        assembly ("memory-safe") {
            offset := mload(add(ret, 32))
            length := mload(add(ret, 64))
        }
        if (offset != 32) revert MachineResultInvalid(IStateMachine.outcome.selector);
        if (length != n) revert OutcomeLengthInvalid(length, n);
        if (ret.length != 64 + 32 * n) revert MachineResultInvalid(IStateMachine.outcome.selector);
        // The length word and the words already lie in `ret`: point at them instead of copying.
        assembly ("memory-safe") {
            payouts := add(ret, 64)
        }
    }

    /// @dev Decodes exactly one ABI `bytes` of at most MAX_STATE_BYTES: offset word 32, a length
    /// word, and at least that many bytes after it (zero-copy: points into `ret`).
    function _asState(bytes memory ret) private pure returns (bool ok, bytes memory state) {
        if (ret.length < 64) return (false, state);
        uint256 offset;
        uint256 length;
        assembly ("memory-safe") {
            offset := mload(add(ret, 32))
            length := mload(add(ret, 64))
        }
        if (offset != 32 || length > MAX_STATE_BYTES || ret.length < 64 + length) return (false, state);
        assembly ("memory-safe") {
            state := add(ret, 64)
        }
        ok = true;
    }

    /// @dev Decodes exactly one word holding a value at most `max`.
    function _asWord(bytes memory ret, uint256 max) private pure returns (bool ok, uint256 value) {
        if (ret.length != 32) return (false, 0);
        assembly ("memory-safe") {
            value := mload(add(ret, 32))
        }
        if (value > max) return (false, 0);
        ok = true;
    }
}
