/**
 * The channel's machine as a peer must run it: the chain's bytecode in a local EVM under the
 * chain's hardfork. The hardfork is detected, never assumed: a client EVM on an older
 * hardfork than the chain computes different results near a precompile or gas difference,
 * and the peer would sign states the chain does not reproduce (or accuse an honest peer).
 */
import type { Provider } from 'ethers'
import { resolveHardfork, type Hardfork } from '../chain/hardfork.js'
import { EvmStateMachine } from '../machine/EvmStateMachine.js'
import type { Hex } from '../protocol/types.js'

/** Arguments of {@link loadMachine}. */
export interface LoadMachineArgs {
  provider: Provider
  /** The machine address the channel committed to. */
  address: string
  /** keccak256 of the runtime code, if the caller knows it. */
  expectedCodeHash?: Hex
  /** The hardfork the caller expects (e.g. a deployment's record); the chain must agree. */
  hardfork?: Hardfork
}

/**
 * Detects the chain's hardfork, checks it against `hardfork` if given, and builds the
 * EvmStateMachine from the chain's code under it.
 *
 * Errors: ProtocolError `HARDFORK_MISMATCH` (`details`: `{ expected, chain }`), RuntimeError
 * `HARDFORK_UNSUPPORTED`, UsageError `HARDFORK_INVALID`, and EvmStateMachine.fromChain's.
 *
 * @example
 * const machine = await loadMachine({ provider, address: params.machine, hardfork: deployment.hardfork })
 * machine.hardfork // the chain's, e.g. 'prague'
 */
export async function loadMachine(args: LoadMachineArgs): Promise<EvmStateMachine> {
  const hardfork = await resolveHardfork({ provider: args.provider, ...(args.hardfork !== undefined ? { expected: args.hardfork } : {}) })
  return EvmStateMachine.fromChain({
    provider: args.provider, address: args.address, hardfork,
    ...(args.expectedCodeHash !== undefined ? { expectedCodeHash: args.expectedCodeHash } : {}),
  })
}
