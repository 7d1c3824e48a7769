// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AStateMachine} from "../machine/AStateMachine.sol";
import {IStateMachine} from "../interfaces/IStateMachine.sol";

/// @title HardforkProbeMachine
/// @notice Test-only machine whose transition depends on the hardfork it runs under: a move
/// calls one precompile and the next state records what came back. Precompiles are pure
/// functions of their input, but which addresses are precompiles (and what they cost) is set
/// by the hardfork: G1ADD at 0x0b exists from prague on (before, 0x0b is an empty account:
/// success with no output), P256VERIFY at 0x100 from osaka on. So the client's local EVM
/// computes the chain's state only under the chain's hardfork.
/// @dev initData is ignored. Move data = abi.encode(address precompile, bytes input); the
/// precompile must be below 0x10000. Any participant may move. The state is
/// abi.encode(uint256[] deposits, bool ok, uint256 gasUsed, bytes output) where `gasUsed`
/// includes the call's account access (warm for a precompile of the running hardfork, cold
/// otherwise), so gas differences show as well as output differences.
contract HardforkProbeMachine is AStateMachine {
    /// @notice Gas given to the precompile call: enough for G1ADD (375) and P256VERIFY (6,900).
    uint256 private constant _PROBE_GAS = 100_000;

    /// @notice The decoded state.
    struct State {
        uint256[] deposits;
        bool ok;
        uint256 gasUsed;
        bytes output;
    }

    /// @inheritdoc IStateMachine
    function initialState(uint256[] calldata deposits, bytes calldata) external pure override returns (bytes memory) {
        return abi.encode(State(deposits, false, 0, ""));
    }

    /// @inheritdoc IStateMachine
    function transition(bytes calldata state, uint16, bytes calldata data, uint64)
        external
        pure
        override
        returns (bytes memory)
    {
        State memory s = abi.decode(state, (State));
        (address precompile, bytes memory input) = abi.decode(data, (address, bytes));
        if (uint160(precompile) >= 0x10000) revert MachineInvalidMove();
        (s.ok, s.gasUsed, s.output) = _asPure(_probe)(precompile, input);
        return abi.encode(s);
    }

    /// @inheritdoc IStateMachine
    function nextActor(bytes calldata) external pure override returns (uint16) {
        return 0;
    }

    /// @inheritdoc IStateMachine
    function outcome(bytes calldata state) external pure override returns (uint256[] memory) {
        return abi.decode(state, (State)).deposits;
    }

    /// @dev Static-calls `precompile` with `input` and measures the gas of the whole call.
    function _probe(address precompile, bytes memory input) private view returns (bool ok, uint256 gasUsed, bytes memory output) {
        uint256 before = gasleft();
        (ok, output) = precompile.staticcall{gas: _PROBE_GAS}(input);
        gasUsed = before - gasleft();
    }

    /// @dev Solidity treats every staticcall as a state read, so a `pure` transition cannot call
    /// a precompile directly. A precompile reads no state (the result depends only on the input
    /// and the hardfork), so relabelling `_probe` as pure keeps the IStateMachine promise.
    function _asPure(function(address, bytes memory) view returns (bool, uint256, bytes memory) f)
        private
        pure
        returns (function(address, bytes memory) pure returns (bool, uint256, bytes memory) g)
    {
        assembly {
            g := f
        }
    }
}
