// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AStateMachine} from "../machine/AStateMachine.sol";
import {IStateMachine} from "../interfaces/IStateMachine.sol";

/// @title Relay
/// @notice Test machine that keeps every AStateMachine default: participants pass a baton
/// round-robin over all indices (removed ones included) and `onRemove` leaves the state
/// unchanged, so removing the next actor makes the manager settle. Move data must be empty.
/// Settlement returns every deposit.
contract Relay is AStateMachine {
    /// @notice The decoded state.
    struct State {
        uint16 turn;
        uint256[] deposits;
    }

    /// @inheritdoc IStateMachine
    function initialState(uint256[] calldata deposits, bytes calldata) external pure override returns (bytes memory) {
        return abi.encode(State(0, deposits));
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
        if (data.length != 0) revert MachineInvalidMove();
        s.turn = uint16((uint256(s.turn) + 1) % s.deposits.length);
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
}
