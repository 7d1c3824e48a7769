// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ChannelParams, Transaction} from "../interfaces/ChannelTypes.sol";

/// @title ParleyHash
/// @notice EIP-712 struct hashes of Parley's typed data. The domain ("Parley", version "1",
/// chain id, manager address) is applied by the manager. The TypeScript client mirrors these
/// definitions exactly (src/protocol/eip712.ts).
library ParleyHash {
    bytes32 internal constant TRANSACTION_TYPEHASH = keccak256(
        "Transaction(bytes32 channelId,uint64 fork,uint64 seq,uint64 timestamp,uint16 actor,bytes32 previousStateHash,bytes data,bytes32 stateHash)"
    );

    bytes32 internal constant CHANNEL_PARAMS_TYPEHASH = keccak256(
        "ChannelParams(address[] participants,address[] signers,address machine,address asset,uint256[] deposits,uint256 bond,uint32 p2pTime,uint32 agreementTime,uint32 chainFallbackTime,uint32 challengeTime,bytes32 salt,bytes initData,uint64 openDeadline)"
    );

    bytes32 internal constant CLOSE_TYPEHASH =
        keccak256("CloseChannel(bytes32 channelId,uint64 fork,bytes32 stateHash,uint256[] payouts)");

    /// @dev `participants` for a member list in memory (see Signatures.recoverMembers): the hash
    /// of its words, no copy.
    function memberList(address[] memory ps) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := keccak256(add(ps, 0x20), shl(5, mload(ps)))
        }
    }

    /// @dev hashStruct(Transaction).
    function transaction(Transaction calldata t) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                TRANSACTION_TYPEHASH,
                t.channelId,
                t.fork,
                t.seq,
                t.timestamp,
                t.actor,
                t.previousStateHash,
                keccak256(t.data),
                t.stateHash
            )
        );
    }

    /// @dev `transaction`, hashed from the calldata words of `t` instead of Solidity's
    /// field-by-field re-encoding: the type hash, then the struct's eight head words as they lie
    /// in calldata with the data's offset replaced by keccak256(data) — which is exactly
    /// `transaction`'s encoding when the four integers' words are clean. A dirty one reverts
    /// (without data), as Solidity's decoder would when `transaction` reads it, and so does data
    /// reaching past the calldata (an empty `data` at an offset the accessor lets through, such as
    /// a "negative" one, which `transaction`'s copy of the data refuses). Used where a
    /// single move is checked (ADisputeBase._checkTransaction). Not in the finality-proof loop: a second call site
    /// of `transaction` in the manager stopped its inlining there, and using this function there
    /// too (measured at 56a828d) made lists cheaper but posts, responses and resolutions dearer
    /// (+12 … +42). Scratch use above the free memory pointer, which stays unmoved.
    function transactionAt(Transaction calldata t) internal pure returns (bytes32 h) {
        bytes calldata data = t.data;
        bytes32 typeHash = TRANSACTION_TYPEHASH;
        assembly ("memory-safe") {
            if gt(add(data.offset, data.length), calldatasize()) { revert(0, 0) }
            let m := mload(0x40)
            calldatacopy(m, data.offset, data.length)
            let dataHash := keccak256(m, data.length)
            mstore(m, typeHash)
            // channelId, fork, seq, timestamp, actor, previousStateHash, (data offset), stateHash
            calldatacopy(add(m, 0x20), t, 0x100)
            if or(
                or(shr(64, mload(add(m, 0x40))), shr(64, mload(add(m, 0x60)))),
                or(shr(64, mload(add(m, 0x80))), shr(16, mload(add(m, 0xa0))))
            ) { revert(0, 0) }
            mstore(add(m, 0xe0), dataHash)
            h := keccak256(m, 0x120)
        }
    }

    /// @dev hashStruct(ChannelParams). Arrays hash as keccak256 of their 32-byte-padded elements.
    function channelParams(ChannelParams calldata p) internal pure returns (bytes32) {
        bytes memory head = abi.encode(
            CHANNEL_PARAMS_TYPEHASH,
            participants(p.participants),
            participants(p.signers),
            p.machine,
            p.asset,
            _amounts(p.deposits),
            p.bond
        );
        bytes memory tail =
            abi.encode(
                p.p2pTime, p.agreementTime, p.chainFallbackTime, p.challengeTime, p.salt, keccak256(p.initData), p.openDeadline
            );
        return keccak256(bytes.concat(head, tail));
    }

    /// @dev keccak256(abi.encodePacked(ps)): the channel's `participantsHash` and the EIP-712
    /// encoding of an address[]. Hashes the calldata words as they are, without Solidity's
    /// per-element copy loop (about 130 gas per element; this costs about 12): a word with dirty
    /// upper bits hashes differently from the clean address, so it can never match a stored hash.
    function participants(address[] calldata ps) internal pure returns (bytes32 h) {
        // The ABI decoder has checked that the array lies inside calldata. The words are
        // copied above the free memory pointer, which stays unmoved (scratch use).
        assembly ("memory-safe") {
            let m := mload(0x40)
            let size := shl(5, ps.length)
            calldatacopy(m, ps.offset, size)
            h := keccak256(m, size)
        }
    }

    /// @dev keccak256(abi.encodePacked(participants, signers)): the member list a channel is
    /// opened with (participants alone when there are no session keys), hashed like
    /// `participants` into the channel's `participantsHash`.
    function members(ChannelParams calldata p) internal pure returns (bytes32 h) {
        address[] calldata ps = p.participants;
        address[] calldata ss = p.signers;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let size := shl(5, ps.length)
            calldatacopy(m, ps.offset, size)
            let more := shl(5, ss.length)
            calldatacopy(add(m, size), ss.offset, more)
            h := keccak256(m, add(size, more))
        }
    }

    /// @dev keccak256(abi.encodePacked(amounts)): the EIP-712 encoding of a uint256[], hashed
    /// like `participants`.
    function _amounts(uint256[] calldata amounts) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            let size := shl(5, amounts.length)
            calldatacopy(m, amounts.offset, size)
            h := keccak256(m, size)
        }
    }

    /// @dev hashStruct(CloseChannel): the payouts hash as an EIP-712 uint256[] (keccak256 of
    /// their words), the struct's five words built in scratch memory (the free pointer unmoved).
    function close(bytes32 channelId, uint64 fork, bytes32 stateHash, uint256[] calldata payouts)
        internal
        pure
        returns (bytes32 h)
    {
        bytes32 typeHash = CLOSE_TYPEHASH;
        bytes32 amounts = _amounts(payouts);
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typeHash)
            mstore(add(m, 0x20), channelId)
            mstore(add(m, 0x40), fork)
            mstore(add(m, 0x60), stateHash)
            mstore(add(m, 0x80), amounts)
            h := keccak256(m, 0xa0)
        }
    }
}
