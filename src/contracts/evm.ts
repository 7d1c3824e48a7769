/**
 * The EVM the contracts target and the client runs: the hardforks the client EVM can follow and
 * the manager's gas cap per machine call. Shared by the chain side (hardfork detection, the
 * RPC machine) and the machine side (the local EVM), below both.
 */
import { EVM_VERSION } from './compiler.js'

/** The hardforks the client EVM can run, oldest first. */
export const HARDFORKS = ['cancun', 'prague', 'osaka'] as const

/** A hardfork the client EVM can run (see {@link HARDFORKS}). */
export type Hardfork = (typeof HARDFORKS)[number]

/** What the client EVM runs unless told otherwise: the contracts' evmVersion. */
export const DEFAULT_HARDFORK: Hardfork = EVM_VERSION

/**
 * Whether `value` names a supported hardfork.
 * @example if (!isHardfork(file.hardfork)) throw new Error('bad hardfork')
 */
export function isHardfork(value: unknown): value is Hardfork {
  return typeof value === 'string' && (HARDFORKS as readonly string[]).includes(value)
}

/** The manager's per-call gas cap (StateChannelManager.MACHINE_GAS). */
export const MACHINE_GAS = 5_000_000n
