// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IStateMachine} from "../interfaces/IStateMachine.sol";
import {IDisputeManager} from "../interfaces/IDisputeManager.sol";
import {Channel, DisputeKind, DisputeRecord, Phase, SignedTransaction, Transaction} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {ADisputeBase} from "./ADisputeBase.sol";

/// @title ADisputes
/// @notice Calldata posts, timeout disputes with their three challenges, exit and force-close
/// with answers.
abstract contract ADisputes is ADisputeBase {
    /// @inheritdoc IDisputeManager
    function postTransaction(
        bytes32 channelId,
        address[] calldata participants,
        Transaction calldata transaction,
        bytes calldata signature
    ) external {
        // Open channels only: while a dispute is open nobody signs on the fork, and the one move
        // that matters then (the accused's) is published by respond.
        Channel storage ch = _openChannel(channelId, participants);
        bytes32 digest = _checkMove(channelId, ch, participants, transaction, signature);
        emit TransactionPosted(channelId, digest, transaction, signature);
    }

    /// @inheritdoc IDisputeManager
    function disputeTimeout(
        bytes32 channelId,
        address[] calldata participants,
        uint256 index,
        SignedTransaction[] calldata txs,
        bytes calldata state
    ) external {
        Channel storage ch = _openForDispute(channelId, participants, index);
        if (state.length > MAX_STATE_BYTES) revert StateTooLarge(state.length, MAX_STATE_BYTES);
        DisputeRecord memory record;
        record.kind = DisputeKind.Timeout;
        record.disputer = uint16(index);
        uint64 timestamp;
        uint64 lastSigners;
        (record.seq, timestamp, record.stateHash, lastSigners) = _candidate(channelId, ch, participants, txs, false);
        // The last transaction must be the latest the disputer signed (refute punishes a lie).
        if (txs.length != 0 && !Bitmap.has(lastSigners, index)) revert DisputerNotSigned(index);
        _requireStateHash(state, record.stateHash);
        uint64 latest = ch.latestSeq;
        if (record.seq < latest) revert DisputeStale(record.seq, latest);
        record.removals = Bitmap.bit(_accused(ch, index, state, record.stateHash));
        // The accused had until T + p2pTime + agreementTime + chainFallbackTime to move.
        uint256 earliest = uint256(timestamp) + ch.postingWindow;
        if (block.timestamp <= earliest) revert DisputeTooEarly(block.timestamp, earliest + 1);
        record.deadline = uint64(block.timestamp) + ch.challengeTime;
        _raise(channelId, ch, ch.participantsHash, record, state);
    }

    /// @dev The next actor of a non-terminal candidate state: active and not the disputer.
    function _accused(Channel storage ch, uint256 disputer, bytes calldata state, bytes32 stateHash)
        private
        view
        returns (uint16 accused)
    {
        address machine = ch.machine;
        accused = abi.decode(_callMachine(machine, abi.encodeCall(IStateMachine.nextActor, (state))), (uint16));
        if (accused == disputer || !Bitmap.has(ch.active, accused)) revert AccusedInvalid(accused);
        if (abi.decode(_callMachine(machine, abi.encodeCall(IStateMachine.isTerminal, (state))), (bool))) {
            revert StateTerminal(stateHash);
        }
    }

    /// @inheritdoc IDisputeManager
    function exit(
        bytes32 channelId,
        address[] calldata participants,
        uint256 index,
        SignedTransaction[] calldata proof,
        bool leave
    ) external {
        Channel storage ch = _openForDispute(channelId, participants, index);
        (uint64 seq,, bytes32 stateHash,) = _candidate(channelId, ch, participants, proof, true);
        _raise(
            channelId,
            ch,
            ch.participantsHash,
            DisputeRecord({
                kind: leave ? DisputeKind.Exit : DisputeKind.ForceClose,
                disputer: uint16(index),
                seq: seq,
                deadline: uint64(block.timestamp) + ch.challengeTime,
                removals: leave ? Bitmap.bit(index) : 0,
                stateHash: stateHash
            }),
            ""
        );
    }

    /// @inheritdoc IDisputeManager
    function respond(
        bytes32 channelId,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        Transaction calldata transaction,
        bytes calldata signature
    ) external {
        (Channel storage ch, bytes32 participantsHash) = _challengeable(channelId, participants, index, dispute);
        if (dispute.kind != DisputeKind.Timeout) revert DisputeKindInvalid(dispute.kind);
        uint64 seq = transaction.seq;
        if (
            Bitmap.bit(transaction.actor) != dispute.removals || seq != dispute.seq + 1
                || transaction.previousStateHash != dispute.stateHash
        ) revert ResponseInvalid();
        bytes32 digest = _checkMove(channelId, ch, participants, transaction, signature);

        ch.phase = Phase.Open;
        ch.participantsHash = participantsHash;
        ch.latestSeq = seq;
        emit TransactionPosted(channelId, digest, transaction, signature);
        emit DisputeCancelled(channelId, ch.fork, seq);
    }

    /// @inheritdoc IDisputeManager
    function answer(
        bytes32 channelId,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        SignedTransaction[] calldata proof
    ) external {
        (Channel storage ch, bytes32 participantsHash) = _challengeable(channelId, participants, index, dispute);
        (uint64 seq,, bytes32 stateHash,) = _candidate(channelId, ch, participants, proof, true);
        if (seq <= dispute.seq) revert CandidateNotLater(seq, dispute.seq);
        DisputeRecord memory next = dispute;
        if (dispute.kind == DisputeKind.Timeout) {
            // A later final state carries the disputer's signature on a transaction after the
            // one it claimed to be its latest: the disputer lied.
            next = _convictDisputer(channelId, ch, index, dispute);
        }
        next.seq = seq;
        next.stateHash = stateHash;
        _storeRecord(ch, participantsHash, next);
        emit DisputeAnswered(channelId, ch.fork, next);
    }

    /// @inheritdoc IDisputeManager
    function refute(
        bytes32 channelId,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute,
        Transaction calldata transaction,
        bytes calldata signature
    ) external {
        (Channel storage ch, bytes32 participantsHash) = _challengeable(channelId, participants, index, dispute);
        if (dispute.kind != DisputeKind.Timeout) revert DisputeKindInvalid(dispute.kind);
        if (transaction.seq <= dispute.seq) revert CandidateNotLater(transaction.seq, dispute.seq);
        _verifyOne(_onFork(channelId, ch, transaction), participants, dispute.disputer, signature);
        DisputeRecord memory next = _convictDisputer(channelId, ch, index, dispute);
        _storeRecord(ch, participantsHash, next);
        emit DisputeAnswered(channelId, ch.fork, next);
    }

    /// @dev The timeout's disputer lied: it is removed and slashed in favour of the challenger,
    /// and the dispute becomes a fraud dispute (same candidate, fresh deadline) that removes it.
    function _convictDisputer(
        bytes32 channelId,
        Channel storage ch,
        uint256 challenger,
        DisputeRecord calldata dispute
    ) private returns (DisputeRecord memory) {
        uint256 disputer = dispute.disputer;
        if (challenger == disputer) revert CallerIsDisputer(challenger);
        uint64 culprit = Bitmap.bit(disputer);
        _slash(channelId, ch, culprit, challenger);
        return _fraudRecord(challenger, dispute.seq, culprit, dispute.stateHash, ch);
    }

    /// @dev A move by an active author on the current fork, data within bounds, signed by its
    /// author. Returns its digest.
    function _checkMove(
        bytes32 channelId,
        Channel storage ch,
        address[] calldata participants,
        Transaction calldata transaction,
        bytes calldata signature
    ) private view returns (bytes32 digest) {
        uint16 actor = transaction.actor;
        if (!Bitmap.has(ch.active, actor)) revert TransactionActorInvalid(actor);
        uint256 size = transaction.data.length;
        if (size > MAX_DATA_BYTES) revert TransactionDataTooLarge(size, MAX_DATA_BYTES);
        digest = _onFork(channelId, ch, transaction);
        _verifyOne(digest, participants, actor, signature);
    }
}
