// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Forwarder
/// @notice Test-only relay: `forward(target, data)` calls `target` with `data` and the value
/// sent, so a call reaches `target` from a contract rather than as the top-level transaction.
/// It serves two uses:
/// - as a deployed relay: anyone may call it, and `target` sees msg.sender == the Forwarder;
/// - as EIP-7702 delegate code: an EOA delegates to the Forwarder and sends a transaction to
///   itself calling `forward`; `target` then sees msg.sender == the EOA, while the
///   transaction's `to` and `data` are the EOA and the `forward` call.
/// @dev The two uses are told apart by `address(this)`: deployed, it equals the address stored
/// at construction (an immutable, which lives in the code and so travels with the delegation);
/// as delegate code it is the EOA. Delegated, only the EOA itself may call `forward`: any
/// other caller could otherwise spend the EOA's ETH and act as the EOA. Deployed, the relay
/// holds nothing and acts as itself, so it stays open to anyone.
contract Forwarder {
    /// @notice Thrown when someone other than the delegating EOA calls `forward` on it.
    error ForwarderUnauthorized(address caller);

    /// @dev The Forwarder's own address; differs from address(this) when run as delegate code.
    address private immutable _deployed;

    constructor() {
        _deployed = address(this);
    }

    /// @notice Calls `target` with `data` and msg.value; a revert's data bubbles up unchanged.
    /// @param target The contract to call.
    /// @param data The calldata for `target`.
    /// @return The data `target` returned.
    function forward(address target, bytes calldata data) external payable returns (bytes memory) {
        if (address(this) != _deployed && msg.sender != address(this)) revert ForwarderUnauthorized(msg.sender);
        (bool ok, bytes memory result) = target.call{value: msg.value}(data);
        if (!ok) {
            // Re-raise the callee's revert data as is, so callers decode the target's own error.
            assembly {
                revert(add(result, 32), mload(result))
            }
        }
        return result;
    }

    /// @notice Accepts ETH. A delegating EOA runs this code on every plain transfer it
    /// receives (a manager's withdrawal to it, for one); without it those transfers revert.
    receive() external payable {}
}
