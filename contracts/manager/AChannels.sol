// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IStateMachine} from "../interfaces/IStateMachine.sol";
import {IStateChannelManager} from "../interfaces/IStateChannelManager.sol";
import {Channel, ChannelParams, Phase} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {ParleyHash} from "../libraries/ParleyHash.sol";
import {Signatures} from "../libraries/Signatures.sol";
import {ABalances} from "./ABalances.sol";

/// @title AChannels
/// @notice Channel storage, opening, capped machine calls and settlement.
abstract contract AChannels is IStateChannelManager, ABalances, EIP712 {
    /// @notice Most participants a channel may have (bitmaps are 64 bits; bounds every loop).
    uint256 public constant MAX_PARTICIPANTS = 64;
    /// @notice Upper bound of every time parameter (30 days; so three of them fit in 24 bits).
    uint256 public constant MAX_TIME = 30 days;
    /// @notice Gas given to each machine call; a machine that needs more cannot be enforced.
    uint256 public constant MACHINE_GAS = 5_000_000;

    mapping(bytes32 channelId => Channel) internal _channels;
    /// @dev Beneficiaries of slashed participants recorded when a fraud dispute changes prover:
    /// one byte per participant (0 = none, else beneficiary index + 1), 32 per word.
    mapping(bytes32 channelId => mapping(uint256 word => uint256)) private _beneficiaries;

    constructor() EIP712("Parley", "1") {}

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
        for (uint256 i; i < n; ++i) {
            _debit(params.participants[i], params.asset, params.deposits[i] + params.bond);
        }

        bytes memory state = abi.decode(
            _callMachine(
                params.machine, abi.encodeCall(IStateMachine.initialState, (params.deposits, params.initData))
            ),
            (bytes)
        );
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
            participantsHash: ParleyHash.participants(params.participants),
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
        _checkUnique(params.participants);
    }

    function _checkTime(uint256 which, uint256 value) private pure {
        if (value == 0 || value > MAX_TIME) revert ChannelTimeInvalid(which, value);
    }

    /// @dev O(n) duplicate check with transient markers, cleared before returning so a second
    /// open in the same transaction starts clean.
    function _checkUnique(address[] calldata participants) private {
        uint256 n = participants.length;
        for (uint256 i; i < n; ++i) {
            address p = participants[i];
            if (p == address(0)) revert ChannelParticipantInvalid(i);
            uint256 seen;
            // Slot = keccak256(participant); cannot meet the reentrancy guard's fixed slot.
            assembly ("memory-safe") {
                mstore(0, p)
                let slot := keccak256(0, 32)
                seen := tload(slot)
                tstore(slot, 1)
            }
            if (seen != 0) revert ChannelParticipantDuplicate(i, p);
        }
        for (uint256 i; i < n; ++i) {
            address p = participants[i];
            assembly ("memory-safe") {
                mstore(0, p)
                tstore(keccak256(0, 32), 0)
            }
        }
    }

    /// @dev Loads an open channel and checks that `participants` is its participant list.
    function _openChannel(bytes32 channelId, address[] calldata participants)
        internal
        view
        returns (Channel storage ch)
    {
        ch = _channels[channelId];
        if (ch.phase != Phase.Open) revert ChannelNotOpen(channelId, ch.phase);
        if (ParleyHash.participants(participants) != ch.participantsHash) {
            revert ChannelParticipantsMismatch(channelId);
        }
    }

    /// @dev Static call into the machine with a fixed gas cap. Reverts MachineGasTooLow when
    /// the caller did not leave enough gas to pass the full cap (so a caller cannot make a
    /// valid machine call fail on purpose), and MachineCallFailed when the machine reverts.
    function _callMachine(address machine, bytes memory callData) internal view returns (bytes memory) {
        (bool ok, bytes memory ret) = _tryCallMachine(machine, callData);
        if (!ok) revert MachineCallFailed(bytes4(callData), ret);
        return ret;
    }

    /// @dev Like _callMachine, but returns the failure instead of reverting (fraud proofs judge
    /// it). Still reverts MachineGasTooLow: only the cap, never the caller, may starve a call.
    function _tryCallMachine(address machine, bytes memory callData) internal view returns (bool, bytes memory) {
        // EIP-150 forwards at most 63/64 of the remaining gas; keep a margin for the call.
        uint256 needed = MACHINE_GAS + MACHINE_GAS / 63 + 10_000;
        if (gasleft() < needed) revert MachineGasTooLow(gasleft(), needed);
        return machine.staticcall{gas: MACHINE_GAS}(callData);
    }

    /// @dev Settles the channel from `state` and closes it. `unpaid` holds every participant
    /// whose outcome share was not paid yet: the active ones, plus those a resolving dispute
    /// removes now (a participant removed earlier was paid at its removal, so its entry in the
    /// outcome is ignored). Whatever the outcome leaves of the locked deposits is split equally
    /// among active participants (dust to the lowest active index); every unpaid participant also
    /// gets its bond back. A slashed participant's share and bond go to its beneficiary (`prover`
    /// unless recorded otherwise, see _payee).
    function _settle(
        bytes32 channelId,
        Channel storage ch,
        address[] calldata participants,
        bytes memory state,
        bytes32 stateHash,
        uint64 unpaid,
        uint256 prover
    ) internal {
        (uint256[] memory payouts, uint256 total) = _outcome(ch, state, unpaid);
        _distributeRemainder(payouts, ch.locked - total, ch.active);
        ch.phase = Phase.Closed;
        ch.locked = 0;
        _creditPayouts(channelId, ch, participants, payouts, unpaid, prover);
        emit ChannelClosed(channelId, ch.fork, stateHash, payouts);
    }

    /// @dev Credits every payout, plus the bond of each unpaid participant.
    function _creditPayouts(
        bytes32 channelId,
        Channel storage ch,
        address[] calldata participants,
        uint256[] memory payouts,
        uint64 unpaid,
        uint256 prover
    ) private {
        uint64 slashed = ch.slashed;
        address asset = ch.asset;
        uint256 bond = ch.bond;
        for (uint256 i; i < payouts.length; ++i) {
            uint256 amount = payouts[i];
            if (Bitmap.has(unpaid, i)) amount += bond;
            if (amount != 0) _credit(channelId, _payee(channelId, participants, slashed, i, prover), asset, amount);
        }
    }

    /// @dev The machine's outcome of `state`, checked (length n; the shares of `unpaid` sum to
    /// at most the locked deposits) and with every entry outside `unpaid` zeroed.
    function _outcome(Channel storage ch, bytes memory state, uint64 unpaid)
        internal
        view
        returns (uint256[] memory payouts, uint256 total)
    {
        uint256 n = ch.n;
        payouts = abi.decode(_callMachine(ch.machine, abi.encodeCall(IStateMachine.outcome, (state))), (uint256[]));
        if (payouts.length != n) revert OutcomeLengthInvalid(payouts.length, n);
        for (uint256 i; i < n; ++i) {
            if (!Bitmap.has(unpaid, i)) {
                payouts[i] = 0;
                continue;
            }
            // Saturates instead of overflowing, so an absurd outcome gets OutcomeExceedsLocked
            // rather than an arithmetic panic.
            uint256 p = payouts[i];
            total = p > type(uint256).max - total ? type(uint256).max : total + p;
        }
        uint256 locked = ch.locked;
        if (total > locked) revert OutcomeExceedsLocked(total, locked);
    }

    /// @dev Who receives participant `i`'s funds: itself; if it was slashed, the beneficiary
    /// recorded for it, or else `prover` (the resolving fraud dispute's latest prover).
    function _payee(bytes32 channelId, address[] calldata participants, uint64 slashed, uint256 i, uint256 prover)
        internal
        view
        returns (address)
    {
        if (!Bitmap.has(slashed, i)) return participants[i];
        // One byte per participant, 32 per word: 0 = none recorded, else beneficiary index + 1.
        uint256 recorded = uint8(_beneficiaries[channelId][i >> 5] >> ((i & 31) << 3));
        return participants[recorded == 0 ? prover : recorded - 1];
    }

    /// @dev Records `beneficiary` for each participant in `culprits` that has none recorded yet.
    /// Only needed when a second, different prover joins a fraud dispute: until then the record's
    /// prover is every culprit's beneficiary, and no storage is written.
    function _keepBeneficiaries(bytes32 channelId, uint64 culprits, uint256 beneficiary) internal {
        for (uint256 w; w < 2; ++w) {
            uint256 bits = uint32(culprits >> (w << 5));
            if (bits == 0) continue;
            uint256 word = _beneficiaries[channelId][w];
            for (uint256 j; bits != 0; ++j) {
                uint256 shift = j << 3;
                if (bits & 1 == 1 && (word >> shift) & 0xff == 0) word |= (beneficiary + 1) << shift;
                bits >>= 1;
            }
            _beneficiaries[channelId][w] = word;
        }
    }

    function _distributeRemainder(uint256[] memory payouts, uint256 remainder, uint64 active) private pure {
        if (remainder == 0) return;
        uint256 k = Bitmap.count(active);
        uint256 each = remainder / k;
        uint256 dust = remainder - each * k;
        for (uint256 i; i < payouts.length; ++i) {
            if (Bitmap.has(active, i)) {
                payouts[i] += each + dust;
                dust = 0;
            }
        }
    }
}
