// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AFinality} from "./manager/AFinality.sol";

/// @title StateChannelManager
/// @notice Parley's on-chain court: holds balances, opens channels over any IStateMachine,
/// verifies signatures and finality proofs, and settles. Thin concrete contract over the
/// abstract modules ABalances → AChannels → AFinality.
contract StateChannelManager is AFinality {}
