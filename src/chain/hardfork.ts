/**
 * Which hardfork a chain runs, found out with one plain `eth_call`.
 *
 * The client runs the machines in a local EVM (machine/EvmStateMachine) and signs what it
 * computes; the chain re-runs them in disputes. If the two EVMs run different hardforks, a
 * transition near a difference (a precompile that exists on one side only, a gas cost) gives
 * different results, and an honest signer could be accused of fraud. So the client's EVM
 * follows the chain's hardfork, which this module detects. (The contracts stay compiled for
 * {@link EVM_VERSION}; that code runs on every later hardfork.)
 *
 * The probe is init code sent with `eth_call` and no `to` (a simulated deployment): no state
 * overrides, no tracing, nothing a public RPC commonly lacks. It returns one byte, a bit per
 * feature, each a positive signal that the feature is there:
 * - cancun: a child CREATE whose init code uses MCOPY (0x5e, EIP-5656) succeeds;
 * - prague: G1ADD (0x0b, EIP-2537) of two points at infinity returns 128 bytes (before
 *   prague 0x0b is an empty account: success with no output);
 * - osaka: a child CREATE whose init code uses CLZ (0x1e, EIP-7939) succeeds.
 * A failing child CREATE burns the 63/64 of the gas it was handed, so the CREATE probes come
 * last and the answer is a single byte: after two failures (a chain before cancun) 1/4096 of
 * the call's gas is left, plenty for the few opcodes and the 200 gas of code deposit.
 */
import type { Provider } from 'ethers'
import { ProtocolError, RuntimeError, UsageError } from '../errors/ParleyError.js'
import { HARDFORKS, isHardfork, type Hardfork } from '../contracts/evm.js'

export { DEFAULT_HARDFORK, HARDFORKS, isHardfork, type Hardfork } from '../contracts/evm.js'

const PUSH1 = 0x60
const PUSH2 = 0x61
const PUSH4 = 0x63
const PUSH8 = 0x67
/** Init code `PUSH1 0 PUSH1 0 PUSH1 0 MCOPY STOP` (8 bytes). */
const MCOPY_CHILD = [0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x5e, 0x00]
/** Init code `PUSH1 1 CLZ STOP` (4 bytes). */
const CLZ_CHILD = [0x60, 0x01, 0x1e, 0x00]

/**
 * The probe's init code. It uses no opcode newer than constantinople (no PUSH0), so on an
 * older chain it still runs and answers 0 instead of failing in a way that looks like an RPC
 * error. Memory 0x000–0x0ff stays zero: it is G1ADD's input (two points at infinity).
 */
export const PROBE_CODE: string = (() => {
  const b: number[] = []
  // prague → bit 1: STATICCALL(gas 0xffff, 0x0b, in 0x00..0x100, out none), then RETURNDATASIZE != 0.
  b.push(PUSH1, 0, PUSH1, 0, PUSH2, 0x01, 0x00, PUSH1, 0, PUSH1, 0x0b, PUSH2, 0xff, 0xff, 0xfa, 0x50)
  b.push(0x3d, 0x15, 0x15, PUSH1, 1, 0x1b) // RETURNDATASIZE ISZERO ISZERO PUSH1 1 SHL
  // cancun → bit 0: MSTORE the child at 0x200 (right-aligned: its bytes at 0x218), CREATE it.
  b.push(PUSH8, ...MCOPY_CHILD, PUSH2, 0x02, 0x00, 0x52)
  b.push(PUSH1, MCOPY_CHILD.length, PUSH2, 0x02, 0x18, PUSH1, 0, 0xf0, 0x15, 0x15, 0x17) // CREATE ISZERO ISZERO OR
  // osaka → bit 2: the CLZ child at 0x21c, CREATE it.
  b.push(PUSH4, ...CLZ_CHILD, PUSH2, 0x02, 0x00, 0x52)
  b.push(PUSH1, CLZ_CHILD.length, PUSH2, 0x02, 0x1c, PUSH1, 0, 0xf0, 0x15, 0x15, PUSH1, 2, 0x1b, 0x17) // … SHL OR
  // RETURN the mask as one byte at 0x400.
  b.push(PUSH2, 0x04, 0x00, 0x53, PUSH1, 1, PUSH2, 0x04, 0x00, 0xf3)
  return `0x${Buffer.from(b).toString('hex')}`
})()

