// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Channel, Phase} from "./ChannelTypes.sol";

/// @title IChannelViews
/// @notice Views a manager serves through its court (the fallback's delegatecall), so that their
/// selectors do not lengthen the dispatch that every call to the manager runs. Called through
/// the manager's address, like every court function; for an eth_call that costs nothing. (The
/// EIP-712 digests are not served at all: clients compute them, src/protocol/eip712.ts, and
/// contracts/test/HashHarness.sol exposes the contracts' own for the equivalence tests.)
interface IChannelViews {
    /// @notice What a channel holds before it opens: its funding so far and the funding's asset
    /// (what the next fund call expects; 0 and address(0) once it is open: the locked amount is
    /// in its record); and a funding in another asset that its open set aside, until reclaim
    /// returns it.
    /// @param channelId The channel id.
    /// @return held The amount.
    /// @return asset Its asset.
    /// @return setAside The funding set aside by the open (0 if none).
    /// @return setAsideAsset Its asset.
    function funding(bytes32 channelId)
        external
        view
        returns (uint256 held, address asset, uint256 setAside, address setAsideAsset);

    /// @notice The one word the manager stores for a channel: its phase (the word's two low bits)
    /// and the word, which commits to the channel's record (keccak256(abi.encode(record)) with
    /// the low bits replaced by the phase; while a dispute is open, the hash of the record's hash
    /// and the DisputeRecord; after closeToClaims, the hash of the record's hash, the payouts and
    /// the claimed bitmap). A client checks the record it rebuilt from the events against it.
    /// @param channelId The channel id.
    /// @return phase The channel's phase (None: not open; the word then holds its funding).
    /// @return word The stored word.
    function channelWord(bytes32 channelId) external view returns (Phase phase, bytes32 word);

    /// @notice Verifies k-of-N signatures on any digest for a channel's active participants.
    /// @param channelId The channel.
    /// @param channel The channel's record as last committed to (see Channel; from its events).
    /// @param participants The channel's member list: participants ‖ signers (participants alone without session keys).
    /// @param digest The signed digest.
    /// @param signers Bitmap of signers.
    /// @param signatures The signatures, in ascending participant order.
    /// @param threshold How many active participants must have signed (k).
    /// @return The verified signer bitmap.
    function verifySignatures(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        bytes32 digest,
        uint64 signers,
        bytes calldata signatures,
        uint256 threshold
    ) external view returns (uint64);

    /// @notice The StateChannelCourt whose code serves the manager's court functions (the address
    /// the manager's fallback delegatecalls). Served by the court itself: its own address, which
    /// is the manager's `court` since the manager runs no other court.
    /// @return The court's address.
    function court() external view returns (address);
}
