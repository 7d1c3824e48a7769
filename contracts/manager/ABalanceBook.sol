// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBalancesEvents} from "../interfaces/IStateChannelManager.sol";

/// @title ABalanceBook
/// @notice The balances' storage and the two internal moves on it: channels lock funds from
/// here (open) and settlement credits them back. Shared by the manager and its court.
abstract contract ABalanceBook is IBalancesEvents {
    mapping(address account => mapping(address asset => uint256)) internal _balances;

    /// @dev Takes `amount` from `account`'s balance or reverts with BalanceInsufficient.
    function _debit(address account, address asset, uint256 amount) internal {
        uint256 available = _balances[account][asset];
        if (available < amount) revert BalanceInsufficient(account, asset, available, amount);
        // Cannot underflow: checked just above.
        unchecked {
            _balances[account][asset] = available - amount;
        }
    }

    /// @dev Adds `amount` to `account`'s balance; emits Credited for the channel.
    function _credit(bytes32 channelId, address account, address asset, uint256 amount) internal {
        if (amount == 0) return;
        _balances[account][asset] += amount;
        emit Credited(channelId, account, asset, amount);
    }
}
