// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AStateMachine} from "../machine/AStateMachine.sol";
import {IStateMachine} from "../interfaces/IStateMachine.sol";

/// @title TicTacToe
/// @notice Two players; participant 0 plays X and moves first. The winner takes both
/// deposits; a draw returns each deposit. A removed player forfeits.
/// @dev Move data = abi.encode(uint8 cell), cell 0..8 in row-major order.
contract TicTacToe is AStateMachine {
    /// @notice Result codes.
    uint8 internal constant ONGOING = 0;
    uint8 internal constant X_WON = 1;
    uint8 internal constant O_WON = 2;
    uint8 internal constant DRAW = 3;

    /// @notice The decoded state: cell marks are 0 empty, 1 X, 2 O.
    struct State {
        uint8[9] board;
        uint16 turn;
        uint8 result;
        uint256[2] stakes;
    }

    /// @notice Thrown when the channel does not have exactly two participants.
    error TicTacToeNeedsTwoPlayers(uint256 n);
    /// @notice Thrown when the cell is out of range or taken.
    error TicTacToeCellUnavailable(uint8 cell);

    /// @inheritdoc IStateMachine
    function initialState(uint256[] calldata deposits, bytes calldata)
        external
        pure
        override
        returns (bytes memory)
    {
        if (deposits.length != 2) revert TicTacToeNeedsTwoPlayers(deposits.length);
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
        if (s.result != ONGOING || data.length != 32) revert MachineInvalidMove();
        if (actor != s.turn) revert MachineNotYourTurn(actor, s.turn);
        uint256 at = abi.decode(data, (uint256));
        if (at > 8 || s.board[at] != 0) revert TicTacToeCellUnavailable(uint8(at));
        uint8 mark = actor == 0 ? 1 : 2;
        s.board[at] = mark;
        if (_wins(s.board, mark)) s.result = mark; // X_WON == 1, O_WON == 2
        else if (_full(s.board)) s.result = DRAW;
        s.turn = 1 - actor;
        return abi.encode(s);
    }

    /// @inheritdoc IStateMachine
    function nextActor(bytes calldata state) external pure override returns (uint16) {
        return abi.decode(state, (State)).turn;
    }

    /// @inheritdoc IStateMachine
    function outcome(bytes calldata state) external pure override returns (uint256[] memory payouts) {
        State memory s = abi.decode(state, (State));
        payouts = new uint256[](2);
        uint256 pot = s.stakes[0] + s.stakes[1];
        if (s.result == X_WON) payouts[0] = pot;
        else if (s.result == O_WON) payouts[1] = pot;
        else (payouts[0], payouts[1]) = (s.stakes[0], s.stakes[1]);
    }

    /// @inheritdoc IStateMachine
    function isTerminal(bytes calldata state) external pure override returns (bool) {
        return abi.decode(state, (State)).result != ONGOING;
    }

    /// @inheritdoc IStateMachine
    function onRemove(bytes calldata state, uint16 index) external pure override returns (bytes memory) {
        State memory s = abi.decode(state, (State));
        if (s.result == ONGOING) s.result = index == 0 ? O_WON : X_WON;
        return abi.encode(s);
    }

    /// @notice Move encoder (run locally by clients, never on-chain): mark `cell` (0..8, row-major).
    function cell(uint8 index) external pure returns (bytes memory move) {
        return abi.encode(uint256(index));
    }

    /// @notice The state's fields, for clients that print them: the board as rows of X, O and '.'.
    function decodeState(bytes calldata state) external pure returns (string memory board, uint16 turn, string memory result) {
        State memory s = abi.decode(state, (State));
        bytes memory b = new bytes(11);
        for (uint256 i = 0; i < 9; ++i) {
            b[i + i / 3] = s.board[i] == 1 ? bytes1("X") : s.board[i] == 2 ? bytes1("O") : bytes1(".");
        }
        (b[3], b[7]) = (bytes1("/"), bytes1("/"));
        string[4] memory results = ["ongoing", "X won", "O won", "draw"];
        return (string(b), s.turn, s.result < 4 ? results[s.result] : "invalid");
    }

    function _wins(uint8[9] memory b, uint8 m) private pure returns (bool) {
        uint24[8] memory lines = [uint24(0x000102), 0x030405, 0x060708, 0x000306, 0x010407, 0x020508, 0x000408, 0x020406];
        for (uint256 i = 0; i < 8; ++i) {
            uint24 l = lines[i];
            if (b[uint8(l >> 16)] == m && b[uint8(l >> 8)] == m && b[uint8(l)] == m) return true;
        }
        return false;
    }

    function _full(uint8[9] memory b) private pure returns (bool) {
        for (uint256 i = 0; i < 9; ++i) {
            if (b[i] == 0) return false;
        }
        return true;
    }
}
