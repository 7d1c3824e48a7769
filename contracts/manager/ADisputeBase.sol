// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeManager} from "../interfaces/IDisputeManager.sol";
import {Channel, DisputeKind, DisputeRecord, Phase, SignedTransaction, Transaction} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {ParleyHash} from "../libraries/ParleyHash.sol";
import {Signatures} from "../libraries/Signatures.sol";
import {AFinality} from "./AFinality.sol";

/// @title ADisputeBase
/// @notice Storage and shared checks of the court: the one-slot dispute record, callers,
/// candidate anchors, single signatures and slashing.
abstract contract ADisputeBase is IDisputeManager, AFinality {
    /// @notice Largest `data` of a posted transaction or a timeout response (bytes).
    uint256 public constant MAX_DATA_BYTES = 4096;
    /// @notice Largest candidate state a timeout may publish (bytes).
    uint256 public constant MAX_STATE_BYTES = 32768;


    /// @inheritdoc IDisputeManager
    function getDispute(bytes32 channelId) external view returns (bytes32 commitment, uint64 latestSeq) {
        Channel storage ch = _channels[channelId];
        return (ch.phase == Phase.Disputed ? ch.participantsHash : bytes32(0), ch.latestSeq);
    }

    // ─── Channel, caller and record ──────────────────────────────────────────────────────────

    /// @dev Loads a channel in phase Open, checks `participants` and the caller.
    function _openForDispute(bytes32 channelId, address[] calldata participants, uint256 index)
        internal
        view
        returns (Channel storage ch)
    {
        ch = _channels[channelId];
        if (ch.phase == Phase.Disputed) revert DisputeAlreadyOpen(channelId);
        ch = _openChannel(channelId, participants);
        _requireCaller(participants, index, ch);
    }

    /// @dev Loads a Disputed channel and checks that `participants` and `record` are the ones
    /// committed to. Returns the plain participants hash (what the slot holds again once the
    /// dispute ends).
    function _disputed(bytes32 channelId, address[] calldata participants, DisputeRecord calldata record)
        internal
        view
        returns (Channel storage ch, bytes32 participantsHash)
    {
        ch = _channels[channelId];
        if (ch.phase != Phase.Disputed) revert DisputeNotOpen(channelId);
        participantsHash = ParleyHash.participants(participants);
        if (keccak256(abi.encode(participantsHash, record)) != ch.participantsHash) {
            revert DisputeRecordMismatch(channelId);
        }
    }

    /// @dev Like _disputed, for challenges and answers: before the deadline, by an active caller.
    function _challengeable(
        bytes32 channelId,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata record
    ) internal view returns (Channel storage ch, bytes32 participantsHash) {
        (ch, participantsHash) = _disputed(channelId, participants, record);
        if (block.timestamp > record.deadline) revert DisputeExpired(block.timestamp, record.deadline);
        _requireCaller(participants, index, ch);
    }

    /// @dev The caller must be `participants[index]`, active and not slashed.
    function _requireCaller(address[] calldata participants, uint256 index, Channel storage ch) internal view {
        if (index >= participants.length || participants[index] != msg.sender) {
            revert CallerNotParticipant(index, msg.sender);
        }
        if (!Bitmap.has(ch.active, index)) revert CallerInactive(index);
        if (Bitmap.has(ch.slashed, index)) revert CallerSlashed(index);
    }

    /// @dev Commits to `record` as the open dispute (the phase is the caller's business).
    function _storeRecord(Channel storage ch, bytes32 participantsHash, DisputeRecord memory record) internal {
        ch.participantsHash = keccak256(abi.encode(participantsHash, record));
    }

    // ─── Candidates ──────────────────────────────────────────────────────────────────────────

    /// @dev The state a transaction list names. Empty: the fork's genesis. Otherwise the list is
    /// checked like a finality proof (channel, fork, links, authors, signatures, at most A
    /// transactions); it must either be final (every active participant signed) or, when
    /// `requireFinal` is false, start at the genesis. The candidate is the last transaction;
    /// the returned `signers` are the last transaction's.
    function _candidate(
        bytes32 channelId,
        Channel storage ch,
        address[] calldata participants,
        SignedTransaction[] calldata txs,
        bool requireFinal
    ) internal view returns (uint64 seq, uint64 timestamp, bytes32 stateHash, uint64 lastSigners) {
        uint256 m = txs.length;
        if (m == 0) return (0, ch.genesisTimestamp, ch.genesisStateHash, 0);
        uint64 support;
        (support, lastSigners) = _verifyLinked(channelId, ch, participants, txs);
        Transaction calldata first = txs[0].transaction;
        uint64 active = ch.active;
        if (support != active) {
            if (requireFinal) revert ProofNotFinal(active & ~support);
            if (first.seq != 1 || first.previousStateHash != ch.genesisStateHash) revert CandidateNotAnchored();
        }
        Transaction calldata c = requireFinal ? first : txs[m - 1].transaction;
        return (c.seq, c.timestamp, c.stateHash, lastSigners);
    }

    /// @dev Checks every transaction as a finality-proof entry; returns the union of signers and
    /// the last transaction's signers.
    function _verifyLinked(
        bytes32 channelId,
        Channel storage ch,
        address[] calldata participants,
        SignedTransaction[] calldata txs
    ) private view returns (uint64 support, uint64 last) {
        uint64 active = ch.active;
        uint64 fork = ch.fork;
        uint256 m = txs.length;
        uint256 max = Bitmap.count(active);
        if (m > max) revert ProofLengthInvalid(m, max);
        for (uint256 i; i < m; ++i) {
            last = _verifyProofTx(channelId, fork, active, participants, txs, i);
            support |= last;
        }
    }

    // ─── Single transactions ─────────────────────────────────────────────────────────────────

    /// @dev Checks that `t` is on this channel's current fork; returns its EIP-712 digest.
    function _onFork(bytes32 channelId, Channel storage ch, Transaction calldata t) internal view returns (bytes32) {
        if (t.channelId != channelId) revert TransactionChannelMismatch(t.channelId);
        uint64 fork = ch.fork;
        if (t.fork != fork) revert TransactionForkMismatch(t.fork, fork);
        return _hashTypedDataV4(ParleyHash.transaction(t));
    }

    /// @dev Verifies participant `signer`'s single 65-byte signature on `digest`.
    function _verifyOne(bytes32 digest, address[] calldata participants, uint256 signer, bytes calldata signature)
        internal
        view
    {
        Signatures.verify(digest, participants, Bitmap.bit(signer), signature);
    }

    // ─── Slashing ────────────────────────────────────────────────────────────────────────────

    /// @dev Slashes `culprits` in favour of participant `beneficiary`: they can no longer act, and
    /// at resolution they are removed and their bonds and outcome shares go to the beneficiary
    /// (the fraud record's prover, see AChannels._payee). They stay in the active set until then,
    /// so answers and checkpoints are judged by the set every final state was final under.
    function _slash(bytes32 channelId, Channel storage ch, uint64 culprits, uint256 beneficiary) internal {
        ch.slashed |= culprits;
        for (uint256 i; culprits >> i != 0; ++i) {
            if (Bitmap.has(culprits, i)) emit ParticipantSlashed(channelId, uint16(i), uint16(beneficiary));
        }
    }

    /// @dev Opens a dispute: phase Disputed, the record committed to, DisputeRaised emitted.
    function _raise(
        bytes32 channelId,
        Channel storage ch,
        bytes32 participantsHash,
        DisputeRecord memory record,
        bytes memory state
    ) internal {
        ch.phase = Phase.Disputed;
        _storeRecord(ch, participantsHash, record);
        emit DisputeRaised(channelId, ch.fork, record, state);
    }

    /// @dev A record for a fraud dispute (also what a refuted timeout becomes).
    function _fraudRecord(uint256 prover, uint64 seq, uint64 removals, bytes32 stateHash, Channel storage ch)
        internal
        view
        returns (DisputeRecord memory)
    {
        return DisputeRecord({
            kind: DisputeKind.Fraud,
            disputer: uint16(prover),
            seq: seq,
            deadline: uint64(block.timestamp) + ch.challengeTime,
            removals: removals,
            stateHash: stateHash
        });
    }
}
