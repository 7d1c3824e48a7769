// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestToken
/// @notice A plain ERC-20 with an open mint, for tests and the demo only.
contract TestToken is ERC20 {
    constructor() ERC20("Parley Test Token", "PTT") {}

    /// @notice Mints `amount` to `to` (anyone may mint; test use only).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
