/**
 * The {@link StateMachine} every peer uses: the channel's machine bytecode, fetched from the
 * chain and checked, run in a local EVM (`evm/MachineEvm.ts`) under the chain's hardfork
 * with the manager's gas cap. Machines with the same code, address and hardfork share one local
 * EVM (evm/MachineEvmCache.ts): each channel keeps its own EvmStateMachine (gas cap, ABI), and
 * the code is still fetched and checked per channel. Same bytecode, same hardfork, same gas ⇒ same results as the
 * chain's `staticcall`, without a round trip. The hardfork is the caller's to give (default
 * cancun): detect it with chain/hardfork.ts `detectHardfork`, as createPeer does; a wrong one
 * can make a transition differ from the chain's near a precompile or gas difference.
 *
 * Errors:
 * - the machine reverts or halts → ProtocolError `MACHINE_REVERTED`, `details` = `{ method,
 *   machine, errorName?, error?, signature?, args?, data, halt? }` (custom error decoded when
 *   known; `error` repeats `errorName` under the key RpcStateMachine and toParleyError use);
 * - it exceeds the gas cap → ProtocolError `MACHINE_OUT_OF_GAS`;
 * - it returns data that does not decode → ProtocolError `MACHINE_RESULT_INVALID`;
 * - bad arguments (non-hex, out-of-range numbers) → UsageError `MACHINE_INPUT_INVALID`;
 *   a hardfork we do not support → UsageError `HARDFORK_INVALID`;
 * - `fromChain`: no code → ProtocolError `MACHINE_CODE_MISSING`; code hash differs from the
 *   committed one → ProtocolError `MACHINE_CODE_MISMATCH`; RPC failure → RuntimeError.
 */
