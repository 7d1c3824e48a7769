/**
 * The compiler settings shared by the contract build and the client EVM. The client runs
 * the machines' bytecode under exactly this hardfork (see machine/EvmStateMachine).
 */

/** EVM version the contracts are compiled for, and the hardfork of the client EVM. */
export const EVM_VERSION = 'cancun' as const

/** solc standard-JSON settings (without outputSelection). */
export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: EVM_VERSION,
} as const
