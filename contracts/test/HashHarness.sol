// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ADomain} from "../manager/ADomain.sol";
import {ChannelParams, Transaction} from "../interfaces/ChannelTypes.sol";
import {ParleyHash} from "../libraries/ParleyHash.sol";

/// @title HashHarness
/// @notice Test only: the EIP-712 digests the manager computes (ParleyHash under ADomain, the
/// "Parley" / "1" domain, at this contract's address), exposed so that a property test can compare them
/// with the TypeScript hasher. The manager keeps them internal: clients compute digests
/// themselves, and every public selector lengthens the dispatch all of the manager's calls run.
contract HashHarness is ADomain {
    /// @notice The channel id (= EIP-712 digest) of `params` under this contract's domain.
    function channelIdOf(ChannelParams calldata params) external view returns (bytes32) {
        return _hashTypedDataV4(ParleyHash.channelParams(params));
    }

    /// @notice The EIP-712 digest of `transaction` under this contract's domain.
    function hashTransaction(Transaction calldata transaction) external view returns (bytes32) {
        return _hashTypedDataV4(ParleyHash.transaction(transaction));
    }

    /// @notice The same digest through ParleyHash.transactionAt (the calldata words).
    function hashTransactionAt(Transaction calldata transaction) external view returns (bytes32) {
        return _hashTypedDataV4(ParleyHash.transactionAt(transaction));
    }

    /// @notice The EIP-712 digest of CloseChannel(channelId, fork, stateHash, payouts) under
    /// this contract's domain.
    function hashClose(bytes32 channelId, uint64 fork, bytes32 stateHash, uint256[] calldata payouts)
        external
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(ParleyHash.close(channelId, fork, stateHash, payouts));
    }
}