import { Interface, getAddress, keccak256, type InterfaceAbi, type Provider } from 'ethers'
import { DEFAULT_HARDFORK, MACHINE_GAS, type Hardfork } from '../contracts/evm.js'
import { ProtocolError, RuntimeError, UsageError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import type { MachineMethod } from './abi.js'
import {
  decodeBool,
  decodeBytes,
  decodeUint16,
  decodeUintArray,
  encodeInitialState,
  encodeOnRemove,
  encodeStateCall,
  encodeTransition,
} from './codec.js'
import { MachineEvm } from './evm/MachineEvm.js'
import { sharedMachineEvms, type MachineEvmCache } from './evm/MachineEvmCache.js'
import { decodeMachineRevert } from './revert.js'
import type { StateMachine } from './StateMachine.js'

/** Options shared by both constructors. */
export interface EvmStateMachineOptions {
  /** The machine's ABI (or Interface), to decode its own custom errors. */
  abi?: InterfaceAbi | Interface
  /** Gas per call (default: the manager's MACHINE_GAS, 5,000,000). */
  gasCap?: bigint
  /** The chain's hardfork, which the local EVM runs (default cancun). */
  hardfork?: Hardfork
  /**
   * Where the local EVM comes from: default the process-wide cache (one EVM per code, address
   * and hardfork, shared by every channel running it: evm/MachineEvmCache.ts); a cache of your
   * own; or `false` for a private EVM per machine (~350 KiB each, the behaviour before sharing).
   */
  evmCache?: MachineEvmCache | false
}

/** Arguments of {@link EvmStateMachine.fromChain}. */
export interface FromChainArgs extends EvmStateMachineOptions {
  provider: Provider
  /** The machine address the channel committed to (ChannelParams.machine). */
  address: string
  /** If given, keccak256 of the runtime code must equal it. */
  expectedCodeHash?: Hex
  /** Block tag to read the code at (default 'latest'). */
  blockTag?: string | number
}

const DEFAULT_ADDRESS = '0x000000000000000000000000000000000000ba5e'

/**
 * @example
 * const hardfork = await detectHardfork(provider)
 * const machine = await EvmStateMachine.fromChain({ provider, address: params.machine, hardfork })
 * const next = await machine.transition(state, 0, move, clock.now())
 */
export class EvmStateMachine implements StateMachine {
  /** Address the code runs at (the on-chain address for `fromChain`). */
  readonly address: Hex
  /** keccak256 of the runtime code. */
  readonly codeHash: Hex
  /** Gas each call may use. */
  readonly gasCap: bigint
  /** The hardfork the local EVM runs. */
  readonly hardfork: Hardfork
  private readonly evm: MachineEvm
  private readonly errors: Interface | undefined

  private constructor(evm: MachineEvm, address: Hex, codeHash: Hex, opts: EvmStateMachineOptions) {
    this.evm = evm
    this.address = address
    this.codeHash = codeHash
    this.gasCap = opts.gasCap ?? MACHINE_GAS
    this.hardfork = evm.hardfork
    this.errors = opts.abi === undefined ? undefined : opts.abi instanceof Interface ? opts.abi : new Interface(opts.abi)
  }

  /** Whether the fast interpreter loop is on (false: stock ethereumjs speed, same results). */
  get fastRun(): boolean {
    return this.evm.fastRun
  }

  /**
   * Fetches the runtime code at `address` with `eth_getCode`, checks it, and prepares the EVM.
   * @example
   * const m = await EvmStateMachine.fromChain({ provider, address, expectedCodeHash, hardfork: 'prague' })
   */
  static async fromChain(args: FromChainArgs): Promise<EvmStateMachine> {
    const { provider, expectedCodeHash, ...opts } = args
    let address: Hex
    try {
      address = getAddress(args.address).toLowerCase() as Hex
    } catch (cause) {
      throw new UsageError('MACHINE_INPUT_INVALID', `not an address: ${String(args.address)}`, { cause })
    }
    let code: string
    try {
      code = await provider.getCode(address, args.blockTag)
    } catch (cause) {
      throw new RuntimeError('RPC_FAILED', `eth_getCode(${address}) failed`, { details: { address }, cause })
    }
    if (code === '0x' || code === '') {
      throw new ProtocolError('MACHINE_CODE_MISSING', `no contract code at machine address ${address}`, { details: { address } })
    }
    const codeHash = keccak256(code) as Hex
    if (expectedCodeHash !== undefined && codeHash !== expectedCodeHash.toLowerCase()) {
      throw new ProtocolError('MACHINE_CODE_MISMATCH', `the code at ${address} is not the committed machine`, {
        details: { address, expected: expectedCodeHash, actual: codeHash },
      })
    }
    return EvmStateMachine.build(Buffer.from(code.slice(2), 'hex'), address, codeHash, opts)
  }

  /**
   * Runs the given runtime bytecode (for tests and offline tools).
   * @example const m = await EvmStateMachine.fromBytecode(artifact.deployedBytecode, artifact.abi)
   */
  static async fromBytecode(runtimeCode: Hex, abi?: InterfaceAbi | Interface, opts: EvmStateMachineOptions & { address?: string } = {}): Promise<EvmStateMachine> {
    if (typeof runtimeCode !== 'string' || !/^0x(?:[0-9a-fA-F]{2})+$/.test(runtimeCode)) {
      throw new UsageError('MACHINE_INPUT_INVALID', 'runtime code must be non-empty 0x-prefixed hex', { details: { runtimeCode: String(runtimeCode).slice(0, 80) } })
    }
    const address = (opts.address ?? DEFAULT_ADDRESS).toLowerCase() as Hex
    return EvmStateMachine.build(Buffer.from(runtimeCode.slice(2), 'hex'), address, keccak256(runtimeCode) as Hex, { ...opts, ...(abi ? { abi } : {}) })
  }

  private static async build(code: Uint8Array, address: Hex, codeHash: Hex, opts: EvmStateMachineOptions): Promise<EvmStateMachine> {
    if (opts.gasCap !== undefined && (typeof opts.gasCap !== 'bigint' || opts.gasCap <= 0n)) {
      throw new UsageError('MACHINE_INPUT_INVALID', `gasCap must be a positive bigint, got ${String(opts.gasCap)}`)
    }
    const hardfork = opts.hardfork ?? DEFAULT_HARDFORK
    const cache = opts.evmCache ?? sharedMachineEvms
    const evm = cache === false
      ? await MachineEvm.create(code, { address, hardfork })
      : await cache.get(code, { codeHash, address, hardfork })
    return new EvmStateMachine(evm, address, codeHash, opts)
  }

  async initialState(deposits: readonly bigint[], initData: Hex): Promise<Hex> {
    return decodeBytes('initialState', await this.call('initialState', encodeInitialState(deposits, initData)))
  }

  async transition(state: Hex, actor: number, data: Hex, timestamp: bigint): Promise<Hex> {
    return decodeBytes('transition', await this.call('transition', encodeTransition(state, actor, data, timestamp)))
  }

  async nextActor(state: Hex): Promise<number> {
    return decodeUint16('nextActor', await this.call('nextActor', encodeStateCall('nextActor', state)))
  }

  async outcome(state: Hex): Promise<bigint[]> {
    return decodeUintArray('outcome', await this.call('outcome', encodeStateCall('outcome', state)))
  }

  async isTerminal(state: Hex): Promise<boolean> {
    return decodeBool('isTerminal', await this.call('isTerminal', encodeStateCall('isTerminal', state)))
  }

  async onRemove(state: Hex, index: number): Promise<Hex> {
    return decodeBytes('onRemove', await this.call('onRemove', encodeOnRemove(state, index)))
  }

  /**
   * Calls any function of the machine in the local EVM, like `eth_call` without a round trip:
   * e.g. a move encoder or `decodeState` (machine/MachineAbi.ts). Returns the raw return data;
   * failures throw as the IStateMachine methods do (`details.method` = 'staticCall').
   * @example const ret = await machine.staticCall(iface.encodeFunctionData('decodeState', [state]) as Hex)
   */
  async staticCall(calldata: Hex): Promise<Hex> {
    if (typeof calldata !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(calldata)) {
      throw new UsageError('MACHINE_INPUT_INVALID', 'calldata must be 0x-prefixed hex of whole bytes', { details: { calldata: String(calldata).slice(0, 80) } })
    }
    const out = await this.call('staticCall', Buffer.from(calldata.slice(2), 'hex'))
    return `0x${Buffer.from(out.buffer, out.byteOffset, out.length).toString('hex')}` as Hex
  }

  private async call(method: MachineMethod | 'staticCall', calldata: Uint8Array): Promise<Uint8Array> {
    const out = await this.evm.execute(calldata, this.gasCap)
    if (out.kind === 'ok') return out.data
    const base = { method, machine: this.address }
    if (out.kind === 'outOfGas') {
      throw new ProtocolError('MACHINE_OUT_OF_GAS', `machine ${method} exceeded its gas cap of ${this.gasCap}`, {
        details: { ...base, gasCap: this.gasCap },
      })
    }
    if (out.kind === 'halt') {
      throw new ProtocolError('MACHINE_REVERTED', `machine ${method} halted: ${out.reason}`, { details: { ...base, halt: out.reason, data: '0x' } })
    }
    const r = decodeMachineRevert(out.data, this.errors)
    throw new ProtocolError('MACHINE_REVERTED', `machine ${method} reverted${r.errorName ? `: ${r.errorName}` : ''}`, {
      details: { ...base, ...r, ...(r.errorName ? { error: r.errorName } : {}) },
    })
  }
}
