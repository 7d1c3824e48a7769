// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IStateMachine} from "../interfaces/IStateMachine.sol";
import {IStateChannelManager} from "../interfaces/IStateChannelManager.sol";
import {Channel, ChannelParams, Phase} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {ParleyHash} from "../libraries/ParleyHash.sol";
import {Signatures} from "../libraries/Signatures.sol";
import {ABalances} from "./ABalances.sol";
import {AProofs} from "./AProofs.sol";

/// @title AChannels
/// @notice Opening channels, and the channel views.
abstract contract AChannels is IStateChannelManager, AProofs, ABalances {
    /// @inheritdoc IStateChannelManager
    function open(ChannelParams calldata params, bytes calldata signatures)
        external
        nonReentrant
        returns (bytes32 channelId)
    {
        uint256 n = params.participants.length;
        _checkParams(params, n);
        channelId = _hashTypedDataV4(ParleyHash.channelParams(params));
        if (_channels[channelId].phase != Phase.None) revert ChannelExists(channelId);
        Signatures.verify(channelId, params.participants, Bitmap.full(n), signatures);

        // Amounts are bounded before any arithmetic on them, so oversized input gets
        // ChannelAmountTooLarge rather than an arithmetic panic (the sum of 64 deposits below
        // 2^128 cannot overflow, nor can deposit + bond).
        if (params.bond > type(uint128).max / n) revert ChannelAmountTooLarge();
        uint256 locked;
        for (uint256 i; i < n; ++i) {
            uint256 amount = params.deposits[i];
            if (amount > type(uint128).max) revert ChannelAmountTooLarge();
            locked += amount;
        }
        if (locked > type(uint128).max) revert ChannelAmountTooLarge();
        address asset = params.asset;
        uint256 bond = params.bond;
        for (uint256 i; i < n; ++i) {
            _debit(params.participants[i], asset, params.deposits[i] + bond);
        }

        bytes memory state =
            _state(params.machine, abi.encodeCall(IStateMachine.initialState, (params.deposits, params.initData)));
        bytes32 stateHash = keccak256(state);
        uint64 active = Bitmap.full(n);
        _channels[channelId] = Channel({
            machine: params.machine,
            fork: 0,
            phase: Phase.Open,
            n: uint8(n),
            // Each time is at most MAX_TIME (30 days), so the sum fits in 24 bits.
            postingWindow: uint24(uint256(params.p2pTime) + params.agreementTime + params.chainFallbackTime),
            asset: params.asset,
            p2pTime: params.p2pTime,
            agreementTime: params.agreementTime,
            chainFallbackTime: params.chainFallbackTime,
            active: active,
            slashed: 0,
            genesisTimestamp: uint40(block.timestamp),
            challengeTime: uint24(params.challengeTime),
            latestSeq: 0,
            participantsHash: ParleyHash.members(params),
            genesisStateHash: stateHash,
            locked: uint128(locked),
            bond: uint128(params.bond)
        });
        emit ChannelOpened(channelId, params);
        emit StateSet(channelId, 0, stateHash, state, uint64(block.timestamp), active);
    }

    /// @inheritdoc IStateChannelManager
    function channelIdOf(ChannelParams calldata params) external view returns (bytes32) {
        return _hashTypedDataV4(ParleyHash.channelParams(params));
    }

    /// @inheritdoc IStateChannelManager
    function getChannel(bytes32 channelId) external view returns (Channel memory) {
        return _channels[channelId];
    }

    /// @dev Validates everything about `params` that does not need storage or signatures.
    function _checkParams(ChannelParams calldata params, uint256 n) private {
        if (n < 2 || n > MAX_PARTICIPANTS) revert ChannelParticipantCountInvalid(n);
        if (params.deposits.length != n) revert ChannelDepositsLengthMismatch(n, params.deposits.length);
        if (params.machine.code.length == 0) revert ChannelMachineInvalid(params.machine);
        if (params.asset != address(0) && params.asset.code.length == 0) revert BalanceAssetInvalid(params.asset);
        _checkTime(0, params.p2pTime);
        _checkTime(1, params.agreementTime);
        _checkTime(2, params.chainFallbackTime);
        _checkTime(3, params.challengeTime);
        _checkUnique(params.participants, params.signers);
        if (block.timestamp > params.openDeadline) revert ChannelConsentExpired(params.openDeadline, block.timestamp);
    }

    function _checkTime(uint256 which, uint256 value) private pure {
        if (value == 0 || value > MAX_TIME) revert ChannelTimeInvalid(which, value);
    }

    /// @dev O(n) duplicate check over participants and signers together, with transient markers
    /// cleared before returning so a second open in the same transaction starts clean. Signers
    /// are either none or one per participant; no address may be two members, so each signature
    /// speaks for exactly one participant index.
    function _checkUnique(address[] calldata participants, address[] calldata signers) private {
        uint256 n = participants.length;
        uint256 k = signers.length;
        if (k != 0 && k != n) revert ChannelSignerCountMismatch(n, k);
        for (uint256 i; i < n; ++i) {
            address p = participants[i];
            if (p == address(0)) revert ChannelParticipantInvalid(i);
            if (_mark(p)) revert ChannelParticipantDuplicate(i, p);
        }
        for (uint256 i; i < k; ++i) {
            address s = signers[i];
            if (s == address(0)) revert ChannelSignerInvalid(i);
            if (_mark(s)) revert ChannelSignerDuplicate(i, s);
        }
        for (uint256 i; i < n; ++i) {
            _unmark(participants[i]);
        }
        for (uint256 i; i < k; ++i) {
            _unmark(signers[i]);
        }
    }

    /// @dev Sets `a`'s transient marker; returns whether it was already set. Slot =
    /// keccak256(a); cannot meet the reentrancy guard's fixed slot.
    function _mark(address a) private returns (bool seen) {
        assembly ("memory-safe") {
            mstore(0, a)
            let slot := keccak256(0, 32)
            seen := tload(slot)
            tstore(slot, 1)
        }
    }

    function _unmark(address a) private {
        assembly ("memory-safe") {
            mstore(0, a)
            tstore(keccak256(0, 32), 0)
        }
    }
}
