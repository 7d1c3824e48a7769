// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IBalances} from "../interfaces/IStateChannelManager.sol";
import {ABalanceBook} from "./ABalanceBook.sol";

/// @title ABalances
/// @notice Pull-payment balances per account and asset. Channels lock funds from here and
/// settlement credits them back; only `withdraw` moves assets out of the manager.
abstract contract ABalances is IBalances, ABalanceBook, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @inheritdoc IBalances
    function deposit(address asset, address account, uint256 amount) external payable nonReentrant {
        if (amount == 0) revert BalanceAmountZero();
        if (account == address(0)) revert BalanceRecipientInvalid();
        uint256 received = amount;
        if (asset == address(0)) {
            if (msg.value != amount) revert BalanceValueMismatch(msg.value, amount);
        } else {
            received = _receiveToken(asset, amount);
        }
        _balances[account][asset] += received;
        emit Deposited(account, asset, received);
    }

    /// @dev Takes `amount` of token `asset` from the caller (no ETH may come with it) and returns
    /// what arrived: the manager's balance increase, so fee-on-transfer tokens cannot inflate
    /// anything; never 0. (The ETH case, `msg.value == amount`, stays in the callers: a call here
    /// would cost every ETH deposit a jump.)
    function _receiveToken(address asset, uint256 amount) internal returns (uint256 received) {
        if (msg.value != 0) revert BalanceValueMismatch(msg.value, 0);
        if (asset.code.length == 0) revert BalanceAssetInvalid(asset);
        uint256 before = IERC20(asset).balanceOf(address(this));
        IERC20(asset).safeTransferFrom(msg.sender, address(this), amount);
        received = IERC20(asset).balanceOf(address(this)) - before;
        if (received == 0) revert BalanceAmountZero();
    }

    /// @inheritdoc IBalances
    function withdraw(address asset, uint256 amount, address to) external nonReentrant {
        if (amount == 0) revert BalanceAmountZero();
        if (to == address(0)) revert BalanceRecipientInvalid();
        _debit(msg.sender, asset, amount);
        emit Withdrawn(msg.sender, asset, to, amount);
        if (asset == address(0)) {
            (bool ok,) = payable(to).call{value: amount}("");
            if (!ok) revert BalanceTransferFailed(to, amount);
        } else {
            IERC20(asset).safeTransfer(to, amount);
        }
    }

    /// @inheritdoc IBalances
    function balanceOf(address account, address asset) external view returns (uint256) {
        return _balances[account][asset];
    }
}
