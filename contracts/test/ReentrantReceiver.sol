// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBalances} from "../interfaces/IStateChannelManager.sol";

/// @title ReentrantReceiver
/// @notice Test-only account that receives ETH withdrawn from the manager and, depending on its
/// mode, rejects it or tries to withdraw again from inside `receive` (reentrancy attack).
contract ReentrantReceiver {
    /// @notice Reject: revert on any ETH. Reenter: call withdraw again and let its failure bubble.
    /// Swallow: call withdraw again, record the failure and accept the ETH.
    enum Mode {
        Reject,
        Reenter,
        Swallow
    }

    /// @notice Thrown by `receive` in Reject mode.
    error ReceiverRejected();

    IBalances public immutable manager;
    Mode public mode;
    /// @notice How often `receive` ran.
    uint256 public received;
    /// @notice Revert data of the last swallowed reentrant call.
    bytes public lastError;

    constructor(IBalances manager_) {
        manager = manager_;
    }

    /// @notice Sets what `receive` does.
    function setMode(Mode mode_) external {
        mode = mode_;
    }

    /// @notice Deposits msg.value as ETH for this contract.
    function depositEth() external payable {
        manager.deposit{value: msg.value}(address(0), address(this), msg.value);
    }

    /// @notice Withdraws `amount` ETH from this contract's balance to itself.
    function withdrawEth(uint256 amount) external {
        manager.withdraw(address(0), amount, address(this));
    }

    receive() external payable {
        received += 1;
        if (mode == Mode.Reject) revert ReceiverRejected();
        if (mode == Mode.Reenter) {
            manager.withdraw(address(0), msg.value, address(this));
        } else {
            try manager.withdraw(address(0), msg.value, address(this)) {}
            catch (bytes memory reason) {
                lastError = reason;
            }
        }
    }
}
