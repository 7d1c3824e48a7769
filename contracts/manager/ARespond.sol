// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRespond} from "../interfaces/IDisputeManager.sol";
import {Channel, DisputeKind, DisputeRecord, Phase, Transaction} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {ADisputeBase} from "./ADisputeBase.sol";

/// @title ARespond
/// @notice The accused's response to a timeout (IRespond). Part of StateChannelManager itself,
/// not of the court behind its fallback: through the fallback a response would also pay the
/// delegatecall (a cold account, 2,600 gas, and a copy of the calldata). It calls no machine and
/// moves no funds.
abstract contract ARespond is IRespond, ADisputeBase {
    /// @inheritdoc IRespond
    function respond(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        Transaction calldata transaction,
        bytes calldata signature
    ) external {
        (Channel memory ch, bytes32 h) = _load(channel);
        _challengeable(channelId, ch, h, participants, index, dispute);
        if (dispute.kind != DisputeKind.Timeout) revert DisputeKindInvalid(dispute.kind);
        uint64 seq = transaction.seq;
        if (
            Bitmap.bit(transaction.actor) != dispute.removals || seq != dispute.seq + 1
                || transaction.previousStateHash != dispute.stateHash
        ) revert ResponseInvalid();
        bytes32 digest = _checkMove(channelId, ch, participants, transaction, signature, dispute.timestamp);

        ch.phase = Phase.Open;
        ch.latestSeq = seq;
        _store(channelId, ch);
        // The move is the evidence, published with the cancellation in one log.
        _emitMove(DisputeCancelled.selector, channelId, digest, transaction, signature);
    }
}
