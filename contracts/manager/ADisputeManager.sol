// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeManager} from "../interfaces/IDisputeManager.sol";
import {Channel, DisputeKind, DisputeRecord, Phase} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {ADisputes} from "./ADisputes.sol";
import {AFraud} from "./AFraud.sol";

/// @title ADisputeManager
/// @notice The court: posts, timeouts, exits and answers (ADisputes), fraud proofs (AFraud),
/// and resolution into a new fork or a settlement (here).
abstract contract ADisputeManager is ADisputes, AFraud {
    /// @inheritdoc IDisputeManager
    function resolve(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        DisputeRecord calldata dispute,
        bytes calldata state
    ) external {
        (Channel memory ch, bytes32 h) = _load(channel);
        _disputed(channelId, ch, h, participants, dispute);
        if (block.timestamp <= dispute.deadline) revert DisputePending(block.timestamp, dispute.deadline);
        _requireStateHash(state, dispute.stateHash);
        emit DisputeResolved(channelId, ch.fork, dispute);
        uint64 removals = dispute.removals;
        // Everyone still owed a share: the active participants, those removed now included.
        uint64 unpaid = ch.active;
        _remove(channelId, ch, removals);
        address machine = ch.machine;
        // Checked when the candidate and the removals were last set (_requireResolvable).
        bytes memory genesis = _afterRemovals(machine, state, removals);
        DisputeKind kind = dispute.kind;
        if (kind == DisputeKind.ForceClose || kind == DisputeKind.Conclude || _mustSettle(machine, ch.active, genesis)) {
            _settle(channelId, ch, participants, genesis, keccak256(genesis), unpaid, dispute.disputer);
        } else {
            _payRemoved(channelId, ch, participants, genesis, removals, dispute.disputer);
            _startFork(channelId, ch, genesis);
        }
    }

    /// @dev Takes `removals` out of the active set (they are paid below, with their bonds).
    function _remove(bytes32 channelId, Channel memory ch, uint64 removals) private {
        if (removals == 0) return;
        ch.active &= ~removals;
        for (uint256 i; removals >> i != 0; ++i) {
            if (Bitmap.has(removals, i)) emit ParticipantRemoved(channelId, uint16(i));
        }
    }

    /// @dev Pays each removed participant its outcome share of the new genesis and its bond now
    /// (a slashed one's to whoever proved it), so what it is owed no longer depends on the others.
    function _payRemoved(
        bytes32 channelId,
        Channel memory ch,
        address[] calldata participants,
        bytes memory genesis,
        uint64 removals,
        uint256 prover
    ) private {
        (uint256[] memory payouts,) = _outcome(ch, genesis, ch.active | removals);
        address asset = ch.asset;
        uint64 slashed = ch.slashed;
        uint256 bond = ch.bond;
        uint256 paid;
        for (uint256 i; removals >> i != 0; ++i) {
            if (Bitmap.has(removals, i)) {
                paid += payouts[i];
                _credit(channelId, _payee(channelId, participants, slashed, i, prover), asset, payouts[i] + bond);
            }
        }
        // paid <= the checked outcome total <= locked, which fits in 128 bits.
        ch.locked -= uint128(paid);
    }

    /// @dev Starts the next fork from `genesis`: no signatures needed, timed from now.
    function _startFork(bytes32 channelId, Channel memory ch, bytes memory genesis) private {
        uint40 fork = ch.fork + 1;
        bytes32 stateHash = keccak256(genesis);
        ch.fork = fork;
        ch.phase = Phase.Open;
        ch.genesisStateHash = stateHash;
        ch.genesisTimestamp = uint40(block.timestamp);
        ch.latestSeq = 0;
        _store(channelId, ch);
        emit StateSet(channelId, fork, stateHash, genesis, uint64(block.timestamp), ch.active, ch.locked);
    }
}
