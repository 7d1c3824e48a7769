// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IChannelViews} from "../interfaces/IChannelViews.sol";
import {IERC5267} from "@openzeppelin/contracts/interfaces/IERC5267.sol";
import {Channel, Phase} from "../interfaces/ChannelTypes.sol";
import {AProofs} from "./AProofs.sol";

/// @title AViews
/// @notice The views the court serves for the manager (IChannelViews): a channel's funding, its
/// stored word, k-of-N signatures checked against it, and the court's address; and the EIP-712
/// domain (ERC-5267) of the manager's address.
abstract contract AViews is IChannelViews, IERC5267, AProofs {
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

    /// @inheritdoc IChannelViews
    function verifySignatures(
        bytes32 channelId,
        Channel calldata channel,
        address[] calldata participants,
        bytes32 digest,
        uint64 signers,
        bytes calldata signatures,
        uint256 threshold
    ) external view returns (uint64) {
        Channel memory ch = _openChannel(channelId, channel, participants);
        _verifyThreshold(ch.active, _signersOf(participants, ch), digest, signers, signatures, threshold);
        return signers;
    }

    /// @inheritdoc IERC5267
    /// @dev The manager's domain (run by delegatecall, `address(this)` is the manager): the
    /// domain every signature of its channels is made in (ADomain).
    function eip712Domain()
        external
        view
        returns (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        )
    {
        return (hex"0f", DOMAIN_NAME, DOMAIN_VERSION, block.chainid, address(this), bytes32(0), new uint256[](0));
    }
}
