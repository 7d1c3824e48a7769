// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Phase} from "./ChannelTypes.sol";

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

    /// @notice The StateChannelCourt whose code serves the manager's court functions (the address
    /// the manager's fallback delegatecalls). Served by the court itself: its own address, which
    /// is the manager's `court` since the manager runs no other court.
    /// @return The court's address.
    function court() external view returns (address);
}
