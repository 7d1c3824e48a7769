// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

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
        Channel calldata channel,
        address[] calldata participants,
        SignedTransaction[] calldata proof,
        bytes calldata state
    ) external nonReentrant {
        _conclude(channelId, channel, participants, proof, state, Payment.Credit);
    }

    /// @inheritdoc IStateChannelManager
    function concludeToClaims(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        SignedTransaction[] calldata proof,
        bytes calldata state
    ) external nonReentrant {
        _conclude(channelId, channel, participants, proof, state, Payment.Claims);
    }

    /// @inheritdoc IStateChannelManager
    function close(
        bytes32 channelId,
        Channel calldata channel,
        bytes32 stateHash,
        uint256[] calldata payouts,
        address[] calldata others,
        bytes calldata signatures
    ) external nonReentrant {
        _close(channelId, channel, stateHash, payouts, others, signatures, Payment.Credit);
    }

    /// @inheritdoc IStateChannelManager
    function closeAndPay(
        bytes32 channelId,
        Channel calldata channel,
        bytes32 stateHash,
        uint256[] calldata payouts,
        address[] calldata others,
        bytes calldata signatures
    ) external nonReentrant {
        _close(channelId, channel, stateHash, payouts, others, signatures, Payment.Push);
    }

    /// @inheritdoc IStateChannelManager
    function closeToClaims(
        bytes32 channelId,
        Channel calldata channel,
        bytes32 stateHash,
        uint256[] calldata payouts,
        address[] calldata others,
        bytes calldata signatures
    ) external nonReentrant {
        _close(channelId, channel, stateHash, payouts, others, signatures, Payment.Claims);
    }

    /// @inheritdoc IStateChannelManager
    function claim(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        uint256[] calldata payouts,
        uint64 claimed,
        uint64 which
    ) external nonReentrant {
        (uint64 nowClaimed, uint64 sent) = _claim(channelId, channel, participants, payouts, claimed, which);
        emit PayoutsClaimed(channelId, nowClaimed, sent);
    }

    /// @dev conclude and concludeToClaims: `proof` proves final a transaction whose resulting
    /// `state` is terminal; settles with every active participant unpaid.
    function _conclude(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        SignedTransaction[] calldata proof,
        bytes calldata state,
        Payment payment
    ) private {
        Channel memory ch = _openChannel(channelId, channel, participants);
        (bytes32 stateHash,) = _verifyFinality(channelId, ch, participants, proof);
        _requireStateHash(state, stateHash);
        // One copy of the state in memory for both machine calls.
        bytes memory copy = state;
        if (!_isTerminal(ch.machine, copy)) revert StateNotTerminal(stateHash);
        _settleBy(channelId, ch, participants, copy, stateHash, ch.active, 0, payment);
    }

    /// @dev close, closeAndPay and closeToClaims: every active participant signed
    /// CloseChannel(channelId, fork, stateHash, payouts) with its own account (not its session
    /// key); the member list is the recovered accounts with `others` (Signatures.recoverMembers),
    /// checked against the record. Settles on the signed payouts, with every active participant
    /// unpaid; no machine call.
    function _close(
        bytes32 channelId,
        Channel calldata channel,
        bytes32 stateHash,
        uint256[] calldata payouts,
        address[] calldata others,
        bytes calldata signatures,
        Payment payment
    ) private {
        Channel memory ch = _openRecord(channelId, channel);
        bytes32 digest = _hashTypedDataV4(ParleyHash.close(channelId, ch.fork, stateHash, payouts));
        address[] memory members = Signatures.recoverMembers(digest, ch.n, ch.active, others, signatures);
        if (ParleyHash.memberList(members) != ch.participantsHash) revert CloseSignersMismatch(channelId);
        (uint256[] memory amounts, uint256 remainder) = _signedOutcome(ch, payouts);
        _settleSigned(channelId, ch, members, stateHash, amounts, remainder, payment);
    }

    /// @inheritdoc IStateChannelManager
    function verifyFinalityProof(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        SignedTransaction[] calldata proof
    ) external view returns (bytes32 stateHash, uint64 seq) {
        return _verifyFinality(channelId, _openChannel(channelId, channel, participants), participants, proof);
    }
}
