// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IStateMachine
/// @notice The rules of one Parley application. A machine is pure logic: no storage, no
/// external calls, deterministic. The same bytecode runs on-chain (in disputes and settlement)
/// and client-side in a local EVM, so both sides always compute the same result.
/// @dev State is opaque `bytes`; only the machine interprets it. Participants are addressed by
/// their index in the channel's participant list (0 … n-1).
interface IStateMachine {
    /// @notice Builds the genesis state of a new channel.
    /// @param deposits The amount each participant locked (index = participant index).
    /// @param initData Application-specific parameters chosen by the participants at open.
    /// @return state The genesis state (fork 0, seq 0).
    function initialState(uint256[] calldata deposits, bytes calldata initData)
        external
        pure
        returns (bytes memory state);

    /// @notice Applies one transaction. MUST revert if `data` is not a valid move for `actor`.
    /// @param state The state the transaction is applied to.
    /// @param actor Index of the participant who authored the transaction.
    /// @param data The move, encoded as the machine defines.
    /// @param timestamp The transaction's timestamp (seconds, like `block.timestamp`).
    /// @return next The resulting state.
    function transition(bytes calldata state, uint16 actor, bytes calldata data, uint64 timestamp)
        external
        pure
        returns (bytes memory next);

    /// @notice The only participant allowed to author the next transaction.
    function nextActor(bytes calldata state) external pure returns (uint16 actor);

    /// @notice The payout of every participant if the channel settled in `state`.
    /// @dev Length MUST equal the channel's participant count; the sum MUST NOT exceed the
    /// locked deposits (the manager rejects the settlement otherwise).
    function outcome(bytes calldata state) external pure returns (uint256[] memory payouts);

    /// @notice Whether no further transaction is possible; a final terminal state can be
    /// settled with a finality proof alone.
    function isTerminal(bytes calldata state) external pure returns (bool);

    /// @notice The state after participant `index` is removed by the chain (timeout or fraud).
    /// @dev The result becomes the genesis of a new fork. Its `nextActor` SHOULD be an active
    /// participant; otherwise the manager settles the channel from it.
    function onRemove(bytes calldata state, uint16 index) external pure returns (bytes memory next);
}
