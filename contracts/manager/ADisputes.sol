// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeManager} from "../interfaces/IDisputeManager.sol";
import {Channel, DisputeKind, DisputeRecord, Phase, SignedTransaction, Transaction} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {ADisputeBase} from "./ADisputeBase.sol";

/// @title ADisputes
/// @notice Calldata posts, timeout and conclude disputes, exit and force-close with answers and
/// extensions. (The accused's response to a timeout: ARespond, in the manager itself.)
abstract contract ADisputes is IDisputeManager, ADisputeBase {
    /// @inheritdoc IDisputeManager
    function postTransaction(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        Transaction calldata transaction,
        bytes calldata signature
    ) external {
        // Open channels only: while a dispute is open nobody signs on the fork, and the one move
        // that matters then (the accused's) is published by respond.
        (Channel memory ch, bytes32 h) = _load(channel);
        _open(channelId, ch, h, participants);
        bytes32 digest = _checkMove(channelId, ch, participants, transaction, signature, ch.genesisTimestamp);
        _emitPosted(channelId, digest, transaction, signature);
    }

    /// @inheritdoc IDisputeManager
    function disputeTimeout(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        SignedTransaction[] calldata txs,
        bytes calldata state
    ) external {
        (Channel memory ch, bytes32 h) = _load(channel);
        _openForDispute(channelId, ch, h, participants, index);
        if (state.length > MAX_STATE_BYTES) revert StateTooLarge(state.length, MAX_STATE_BYTES);
        DisputeRecord memory record;
        record.disputer = uint16(index);
        uint64 lastSigners = _candidate(record, channelId, ch, participants, txs, true);
        // The last transaction must be the latest the disputer signed (refute punishes a lie).
        if (txs.length != 0 && !Bitmap.has(lastSigners, index)) revert DisputerNotSigned(index);
        _requireStateHash(state, record.stateHash);
        uint64 latest = ch.latestSeq;
        if (record.seq < latest) revert DisputeStale(record.seq, latest);
        uint256 deadline = block.timestamp + ch.challengeTime;
        if (_isTerminal(ch.machine, state)) {
            // Nobody can move after a terminal state: it settles unless shown stale or fraudulent.
            record.kind = DisputeKind.Conclude;
        } else {
            record.kind = DisputeKind.Timeout;
            uint256 accused = _accused(ch, index, state);
            record.removals = Bitmap.bit(accused);
            // The accused had until T + p2pTime + agreementTime + chainFallbackTime to move.
            uint256 window = uint256(ch.p2pTime) + ch.agreementTime + ch.chainFallbackTime;
            uint256 earliest = uint256(record.timestamp) + window;
            if (block.timestamp <= earliest) revert DisputeTooEarly(block.timestamp, earliest + 1);
            // A candidate the accused did not sign may never have reached it, and its timestamp
            // is its author's word: the accused's window to move starts now, not at T.
            if (txs.length != 0 && !Bitmap.has(lastSigners, accused)) deadline += window;
        }
        record.deadline = uint64(deadline);
        _requireResolvable(ch, record.kind, record.removals, state);
        _raise(channelId, ch, record, state, txs);
    }

    /// @dev The next actor of a non-terminal candidate state: active and not the disputer
    /// (AccusedInvalid; with type(uint256).max when nextActor fails).
    function _accused(Channel memory ch, uint256 disputer, bytes calldata state) private view returns (uint256 accused) {
        bool ok;
        (ok, accused) = _tryNextActor(ch.machine, state);
        if (!ok) revert AccusedInvalid(type(uint256).max);
        if (accused == disputer || accused >= 64 || !Bitmap.has(ch.active, accused)) revert AccusedInvalid(accused);
    }

    /// @inheritdoc IDisputeManager
    function exit(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        SignedTransaction[] calldata proof,
        bool leave,
        bytes calldata state
    ) external {
        (Channel memory ch, bytes32 h) = _load(channel);
        _openOrDisputed(channelId, ch, h, participants, index, dispute);
        // A timeout can be answered with a move and raised again at once (in one transaction, even),
        // for ever: leaving must not wait on that, so an exit or force-close replaces an open
        // timeout. Anything else open is resolved first (each resolution removes someone or settles).
        if (ch.phase == Phase.Disputed) {
            if (dispute.kind != DisputeKind.Timeout) revert DisputeAlreadyOpen(channelId);
            // An expired timeout is resolved, not replaced: its accused must not dodge removal.
            if (block.timestamp > dispute.deadline) revert DisputeExpired(block.timestamp, dispute.deadline);
        }
        DisputeRecord memory record;
        _candidate(record, channelId, ch, participants, proof, false);
        _requireStateHash(state, record.stateHash);
        record.kind = leave ? DisputeKind.Exit : DisputeKind.ForceClose;
        record.disputer = uint16(index);
        record.removals = Bitmap.bit(index);
        // An answer window (others bring later states, final or extended by valid moves), then a
        // full challenge window for the last extension.
        record.deadline = uint64(block.timestamp) + 2 * uint64(ch.challengeTime);
        _requireResolvable(ch, record.kind, record.removals, state);
        _raise(channelId, ch, record, state, proof);
    }

    /// @inheritdoc IDisputeManager
    function answer(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        SignedTransaction[] calldata proof,
        bytes calldata state
    ) external {
        (Channel memory ch, bytes32 h) = _load(channel);
        _challengeable(channelId, ch, h, participants, index, dispute);
        DisputeRecord memory next = dispute;
        _candidate(next, channelId, ch, participants, proof, false);
        if (next.seq <= dispute.seq) revert CandidateNotLater(next.seq, dispute.seq);
        _requireStateHash(state, next.stateHash);
        // A later final state carries the disputer's signature on a transaction after the one
        // it claimed to be its latest: the disputer lied.
        if (dispute.kind == DisputeKind.Timeout || dispute.kind == DisputeKind.Conclude) {
            _convictDisputer(channelId, ch, index, next);
        }
        _requireResolvable(ch, next.kind, next.removals, state);
        _answered(channelId, ch, next, state, proof);
    }

    /// @inheritdoc IDisputeManager
    function extend(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        SignedTransaction[] calldata txs,
        bytes calldata state
    ) external {
        (Channel memory ch, bytes32 h) = _load(channel);
        _challengeable(channelId, ch, h, participants, index, dispute);
        if (dispute.kind != DisputeKind.Exit && dispute.kind != DisputeKind.ForceClose) revert DisputeKindInvalid(dispute.kind);
        // The last extension must stay open to fraud proofs for a full challenge time.
        uint256 until = dispute.deadline - ch.challengeTime;
        if (block.timestamp > until) revert AnswerWindowClosed(block.timestamp, until);
        if (state.length > MAX_STATE_BYTES) revert StateTooLarge(state.length, MAX_STATE_BYTES);
        DisputeRecord memory next = dispute;
        _candidate(next, channelId, ch, participants, txs, true);
        if (next.seq <= dispute.seq) revert CandidateNotLater(next.seq, dispute.seq);
        _requireStateHash(state, next.stateHash);
        _requireResolvable(ch, next.kind, next.removals, state);
        _answered(channelId, ch, next, state, txs);
    }

    /// @inheritdoc IDisputeManager
    function refute(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        Transaction calldata transaction,
        bytes calldata signature,
        SignedTransaction[] calldata checkpoint,
        bytes calldata state
    ) external {
        (Channel memory ch, bytes32 h) = _load(channel);
        _challengeable(channelId, ch, h, participants, index, dispute);
        if (dispute.kind != DisputeKind.Timeout && dispute.kind != DisputeKind.Conclude) {
            revert DisputeKindInvalid(dispute.kind);
        }
        if (transaction.seq <= dispute.seq) revert CandidateNotLater(transaction.seq, dispute.seq);
        bytes32 digest = _checkTransaction(channelId, ch, transaction, ch.genesisTimestamp);
        _verifyOne(digest, participants, ch, dispute.disputer, signature);
        // The candidate the liar named may itself be invalid: continue from the challenger's
        // latest final state instead.
        DisputeRecord memory next = dispute;
        _candidate(next, channelId, ch, participants, checkpoint, false);
        _requireStateHash(state, next.stateHash);
        _convictDisputer(channelId, ch, index, next);
        _requireResolvable(ch, next.kind, next.removals, state);
        _answered(channelId, ch, next, state, checkpoint);
    }
}
