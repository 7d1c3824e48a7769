// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeManager} from "../interfaces/IDisputeManager.sol";
import {Channel, DisputeKind, DisputeRecord, Phase, SignedTransaction, Transaction} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {ADisputeBase} from "./ADisputeBase.sol";

/// @title ADisputes
/// @notice Calldata posts, timeout and conclude disputes with their challenges, exit and
/// force-close with answers and extensions.
abstract contract ADisputes is ADisputeBase {
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
        _emitPosted(channelId, digest, transaction, signature);
        emit DisputeCancelled(channelId, ch.fork, seq);
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

    /// @dev A move by an active author on the current fork (data and timestamp within bounds,
    /// not stamped before `earliest`), signed by its author. Returns its digest.
    function _checkMove(
        bytes32 channelId,
        Channel memory ch,
        address[] calldata participants,
        Transaction calldata transaction,
        bytes calldata signature,
        uint256 earliest
    ) private view returns (bytes32 digest) {
        uint16 actor = transaction.actor;
        if (!Bitmap.has(ch.active, actor)) revert TransactionActorInvalid(actor);
        digest = _checkTransaction(channelId, ch, transaction, earliest);
        _verifyOne(digest, participants, ch, actor, signature);
    }

    /// @dev emit TransactionPosted(channelId, digest, t, signature), its data encoded from the
    /// calldata words instead of Solidity's field-by-field re-encoding (≈ 400 gas less on every
    /// post and response). The bytes are exactly `abi.encode(digest, t, signature)`: the head
    /// words of `t` copied (the four integers must be clean — a dirty one reverts, as Solidity's
    /// decoder would), the data's offset written canonically (0x100) whatever the caller's
    /// encoding put there, the data's and the signature's bytes copied from where the decoder
    /// found them, and their padding zeroed. Scratch use above the free memory pointer.
    function _emitPosted(bytes32 channelId, bytes32 digest, Transaction calldata t, bytes calldata signature) private {
        bytes calldata data = t.data;
        bytes32 topic = TransactionPosted.selector;
        bool dirty;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, digest)
            mstore(add(m, 0x20), 0x60)
            let h := add(m, 0x60)
            // channelId, fork, seq, timestamp, actor, previousStateHash, (data offset), stateHash
            calldatacopy(h, t, 0x100)
            dirty := or(
                or(shr(64, mload(add(h, 0x20))), shr(64, mload(add(h, 0x40)))),
                or(shr(64, mload(add(h, 0x60))), shr(16, mload(add(h, 0x80))))
            )
            mstore(add(h, 0xc0), 0x100)
            let len := data.length
            mstore(add(h, 0x100), len)
            calldatacopy(add(h, 0x120), data.offset, len)
            mstore(add(add(h, 0x120), len), 0)
            // The signature follows the transaction's padded encoding.
            let sig := add(add(h, 0x120), and(add(len, 31), not(31)))
            mstore(add(m, 0x40), sub(sig, m))
            let slen := signature.length
            mstore(sig, slen)
            calldatacopy(add(sig, 0x20), signature.offset, slen)
            mstore(add(add(sig, 0x20), slen), 0)
            let end := add(add(sig, 0x20), and(add(slen, 31), not(31)))
            if iszero(dirty) { log2(m, sub(end, m), topic, channelId) }
        }
        if (dirty) revert();
    }
}
