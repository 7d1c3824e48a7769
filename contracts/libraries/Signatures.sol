// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IChannelsEvents as I} from "../interfaces/IStateChannelManager.sol";
import {Bitmap} from "./Bitmap.sol";

/// @title Signatures
/// @notice Verifies a set of ECDSA signatures over one digest into a signer bitmap.
/// @dev Signatures are 65-byte (r, s, v) entries concatenated in ascending participant order of
/// the `signers` bitmap, so each one is checked against exactly one participant: O(1) per
/// signature, and no signer can be counted twice.
///
/// Recovery applies exactly OpenZeppelin's `ECDSA.tryRecover(hash, v, r, s)` (5.x) rules, inlined
/// in one assembly loop because the per-signature glue of a library call cost about a third of
/// the `ecrecover` precompile itself (docs/gas.md):
/// - s above secp256k1n / 2 is the malleable twin of a valid signature → SignatureMalleable
///   (OZ's InvalidSignatureS), checked before any recovery, as OZ does;
/// - v = 0 or 1 is read as 27 or 28 (the raw recovery id some wallets return; OZ refuses it);
/// - otherwise the precompile decides: v ∉ {0, 1, 27, 28}, r or s out of range, or no point → no
///   output, and a recovered zero address, are SignatureInvalid (OZ's InvalidSignature);
/// - a precompile call that fails (only out of gas) reverts, as Solidity's `ecrecover` does.
/// contracts/test/SignaturesHarness.sol keeps the OZ-based reference implementation, and
/// test/contracts/signatures-equivalence.test.ts checks both give the same result (or the same
/// revert) on random, malleable and malformed signature sets.
library Signatures {
    /// @dev OZ's bound: s above it is the upper-half (malleable) twin.
    uint256 private constant HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    /// @dev HALF_ORDER + 1, for verifyOne's `s < HALF_ORDER + 1` (s <= HALF_ORDER): another
    /// literal, so the bytecode optimizer keeps choosing how to write HALF_ORDER, which the
    /// signature loops test once per signature, by the loops' uses alone (with a fifth use it
    /// switched to a CODECOPY and an MLOAD: +17 gas per signature in every loop).
    uint256 private constant HALF_ORDER_PLUS_ONE = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A1;
    /// @dev A 64-bit de Bruijn sequence: bits 58..63 of (2^i · DEBRUIJN) differ for every i < 64.
    uint256 private constant DEBRUIJN = 0x03f79d71b4ca8b09;
    /// @dev The bit index i for each 6-bit de Bruijn key k: byte k of INDEX_LOW (k < 32) or
    /// byte k − 32 of INDEX_HIGH.
    uint256 private constant INDEX_LOW = 0x0001380239311c033d3a2a32261d11043e2f3b242d2b33163527211e18120c05;
    uint256 private constant INDEX_HIGH = 0x3f37301b3c2925102e232c153420170b361a280f22141f0a190e13090d080706;

    uint256 private constant MALLEABLE = 1;
    uint256 private constant INVALID = 2;
    uint256 private constant MISMATCH = 3;

    /// @dev Reverts unless every bit of `signers` is backed by that participant's signature.
    function verify(bytes32 digest, address[] calldata participants, uint64 signers, bytes calldata sigs)
        internal
        view
    {
        uint256 n = participants.length;
        if (n < 64 && signers >> n != 0) revert I.SignerIndexOutOfRange(signers, n);
        uint256 expected = Bitmap.count(signers) * 65;
        if (sigs.length != expected) revert I.SignaturesLengthInvalid(expected, sigs.length);
        (uint256 failure, uint256 i, address recovered) = _recoverAll(digest, participants, signers, sigs);
        if (failure != 0) _revert(failure, i, recovered, participants, signers);
    }

    /// @dev `verify` for the single signer `i` (a move's author: every post, response and
    /// timeout), with the same result: a 65-byte low-s signature that recovers to
    /// `participants[i]`'s word passes at once, without the set loop (the recovery lines are the
    /// loop's, written out once more for that); anything else goes through `verify`, which
    /// accepts or names the error exactly as before.
    function verifyOne(bytes32 digest, address[] calldata participants, uint256 i, bytes calldata sig)
        internal
        view
    {
        if (i < participants.length && sig.length == 65) {
            bool ok;
            assembly ("memory-safe") {
                let s := calldataload(add(sig.offset, 0x20))
                if lt(s, HALF_ORDER_PLUS_ONE) {
                    let m := mload(0x40)
                    mstore(m, digest)
                    let v := byte(0, calldataload(add(sig.offset, 0x40)))
                    mstore(add(m, 0x20), add(v, mul(lt(v, 2), 27)))
                    mstore(add(m, 0x40), calldataload(sig.offset))
                    mstore(add(m, 0x60), s)
                    mstore(0, 0)
                    if iszero(staticcall(gas(), 1, m, 0x80, 0, 0x20)) { revert(0, 0) }
                    let r := mload(0)
                    ok := and(iszero(iszero(r)), eq(r, calldataload(add(participants.offset, shl(5, i)))))
                }
            }
            if (ok) return;
        }
        verify(digest, participants, Bitmap.bit(i), sig);
    }

    /// @dev The member list a close's consents and `others` make, in memory (one word per
    /// member): entry i < n is the address recovered from participant i's consent when i is in
    /// `active` (one 65-byte signature each, in ascending order), otherwise the next word of
    /// `others`; the words `others` has left follow (the session keys, when the channel has
    /// them). Nothing here compares an address: the caller hashes the list against the channel's,
    /// and a consent signed by any other key, or over other terms, recovers another address.
    /// Reverts SignaturesLengthInvalid, CloseOthersInvalid (fewer words than inactive
    /// participants), SignatureMalleable(i) (as `verify`) or SignatureInvalid(i) (nothing
    /// recovered). The recovery lines are the verify loop's, written out again: each loop is one
    /// assembly block, and a shared Solidity function would cost a call per signature.
    function recoverMembers(bytes32 digest, uint256 n, uint64 active, address[] calldata others, bytes calldata sigs)
        internal
        view
        returns (address[] memory members)
    {
        uint256 count = Bitmap.count(active);
        if (sigs.length != count * 65) revert I.SignaturesLengthInvalid(count * 65, sigs.length);
        // active lies below bit n (a channel record's), so count <= n.
        if (others.length + count < n) revert I.CloseOthersInvalid(others.length, n - count);
        uint256 failure;
        uint256 at;
        assembly ("memory-safe") {
            members := mload(0x40)
            let size := add(count, others.length)
            mstore(members, size)
            let out := add(members, 0x20)
            // The precompile input (digest, v, r, s) in the 128 bytes past the list, which the
            // free memory pointer now points at (scratch use).
            let m := add(out, shl(5, size))
            mstore(0x40, m)
            mstore(m, digest)
            let p := sigs.offset
            let j := others.offset
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                switch and(shr(i, active), 1)
                case 0 {
                    mstore(add(out, shl(5, i)), calldataload(j))
                    j := add(j, 0x20)
                }
                default {
                    let s := calldataload(add(p, 0x20))
                    if gt(s, HALF_ORDER) {
                        failure := MALLEABLE
                        at := i
                        break
                    }
                    // v = 0 / 1 (hardware wallets' raw recovery id) counts as 27 / 28.
                    let v := byte(0, calldataload(add(p, 0x40)))
                    mstore(add(m, 0x20), add(v, mul(lt(v, 2), 27)))
                    mstore(add(m, 0x40), calldataload(p))
                    mstore(add(m, 0x60), s)
                    // The precompile writes nothing when it cannot recover: clear the output word.
                    mstore(0, 0)
                    if iszero(staticcall(gas(), 1, m, 0x80, 0, 0x20)) { revert(0, 0) }
                    let r := mload(0)
                    if iszero(r) {
                        failure := INVALID
                        at := i
                        break
                    }
                    mstore(add(out, shl(5, i)), r)
                    p := add(p, 65)
                }
            }
            // The words of `others` not used for inactive participants follow the n entries
            // (j - others.offset <= 32 · (n − count) <= 32 · others.length: checked above).
            if iszero(failure) {
                calldatacopy(add(out, shl(5, n)), j, sub(add(others.offset, shl(5, others.length)), j))
            }
        }
        if (failure == MALLEABLE) revert I.SignatureMalleable(at);
        if (failure == INVALID) revert I.SignatureInvalid(at);
    }

    /// @dev Recovers the signature of each set bit of `signers`, lowest first, and compares it
    /// with that participant. Stops at the first failure and returns its kind (0 = none), the
    /// participant index and the recovered address (MISMATCH only). Only the set bits are
    /// visited: the lowest is isolated with x & −x and its index read from a de Bruijn table
    /// (cancun has no CLZ/CTZ opcode), so a signer's cost does not depend on its index. The
    /// error path re-derives the kind after the loop, keeping the loop's stack small.
    function _recoverAll(bytes32 digest, address[] calldata participants, uint64 signers, bytes calldata sigs)
        private
        view
        returns (uint256 failure, uint256 i, address recovered)
    {
        // Bounds: every set bit i is below participants.length (checked by the caller, or
        // i < 64 <= length), so participants[i] is in calldata without a per-signature check;
        // the caller also checked sigs.length == 65 · popcount(signers), so each 65-byte entry
        // read below lies inside `sigs`. The precompile input (digest, v, r, s) is built in
        // the 128 bytes above the free memory pointer, which stays unmoved (scratch use).
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, digest)
            // The de Bruijn index table, as 64 bytes after the precompile input.
            let table := add(m, 0x80)
            mstore(table, INDEX_LOW)
            mstore(add(table, 0x20), INDEX_HIGH)
            let parts := participants.offset
            let rest := signers
            let p := sigs.offset
            for {} rest {} {
                let low := and(rest, sub(0, rest))
                let word := shl(5, shr(248, mload(add(table, and(shr(58, mul(low, DEBRUIJN)), 0x3f)))))
                let s := calldataload(add(p, 0x20))
                if gt(s, HALF_ORDER) { break }
                // v = 0 / 1 (hardware wallets' raw recovery id) counts as 27 / 28.
                let v := byte(0, calldataload(add(p, 0x40)))
                mstore(add(m, 0x20), add(v, mul(lt(v, 2), 27)))
                mstore(add(m, 0x40), calldataload(p))
                mstore(add(m, 0x60), s)
                // The precompile writes nothing when it cannot recover: clear the output word.
                mstore(0, 0)
                if iszero(staticcall(gas(), 1, m, 0x80, 0, 0x20)) { revert(0, 0) }
                let r := mload(0)
                // Zero (no recovery) never passes, even against a zero participant word; a
                // word with dirty upper bits never equals a recovered address.
                if iszero(mul(r, eq(r, calldataload(add(parts, word))))) { break }
                rest := xor(rest, low)
                p := add(p, 65)
            }
            // A break leaves the failed signer's bit in `rest` and `p` at its entry.
            if rest {
                let low := and(rest, sub(0, rest))
                i := shr(248, mload(add(table, and(shr(58, mul(low, DEBRUIJN)), 0x3f))))
                switch gt(calldataload(add(p, 0x20)), HALF_ORDER)
                case 1 { failure := MALLEABLE }
                default {
                    // The output word: zero when the precompile recovered nothing.
                    recovered := mload(0)
                    failure := INVALID
                    if recovered { failure := MISMATCH }
                }
            }
        }
    }

    /// @dev Only runs on failure: names the error of the signature at participant index `i`.
    function _revert(uint256 failure, uint256 i, address recovered, address[] calldata participants, uint64 signers)
        private
        pure
    {
        if (failure == MALLEABLE) revert I.SignatureMalleable(i);
        if (failure == INVALID) revert I.SignatureInvalid(i);
        // The linear scan costs honest callers nothing.
        for (uint256 j; j < participants.length; ++j) {
            if (participants[j] == recovered) {
                if (Bitmap.has(signers, j)) revert I.SignatureDuplicate(i, recovered);
                revert I.SignerMismatch(i, recovered);
            }
        }
        revert I.SignerNotParticipant(i, recovered);
    }
}
