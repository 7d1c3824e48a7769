// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AStateMachine} from "../machine/AStateMachine.sol";
import {IStateMachine} from "../interfaces/IStateMachine.sol";

/// @title QuirkyMachine
/// @notice Test machine: Payments-like balances whose every function can be told, per state, to
/// misbehave — revert, pad its answer with ~1.4 MB, return malformed ABI, an outcome of the
/// wrong length or above the deposits, a next actor above 0xffff, isTerminal = 2 — so tests can
/// check that the manager refuses such states at raise (instead of locking funds at resolve),
/// judges such transitions invalid, and never pays for a machine's padding.
/// @dev State: abi.encode(State). `quirk` holds one mode byte per function (see the constants);
/// the modes of a state govern the calls made ON that state. A move's data is abi.encode(uint256
/// newQuirk): the next state has the same balances, that quirk and the next active actor.
contract QuirkyMachine is AStateMachine {
    struct State {
        uint64 active;
        uint16 turn;
        uint256 quirk;
        uint256[] balances;
    }

    // Byte offsets of each function's mode in `quirk`.
    uint256 public constant TRANSITION = 0;
    uint256 public constant ON_REMOVE = 8;
    uint256 public constant OUTCOME = 16;
    uint256 public constant NEXT_ACTOR = 24;
    uint256 public constant IS_TERMINAL = 32;
    /// The participant index whose onRemove reverts (mode REVERT of ON_REMOVE).
    uint256 public constant REMOVE_INDEX = 40;
    /// 32 bits: how many hashes a function in mode BURN chains.
    uint256 public constant BURN_ROUNDS = 48;

    // Modes of the functions returning bytes (transition, onRemove).
    uint256 public constant NORMAL = 0;
    uint256 public constant PAD = 1; // a valid answer followed by PADDING bytes
    uint256 public constant BAD_OFFSET = 2; // offset word 64 instead of 32 (same size)
    uint256 public constant LENGTH_BEYOND = 3; // length word 1000 bytes beyond the data
    uint256 public constant REVERT = 4; // onRemove: only for REMOVE_INDEX
    uint256 public constant TOO_LARGE = 5; // a valid state of MAX_STATE_BYTES + 1 bytes
    // Further modes of outcome.
    uint256 public constant SHORT = 6; // n - 1 entries
    uint256 public constant EMPTY = 7; // no entries
    uint256 public constant EXCEEDS = 8; // entry 0 raised by 10^30
    // Further modes of nextActor and isTerminal.
    uint256 public constant BIG = 9; // nextActor 0x10000, isTerminal 2
    uint256 public constant TRUE = 10; // isTerminal true
    // Any function except transition: spend BURN_ROUNDS hashes' worth of gas, then answer normally.
    uint256 public constant BURN = 11;

    uint256 public constant PADDING = 1_400_000;
    uint256 private constant MAX_STATE_BYTES = 32768;

    error QuirkyRefused(uint256 mode);

    function initialState(uint256[] calldata deposits, bytes calldata initData)
        external
        pure
        override
        returns (bytes memory)
    {
        uint256 quirk = initData.length == 32 ? abi.decode(initData, (uint256)) : 0;
        return abi.encode(State(_allActive(deposits.length), 0, quirk, deposits));
    }

    function transition(bytes calldata state, uint16 actor, bytes calldata data, uint64)
        external
        pure
        override
        returns (bytes memory)
    {
        State memory s = abi.decode(state, (State));
        if (actor != s.turn) revert MachineNotYourTurn(actor, s.turn);
        if (data.length != 32) revert MachineInvalidMove();
        uint256 mode = _mode(s.quirk, TRANSITION);
        s.quirk = abi.decode(data, (uint256));
        s.turn = _nextActive(s.active, s.turn, uint16(s.balances.length));
        _answer(mode, abi.encode(s));
    }

    function nextActor(bytes calldata state) external pure override returns (uint16) {
        State memory s = abi.decode(state, (State));
        uint256 mode = _mode(s.quirk, NEXT_ACTOR);
        if (mode == BURN) _burn(_rounds(s.quirk));
        if (mode == PAD) _padded(abi.encode(s.turn));
        if (mode == BIG) _raw(abi.encode(uint256(0x10000)));
        if (mode == REVERT) revert QuirkyRefused(mode);
        return s.turn;
    }

    function isTerminal(bytes calldata state) external pure override returns (bool) {
        uint256 q = abi.decode(state, (State)).quirk;
        uint256 mode = _mode(q, IS_TERMINAL);
        if (mode == BURN) _burn(_rounds(q));
        if (mode == PAD) _padded(abi.encode(false));
        if (mode == BIG) _raw(abi.encode(uint256(2)));
        if (mode == REVERT) revert QuirkyRefused(mode);
        return mode == TRUE;
    }

    function outcome(bytes calldata state) external pure override returns (uint256[] memory) {
        State memory s = abi.decode(state, (State));
        uint256 mode = _mode(s.quirk, OUTCOME);
        if (mode == BURN) _burn(_rounds(s.quirk));
        uint256[] memory b = s.balances;
        if (mode == PAD) _padded(abi.encode(b));
        if (mode == BAD_OFFSET) _raw(_offset64(abi.encode(b)));
        if (mode == REVERT) revert QuirkyRefused(mode);
        if (mode == SHORT) {
            // Drops the last entry in place (n ≥ 2).
            assembly ("memory-safe") {
                mstore(b, sub(mload(b), 1))
            }
        }
        if (mode == EMPTY) b = new uint256[](0);
        if (mode == EXCEEDS) b[0] += 1e30;
        return b;
    }

    function onRemove(bytes calldata state, uint16 index) external pure override returns (bytes memory) {
        State memory s = abi.decode(state, (State));
        uint256 mode = _mode(s.quirk, ON_REMOVE);
        if (mode == BURN) _burn(_rounds(s.quirk));
        if (mode == REVERT && index == _mode(s.quirk, REMOVE_INDEX)) revert QuirkyRefused(index);
        s.active &= ~(uint64(1) << index);
        if (s.turn == index) s.turn = _nextActive(s.active, index, uint16(s.balances.length));
        _answer(mode == REVERT ? NORMAL : mode, abi.encode(s));
    }

    /// @dev Spends gas: `rounds` chained hashes (calibrated by the tests to land just under
    /// MACHINE_GAS; gasleft() is not allowed in the interface's pure functions).
    function _burn(uint256 rounds) private pure {
        bytes32 h;
        for (uint256 i; i < rounds; ++i) {
            h = keccak256(abi.encode(h, i));
        }
        // Keeps `h` alive so the optimizer cannot drop the loop; a zero hash never occurs.
        if (h == bytes32(uint256(1))) revert QuirkyRefused(0);
    }

    /// @dev Returns `state` as ABI `bytes`, the way `mode` says.
    function _answer(uint256 mode, bytes memory state) private pure {
        if (mode == PAD) _padded(abi.encode(state));
        if (mode == BAD_OFFSET) _raw(_offset64(abi.encode(state)));
        if (mode == LENGTH_BEYOND) _raw(abi.encodePacked(uint256(32), state.length + 1000, state));
        if (mode == TOO_LARGE) _raw(abi.encode(bytes.concat(state, new bytes(MAX_STATE_BYTES + 1 - state.length))));
        if (mode == REVERT) revert QuirkyRefused(mode);
        _raw(abi.encode(state));
    }

    /// @dev `encoded` (one dynamic value) with its offset word set to 64: the same size, but not
    /// one value of the declared type.
    function _offset64(bytes memory encoded) private pure returns (bytes memory) {
        assembly ("memory-safe") {
            mstore(add(encoded, 32), 64)
        }
        return encoded;
    }

    /// @dev Ends the call returning exactly `payload`.
    function _raw(bytes memory payload) private pure {
        assembly ("memory-safe") {
            return(add(payload, 32), mload(payload))
        }
    }

    /// @dev Ends the call returning `payload` followed by PADDING bytes of whatever memory holds
    /// there (expanding memory that far is what the machine pays; the bytes are never read).
    function _padded(bytes memory payload) private pure {
        assembly {
            return(add(payload, 32), add(mload(payload), PADDING))
        }
    }

    function _rounds(uint256 quirk) private pure returns (uint256) {
        return (quirk >> BURN_ROUNDS) & 0xffffffff;
    }

    function _mode(uint256 quirk, uint256 at) private pure returns (uint256) {
        return (quirk >> at) & 0xff;
    }
}
