// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AStateMachine} from "../machine/AStateMachine.sol";
import {IStateMachine} from "../interfaces/IStateMachine.sol";

/// @title RockPaperScissors
/// @notice Commit–reveal rock-paper-scissors for two players (docs/tutorial.md). #0 commits to
/// a hidden shape (the hash of shape and a secret salt), #1 plays a shape in the clear, #0
/// reveals. The winner takes both stakes; a draw returns each. A player removed by the chain
/// (e.g. #0 never reveals) loses.
/// @dev Move data = abi.encode(uint8 kind, uint8 shape, bytes32 word): kind 0 commit (word =
/// keccak256(abi.encode(shape, salt)), shape 0), 1 play (word 0), 2 reveal (word = salt).
/// The encoders `commit`, `play` and `reveal` build it; clients run them locally, so the
/// shape and salt given to `commit` never leave the committing player's machine.
contract RockPaperScissors is AStateMachine {
    uint8 internal constant COMMIT = 0;
    uint8 internal constant PLAY = 1;
    uint8 internal constant REVEAL = 2;
    uint8 internal constant DONE = 3;

    /// @notice The decoded state. Shapes: 0 none, 1 rock, 2 paper, 3 scissors. Winner: 0 none
    /// yet, 1 = #0, 2 = #1, 3 = draw.
    struct State {
        uint8 stage;
        bytes32 commitment;
        uint8 played;
        uint8 revealed;
        uint8 winner;
        uint256[2] stakes;
    }

    /// @notice Thrown when the channel does not have exactly two participants.
    error RpsNeedsTwoPlayers(uint256 n);
    /// @notice Thrown by an encoder for a shape other than rock, paper or scissors.
    error RpsUnknownShape(string shape);
    /// @notice Thrown when a move's kind is not the one the stage expects.
    error RpsWrongStage(uint8 stage, uint8 kind);
    /// @notice Thrown when a revealed shape and salt do not hash to the commitment.
    error RpsRevealMismatch(uint8 shape);

    /// @inheritdoc IStateMachine
    function initialState(uint256[] calldata deposits, bytes calldata) external pure override returns (bytes memory) {
        if (deposits.length != 2) revert RpsNeedsTwoPlayers(deposits.length);
        State memory s;
        s.stakes = [deposits[0], deposits[1]];
        return abi.encode(s);
    }

    /// @inheritdoc IStateMachine
    function transition(bytes calldata state, uint16 actor, bytes calldata data, uint64)
        external
        pure
        override
        returns (bytes memory)
    {
        State memory s = abi.decode(state, (State));
        if (s.stage == DONE || data.length != 96) revert MachineInvalidMove();
        uint16 expected = s.stage == PLAY ? 1 : 0;
        if (actor != expected) revert MachineNotYourTurn(actor, expected);
        (uint8 kind, uint8 shape, bytes32 word) = abi.decode(data, (uint8, uint8, bytes32));
        if (kind != s.stage) revert RpsWrongStage(s.stage, kind);
        if (kind == COMMIT) {
            s.commitment = word;
        } else {
            if (shape < 1 || shape > 3) revert MachineInvalidMove();
            if (kind == PLAY) {
                s.played = shape;
            } else {
                if (keccak256(abi.encode(shape, word)) != s.commitment) revert RpsRevealMismatch(shape);
                s.revealed = shape;
                // (3 + a - b) % 3: 0 draw, 1 a beats b, 2 b beats a.
                uint8 d = (3 + shape - s.played) % 3;
                s.winner = d == 0 ? 3 : d == 1 ? 1 : 2;
            }
        }
        s.stage += 1;
        return abi.encode(s);
    }

    /// @inheritdoc IStateMachine
    function nextActor(bytes calldata state) external pure override returns (uint16) {
        return abi.decode(state, (State)).stage == PLAY ? 1 : 0;
    }

    /// @inheritdoc IStateMachine
    function outcome(bytes calldata state) external pure override returns (uint256[] memory payouts) {
        State memory s = abi.decode(state, (State));
        payouts = new uint256[](2);
        uint256 pot = s.stakes[0] + s.stakes[1];
        if (s.winner == 1) payouts[0] = pot;
        else if (s.winner == 2) payouts[1] = pot;
        else (payouts[0], payouts[1]) = (s.stakes[0], s.stakes[1]);
    }

    /// @inheritdoc IStateMachine
    function isTerminal(bytes calldata state) external pure override returns (bool) {
        return abi.decode(state, (State)).stage == DONE;
    }

    /// @inheritdoc IStateMachine
    function onRemove(bytes calldata state, uint16 index) external pure override returns (bytes memory) {
        State memory s = abi.decode(state, (State));
        if (s.stage != DONE) (s.stage, s.winner) = (DONE, index == 0 ? 2 : 1);
        return abi.encode(s);
    }

    /// @notice Move encoder: #0 commits to `shape` (rock, paper or scissors) under a secret
    /// `salt`. Run it locally: only the hash goes into the move.
    function commit(string calldata shape, bytes32 salt) external pure returns (bytes memory move) {
        return abi.encode(COMMIT, uint8(0), keccak256(abi.encode(_shape(shape), salt)));
    }

    /// @notice Move encoder: #1 plays `shape` in the clear (#0 is already bound by its commitment).
    function play(string calldata shape) external pure returns (bytes memory move) {
        return abi.encode(PLAY, _shape(shape), bytes32(0));
    }

    /// @notice Move encoder: #0 reveals the committed `shape` and `salt`.
    function reveal(string calldata shape, bytes32 salt) external pure returns (bytes memory move) {
        return abi.encode(REVEAL, _shape(shape), salt);
    }

    /// @notice The state's fields, for clients that print them.
    function decodeState(bytes calldata state)
        external
        pure
        returns (string memory stage, bytes32 commitment, string memory played, string memory revealed, string memory result)
    {
        State memory s = abi.decode(state, (State));
        string[4] memory stages = ["commit", "play", "reveal", "done"];
        string[4] memory shapes = ["-", "rock", "paper", "scissors"];
        string[4] memory results = ["-", "#0 won", "#1 won", "draw"];
        if (s.stage > DONE || s.played > 3 || s.revealed > 3 || s.winner > 3) revert MachineInvalidState();
        return (stages[s.stage], s.commitment, shapes[s.played], shapes[s.revealed], results[s.winner]);
    }

    function _shape(string calldata name) private pure returns (uint8) {
        bytes32 h = keccak256(bytes(name));
        if (h == keccak256("rock")) return 1;
        if (h == keccak256("paper")) return 2;
        if (h == keccak256("scissors")) return 3;
        revert RpsUnknownShape(name);
    }
}
