// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";

/// @title ADomain
/// @notice The EIP-712 domain of the manager and its court: name "Parley", version "1", the
/// chain's id and the contract the call runs in (`address(this)`: the manager's, for the
/// court's code too, which runs by delegatecall). OpenZeppelin's EIP712 computes the same
/// separator, but it also makes `eip712Domain()` a public function of every contract that
/// inherits it, and a public function of the manager lengthens the selector dispatch that every
/// call runs (22 gas per selector in front): the court serves `eip712Domain()` instead (AViews,
/// ERC-5267), and nothing here is public.
abstract contract ADomain {
    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    /// @dev The domain's name and version, as the client's (src/protocol/eip712.ts).
    string internal constant DOMAIN_NAME = "Parley";
    string internal constant DOMAIN_VERSION = "1";
    /// @dev Their hashes, of the literals: `keccak256(bytes(DOMAIN_NAME))` is not folded at
    /// compile time and would hash the name again on every signature the court checks.
    bytes32 private constant NAME_HASH = keccak256("Parley");
    bytes32 private constant VERSION_HASH = keccak256("1");

    /// @dev The separator at deployment, with the chain and the address it holds for: the
    /// manager uses it; the court's code, run by delegatecall at the manager's address, and any
    /// contract after a chain split recompute it.
    bytes32 private immutable _cachedSeparator;
    uint256 private immutable _cachedChainId;
    address private immutable _cachedThis;

    constructor() {
        _cachedChainId = block.chainid;
        _cachedThis = address(this);
        _cachedSeparator = _buildSeparator();
    }

    /// @dev The domain separator for this chain and the address the code runs at.
    function _domainSeparator() internal view returns (bytes32) {
        if (address(this) == _cachedThis && block.chainid == _cachedChainId) return _cachedSeparator;
        return _buildSeparator();
    }

    function _buildSeparator() private view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, block.chainid, address(this)));
    }

    /// @dev The EIP-712 digest of `structHash` in this domain: keccak256("\x19\x01" ‖ separator ‖ structHash).
    function _hashTypedDataV4(bytes32 structHash) internal view returns (bytes32) {
        return MessageHashUtils.toTypedDataHash(_domainSeparator(), structHash);
    }
}
