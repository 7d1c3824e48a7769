// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IDisputeEvents} from "../interfaces/IDisputeManager.sol";
import {Channel, DisputeKind, DisputeRecord, Phase, SignedTransaction, Transaction} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {ParleyHash} from "../libraries/ParleyHash.sol";
import {Signatures} from "../libraries/Signatures.sol";
import {AProofs} from "./AProofs.sol";

/// @title ADisputeBase
/// @notice Storage and shared checks of the court: the one-slot dispute record, callers,
/// candidates, single transactions, resolvability and slashing.
abstract contract ADisputeBase is IDisputeEvents, AProofs {
    // ─── Channel, caller and record ──────────────────────────────────────────────────────────

    // Every check below takes the re-supplied record already in memory, `ch` with its hash `h`
    // (ACore._load: one copy of the calldata words), and returns nothing: a helper returning a
    // `Channel memory` makes Solidity allocate and zero a fresh 17-word struct for its return
    // value (about 350 gas) before the assignment that replaces it.

    /// @dev A channel in phase Open whose word commits to `h`, `participants` its member list,
    /// and an active caller; DisputeAlreadyOpen when a dispute is open.
    function _openForDispute(
        bytes32 channelId,
        Channel memory ch,
        bytes32 h,
        address[] calldata participants,
        uint256 index
    ) internal view {
        uint256 word = _channels[channelId];
        if (_phase(word) == Phase.Disputed) revert DisputeAlreadyOpen(channelId);
        _requireOpen(channelId, word, h);
        _checkMembers(channelId, ch, participants);
        _requireCaller(participants, index, ch);
    }

    /// @dev ACore._openChannel's checks of the channel's `word` (ChannelNotOpen in another phase,
    /// ChannelRecordMismatch unless it commits to the record of hash `h`); the member list is the
    /// caller's to check.
    function _requireOpen(bytes32 channelId, uint256 word, bytes32 h) internal pure {
        Phase phase = _phase(word);
        if (phase != Phase.Open) revert ChannelNotOpen(channelId, phase);
        if (_word(h, Phase.Open) != word) revert ChannelRecordMismatch(channelId);
    }

    /// @dev A channel in phase Open (its record `ch` of hash `h`, checked with `participants`), as
    /// ACore._openChannel checks it.
    function _open(bytes32 channelId, Channel memory ch, bytes32 h, address[] calldata participants) internal view {
        _requireOpen(channelId, _channels[channelId], h);
        _checkMembers(channelId, ch, participants);
    }

    /// @dev A Disputed channel: the record `ch` (hash `h`) and `dispute` must be the ones the
    /// channel's word commits to (DisputeRecordMismatch otherwise), and `participants` the
    /// record's member list.
    function _disputed(
        bytes32 channelId,
        Channel memory ch,
        bytes32 h,
        address[] calldata participants,
        DisputeRecord calldata dispute
    ) internal view {
        uint256 word = _channels[channelId];
        if (_phase(word) != Phase.Disputed) revert DisputeNotOpen(channelId);
        _requireRecord(channelId, word, h, dispute);
        _checkMembers(channelId, ch, participants);
    }

    /// @dev Words of `abi.encode(DisputeRecord)`: every field is static, so a record lies in
    /// calldata as exactly these words.
    uint256 private constant RECORD_WORDS = 7;

    /// @dev The Disputed channel's `word` must commit to the record of hash `h` and `dispute`:
    /// keccak256(abi.encode(h, dispute)) as _storeRecord wrote it, hashed over the calldata words
    /// as they are (as ACore._load hashes the channel's record) instead of re-encoding them field
    /// by field. _storeRecord encoded a clean record, so a `dispute` hashing to it is that
    /// record's exact encoding; a word with dirty bits (or a kind out of range) hashes to
    /// something no word commits to.
    function _requireRecord(bytes32 channelId, uint256 word, bytes32 h, DisputeRecord calldata dispute) private pure {
        bytes32 committed;
        // The decoder checked that the record's words lie in calldata. Scratch use above the free
        // memory pointer, which stays unmoved.
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, h)
            calldatacopy(add(m, 0x20), dispute, mul(RECORD_WORDS, 32))
            committed := keccak256(m, mul(add(RECORD_WORDS, 1), 32))
        }
        if (_word(committed, Phase.Disputed) != word) revert DisputeRecordMismatch(channelId);
    }

    /// @dev A channel open, or disputed with `dispute` its record (for calls that may replace or
    /// join an open dispute: fraud proofs, and exits over a timeout), and an active caller.
    function _openOrDisputed(
        bytes32 channelId,
        Channel memory ch,
        bytes32 h,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata dispute
    ) internal view {
        uint256 word = _channels[channelId];
        if (_phase(word) == Phase.Disputed) {
            _requireRecord(channelId, word, h, dispute);
        } else {
            _requireOpen(channelId, word, h);
        }
        _checkMembers(channelId, ch, participants);
        _requireCaller(participants, index, ch);
    }

    /// @dev Like _disputed, for challenges and answers: before the deadline, by an active caller.
    function _challengeable(
        bytes32 channelId,
        Channel memory ch,
        bytes32 h,
        address[] calldata participants,
        uint256 index,
        DisputeRecord calldata record
    ) internal view {
        _disputed(channelId, ch, h, participants, record);
        if (block.timestamp > record.deadline) revert DisputeExpired(block.timestamp, record.deadline);
        _requireCaller(participants, index, ch);
    }

    /// @dev The caller must be `participants[index]`, active and not slashed. An index at or above
    /// n (a session key's place in the member list) is never active: a session key cannot call.
    function _requireCaller(address[] calldata participants, uint256 index, Channel memory ch) internal view {
        if (index >= participants.length || participants[index] != msg.sender) {
            revert CallerNotParticipant(index, msg.sender);
        }
        if (!Bitmap.has(ch.active, index)) revert CallerInactive(index);
        if (Bitmap.has(ch.slashed, index)) revert CallerSlashed(index);
    }

    /// @dev Commits to `ch` in phase Disputed with `record` as the open dispute.
    function _storeRecord(bytes32 channelId, Channel memory ch, DisputeRecord memory record) internal {
        ch.phase = Phase.Disputed;
        _channels[channelId] = _word(keccak256(abi.encode(_hash(ch), record)), Phase.Disputed);
    }

    // ─── Candidates ──────────────────────────────────────────────────────────────────────────

    /// @dev The state a transaction list names, written into `record` (seq, timestamp, hash).
    /// Empty: the fork's genesis. Otherwise the list is checked entry by entry (_verifyList) and
    /// must be a finality proof of its first entry — or, when `anchored`, may instead start at
    /// the genesis (seq 1, linked to the genesis hash). The candidate is the first entry of a
    /// finality proof, and the last entry of an anchored list. Returns the last entry's signers.
    function _candidate(
        DisputeRecord memory record,
        bytes32 channelId,
        Channel memory ch,
        address[] calldata participants,
        SignedTransaction[] calldata txs,
        bool anchored
    ) internal view returns (uint64 lastSigners) {
        uint256 m = txs.length;
        if (m == 0) {
            (record.seq, record.timestamp, record.stateHash) = (0, ch.genesisTimestamp, ch.genesisStateHash);
            return 0;
        }
        uint64 support;
        (support, lastSigners) = _verifyList(channelId, ch, participants, txs);
        Transaction calldata first = txs[0].transaction;
        uint64 active = ch.active;
        if (support != active) {
            if (!anchored) revert ProofNotFinal(active & ~support);
            if (first.seq != 1 || first.previousStateHash != ch.genesisStateHash) revert CandidateNotAnchored();
        }
        Transaction calldata c = anchored ? txs[m - 1].transaction : first;
        (record.seq, record.timestamp, record.stateHash) = (c.seq, c.timestamp, c.stateHash);
    }

    /// @dev Reverts unless a dispute with `removals` on candidate `state` can be resolved:
    /// onRemove succeeds for every removal and the outcome of the result is settleable (n
    /// entries, the active ones within the locked deposits). Checked whenever a candidate or the
    /// removals change, so no dispute can reach a `resolve` that reverts forever.
    function _requireResolvable(Channel memory ch, DisputeKind kind, uint64 removals, bytes calldata state) internal view {
        address machine = ch.machine;
        bytes memory genesis = _afterRemovals(machine, state, removals);
        // The same machine calls resolve makes, so a dispute whose resolution cannot fit in a
        // block cannot be raised either (a costly machine limits how many one dispute removes).
        if (kind != DisputeKind.ForceClose && kind != DisputeKind.Conclude) _mustSettle(machine, ch.active & ~removals, genesis);
        _outcome(ch, genesis, ch.active);
    }

    /// @dev Whether the channel settles instead of continuing on a new fork: fewer than two
    /// participants left, a terminal genesis, or a next actor that is not active (a machine
    /// failure on isTerminal or nextActor also settles, so no machine can keep a channel stuck).
    function _mustSettle(address machine, uint64 active, bytes memory genesis) internal view returns (bool) {
        if (Bitmap.count(active) < 2) return true;
        (bool ok, bool terminal) = _tryIsTerminal(machine, genesis);
        if (!ok || terminal) return true;
        uint256 next;
        (ok, next) = _tryNextActor(machine, genesis);
        return !ok || next >= 64 || !Bitmap.has(active, next);
    }



    // ─── Single transactions ─────────────────────────────────────────────────────────────────

    /// @dev Checks that `t` is on this channel's current fork, its data within MAX_DATA_BYTES and
    /// its timestamp in [earliest, block time + skew]; returns its EIP-712 digest.
    function _checkTransaction(bytes32 channelId, Channel memory ch, Transaction calldata t, uint256 earliest)
        internal
        view
        returns (bytes32)
    {
        if (t.channelId != channelId) revert TransactionChannelMismatch(t.channelId);
        uint64 fork = ch.fork;
        if (t.fork != fork) revert TransactionForkMismatch(t.fork, fork);
        _checkStamp(ch, t.data.length, t.timestamp, earliest);
        return _hashTypedDataV4(ParleyHash.transactionAt(t));
    }

    /// @dev A move's data of `size` bytes within MAX_DATA_BYTES and its `timestamp` in
    /// [earliest, block time + skew].
    function _checkStamp(Channel memory ch, uint256 size, uint64 timestamp, uint256 earliest) internal view {
        if (size > MAX_DATA_BYTES) revert TransactionDataTooLarge(size, MAX_DATA_BYTES);
        // _latestTimestamp, written out: a second call site in the manager (through AMoves) made
        // the optimizer stop inlining it into _verifyList (+19 gas on every finality proof).
        uint256 skew = ch.agreementTime / 2;
        uint256 latest = block.timestamp + (skew == 0 ? 1 : skew);
        if (timestamp < earliest || timestamp > latest) revert TransactionTimestampInvalid(timestamp, earliest, latest);
    }

    /// @dev Verifies participant `signer`'s single 65-byte signature on `digest`, made by its
    /// in-channel signer (session key, or its own account without one).
    function _verifyOne(
        bytes32 digest,
        address[] calldata participants,
        Channel memory ch,
        uint256 signer,
        bytes calldata signature
    ) internal view {
        Signatures.verifyOne(digest, _signersOf(participants, ch), signer, signature);
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
    ) internal view returns (bytes32 digest) {
        uint16 actor = transaction.actor;
        if (!Bitmap.has(ch.active, actor)) revert TransactionActorInvalid(actor);
        digest = _checkTransaction(channelId, ch, transaction, earliest);
        _verifyOne(digest, participants, ch, actor, signature);
    }

    /// @dev emit TransactionPosted(channelId, digest, t, signature), its data encoded from the
    /// calldata words instead of Solidity's field-by-field re-encoding (≈ 400 gas less on every
    /// post). (A response builds its DisputeCancelled itself: ARespond._responseLog.) The bytes are exactly `abi.encode(digest, t, signature)`: the head
    /// words of `t` copied (the four integers must be clean — a dirty one reverts, as Solidity's
    /// decoder would), the data's offset written canonically (0x100) whatever the caller's
    /// encoding put there, the data's and the signature's bytes copied from where the decoder
    /// found them, and their padding zeroed. Scratch use above the free memory pointer.
    /// (postTransaction is the only caller since 2659480, and _checkMove's. Merging this wrapper
    /// into _emitMove, or moving both into ADisputes, measured +13 … +22 gas on every court call
    /// and 765 bytes more court code, from the optimizer's layout: kept as it is.)
    function _emitPosted(bytes32 channelId, bytes32 digest, Transaction calldata t, bytes calldata signature) internal {
        _emitMove(TransactionPosted.selector, channelId, digest, t, signature);
    }

    /// @dev _emitPosted with the event's selector as `topic`.
    /// (Its caller's ParleyHash.transactionAt has already refused dirty integer words: the check
    /// here is the same, kept because removing it measured +13 … +22 gas on every other court
    /// call, from the optimizer's layout of the court's code, against −30 on posts.)
    function _emitMove(bytes32 topic, bytes32 channelId, bytes32 digest, Transaction calldata t, bytes calldata signature)
        internal
    {
        bytes calldata data = t.data;
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

    // ─── Slashing ────────────────────────────────────────────────────────────────────────────

    /// @dev Slashes `culprits` in favour of participant `beneficiary`: they can no longer act, and
    /// at resolution they are removed and their bonds and outcome shares go to the beneficiary
    /// (the fraud record's prover, see AChannels._payee). They stay in the active set until then,
    /// so answers and checkpoints are judged by the set every final state was final under.
    function _slash(bytes32 channelId, Channel memory ch, uint64 culprits, uint256 beneficiary) internal {
        ch.slashed |= culprits;
        for (uint256 i; culprits >> i != 0; ++i) {
            if (Bitmap.has(culprits, i)) emit ParticipantSlashed(channelId, uint16(i), uint16(beneficiary));
        }
    }

    /// @dev Opens a dispute: phase Disputed, the record committed to, DisputeRaised emitted with
    /// the candidate's bytes and the signed transactions the call carried.
    function _raise(
        bytes32 channelId,
        Channel memory ch,
        DisputeRecord memory record,
        bytes calldata state,
        SignedTransaction[] calldata txs
    ) internal {
        _storeRecord(channelId, ch, record);
        emit DisputeRaised(channelId, ch.fork, record, state, txs);
    }

    /// @dev Records the answer `next` of the open dispute and emits DisputeAnswered.
    function _answered(
        bytes32 channelId,
        Channel memory ch,
        DisputeRecord memory next,
        bytes calldata state,
        SignedTransaction[] calldata txs
    ) internal {
        _storeRecord(channelId, ch, next);
        emit DisputeAnswered(channelId, ch.fork, next, state, txs);
    }

    /// @dev The timeout or conclude dispute's disputer lied (it signed a transaction after the
    /// candidate it claimed as its latest): it is slashed in favour of the challenger, and the
    /// dispute becomes a fraud dispute with a fresh deadline that removes it. The candidate is
    /// the caller's business (a final state: the timeout's own candidate may be invalid).
    function _convictDisputer(bytes32 channelId, Channel memory ch, uint256 challenger, DisputeRecord memory next)
        internal
    {
        uint256 disputer = next.disputer;
        if (challenger == disputer) revert CallerIsDisputer(challenger);
        uint64 culprit = Bitmap.bit(disputer);
        _slash(channelId, ch, culprit, challenger);
        next.kind = DisputeKind.Fraud;
        next.disputer = uint16(challenger);
        next.removals = culprit;
        next.deadline = uint64(block.timestamp) + ch.challengeTime;
    }
}
