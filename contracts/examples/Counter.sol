// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AStateMachine} from "../machine/AStateMachine.sol";
import {IStateMachine} from "../interfaces/IStateMachine.sol";

/// @title Counter
/// @notice The smallest useful machine, for tests and benchmarks: participants take turns
/// (round-robin over the active set) adding a positive amount to a shared counter. Reaching
/// `target` (if non-zero) makes the state terminal. Settlement returns every deposit.
/// @dev initData = abi.encode(uint64 target); move data = abi.encode(uint64 increment), > 0.
contract Counter is AStateMachine {
    /// @notice The decoded state of a Counter channel.
    struct State {
        uint64 active;
        uint16 turn;
        uint64 count;
        uint64 target;
        uint256[] deposits;
    }

    /// @inheritdoc IStateMachine
    function initialState(uint256[] calldata deposits, bytes calldata initData)
        external
        pure
        override
        returns (bytes memory)
    {
        uint64 target = initData.length == 0 ? 0 : abi.decode(initData, (uint64));
        return abi.encode(State(_allActive(deposits.length), 0, 0, target, deposits));
    }

    /// @inheritdoc IStateMachine
    function transition(bytes calldata state, uint16 actor, bytes calldata data, uint64)
        external
        pure
        override
        returns (bytes memory)
    {
        State memory s = abi.decode(state, (State));
        if (actor != s.turn) revert MachineNotYourTurn(actor, s.turn);
        if (_terminal(s) || data.length != 32) revert MachineInvalidMove();
        uint64 increment = abi.decode(data, (uint64));
        if (increment == 0) revert MachineInvalidMove();
        s.count += increment;
        s.turn = _nextActive(s.active, s.turn, uint16(s.deposits.length));
        return abi.encode(s);
    }

    /// @inheritdoc IStateMachine
    function nextActor(bytes calldata state) external pure override returns (uint16) {
        return abi.decode(state, (State)).turn;
    }

    /// @inheritdoc IStateMachine
    function outcome(bytes calldata state) external pure override returns (uint256[] memory) {
        return abi.decode(state, (State)).deposits;
    }

    /// @inheritdoc IStateMachine
    function isTerminal(bytes calldata state) external pure override returns (bool) {
        return _terminal(abi.decode(state, (State)));
    }

    /// @inheritdoc IStateMachine
    function onRemove(bytes calldata state, uint16 index) external pure override returns (bytes memory) {
        State memory s = abi.decode(state, (State));
        s.active &= ~(uint64(1) << index);
        if (s.turn == index) s.turn = _nextActive(s.active, index, uint16(s.deposits.length));
        return abi.encode(s);
    }

    /// @notice Move encoder (run locally by clients, never on-chain): add `increment`.
    function inc(uint64 increment) external pure returns (bytes memory move) {
        return abi.encode(increment);
    }

    /// @notice The state's fields, for clients that print them.
    function decodeState(bytes calldata state)
        external
        pure
        returns (uint16 turn, uint64 count, uint64 target, uint256[] memory deposits)
    {
        State memory s = abi.decode(state, (State));
        return (s.turn, s.count, s.target, s.deposits);
    }

    function _terminal(State memory s) private pure returns (bool) {
        return s.target != 0 && s.count >= s.target;
    }
}
