// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ADisputeManager} from "./manager/ADisputeManager.sol";
import {AReclaim} from "./manager/AReclaim.sol";
import {AViews} from "./manager/AViews.sol";

/// @title StateChannelCourt
/// @notice The dispute functions of a StateChannelManager (IDisputeManager): calldata posts,
/// timeouts and concludes, exits and force-closes, answers and extensions, challenges, fraud
/// proofs with slashing, and resolution; `reclaim` (IReclaim) and the views of IChannelViews
/// (funding, channelWord, court), kept out of the manager's dispatch. Deployed once and run only by the manager's fallback
/// through delegatecall, on the manager's storage: called directly, it sees an empty store and
/// every call reverts (no channel exists here). Modules: ADisputeBase → (ADisputes, AFraud) →
/// ADisputeManager, over the shared ACore and AProofs.
contract StateChannelCourt is ADisputeManager, AReclaim, AViews {}
