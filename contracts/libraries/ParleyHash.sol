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
        "ChannelParams(address[] participants,address machine,address asset,uint256[] deposits,uint256 bond,uint32 p2pTime,uint32 agreementTime,uint32 chainFallbackTime,uint32 challengeTime,bytes32 salt,bytes initData)"
    );

    bytes32 internal constant CLOSE_TYPEHASH =
        keccak256("CloseChannel(bytes32 channelId,uint64 fork,bytes32 stateHash)");

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

    /// @dev hashStruct(ChannelParams). Arrays hash as keccak256 of their 32-byte-padded elements.
    function channelParams(ChannelParams calldata p) internal pure returns (bytes32) {
        bytes memory head = abi.encode(
            CHANNEL_PARAMS_TYPEHASH,
            keccak256(abi.encodePacked(p.participants)),
            p.machine,
            p.asset,
            keccak256(abi.encodePacked(p.deposits)),
            p.bond
        );
        bytes memory tail =
            abi.encode(p.p2pTime, p.agreementTime, p.chainFallbackTime, p.challengeTime, p.salt, keccak256(p.initData));
        return keccak256(bytes.concat(head, tail));
    }

    /// @dev hashStruct(CloseChannel).
    function close(bytes32 channelId, uint64 fork, bytes32 stateHash) internal pure returns (bytes32) {
        return keccak256(abi.encode(CLOSE_TYPEHASH, channelId, fork, stateHash));
    }
}
