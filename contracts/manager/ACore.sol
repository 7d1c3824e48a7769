// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IChannelsEvents} from "../interfaces/IStateChannelManager.sol";
import {Channel, Phase} from "../interfaces/ChannelTypes.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {ParleyHash} from "../libraries/ParleyHash.sol";
import {ABalanceBook} from "./ABalanceBook.sol";
import {AMachineCalls} from "./AMachineCalls.sol";
import {ADomain} from "./ADomain.sol";

/// @title ACore
/// @notice What the manager and its court share: the channels' storage, the EIP-712 domain,
/// machine calls and settlement. Every storage variable of both contracts is declared in this
/// file's bases and here, in one order, so the court (run by delegatecall) sees the manager's
/// layout; the build compares both layouts.
abstract contract ACore is IChannelsEvents, ABalanceBook, AMachineCalls, ADomain {
    /// @notice Most participants a channel may have (bitmaps are 64 bits; bounds every loop).
    uint256 internal constant MAX_PARTICIPANTS = 64;
    /// @notice Upper bound of every time parameter (30 days; so three of them fit in 24 bits).
    uint256 internal constant MAX_TIME = 30 days;
    /// @notice Most a channel's funding may hold before its open (94 bits, so its asset fits in
    /// the same word above it and the phase bits below it stay 0); larger amounts go through
    /// balances (deposit).
    uint256 internal constant MAX_FUNDING = 2 ** 94 - 1;
    /// @dev Gas a payout pushed in ETH may use in its recipient (an account without code uses
    /// none; a delegated account's or a wallet's receive hook gets this much). A recipient that
    /// needs more, or reverts, is credited in the manager instead. Not public: every public
    /// getter lengthens the selector dispatch that every call, the court's included, runs.
    uint256 internal constant PUSH_GAS_ETH = 30_000;
    /// @dev Gas a payout pushed in an ERC-20 token may use (the token's transfer); a transfer
    /// that fails, reverts or returns false is credited in the manager instead.
    uint256 internal constant PUSH_GAS_TOKEN = 100_000;

    /// @dev One word per channel, the only storage a channel has: the commitment to its record
    /// (see _word) with the phase in the two low bits; before the open (phase None) its funding
    /// (see _pack).
    mapping(bytes32 channelId => uint256) internal _channels;
    /// @dev Beneficiaries of slashed participants recorded when a fraud dispute changes prover:
    /// one byte per participant (0 = none, else beneficiary index + 1), 32 per word.
    mapping(bytes32 channelId => mapping(uint256 word => uint256)) private _beneficiaries;
    /// @dev A funding in another asset than its channel's, set aside by the open (packed as a
    /// funding is) until reclaim returns it: the open never pays for returning it.
    mapping(bytes32 channelId => uint256) internal _strayFunding;

    /// @dev The phase a channel word records in its two low bits (None: a funding, or nothing).
    function _phase(uint256 word) internal pure returns (Phase) {
        return Phase(word & 3);
    }

    /// @dev The word committing to `hash` in `phase`: the hash with its two low bits replaced by
    /// the phase (254 bits of the hash stay, so finding another record for a word is as hard as a
    /// second preimage of a 254-bit hash).
    function _word(bytes32 hash, Phase phase) internal pure returns (uint256) {
        return (uint256(hash) & ~uint256(3)) | uint256(phase);
    }

    /// @dev Words of `abi.encode(Channel)`: every field is static, so the record lies in calldata
    /// as exactly these words, and a `Channel memory` is the same words (one per field, each
    /// clean: Solidity cleans every value it writes to a memory struct).
    uint256 private constant CHANNEL_WORDS = 17;

    /// @dev The hash of a channel record: keccak256(abi.encode(ch)), hashed where `ch` lies in
    /// memory (its words are that encoding; no copy).
    function _hash(Channel memory ch) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := keccak256(ch, mul(CHANNEL_WORDS, 32))
        }
    }

    /// @dev A re-supplied record in memory, copied word for word from calldata (one copy), and
    /// its _hash, computed on that copy (the copy is the calldata words, so it is the hash of the
    /// record as it lies in calldata). The caller must check `h` against the channel's word
    /// before it uses `ch`: the word was made by _hash of a clean record, so a record hashing to
    /// it is that record's exact encoding (any other would be a second preimage), and the copy
    /// needs none of the decoder's checks. A word with dirty bits hashes to something no word
    /// commits to.
    function _load(Channel calldata record) internal pure returns (Channel memory ch, bytes32 h) {
        // Solidity has already allocated `ch`, zeroed: the words are copied over it.
        assembly ("memory-safe") {
            calldatacopy(ch, record, mul(CHANNEL_WORDS, 32))
            h := keccak256(ch, mul(CHANNEL_WORDS, 32))
        }
    }

    /// @dev Commits to `ch` alone (an open channel, or one closed without claims).
    function _store(bytes32 channelId, Channel memory ch) internal {
        _channels[channelId] = _word(_hash(ch), ch.phase);
    }

    /// @dev The re-supplied record of an open channel, checked against the channel's word
    /// (ChannelNotOpen in another phase, ChannelRecordMismatch for another record), and
    /// `participants` against it.
    function _openChannel(bytes32 channelId, Channel calldata record, address[] calldata participants)
        internal
        view
        returns (Channel memory ch)
    {
        uint256 word = _channels[channelId];
        Phase phase = _phase(word);
        if (phase != Phase.Open) revert ChannelNotOpen(channelId, phase);
        bytes32 h;
        (ch, h) = _load(record);
        if (_word(h, Phase.Open) != word) revert ChannelRecordMismatch(channelId);
        _checkMembers(channelId, ch, participants);
    }

    /// @dev The re-supplied record of an open channel, checked against the channel's word
    /// (ChannelNotOpen in another phase, ChannelRecordMismatch for another record); the caller
    /// checks the member list its own way (a close recovers it from the consents). Written out
    /// as _openChannel's first lines rather than shared with it: one `_requireOpen(word, h)` for
    /// both (and the court's) measured 20-23 gas more on every close, conclude and finality proof.
    function _openRecord(bytes32 channelId, Channel calldata record) internal view returns (Channel memory ch) {
        uint256 word = _channels[channelId];
        Phase phase = _phase(word);
        if (phase != Phase.Open) revert ChannelNotOpen(channelId, phase);
        bytes32 h;
        (ch, h) = _load(record);
        if (_word(h, Phase.Open) != word) revert ChannelRecordMismatch(channelId);
    }

    /// @dev `participants` must be the member list `ch` commits to.
    function _checkMembers(bytes32 channelId, Channel memory ch, address[] calldata participants) internal pure {
        if (ParleyHash.participants(participants) != ch.participantsHash) {
            revert ChannelParticipantsMismatch(channelId);
        }
    }

    /// @dev A channel's funding before it opens: the amount held and its asset, packed in the
    /// channel's word (phase None) as `held << 2 | uint256(uint160(asset)) << 96`.
    function _funding(bytes32 channelId) internal view returns (uint256 held, address asset) {
        return _unpack(_channels[channelId]);
    }

    function _setFunding(bytes32 channelId, uint256 held, address asset) internal {
        _channels[channelId] = _pack(held, asset);
    }

    /// @dev `held` below 2^94 (MAX_FUNDING), so the two low bits (the phase) stay None.
    function _pack(uint256 held, address asset) internal pure returns (uint256) {
        return (held << 2) | (uint256(uint160(asset)) << 96);
    }

    function _unpack(uint256 word) internal pure returns (uint256 held, address asset) {
        held = (word >> 2) & MAX_FUNDING;
        asset = address(uint160(word >> 96));
    }

    /// @dev The in-channel signers of a checked member list (see Channel.participantsHash): its
    /// last n entries — the session keys, or the participants themselves when the channel has
    /// none. A calldata slice: nothing is copied, and the wallets stay `members[:n]`.
    function _signersOf(address[] calldata members, Channel memory ch) internal pure returns (address[] calldata out) {
        uint256 n = ch.n;
        // The caller checked `members` against the channel's hash, so its length is n or 2n:
        // the slice lies inside it without Solidity's bounds checks.
        assembly ("memory-safe") {
            out.offset := add(members.offset, shl(5, sub(members.length, n)))
            out.length := n
        }
    }

    /// @dev How a settlement pays: credits in the manager (close, conclude, every resolution),
    /// transfers with a credit where one fails (closeAndPay), or claims recorded for `claim`
    /// (closeToClaims, concludeToClaims).
    enum Payment {
        Credit,
        Push,
        Claims
    }

    /// @dev Settles the channel from `state` and closes it, paying by credits. `unpaid` holds
    /// every participant whose outcome share was not paid yet: the active ones, plus those a
    /// resolving dispute removes now (a participant removed earlier was paid at its removal, so
    /// its entry in the outcome is ignored). Whatever the outcome leaves of the locked deposits is
    /// split equally among active participants (dust to the lowest active index); every unpaid
    /// participant also gets its bond back. A slashed participant's share and bond go to its
    /// beneficiary (`prover` unless recorded otherwise, see _payee).
    function _settle(
        bytes32 channelId,
        Channel memory ch,
        address[] calldata participants,
        bytes memory state,
        bytes32 stateHash,
        uint64 unpaid,
        uint256 prover
    ) internal {
        _settleBy(channelId, ch, participants, state, stateHash, unpaid, prover, Payment.Credit);
    }

    /// @dev _settle with the way of paying: Credit, or Claims (nothing is paid; the channel's
    /// word then commits to keccak256(abi.encode(hash of the closed record, payouts, claimed))
    /// with `claimed` = 0, see _claim). Either way the channel's word is written (closed) before
    /// any transfer, so a recipient that calls back finds it settled. (Push is a close's only:
    /// _settleSigned.)
    function _settleBy(
        bytes32 channelId,
        Channel memory ch,
        address[] calldata participants,
        bytes memory state,
        bytes32 stateHash,
        uint64 unpaid,
        uint256 prover,
        Payment payment
    ) internal {
        (uint256[] memory payouts, uint256 remainder) = _outcome(ch, state, unpaid);
        uint64 fork = _closeRecord(channelId, ch, payouts, remainder, payment);
        if (payment == Payment.Credit) {
            _creditPayouts(channelId, ch, participants, payouts, unpaid, prover);
            emit ChannelClosed(channelId, fork, stateHash, payouts);
        } else {
            emit ChannelClosed(channelId, fork, stateHash, payouts);
            emit ClaimsRecorded(channelId);
        }
    }

    /// @dev _settleBy for a close: the payouts the consents signed (checked by _signedOutcome),
    /// every active participant unpaid, and each amount paid to the participant's own account
    /// in the member list the consents recovered (`members`, checked against the record): Credit,
    /// Claims, or Push (each amount sent at once and credited only where that transfer fails;
    /// ChannelPaidOut names those sent). Only active participants receive anything (see
    /// _pushPayouts).
    function _settleSigned(
        bytes32 channelId,
        Channel memory ch,
        address[] memory members,
        bytes32 stateHash,
        uint256[] memory payouts,
        uint256 remainder,
        Payment payment
    ) internal {
        uint64 unpaid = ch.active;
        uint64 fork = _closeRecord(channelId, ch, payouts, remainder, payment);
        uint64 sent;
        if (payment == Payment.Push) {
            sent = _pushPayouts(channelId, ch, members, payouts, unpaid);
        } else if (payment == Payment.Credit) {
            address asset = ch.asset;
            uint256 bond = ch.bond;
            for (uint256 i; i < payouts.length; ++i) {
                uint256 amount = payouts[i];
                if (Bitmap.has(unpaid, i)) amount += bond;
                if (amount != 0) _credit(channelId, members[i], asset, amount);
            }
        }
        _emitClosed(channelId, fork, stateHash, payouts, payment, sent);
    }

    /// @dev Adds the remainder to the payouts and writes the channel's word closed (with the
    /// claims commitment for Payment.Claims: keccak256(abi.encode(hash of the closed record,
    /// payouts, claimed)) with `claimed` = 0, see _claim) — before any transfer, so a recipient
    /// that calls back finds it settled. Returns the fork it closed on.
    function _closeRecord(
        bytes32 channelId,
        Channel memory ch,
        uint256[] memory payouts,
        uint256 remainder,
        Payment payment
    ) private returns (uint64 fork) {
        _distributeRemainder(payouts, remainder, ch.active);
        fork = ch.fork;
        ch.phase = Phase.Closed;
        ch.locked = 0;
        if (payment == Payment.Claims) {
            _channels[channelId] = _word(_claimsCommitment(_hash(ch), payouts), Phase.Closed);
        } else {
            _store(channelId, ch);
        }
    }

    /// @dev keccak256(abi.encode(recordHash, payouts, uint64(0))), the claims commitment of a
    /// settlement (nothing claimed yet; _claim checks and renews it with abi.encode over its
    /// calldata), with the payouts' words moved by one MCOPY instead of Solidity's word-by-word
    /// encoding loop. The encoding's words: the hash, the array's offset (0x60), `claimed` (0),
    /// the array's length, its elements. Scratch use above the free memory pointer.
    function _claimsCommitment(bytes32 recordHash, uint256[] memory payouts) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, recordHash)
            mstore(add(m, 0x20), 0x60)
            mstore(add(m, 0x40), 0)
            let size := shl(5, add(mload(payouts), 1))
            mcopy(add(m, 0x60), payouts, size)
            h := keccak256(m, add(0x60, size))
        }
    }

    /// @dev ChannelClosed, then ChannelPaidOut (Push, with the entries sent) or ClaimsRecorded
    /// (Claims).
    function _emitClosed(
        bytes32 channelId,
        uint64 fork,
        bytes32 stateHash,
        uint256[] memory payouts,
        Payment payment,
        uint64 sent
    ) private {
        emit ChannelClosed(channelId, fork, stateHash, payouts);
        if (payment == Payment.Push) emit ChannelPaidOut(channelId, sent);
        else if (payment == Payment.Claims) emit ClaimsRecorded(channelId);
    }

    /// @dev Credits every payout, plus the bond of each unpaid participant.
    function _creditPayouts(
        bytes32 channelId,
        Channel memory ch,
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

    /// @dev Pays the recorded claims `which` (see _settleBy, Claims): checks the commitment (the
    /// closed `record`, `payouts` and `claimed`) and the member list, records them claimed
    /// before any transfer, then sends each (credited where sending fails). Returns the new
    /// claimed bitmap and the entries sent.
    function _claim(
        bytes32 channelId,
        Channel calldata record,
        address[] calldata participants,
        uint256[] calldata payouts,
        uint64 claimed,
        uint64 which
    ) internal returns (uint64 nowClaimed, uint64 sent) {
        uint256 word = _channels[channelId];
        Phase phase = _phase(word);
        if (phase != Phase.Closed) revert ChannelNotClosed(channelId, phase);
        (Channel memory ch, bytes32 recordHash) = _load(record);
        if (_word(keccak256(abi.encode(recordHash, payouts, claimed)), Phase.Closed) != word) {
            revert ClaimsMismatch(channelId);
        }
        _checkMembers(channelId, ch, participants);
        uint64 unpaid = ch.active;
        // One pass: the entries with something to claim (a payout, or a bond: unpaid) and the
        // amounts of those named.
        uint256 bond = ch.bond;
        uint64 claimable;
        uint256[] memory amounts = new uint256[](payouts.length);
        for (uint256 i; i < payouts.length; ++i) {
            uint256 amount = payouts[i];
            if (amount != 0 || (bond != 0 && Bitmap.has(unpaid, i))) claimable |= Bitmap.bit(i);
            if (Bitmap.has(which, i)) amounts[i] = amount;
        }
        // Only entries with something to pay may be named, each once.
        if (which == 0 || which & claimed != 0 || which & ~claimable != 0) {
            revert ClaimsInvalid(channelId, which, claimed);
        }
        nowClaimed = claimed | which;
        _channels[channelId] = _word(keccak256(abi.encode(recordHash, payouts, nowClaimed)), Phase.Closed);
        sent = _pushPayouts(channelId, ch, _copy(participants), amounts, unpaid & which);
    }

    /// @dev Sends every payout, plus the bond of each participant in `unpaid`, to that
    /// participant's account (`payees[i]`), crediting it in the manager where sending fails.
    /// Returns the bitmap of the entries sent. Only for what a close or a conclude of an open
    /// channel settled (at once, or as claims): there only active participants receive anything
    /// (the machine's outcome and a close's signed payouts have nothing for the others, the
    /// remainder and the bonds go to active ones), and no active participant of an open channel
    /// is slashed — a slashed one leaves the active set when its fraud dispute resolves, and only
    /// that resolution reopens the channel (a response cancels timeouts only) — so nobody's
    /// funds go to a prover (see _payee).
    function _pushPayouts(
        bytes32 channelId,
        Channel memory ch,
        address[] memory payees,
        uint256[] memory payouts,
        uint64 unpaid
    ) private returns (uint64 sent) {
        address asset = ch.asset;
        uint256 bond = ch.bond;
        for (uint256 i; i < payouts.length; ++i) {
            uint256 amount = payouts[i];
            if (Bitmap.has(unpaid, i)) amount += bond;
            if (amount == 0) continue;
            address payee = payees[i];
            if (_push(payee, asset, amount)) sent |= Bitmap.bit(i);
            else _credit(channelId, payee, asset, amount);
        }
    }

    /// @dev A member list in memory, copied as its calldata words. Only for a list
    /// _checkMembers accepted: it hashed these exact words against the record's (which was
    /// made of clean addresses), so no word has dirty high bits and none needs re-validating.
    function _copy(address[] calldata list) private pure returns (address[] memory out) {
        assembly ("memory-safe") {
            out := mload(0x40)
            mstore(out, list.length)
            let size := shl(5, list.length)
            calldatacopy(add(out, 0x20), list.offset, size)
            mstore(0x40, add(add(out, 0x20), size))
        }
    }

    /// @dev Sends `amount` of `asset` to `to` with a gas cap; false if the transfer failed (ETH:
    /// the call reverted or ran out of its cap; token: the call reverted, or returned something
    /// other than nothing or true — SafeERC20's rule; the token has code, checked at open). Return
    /// data is never copied beyond one word, so a recipient cannot make the caller pay for a large
    /// one.
    function _push(address to, address asset, uint256 amount) private returns (bool ok) {
        if (asset == address(0)) {
            assembly ("memory-safe") {
                ok := call(PUSH_GAS_ETH, to, amount, 0, 0, 0, 0)
            }
        } else {
            assembly ("memory-safe") {
                // transfer(to, amount) in scratch memory past the free pointer (not kept).
                let m := mload(0x40)
                mstore(m, 0xa9059cbb00000000000000000000000000000000000000000000000000000000)
                mstore(add(m, 4), to)
                mstore(add(m, 36), amount)
                ok := call(PUSH_GAS_TOKEN, asset, 0, m, 68, 0, 32)
                if ok { ok := or(iszero(returndatasize()), and(gt(returndatasize(), 31), eq(mload(0), 1))) }
            }
        }
    }

    /// @dev The machine's outcome of `state`, checked (length n; the shares of `unpaid` sum to
    /// at most the locked deposits) and with every entry outside `unpaid` zeroed, and what it
    /// leaves of the locked deposits.
    function _outcome(Channel memory ch, bytes memory state, uint64 unpaid)
        internal
        view
        returns (uint256[] memory payouts, uint256 remainder)
    {
        uint256 total;
        uint256 n = ch.n;
        payouts = _payouts(ch.machine, state, n);
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
        // Cannot underflow: checked just above.
        unchecked {
            remainder = locked - total;
        }
    }

    /// @dev A close's signed payouts, checked as _outcome checks the machine's (length n; the
    /// total at most the locked deposits) and with nothing for an inactive participant
    /// (PayoutToInactive: the consents must name exactly what is paid), copied to memory; and
    /// what they leave of the locked deposits. One pass over the calldata words in assembly: it
    /// runs once per participant on every close.
    function _signedOutcome(Channel memory ch, uint256[] calldata signed)
        internal
        pure
        returns (uint256[] memory payouts, uint256 remainder)
    {
        uint256 n = ch.n;
        if (signed.length != n) revert OutcomeLengthInvalid(signed.length, n);
        uint64 active = ch.active;
        uint256 total;
        // The first entry paying an inactive participant; n when there is none.
        uint256 inactive = n;
        assembly ("memory-safe") {
            payouts := mload(0x40)
            mstore(payouts, n)
            let out := add(payouts, 0x20)
            calldatacopy(out, signed.offset, shl(5, n))
            mstore(0x40, add(out, shl(5, n)))
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let p := calldataload(add(signed.offset, shl(5, i)))
                if p {
                    if iszero(and(shr(i, active), 1)) {
                        inactive := i
                        break
                    }
                    // Saturates instead of overflowing, as _outcome does.
                    let t := add(total, p)
                    total := or(t, sub(0, lt(t, total)))
                }
            }
        }
        if (inactive != n) revert PayoutToInactive(inactive);
        uint256 locked = ch.locked;
        if (total > locked) revert OutcomeExceedsLocked(total, locked);
        unchecked {
            remainder = locked - total;
        }
    }

    /// @dev Who receives participant `i`'s funds: itself; if it was slashed, whoever proved it
    /// (the beneficiary recorded for it, or else `prover`, the resolving fraud dispute's latest
    /// prover) — and if that prover was slashed later too, whoever proved that, and so on: a
    /// prover convicted afterwards keeps none of its bounties. The chain ends: a slashed
    /// participant can prove nothing more, so each step leads to a prover that was unslashed
    /// when it proved, and the dispute's latest prover is never slashed; the loop is bounded by
    /// n all the same. The payee is a participant's account (`participants[i]`, i < n), never its
    /// session key.
    function _payee(bytes32 channelId, address[] calldata participants, uint64 slashed, uint256 i, uint256 prover)
        internal
        view
        returns (address)
    {
        for (uint256 steps; steps < MAX_PARTICIPANTS && Bitmap.has(slashed, i); ++steps) {
            // One byte per participant, 32 per word: 0 = none recorded, else beneficiary index + 1.
            uint256 recorded = uint8(_beneficiaries[channelId][i >> 5] >> ((i & 31) << 3));
            i = recorded == 0 ? prover : recorded - 1;
        }
        return participants[i];
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
