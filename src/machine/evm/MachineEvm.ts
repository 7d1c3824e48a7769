/**
 * One local EVM holding one machine's runtime code, tuned for many small static calls.
 *
 * What is set up once, not per call: the Common (the chain's hardfork, chain/hardfork.ts), the
 * EVM and its state manager, the code at a fixed address, the warm-address set, the opcode tables
 * (`opcodes.ts`) and the interpreter loop (`fastRun.ts`). A call is `evm.runCode` with
 * `isStatic` — the same frame the manager's `staticcall` creates, without runCall's nonce bump
 * and journal checkpoint/commit, which a static call never needs.
 *
 * Fidelity to the chain: the machine runs with its code at its own address, the given gas as
 * its frame's gas (like `staticcall{gas: MACHINE_GAS}`), the hardfork's precompiles and its own
 * address warm (as they are on chain inside that frame), and a fresh warm set on every call.
 * The hardfork must be the chain's: precompiles come and go with it (prague adds BLS12-381 at
 * 0x0b–0x11, osaka P256VERIFY at 0x100), and so do gas costs and opcodes. It sees an
 * empty world and a default block: machines are pure by contract (IStateMachine), so a machine
 * that reads chain state would already be non-deterministic on chain.
 *
 * Nothing a call does outlives it (a static frame on that empty world changes only the warm
 * set, reset after each call), so one instance serves every channel running the same code at
 * the same address under the same hardfork: MachineEvmCache.ts shares them.
 */
import { EVMError, createEVM, paramsEVM, type EVM } from '@ethereumjs/evm'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createAddressFromString, type Account, type Address } from '@ethereumjs/util'
import { DEFAULT_HARDFORK, HARDFORKS, type Hardfork as ChainHardfork } from '../../contracts/evm.js'
import { UsageError } from '../../errors/ParleyError.js'
import { enableFastRun, runStaticFrame } from './fastRun.js'
import { fastOpcodes } from './opcodes.js'

/** How a call ended. `data` is the return data or the revert data. */
export type ExecOutcome =
  | { kind: 'ok'; data: Uint8Array; gasUsed: bigint }
  | { kind: 'revert'; data: Uint8Array; gasUsed: bigint }
  | { kind: 'outOfGas'; gasUsed: bigint }
  /** Any other exceptional halt (invalid opcode, bad jump, stack error, static violation). */
  | { kind: 'halt'; reason: string; gasUsed: bigint }

/** Options of {@link MachineEvm.create}. */
export interface MachineEvmOptions {
  /** Address the code runs at (its `address(this)`); default 0x…ba5e. */
  address?: string
  /** Set false to run ethereumjs's stock interpreter loop and opcodes (for comparisons). */
  fast?: boolean
  /** The chain's hardfork (default cancun, the contracts' evmVersion). */
  hardfork?: ChainHardfork
}

/** ethereumjs's name of each hardfork we support. */
const ETHEREUMJS_HARDFORKS: Record<ChainHardfork, Hardfork> = { cancun: Hardfork.Cancun, prague: Hardfork.Prague, osaka: Hardfork.Osaka }

/**
 * @example
 * const evm = await MachineEvm.create(runtimeCode, { hardfork: await detectHardfork(provider) })
 * const out = await evm.execute(calldata, 5_000_000n)
 * if (out.kind === 'ok') use(out.data)
 */
export class MachineEvm {
  /** Whether the fast interpreter loop is active (false means stock speed, same results). */
  readonly fastRun: boolean
  /** The hardfork the code runs under. */
  readonly hardfork: ChainHardfork
  private readonly evm: EVM
  private readonly code: Uint8Array
  private readonly to: Address
  private readonly contract: Account
  private readonly warm: string[]
  private busy: Promise<void> | undefined

  private constructor(evm: EVM, code: Uint8Array, to: Address, contract: Account, fastRun: boolean, hardfork: ChainHardfork) {
    this.evm = evm
    this.code = code
    this.to = to
    this.contract = contract
    this.fastRun = fastRun
    this.hardfork = hardfork
    // The hardfork's precompiles as ethereumjs activated them (keys: 40 hex digits, no 0x).
    this.warm = [...evm.precompiles.keys(), to.toString().slice(2)]
    this.resetWarmSet(true)
  }

