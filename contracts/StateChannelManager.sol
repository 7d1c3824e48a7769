// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ADisputeManager} from "./manager/ADisputeManager.sol";

/// @title StateChannelManager
/// @notice Parley's on-chain court: holds balances, opens channels over any IStateMachine,
/// verifies signatures and finality proofs, settles, and runs disputes. Thin concrete contract
/// over the abstract modules ABalances → AChannels → AFinality → ADisputeBase →
/// (ADisputes, AFraud) → ADisputeManager.
contract StateChannelManager is ADisputeManager {}
