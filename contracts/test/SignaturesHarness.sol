// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IChannelsEvents as I} from "../interfaces/IStateChannelManager.sol";
import {Bitmap} from "../libraries/Bitmap.sol";
import {Signatures} from "../libraries/Signatures.sol";

/// @title SignaturesHarness
/// @notice Test only: runs the library Signatures (one assembly loop around the ecrecover
/// precompile) next to a reference that checks each signature with OpenZeppelin's
/// `ECDSA.tryRecover(hash, v, r, s)` one by one (the library's implementation before it moved to
/// assembly), so a property test can require both to give the same result or the same revert.
contract SignaturesHarness {
    /// @notice Signatures.verify; returns true when it accepts.
    function verify(bytes32 digest, address[] calldata participants, uint64 signers, bytes calldata sigs)
        external
        view
        returns (bool)
    {
        Signatures.verify(digest, participants, signers, sigs);
        return true;
    }

    /// @notice Signatures.verifyOne (one signer, index `i`); returns true when it accepts.
    function verifyOne(bytes32 digest, address[] calldata participants, uint256 i, bytes calldata sig)
        external
        view
        returns (bool)
    {
        Signatures.verifyOne(digest, participants, i, sig);
        return true;
    }

    /// @notice verifyOne next to the reference on the signer set {i}, as `compare` does.
    function compareOne(bytes32 digest, address[] calldata participants, uint256 i, bytes calldata sig)
        external
        view
        returns (bool ok, bytes memory data, bool okReference, bytes memory dataReference)
    {
        (ok, data) = address(this).staticcall(abi.encodeCall(this.verifyOne, (digest, participants, i, sig)));
        (okReference, dataReference) =
            address(this).staticcall(abi.encodeCall(this.verifyReference, (digest, participants, Bitmap.bit(i), sig)));
    }

    /// @notice The OpenZeppelin reference; returns true when it accepts.
    function verifyReference(bytes32 digest, address[] calldata participants, uint64 signers, bytes calldata sigs)
        external
        pure
        returns (bool)
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
        return true;
    }

    /// @notice Runs both on the same input; returns each call's success flag and return or
    /// revert data, so one eth_call compares them.
    function compare(bytes32 digest, address[] calldata participants, uint64 signers, bytes calldata sigs)
        external
        view
        returns (bool ok, bytes memory data, bool okReference, bytes memory dataReference)
    {
        (ok, data) = address(this).staticcall(abi.encodeCall(this.verify, (digest, participants, signers, sigs)));
        (okReference, dataReference) =
            address(this).staticcall(abi.encodeCall(this.verifyReference, (digest, participants, signers, sigs)));
    }

    function _recover(bytes32 digest, bytes calldata sigs, uint256 offset, uint256 i) private pure returns (address) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            let p := add(sigs.offset, offset)
            r := calldataload(p)
            s := calldataload(add(p, 32))
            v := byte(0, calldataload(add(p, 64)))
        }
        // Parley reads the raw recovery id 0 / 1 as 27 / 28 (OZ refuses it).
        if (v < 2) v += 27;
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, v, r, s);
        if (err == ECDSA.RecoverError.InvalidSignatureS) revert I.SignatureMalleable(i);
        if (err != ECDSA.RecoverError.NoError) revert I.SignatureInvalid(i);
        return recovered;
    }

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