const CANCUN = 1
const PRAGUE = 2
const OSAKA = 4

/**
 * The hardfork named by a probe answer (the mask byte); each hardfork needs its predecessors.
 * Exported for tests; {@link detectHardfork} is the entry point.
 * @example hardforkOfMask(0b011) // 'prague'
 */
export function hardforkOfMask(mask: number): Hardfork | undefined {
  if (mask === CANCUN) return 'cancun'
  if (mask === (CANCUN | PRAGUE)) return 'prague'
  if (mask === (CANCUN | PRAGUE | OSAKA)) return 'osaka'
  return undefined
}

/**
 * The newest supported hardfork active on the chain behind `provider`.
 *
 * A chain newer than the newest hardfork listed in {@link HARDFORKS} is reported as that one:
 * the probe cannot see features it does not know. Update the probe with each hardfork added.
 *
 * Errors: RuntimeError `HARDFORK_UNSUPPORTED` (older than cancun, or features in an order no
 * known hardfork has; `details.mask` holds the answer), RuntimeError `RPC_FAILED`.
 *
 * @example
 * const hardfork = await detectHardfork(provider) // 'cancun' | 'prague' | 'osaka'
 * const machine = await EvmStateMachine.fromChain({ provider, address, hardfork })
 */
export async function detectHardfork(provider: Pick<Provider, 'call'>): Promise<Hardfork> {
  let answer: string
  try {
    answer = await provider.call({ data: PROBE_CODE })
  } catch (cause) {
    throw new RuntimeError('RPC_FAILED', `the hardfork probe (eth_call without to) failed: ${(cause as Error).message}`, { cause })
  }
  if (!/^0x[0-9a-fA-F]{2}$/.test(answer)) {
    throw new RuntimeError('HARDFORK_UNSUPPORTED', `the hardfork probe returned ${answer.slice(0, 20)}, not one byte: this chain does not run the EVM as expected`, { details: { answer: answer.slice(0, 66) } })
  }
  const mask = parseInt(answer.slice(2), 16)
  const hardfork = hardforkOfMask(mask)
  if (!hardfork) {
    throw new RuntimeError('HARDFORK_UNSUPPORTED', `the chain runs none of ${HARDFORKS.join(', ')} (probe answer 0b${mask.toString(2).padStart(3, '0')}): the client EVM cannot follow it`, { details: { mask } })
  }
  return hardfork
}

/** Arguments of {@link resolveHardfork}. */
export interface ResolveHardforkArgs {
  provider: Pick<Provider, 'call'>
  /** The hardfork the caller expects (a deployment's record, an option); checked, not trusted. */
  expected?: Hardfork
}

/**
 * Detects the chain's hardfork and checks it against `expected`, if given.
 *
 * Errors: UsageError `HARDFORK_INVALID` (`expected` is not a supported name), ProtocolError
 * `HARDFORK_MISMATCH` (`details`: `{ expected, chain }`), and {@link detectHardfork}'s.
 *
 * @example
 * const hardfork = await resolveHardfork({ provider, expected: deployment.hardfork })
 */
export async function resolveHardfork(args: ResolveHardforkArgs): Promise<Hardfork> {
  const { expected } = args
  if (expected !== undefined && !isHardfork(expected)) {
    throw new UsageError('HARDFORK_INVALID', `hardfork must be one of ${HARDFORKS.join(', ')}, got ${JSON.stringify(expected)}`)
  }
  const chain = await detectHardfork(args.provider)
  if (expected !== undefined && expected !== chain) {
    throw new ProtocolError('HARDFORK_MISMATCH', `the chain runs ${chain}, but ${expected} was expected: the client EVM must run the chain's hardfork`, {
      details: { expected, chain },
    })
  }
  return chain
}
