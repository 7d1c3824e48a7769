// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AStateMachine} from "../machine/AStateMachine.sol";
import {IStateMachine} from "../interfaces/IStateMachine.sol";

/// @title LoopingMachine
/// @notice Test-only machine for gas caps and error decoding. `transition` spins: with empty
/// move data it loops until it runs out of gas; with data = abi.encode(uint256 rounds) it hashes
/// that many rounds and returns the state unchanged. `nextActor` reverts with an error that no
/// other Parley contract declares (so only this machine's ABI can decode it).
contract LoopingMachine is AStateMachine {
    /// @notice Thrown by `nextActor` whenever it is asked.
    error LoopingMachineRefused(uint256 stateLength);

    /// @inheritdoc IStateMachine
    function initialState(uint256[] calldata deposits, bytes calldata) external pure override returns (bytes memory) {
        return abi.encode(deposits.length);
    }

    /// @inheritdoc IStateMachine
    function transition(bytes calldata state, uint16, bytes calldata data, uint64)
        external
        pure
        override
        returns (bytes memory)
    {
        uint256 rounds = data.length == 0 ? type(uint256).max : abi.decode(data, (uint256));
        bytes32 h = keccak256(state);
        for (uint256 i; i < rounds; ++i) {
            h = keccak256(abi.encode(h));
        }
        // Keep `h` alive so the optimizer cannot drop the loop; a zero hash never occurs.
        if (h == bytes32(0)) revert MachineInvalidState();
        return state;
    }

    /// @inheritdoc IStateMachine
    function nextActor(bytes calldata state) external pure override returns (uint16) {
        revert LoopingMachineRefused(state.length);
    }

    /// @inheritdoc IStateMachine
    function outcome(bytes calldata state) external pure override returns (uint256[] memory payouts) {
        payouts = new uint256[](abi.decode(state, (uint256)));
    }
}
