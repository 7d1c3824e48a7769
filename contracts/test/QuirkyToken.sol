// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title QuirkyToken
/// @notice Test only: an ERC-20 whose `transfer` to a marked recipient misbehaves the way real
/// tokens do (returns false, reverts, returns nothing like USDT, or burns all gas it is given),
/// for the manager's pushed payouts (closeAndPay).
contract QuirkyToken is ERC20 {
    /// @notice What `transfer` does for a recipient.
    enum Quirk {
        None,
        ReturnFalse,
        Revert,
        ReturnNothing,
        BurnGas
    }

    /// @notice Thrown by `transfer` to a recipient marked Revert.
    error TransferBlocked(address to);

    /// @notice The quirk of each recipient (default None: a plain ERC-20 transfer).
    mapping(address recipient => Quirk) public quirkOf;

    constructor() ERC20("Parley Quirky Token", "PQT") {}

    /// @notice Mints `amount` to `to` (anyone may mint; test use only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Marks `recipient` with `quirk`.
    function setQuirk(address recipient, Quirk quirk) external {
        quirkOf[recipient] = quirk;
    }

    /// @inheritdoc ERC20
    function transfer(address to, uint256 amount) public override returns (bool) {
        Quirk quirk = quirkOf[to];
        if (quirk == Quirk.ReturnFalse) return false;
        if (quirk == Quirk.Revert) revert TransferBlocked(to);
        if (quirk == Quirk.BurnGas) {
            // Spins until the call's gas is gone.
            for (uint256 i; i != type(uint256).max; ++i) {}
        }
        _transfer(msg.sender, to, amount);
        if (quirk == Quirk.ReturnNothing) {
            assembly ("memory-safe") {
                return(0, 0)
            }
        }
        return true;
    }
}
