// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IChannelViews} from "../interfaces/IChannelViews.sol";
import {Phase} from "../interfaces/ChannelTypes.sol";
import {ACore} from "./ACore.sol";

/// @title AViews
/// @notice The views the court serves for the manager (IChannelViews): a channel's funding, its
/// stored word, and the court's address.
abstract contract AViews is IChannelViews, ACore {
    /// @dev This contract's own address, fixed at its deployment (run by delegatecall,
    /// `address(this)` is the manager's).
    address private immutable _self = address(this);

    /// @inheritdoc IChannelViews
    function court() external view returns (address) {
        return _self;
    }

    /// @inheritdoc IChannelViews
    function funding(bytes32 channelId)
        external
        view
        returns (uint256 held, address asset, uint256 setAside, address setAsideAsset)
    {
        (setAside, setAsideAsset) = _unpack(_strayFunding[channelId]);
        if (_phase(_channels[channelId]) == Phase.None) (held, asset) = _funding(channelId);
    }

    /// @inheritdoc IChannelViews
    function channelWord(bytes32 channelId) external view returns (Phase phase, bytes32 word) {
        uint256 w = _channels[channelId];
        return (_phase(w), bytes32(w));
    }
}
