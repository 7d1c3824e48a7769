// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IChannelViews
/// @notice Views a manager serves through its court (the fallback's delegatecall), so that their
/// selectors do not lengthen the dispatch that every call to the manager runs. Called through
/// the manager's address, like every court function; for an eth_call that costs nothing. (The
/// EIP-712 digests are not served at all: clients compute them, src/protocol/eip712.ts, and
/// contracts/test/HashHarness.sol exposes the contracts' own for the equivalence tests.)
interface IChannelViews {
    /// @notice What a channel holds: its funding so far and the funding's asset while it is not
    /// open (what the next fund call expects), its locked deposits and its asset once it is; and
    /// a funding in another asset that its open set aside, until reclaim returns it.
    /// @param channelId The channel id.
    /// @return held The amount.
    /// @return asset Its asset.
    /// @return setAside The funding set aside by the open (0 if none).
    /// @return setAsideAsset Its asset.
    function funding(bytes32 channelId)
        external
        view
        returns (uint256 held, address asset, uint256 setAside, address setAsideAsset);
}
