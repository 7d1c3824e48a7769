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
/// @notice Opening and funding channels. (`reclaim`, which returns a funding no open will use,
/// is the court's: AReclaim.)
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
        if (_phase(_channels[channelId]) != Phase.None) revert ChannelExists(channelId);
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
        locked = _lock(channelId, params, locked);

        bytes memory state =
            _state(params.machine, abi.encodeCall(IStateMachine.initialState, (params.deposits, params.initData)));
        bytes32 stateHash = keccak256(state);
        uint64 active = Bitmap.full(n);
        Channel memory ch = Channel({
            machine: params.machine,
            fork: 0,
            phase: Phase.Open,
            n: uint8(n),
            asset: params.asset,
            p2pTime: params.p2pTime,
            agreementTime: params.agreementTime,
            chainFallbackTime: params.chainFallbackTime,
            challengeTime: params.challengeTime,
            active: active,
            slashed: 0,
            genesisTimestamp: uint40(block.timestamp),
            latestSeq: 0,
            participantsHash: ParleyHash.members(params),
            genesisStateHash: stateHash,
            // What _lock counted: the deposits and any funding beyond every share (below 2^128:
            // a surplus exists only when the funding, below 2^94, covered every share).
            locked: uint128(locked),
            bond: uint128(params.bond)
        });
        // The channel's only storage: the word its funding (if any) already wrote.
        _store(channelId, ch);
        emit ChannelOpened(channelId, ch);
        emit StateSet(channelId, 0, stateHash, state, uint64(block.timestamp), active, ch.locked);
    }

    /// @inheritdoc IStateChannelManager
    function fund(bytes32 channelId, address asset, uint256 expectedHeld, uint256 amount) external payable nonReentrant {
        if (amount == 0) revert BalanceAmountZero();
        if (_phase(_channels[channelId]) != Phase.None) revert ChannelExists(channelId);
        (uint256 held, address funded) = _funding(channelId);
        if (held != expectedHeld) revert FundingMoved(expectedHeld, held);
        if (held != 0 && funded != asset) revert FundingAssetMismatch(funded, asset);
        uint256 received = amount;
        if (asset == address(0)) {
            if (msg.value != amount) revert BalanceValueMismatch(msg.value, amount);
        } else {
            received = _receiveToken(asset, amount);
        }
        held += received;
        if (held > MAX_FUNDING) revert ChannelAmountTooLarge();
        _setFunding(channelId, held, asset);
        emit Funded(channelId, asset, received, held);
    }

    /// @dev Locks the deposits and bonds of `params` (deposits summing to `deposits`) for the
    /// new channel: the channel's funding covers participants in order, each participant's
    /// balance the rest of its share; funding beyond every share joins the deposits. A funding in
    /// another asset than the channel's is set aside for reclaim instead. Returns the amount to
    /// lock (in the record, whose commitment replaces the funding in the channel's word).
    function _lock(bytes32 channelId, ChannelParams calldata params, uint256 deposits) private returns (uint256 locked) {
        address asset = params.asset;
        uint256 bond = params.bond;
        uint256 n = params.participants.length;
        (uint256 held, address funded) = _funding(channelId);
        if (held != 0 && funded != asset) {
            // Set aside for reclaim (AReclaim): returning it here would let anyone who funds a junk token
            // make every open pay n credits.
            _strayFunding[channelId] = _pack(held, funded);
            emit FundingSetAside(channelId, funded, held);
            held = 0;
        }
        // The same funding-order rule as AReclaim._return's, in its cheap form: open bounded every amount,
        // so deposit + bond cannot overflow here (_return's overflow-safe form, shared, cost every
        // open ≈ 140 gas per participant when measured).
        for (uint256 i; i < n; ++i) {
            uint256 need = params.deposits[i] + bond;
            uint256 covered = held < need ? held : need;
            // Cannot underflow: covered <= held and covered <= need.
            unchecked {
                held -= covered;
                need -= covered;
            }
            if (need != 0) _debit(params.participants[i], asset, need);
        }
        // What is left of the funding joins the deposits: it is below 2^94, and the deposits
        // below 2^128 minus the bonds it did not have to cover.
        locked = deposits + held;
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
