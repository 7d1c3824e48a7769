// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IReclaim} from "../interfaces/IStateChannelManager.sol";
import {ChannelParams, Phase} from "../interfaces/ChannelTypes.sol";
import {ParleyHash} from "../libraries/ParleyHash.sol";
import {ACore} from "./ACore.sol";

/// @title AReclaim
/// @notice `reclaim`, served by the court: a funding no open will use goes back to the
/// participants' balances. Kept out of the manager because it is rarely called and every
/// function the manager serves itself adds a selector comparison to the dispatch that every call
/// to the manager runs (≈ 22 gas each; docs/gas.md). Its guard is the manager's: the transient
/// slot of ReentrancyGuardTransient, which the court's code, run by delegatecall, shares.
abstract contract AReclaim is IReclaim, ACore, ReentrancyGuardTransient {
    /// @inheritdoc IReclaim
    function reclaim(ChannelParams calldata params) external nonReentrant {
        bytes32 channelId = _hashTypedDataV4(ParleyHash.channelParams(params));
        uint256 n = params.participants.length;
        if (n < 2 || n > MAX_PARTICIPANTS) revert ChannelParticipantCountInvalid(n);
        if (params.deposits.length != n) revert ChannelDepositsLengthMismatch(n, params.deposits.length);
        uint256 held;
        address asset;
        if (_phase(_channels[channelId]) == Phase.None) {
            // The open may still come until the consents expire.
            if (block.timestamp <= params.openDeadline) revert FundsInUse(channelId);
            (held, asset) = _funding(channelId);
            if (held == 0) revert FundsNone(channelId);
            _setFunding(channelId, 0, address(0));
        } else {
            (held, asset) = _unpack(_strayFunding[channelId]);
            if (held == 0) revert FundsNone(channelId);
            _strayFunding[channelId] = 0;
        }
        _return(channelId, params, asset, held);
    }

    /// @dev Credits `held` of `asset`, a funding no open will use, back to the participants in
    /// funding order: participant i gets what it holds of its deposit and bond (computed without
    /// adding them, so no amount in `params` can overflow); anything beyond every share is split
    /// equally, dust to participant 0.
    function _return(bytes32 channelId, ChannelParams calldata params, address asset, uint256 held) private {
        emit FundsReclaimed(channelId, asset, held);
        uint256 n = params.participants.length;
        uint256 bond = params.bond;
        for (uint256 i; i < n && held != 0; ++i) {
            uint256 share = held;
            uint256 d = params.deposits[i];
            if (d < held) {
                uint256 rest = held - d;
                share = d + (bond < rest ? bond : rest);
            }
            held -= share;
            _credit(channelId, params.participants[i], asset, share);
        }
        if (held != 0) {
            uint256 each = held / n;
            _credit(channelId, params.participants[0], asset, held - each * (n - 1));
            for (uint256 i = 1; i < n; ++i) {
                _credit(channelId, params.participants[i], asset, each);
            }
        }
    }
}
