/**
 * The compiler settings of the contract build. Code compiled for this EVM version runs on
 * every later hardfork; the client EVM follows the chain's hardfork instead, which may be
 * newer (see chain/hardfork.ts and machine/EvmStateMachine).
 */

/** EVM version the contracts are compiled for; the default hardfork of anvil and the client EVM. */
export const EVM_VERSION = 'cancun' as const

/**
 * solc standard-JSON settings (without outputSelection).
 *
 * `viaIR` (the Yul pipeline) keeps StateChannelManager, court included, at about 21 KB, under
 * the 24,576-byte EIP-170 limit (the legacy pipeline gives 26.1 KB even at runs = 1) and
 * without "stack too deep" limits on the dispute entry points. It costs compile time (about
 * 30 s instead of 10 s, cached by the build stamp), not gas.
 */
export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  viaIR: true,
  evmVersion: EVM_VERSION,
} as const

/** EIP-170: the largest deployable runtime bytecode (bytes). The build fails above it. */
export const MAX_CODE_SIZE = 24_576
