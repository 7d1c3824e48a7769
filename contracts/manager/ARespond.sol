// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IRespond} from "../interfaces/IDisputeManager.sol";
import {Channel, DisputeKind, DisputeRecord, Phase} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {ParleyHash} from "../libraries/ParleyHash.sol";
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
        uint64 timestamp,
        bytes calldata data,
        bytes32 stateHash,
        bytes calldata signature
    ) external {
        (Channel memory ch, bytes32 h) = _load(channel);
        _challengeable(channelId, ch, h, participants, index, dispute);
        if (dispute.kind != DisputeKind.Timeout) revert DisputeKindInvalid(dispute.kind);
        // The move's other fields are the dispute's: its author the accused (the record's one
        // removal), its height the candidate's + 1, its previous state the candidate.
        uint256 actor = Bitmap.index(dispute.removals);
        if (!Bitmap.has(ch.active, actor)) revert TransactionActorInvalid(uint16(actor));
        _checkStamp(ch, data.length, timestamp, dispute.timestamp);
        uint64 seq = dispute.seq + 1;
        (bytes32 digest, uint256 log, uint256 size) =
            _responseLog(channelId, ch.fork, seq, timestamp, actor, dispute.stateHash, data, stateHash, signature);
        _verifyOne(digest, participants, ch, actor, signature);

        ch.phase = Phase.Open;
        ch.latestSeq = seq;
        _store(channelId, ch);
        // The move is the evidence, published with the cancellation in one log.
        bytes32 topic = DisputeCancelled.selector;
        assembly ("memory-safe") {
            log2(log, size, topic, channelId)
        }
    }

    /// @dev The move (channelId, fork, seq, stamp, actor, previous, data, stateHash) built
    /// once in memory (allocated) as DisputeCancelled's data, `abi.encode(digest, transaction,
    /// signature)`, at `log` for `size` bytes; its EIP-712 digest hashed over the same words on
    /// the way (the type hash in the word before the transaction's head and keccak256(data) in
    /// place of the data's offset, then both put back).
    function _responseLog(
        bytes32 channelId,
        uint256 fork,
        uint256 seq,
        uint256 stamp,
        uint256 actor,
        bytes32 previous,
        bytes calldata data,
        bytes32 stateHash,
        bytes calldata signature
    ) private view returns (bytes32 digest, uint256 log, uint256 size) {
        bytes32 typeHash = ParleyHash.TRANSACTION_TYPEHASH;
        bytes32 structHash;
        assembly ("memory-safe") {
            log := mload(0x40)
            // The transaction's head: channelId, fork, seq, timestamp, actor, previous, (data), stateHash.
            let t := add(log, 0x60)
            let len := data.length
            let body := add(t, 0x120)
            calldatacopy(body, data.offset, len)
            mstore(add(t, 0xc0), keccak256(body, len))
            mstore(add(body, len), 0)
            mstore(add(log, 0x40), typeHash)
            mstore(t, channelId)
            mstore(add(t, 0x20), fork)
            mstore(add(t, 0x40), seq)
            mstore(add(t, 0x60), stamp)
            mstore(add(t, 0x80), actor)
            mstore(add(t, 0xa0), previous)
            mstore(add(t, 0xe0), stateHash)
            structHash := keccak256(add(log, 0x40), 0x120)
            mstore(add(t, 0xc0), 0x100)
            mstore(add(t, 0x100), len)
            // The signature follows the transaction's padded encoding.
            let sig := add(body, and(add(len, 31), not(31)))
            mstore(add(log, 0x20), 0x60)
            mstore(add(log, 0x40), sub(sig, log))
            let slen := signature.length
            mstore(sig, slen)
            calldatacopy(add(sig, 0x20), signature.offset, slen)
            mstore(add(add(sig, 0x20), slen), 0)
            let end := add(add(sig, 0x20), and(add(slen, 31), not(31)))
            size := sub(end, log)
            mstore(0x40, end)
        }
        digest = _hashTypedDataV4(structHash);
        assembly ("memory-safe") {
            mstore(log, digest)
        }
    }
}
