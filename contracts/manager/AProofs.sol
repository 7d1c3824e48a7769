// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Channel, SignedTransaction, Transaction} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {ParleyHash} from "../libraries/ParleyHash.sol";
import {Signatures} from "../libraries/Signatures.sol";
import {ACore} from "./ACore.sol";

/// @title AProofs
/// @notice The rules every signed transaction and every list of them meets wherever it enters
/// the manager or its court: signature thresholds, list checks (links, sizes, timestamps,
/// authors, signers) and the finality rule with virtual voting.
abstract contract AProofs is ACore {
    /// @notice Largest `data` of any transaction the manager accepts (bytes).
    uint256 internal constant MAX_DATA_BYTES = 4096;

    /// @dev k-of-N: every signature valid, every signer active, at least `threshold` signers.
    /// `keys` is whoever signs this digest: the wallets for close consents, the session signers
    /// (_signersOf) for anything signed in the channel.
    function _verifyThreshold(
        uint64 active,
        address[] calldata keys,
        bytes32 digest,
        uint64 signers,
        bytes calldata signatures,
        uint256 threshold
    ) internal view {
        _requireActiveSigners(signers, active);
        Signatures.verify(digest, keys, signers, signatures);
        uint256 count = Bitmap.count(signers);
        if (count < threshold) revert SignaturesBelowThreshold(count, threshold);
    }

    /// @dev The finality rule (virtual voting): a non-empty list (see _verifyList) whose signers
    /// together are the active set. Then proof[0] is final: every active participant signed it
    /// or a descendant of it. m is at most the number of active participants, which bounds the
    /// work by N.
    function _verifyFinality(
        bytes32 channelId,
        Channel memory ch,
        address[] calldata participants,
        SignedTransaction[] calldata proof
    ) internal view returns (bytes32 stateHash, uint64 seq) {
        if (proof.length == 0) revert ProofLengthInvalid(0, Bitmap.count(ch.active));
        (uint64 support,) = _verifyList(channelId, ch, participants, proof);
        uint64 active = ch.active;
        if (support != active) revert ProofNotFinal(active & ~support);
        return (proof[0].transaction.stateHash, proof[0].transaction.seq);
    }

    /// @dev Checks a list of signed transactions the way every list enters the manager (finality
    /// proofs, timeout candidates, answers, checkpoints): at most |A| entries, each on this
    /// channel's current fork, linked to the one before, with data within MAX_DATA_BYTES, a
    /// timestamp not before its parent's (the fork genesis for the first entry) nor later than
    /// the block's time plus the channel's skew, an active author who signed it, only active
    /// signers, valid signatures. Returns the union of the signers and the last entry's signers.
    function _verifyList(
        bytes32 channelId,
        Channel memory ch,
        address[] calldata participants,
        SignedTransaction[] calldata list
    ) internal view returns (uint64 support, uint64 last) {
        uint64 active = ch.active;
        uint256 m = list.length;
        uint256 max = Bitmap.count(active);
        if (m > max) revert ProofLengthInvalid(m, max);
        ListContext memory c = ListContext(channelId, ch.fork, active, ch.genesisTimestamp, _latestTimestamp(ch));
        address[] calldata signerList = _signersOf(participants, ch);
        for (uint256 i; i < m; ++i) {
            last = _verifyEntry(c, signerList, list, i);
            support |= last;
        }
    }

    /// @dev What every entry of a list is checked against.
    struct ListContext {
        bytes32 channelId;
        uint64 fork;
        uint64 active;
        uint256 earliest;
        uint256 latest;
    }

    function _verifyEntry(
        ListContext memory c,
        address[] calldata signerList,
        SignedTransaction[] calldata list,
        uint256 i
    ) private view returns (uint64 signers) {
        SignedTransaction calldata st = list[i];
        Transaction calldata t = st.transaction;
        if (t.channelId != c.channelId) revert ProofChannelMismatch(i);
        if (t.fork != c.fork) revert ProofForkMismatch(i, t.fork, c.fork);
        if (t.seq == 0) revert ProofNotLinked(i);
        uint256 earliest = c.earliest;
        if (i > 0) {
            Transaction calldata prev = list[i - 1].transaction;
            // Widened so that prev.seq = 2^64 - 1 is "not linked", not an overflow panic.
            if (uint256(t.seq) != uint256(prev.seq) + 1 || t.previousStateHash != prev.stateHash) {
                revert ProofNotLinked(i);
            }
            earliest = prev.timestamp;
        }
        uint256 size = t.data.length;
        if (size > MAX_DATA_BYTES) revert ProofDataTooLarge(i, size, MAX_DATA_BYTES);
        if (t.timestamp < earliest || t.timestamp > c.latest) revert ProofTimestampInvalid(i, t.timestamp, earliest, c.latest);
        if (!Bitmap.has(c.active, t.actor)) revert ProofActorInvalid(i, t.actor);
        signers = st.signers;
        if (!Bitmap.has(signers, t.actor)) revert ProofActorNotSigned(i, t.actor);
        _requireActiveSigners(signers, c.active);
        Signatures.verify(_hashTypedDataV4(ParleyHash.transaction(t)), signerList, signers, st.signatures);
    }

    /// @dev The latest timestamp a transaction may carry in this block: the block's time plus
    /// the channel's skew, max(1, agreementTime / 2) — the tolerance clients apply to their own
    /// clocks by default, so no transaction an honest client signed is refused for its time.
    /// (ADisputeBase._checkTransaction writes the same two lines out.)
    function _latestTimestamp(Channel memory ch) internal view returns (uint256) {
        uint256 skew = ch.agreementTime / 2;
        return block.timestamp + (skew == 0 ? 1 : skew);
    }

    function _requireActiveSigners(uint64 signers, uint64 active) internal pure {
        uint64 inactive = signers & ~active;
        if (inactive != 0) revert SignerInactive(_lowestBit(inactive));
    }

    function _requireStateHash(bytes calldata state, bytes32 expected) internal pure {
        bytes32 actual = keccak256(state);
        if (actual != expected) revert StateHashMismatch(expected, actual);
    }

    function _lowestBit(uint64 x) private pure returns (uint256 i) {
        while (x & 1 == 0) {
            x >>= 1;
            ++i;
        }
    }
}
