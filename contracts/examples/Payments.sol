// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AStateMachine} from "../machine/AStateMachine.sol";
import {IStateMachine} from "../interfaces/IStateMachine.sol";

/// @title Payments
/// @notice N parties move balances between each other. Turns go round-robin over the active
/// participants; a participant with nothing to pay sends an empty move (a "pass"). A removed
/// participant keeps its balance (paid at settlement unless slashed) but can no longer receive.
/// @dev Move data: empty = pass, or abi.encode(uint16 to, uint256 amount).
contract Payments is AStateMachine {
    /// @notice The decoded state of a Payments channel.
    struct State {
        uint64 active;
        uint16 turn;
        uint256[] balances;
    }

    /// @notice Thrown when a payment exceeds the payer's balance.
    error PaymentsInsufficientBalance(uint16 from, uint256 balance, uint256 amount);
    /// @notice Thrown when the recipient is the payer, out of range or removed.
    error PaymentsInvalidRecipient(uint16 to);

    /// @inheritdoc IStateMachine
    function initialState(uint256[] calldata deposits, bytes calldata)
        external
        pure
        override
        returns (bytes memory)
    {
        return abi.encode(State(_allActive(deposits.length), 0, deposits));
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
        if (data.length != 0) {
            if (data.length != 64) revert MachineInvalidMove();
            (uint16 to, uint256 amount) = abi.decode(data, (uint16, uint256));
            if (to == actor || to >= s.balances.length || s.active & (uint64(1) << to) == 0) {
                revert PaymentsInvalidRecipient(to);
            }
            if (amount > s.balances[actor]) {
                revert PaymentsInsufficientBalance(actor, s.balances[actor], amount);
            }
            // Cannot underflow (checked above) or overflow (the sum of balances is bounded
            // by the locked total, which fits in uint128).
            unchecked {
                s.balances[actor] -= amount;
                s.balances[to] += amount;
            }
        }
        s.turn = _nextActive(s.active, s.turn, uint16(s.balances.length));
        return abi.encode(s);
    }

    /// @inheritdoc IStateMachine
    function nextActor(bytes calldata state) external pure override returns (uint16) {
        return abi.decode(state, (State)).turn;
    }

    /// @inheritdoc IStateMachine
    function outcome(bytes calldata state) external pure override returns (uint256[] memory) {
        return abi.decode(state, (State)).balances;
    }

    /// @notice Move encoder (run locally by clients, never on-chain): pay `amount` to participant `to`.
    function pay(uint16 to, uint256 amount) external pure returns (bytes memory move) {
        return abi.encode(to, amount);
    }

    /// @notice Move encoder: nothing to pay this turn.
    function pass() external pure returns (bytes memory move) {
        return "";
    }

    /// @notice The state's fields, for clients that print them.
    function decodeState(bytes calldata state) external pure returns (uint16 turn, uint256[] memory balances) {
        State memory s = abi.decode(state, (State));
        return (s.turn, s.balances);
    }

    /// @inheritdoc IStateMachine
    function onRemove(bytes calldata state, uint16 index) external pure override returns (bytes memory) {
        State memory s = abi.decode(state, (State));
        s.active &= ~(uint64(1) << index);
        if (s.turn == index) s.turn = _nextActive(s.active, index, uint16(s.balances.length));
        return abi.encode(s);
    }
}
