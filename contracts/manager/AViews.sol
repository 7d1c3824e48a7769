// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IChannelViews} from "../interfaces/IChannelViews.sol";
import {Phase} from "../interfaces/ChannelTypes.sol";
import {ACore} from "./ACore.sol";

/// @title AViews
/// @notice The views the court serves for the manager (IChannelViews): a channel's funding.
abstract contract AViews is IChannelViews, ACore {
    /// @inheritdoc IChannelViews
    function funding(bytes32 channelId)
        external
        view
        returns (uint256 held, address asset, uint256 setAside, address setAsideAsset)
    {
        (setAside, setAsideAsset) = _unpack(_strayFunding[channelId]);
        if (_channels[channelId].phase != Phase.None) {
            return (_channels[channelId].locked, _channels[channelId].asset, setAside, setAsideAsset);
        }
        (held, asset) = _funding(channelId);
    }
}
