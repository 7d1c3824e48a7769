// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IStateMachine} from "../interfaces/IStateMachine.sol";
import {IStateChannelManager} from "../interfaces/IStateChannelManager.sol";
import {Channel, SignedTransaction, Transaction} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {ParleyHash} from "../libraries/ParleyHash.sol";
import {Signatures} from "../libraries/Signatures.sol";
import {AChannels} from "./AChannels.sol";

/// @title AFinality
/// @notice Signature thresholds, finality proofs (virtual voting) and cooperative close.
abstract contract AFinality is AChannels {
    /// @inheritdoc IStateChannelManager
    function conclude(
        bytes32 channelId,
        address[] calldata participants,
        SignedTransaction[] calldata proof,
        bytes calldata state
    ) external nonReentrant {
        Channel storage ch = _openChannel(channelId, participants);
        (bytes32 stateHash,) = _verifyFinality(channelId, ch, participants, proof);
        _requireStateHash(state, stateHash);
        bool terminal =
            abi.decode(_callMachine(ch.machine, abi.encodeCall(IStateMachine.isTerminal, (state))), (bool));
        if (!terminal) revert StateNotTerminal(stateHash);
        _settle(channelId, ch, participants, state, stateHash, ch.active, 0);
    }

    /// @inheritdoc IStateChannelManager
    function close(
        bytes32 channelId,
        address[] calldata participants,
        bytes calldata state,
        uint64 signers,
        bytes calldata signatures
    ) external nonReentrant {
        Channel storage ch = _openChannel(channelId, participants);
        bytes32 stateHash = keccak256(state);
        bytes32 digest = _hashTypedDataV4(ParleyHash.close(channelId, ch.fork, stateHash));
        _verifyThreshold(ch.active, participants, digest, signers, signatures, Bitmap.count(ch.active));
        _settle(channelId, ch, participants, state, stateHash, ch.active, 0);
    }

    /// @inheritdoc IStateChannelManager
    function verifyFinalityProof(
        bytes32 channelId,
        address[] calldata participants,
        SignedTransaction[] calldata proof
    ) external view returns (bytes32 stateHash, uint64 seq) {
        return _verifyFinality(channelId, _openChannel(channelId, participants), participants, proof);
    }

    /// @inheritdoc IStateChannelManager
    function verifySignatures(
        bytes32 channelId,
        address[] calldata participants,
        bytes32 digest,
        uint64 signers,
        bytes calldata signatures,
        uint256 threshold
    ) external view returns (uint64) {
        Channel storage ch = _openChannel(channelId, participants);
        _verifyThreshold(ch.active, participants, digest, signers, signatures, threshold);
        return signers;
    }

    /// @inheritdoc IStateChannelManager
    function hashTransaction(Transaction calldata transaction) external view returns (bytes32) {
        return _hashTypedDataV4(ParleyHash.transaction(transaction));
    }

    /// @inheritdoc IStateChannelManager
    function hashClose(bytes32 channelId, uint64 fork, bytes32 stateHash) external view returns (bytes32) {
        return _hashTypedDataV4(ParleyHash.close(channelId, fork, stateHash));
    }

    /// @dev k-of-N: every signature valid, every signer active, at least `threshold` signers.
    function _verifyThreshold(
        uint64 active,
        address[] calldata participants,
        bytes32 digest,
        uint64 signers,
        bytes calldata signatures,
        uint256 threshold
    ) internal view {
        _requireActiveSigners(signers, active);
        Signatures.verify(digest, participants, signers, signatures);
        uint256 count = Bitmap.count(signers);
        if (count < threshold) revert SignaturesBelowThreshold(count, threshold);
    }

    /// @dev The finality rule (virtual voting): proof[0..m-1] on the current fork, each linked to
    /// the one before (seq + 1 and previousStateHash), each signed by its author, every signer
    /// active; the union of signers equals the active set. Then proof[0] is final: every active
    /// participant signed it or a descendant of it. m is at most the number of active
    /// participants, which bounds the work by N.
    function _verifyFinality(
        bytes32 channelId,
        Channel storage ch,
        address[] calldata participants,
        SignedTransaction[] calldata proof
    ) internal view returns (bytes32 stateHash, uint64 seq) {
        uint64 active = ch.active;
        uint64 fork = ch.fork;
        uint256 m = proof.length;
        uint256 max = Bitmap.count(active);
        if (m == 0 || m > max) revert ProofLengthInvalid(m, max);
        uint64 support;
        for (uint256 i; i < m; ++i) {
            support |= _verifyProofTx(channelId, fork, active, participants, proof, i);
        }
        if (support != active) revert ProofNotFinal(active & ~support);
        return (proof[0].transaction.stateHash, proof[0].transaction.seq);
    }

    function _verifyProofTx(
        bytes32 channelId,
        uint64 fork,
        uint64 active,
        address[] calldata participants,
        SignedTransaction[] calldata proof,
        uint256 i
    ) internal view returns (uint64 signers) {
        SignedTransaction calldata st = proof[i];
        Transaction calldata t = st.transaction;
        if (t.channelId != channelId) revert ProofChannelMismatch(i);
        if (t.fork != fork) revert ProofForkMismatch(i, t.fork, fork);
        if (t.seq == 0) revert ProofNotLinked(i);
        if (i > 0) {
            Transaction calldata prev = proof[i - 1].transaction;
            // Widened so that prev.seq = 2^64 - 1 is "not linked", not an overflow panic.
            if (uint256(t.seq) != uint256(prev.seq) + 1 || t.previousStateHash != prev.stateHash) {
                revert ProofNotLinked(i);
            }
        }
        if (!Bitmap.has(active, t.actor)) revert ProofActorInvalid(i, t.actor);
        signers = st.signers;
        if (!Bitmap.has(signers, t.actor)) revert ProofActorNotSigned(i, t.actor);
        _requireActiveSigners(signers, active);
        Signatures.verify(_hashTypedDataV4(ParleyHash.transaction(t)), participants, signers, st.signatures);
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
