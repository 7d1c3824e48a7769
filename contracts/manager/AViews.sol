// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IChannelViews} from "../interfaces/IChannelViews.sol";
import {ChannelParams, Phase, Transaction} from "../interfaces/ChannelTypes.sol";
import {ParleyHash} from "../libraries/ParleyHash.sol";
import {ACore} from "./ACore.sol";

/// @title AViews
/// @notice The views the court serves for the manager (IChannelViews): digests and funding.
abstract contract AViews is IChannelViews, ACore {
    /// @inheritdoc IChannelViews
    function channelIdOf(ChannelParams calldata params) external view returns (bytes32) {
        return _hashTypedDataV4(ParleyHash.channelParams(params));
    }

    /// @inheritdoc IChannelViews
    function hashTransaction(Transaction calldata transaction) external view returns (bytes32) {
        return _hashTypedDataV4(ParleyHash.transaction(transaction));
    }

    /// @inheritdoc IChannelViews
    function hashClose(bytes32 channelId, uint64 fork, bytes32 stateHash) external view returns (bytes32) {
        return _hashTypedDataV4(ParleyHash.close(channelId, fork, stateHash));
    }

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