  /**
   * Builds the EVM and puts `code` (runtime bytecode) at the machine address.
   * UsageError `HARDFORK_INVALID` for a hardfork we do not support.
   */
  static async create(code: Uint8Array, opts: MachineEvmOptions = {}): Promise<MachineEvm> {
    const name = opts.hardfork ?? DEFAULT_HARDFORK
    const hardfork = Object.hasOwn(ETHEREUMJS_HARDFORKS, name) ? ETHEREUMJS_HARDFORKS[name] : undefined
    if (!hardfork) throw new UsageError('HARDFORK_INVALID', `hardfork must be one of ${HARDFORKS.join(', ')}, got ${JSON.stringify(name)}`)
    // Always explicit: ethereumjs's default hardfork need not be the chain's.
    const common = new Common({ chain: Mainnet, hardfork, params: paramsEVM })
    const fast = opts.fast ?? true
    const evm = await createEVM({ common, ...(fast ? { customOpcodes: fastOpcodes(common) } : {}) })
    if (fast) memoizeEipLookups(common)
    const to = createAddressFromString(opts.address ?? '0x000000000000000000000000000000000000ba5e')
    await evm.stateManager.putCode(to, code)
    const contract = await evm.stateManager.getAccount(to)
    if (!contract) throw new Error('the machine account vanished from the state manager')
    const fastRun = fast ? await enableFastRun(evm) : false
    // One empty call sets the EVM's block and transaction context, which runStaticFrame reuses.
    await evm.runCode({ code: Uint8Array.of(0x00), gasLimit: 1n, to, isStatic: true })
    return new MachineEvm(evm, code, to, contract, fastRun, name)
  }

  /** Whether this instance runs exactly `code` (byte for byte). */
  hasCode(code: Uint8Array): boolean {
    return Buffer.compare(Buffer.from(this.code.buffer, this.code.byteOffset, this.code.length), Buffer.from(code.buffer, code.byteOffset, code.length)) === 0
  }

  /**
   * Runs one static call of the machine with `calldata` and at most `gasLimit` gas.
   * Calls are serialised (one EVM, one call at a time); each starts from a clean warm set.
   */
  async execute(calldata: Uint8Array, gasLimit: bigint): Promise<ExecOutcome> {
    while (this.busy) await this.busy
    let release!: () => void
    this.busy = new Promise<void>((r) => (release = r))
    try {
      const frame = { code: this.code, data: calldata, gasLimit, to: this.to, contract: this.contract }
      const direct = runStaticFrame(this.evm, frame)
      let data: Uint8Array
      let err: EVMError | undefined
      let gasUsed: bigint
      if (direct) {
        const r = await direct
        data = r.returnValue
        err = r.exceptionError
        gasUsed = gasLimit - r.gasLeft
      } else {
        const r = await this.evm.runCode({ code: this.code, data: calldata, gasLimit, to: this.to, isStatic: true })
        data = r.returnValue
        err = r.exceptionError
        gasUsed = r.executionGasUsed
      }
      if (!err) return { kind: 'ok', data, gasUsed }
      if (err.error === EVMError.errorMessages.REVERT) return { kind: 'revert', data, gasUsed }
      // Every other exceptional halt consumes the frame's gas.
      if (err.error === EVMError.errorMessages.OUT_OF_GAS) return { kind: 'outOfGas', gasUsed: gasLimit }
      return { kind: 'halt', reason: err.error, gasUsed: gasLimit }
    } finally {
      this.resetWarmSet()
      this.busy = undefined
      release()
    }
  }

  /**
   * Forgets addresses and slots warmed by the last call (the chain starts every transaction
   * cold) and re-marks the ones warm in a machine frame on chain.
   */
  private resetWarmSet(force = false): void {
    const journal = this.evm.journal
    // The warmed set is the journal's private `journal` map; if that ever changes shape, reset every time.
    const warmed = (journal as unknown as { journal?: unknown }).journal
    if (!force && warmed instanceof Map && warmed.size === 0) return // nothing warmed
    journal.cleanJournal()
    for (const a of this.warm) journal.addAlwaysWarmAddress(a)
  }
}

/**
 * ethereumjs asks `common.isActivatedEIP(n)` several times per opcode and answers with a
 * linear scan of the active EIPs. The answer is fixed for our Common (we never change its
 * hardfork or EIPs), so memoize it in a Set built through the public method itself.
 */
function memoizeEipLookups(common: Common): void {
  const active = new Set<number>()
  for (let eip = 1; eip < 10_000; eip++) if (common.isActivatedEIP(eip)) active.add(eip)
  Object.defineProperty(common, 'isActivatedEIP', { value: (eip: number) => active.has(eip) })
}
