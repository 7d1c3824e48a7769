// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IStateChannelManager as I} from "../interfaces/IStateChannelManager.sol";
import {Bitmap} from "./Bitmap.sol";

/// @title Signatures
/// @notice Verifies a set of ECDSA signatures over one digest into a signer bitmap.
/// @dev Signatures are 65-byte (r, s, v) entries concatenated in ascending participant order of
/// the `signers` bitmap, so each one is checked against exactly one participant: O(1) per
/// signature, and no signer can be counted twice. OpenZeppelin's ECDSA rejects malleable
/// (upper-half s) and malformed signatures.
library Signatures {
    /// @dev Reverts unless every bit of `signers` is backed by that participant's signature.
    function verify(bytes32 digest, address[] calldata participants, uint64 signers, bytes calldata sigs)
        internal
        pure
    {
        uint256 n = participants.length;
        if (n < 64 && signers >> n != 0) revert I.SignerIndexOutOfRange(signers, n);
        uint256 expected = Bitmap.count(signers) * 65;
        if (sigs.length != expected) revert I.SignaturesLengthInvalid(expected, sigs.length);
        uint256 offset;
        uint64 rest = signers;
        for (uint256 i; rest != 0; ++i) {
            if (rest & 1 == 1) {
                address recovered = _recover(digest, sigs, offset, i);
                if (recovered != participants[i]) _revertMismatch(i, recovered, participants, signers);
                offset += 65;
            }
            rest >>= 1;
        }
    }

    function _recover(bytes32 digest, bytes calldata sigs, uint256 offset, uint256 i) private pure returns (address) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        // Reads one 65-byte entry straight from calldata; offset + 65 <= sigs.length holds
        // because the length was checked against the number of signers.
        assembly ("memory-safe") {
            let p := add(sigs.offset, offset)
            r := calldataload(p)
            s := calldataload(add(p, 32))
            v := byte(0, calldataload(add(p, 64)))
        }
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, v, r, s);
        if (err == ECDSA.RecoverError.InvalidSignatureS) revert I.SignatureMalleable(i);
        if (err != ECDSA.RecoverError.NoError) revert I.SignatureInvalid(i);
        return recovered;
    }

    /// @dev Only runs on failure, so the linear scan costs honest callers nothing.
    function _revertMismatch(uint256 i, address recovered, address[] calldata participants, uint64 signers)
        private
        pure
    {
        for (uint256 j; j < participants.length; ++j) {
            if (participants[j] == recovered) {
                if (Bitmap.has(signers, j)) revert I.SignatureDuplicate(i, recovered);
                revert I.SignerMismatch(i, recovered);
            }
        }
        revert I.SignerNotParticipant(i, recovered);
    }
}
