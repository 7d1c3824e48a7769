/**
 * A machine's own ABI, read by convention, so that tools can speak the machine without
 * hand-encoding hex:
 *
 * - every `pure` function whose one output is `bytes move` is a **move encoder**: the move
 *   `play rock` is the call `play("rock")`, its arguments parsed by the ABI types, run locally
 *   (EvmStateMachine.staticCall: nothing leaves the machine, so an encoder may take secrets,
 *   like a commit–reveal salt) and its result is the move data;
 * - `decodeState(bytes) returns (…)` reads a state field by field;
 * - the machine's custom errors name a revert (`NotYourTurn(player=1)` rather than `0x…`).
 *
 * Errors: UsageError `MOVE_UNKNOWN` (no such encoder), `MOVE_ARGS_INVALID` (an argument does
 * not parse as its type, a wrong count, or the encoder reverts on it); the machine's failures
 * (ProtocolError `MACHINE_REVERTED`, …) from decodeState pass through.
 */
import { Interface, Result, getAddress, isHexString, type FunctionFragment, type InterfaceAbi, type ParamType } from 'ethers'
import { ParleyError, UsageError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import { decodeMachineRevert } from './revert.js'

/** What runs the encoders and decodeState: an EvmStateMachine (or anything with `staticCall`). */
export interface StaticCaller {
  staticCall(calldata: Hex): Promise<Hex>
}

/** One field of a decoded state. */
export interface StateField {
  name: string
  type: string
  /** The value as ethers decodes it (bigint, string, boolean, arrays). */
  value: unknown
  /** The value as text. */
  text: string
}

/**
 * @example
 * const abi = new MachineAbi(artifact.abi)
 * const move = await abi.encodeMove(machine, 'play rock')
 * formatState(await abi.decodeState(machine, state)) // 'stage=reveal · played=rock · …'
 */
export class MachineAbi {
  /** The ethers Interface of the ABI. */
  readonly interface: Interface
  /** The move encoders, by convention (see the file comment). */
  readonly encoders: readonly FunctionFragment[]
  private readonly decoder: FunctionFragment | undefined

  constructor(abi: InterfaceAbi | Interface) {
    this.interface = abi instanceof Interface ? abi : new Interface(abi)
    const fns: FunctionFragment[] = []
    this.interface.forEachFunction((f) => fns.push(f))
    this.encoders = fns.filter((f) => f.stateMutability === 'pure' && f.outputs.length === 1 && f.outputs[0]!.type === 'bytes' && f.outputs[0]!.name === 'move')
    this.decoder = fns.find((f) => f.name === 'decodeState' && f.inputs.length === 1 && f.inputs[0]!.type === 'bytes' && f.outputs.length > 0)
  }

  /** Whether the machine has `decodeState`. */
  get decodesState(): boolean {
    return this.decoder !== undefined
  }

  /** The moves as typed, for help texts: `play <shape:string> · reveal <shape:string> <salt:bytes32>`. */
  get moveSyntax(): string {
    return this.encoders.map((f) => [f.name, ...f.inputs.map((p, i) => `<${p.name || `arg${i}`}:${p.type}>`)].join(' ')).join(' · ')
  }

  /**
   * The calldata of the encoder call a typed move stands for (`bid 3` → `bid(3)`).
   * @example abi.encodeCall('commit rock 0x…32 bytes') // '0x…'
   */
  encodeCall(line: string): Hex {
    const [verb = '', ...words] = line.trim().split(/\s+/)
    const named = this.encoders.filter((f) => f.name === verb)
    if (named.length === 0) {
      throw new UsageError('MOVE_UNKNOWN', `unknown move ${JSON.stringify(verb)}: moves are ${this.moveSyntax || '(this machine has no move encoders)'}`, { details: { verb } })
    }
    const f = named.find((g) => g.inputs.length === words.length)
    if (!f) {
      throw new UsageError('MOVE_ARGS_INVALID', `${verb} takes ${named.map((g) => g.inputs.length).join(' or ')} argument(s), got ${words.length}: ${this.syntaxOf(verb)}`, { details: { verb } })
    }
    const args = f.inputs.map((p, i) => parseArg(words[i]!, p, verb))
    try {
      return this.interface.encodeFunctionData(f, args) as Hex
    } catch (cause) {
      throw new UsageError('MOVE_ARGS_INVALID', `${verb}: ${(cause as Error).message.split(' (')[0]}`, { cause, details: { verb } })
    }
  }

  /**
   * The move data for a typed move: its encoder run in `machine`. An encoder that reverts
   * refuses the arguments: UsageError `MOVE_ARGS_INVALID` naming its error.
   * @example await abi.encodeMove(machine, 'play rock')
   */
  async encodeMove(machine: StaticCaller, line: string): Promise<Hex> {
    const calldata = this.encodeCall(line)
    const verb = line.trim().split(/\s+/)[0]!
    let ret: Hex
    try {
      ret = await machine.staticCall(calldata)
    } catch (cause) {
      if (!(cause instanceof ParleyError && cause.code === 'MACHINE_REVERTED')) throw cause
      throw new UsageError('MOVE_ARGS_INVALID', `${verb} refuses its arguments: ${this.describeRevert(cause) ?? cause.message}`, { cause, details: { verb } })
    }
    return (this.interface.decodeFunctionResult(this.interface.getFunction(calldata.slice(0, 10))!, ret)[0] as string).toLowerCase() as Hex
  }

  /**
   * `decodeState(state)` run in `machine`, field by field; undefined when the machine has no
   * decodeState.
   * @example formatState(await abi.decodeState(machine, state))
   */
  async decodeState(machine: StaticCaller, state: Hex): Promise<StateField[] | undefined> {
    const f = this.decoder
    if (!f) return undefined
    const values = this.interface.decodeFunctionResult(f, await machine.staticCall(this.interface.encodeFunctionData(f, [state]) as Hex))
    return f.outputs.map((p, i) => ({ name: p.name || String(i), type: p.type, value: plain(values[i]), text: text(values[i]) }))
  }

  /** A revert by the machine's error names (see {@link describeRevert}). */
  describeRevert(e: unknown): string | undefined {
    return describeRevert(e, this.interface)
  }

  private syntaxOf(verb: string): string {
    return this.encoders.filter((f) => f.name === verb).map((f) => [f.name, ...f.inputs.map((p, i) => `<${p.name || `arg${i}`}:${p.type}>`)].join(' ')).join(' | ')
  }
}

/**
 * Fields as one line: `stage=reveal · played=rock`.
 * @example formatState(fields)
 */
export function formatState(fields: readonly StateField[]): string {
  return fields.map((f) => `${f.name}=${f.text}`).join(' · ')
}

/**
 * A machine revert as `ErrorName(arg=value, …)`: from the revert data in `e` (raw hex, a
 * ParleyError's `details.data`, as MACHINE_REVERTED and MOVE_INVALID carry) decoded with
 * `abi` first, then with the errors Parley knows; else the name the error already carries.
 * Undefined when nothing names it.
 * @example describeRevert(e, machineAbi) // 'MachineNotYourTurn(actor=1, expected=0)'
 */
export function describeRevert(e: unknown, abi?: Interface | InterfaceAbi): string | undefined {
  const details = e instanceof ParleyError ? e.details ?? {} : {}
  const data = typeof e === 'string' ? e : typeof details.data === 'string' ? details.data : undefined
  if (data && isHexString(data) && data.length >= 10) {
    const iface = abi === undefined ? undefined : abi instanceof Interface ? abi : new Interface(abi)
    const r = decodeMachineRevert(Buffer.from(data.slice(2), 'hex'), iface)
    if (r.errorName) return call(r.errorName, r.args ?? {})
  }
  const name = (details.errorName ?? details.error) as string | undefined
  return name ? call(name, (details.args as Record<string, unknown> | undefined) ?? {}) : undefined
}

function call(name: string, args: Record<string, unknown>): string {
  return `${name}(${Object.entries(args).map(([k, v]) => `${k}=${typeof v === 'string' && !isHexString(v) ? JSON.stringify(v) : text(v)}`).join(', ')})`
}

function plain(v: unknown): unknown {
  return v instanceof Result ? v.toArray(true).map(plain) : Array.isArray(v) ? v.map(plain) : v
}

function text(v: unknown): string {
  if (v instanceof Result || Array.isArray(v)) return `[${[...(v as unknown[])].map(text).join(', ')}]`
  return String(v)
}

/** One typed word as the ABI type wants it; UsageError `MOVE_ARGS_INVALID` naming the parameter. */
function parseArg(word: string, p: ParamType, verb: string): unknown {
  const bad = (want: string) => new UsageError('MOVE_ARGS_INVALID', `${verb}: ${p.name || 'argument'} must be ${want}, got ${JSON.stringify(word)}`, { details: { verb, param: p.name, type: p.type } })
  const int = /^(u?)int(\d*)$/.exec(p.type)
  if (int) {
    if (!/^-?(\d+|0x[0-9a-fA-F]+)$/.test(word)) throw bad(`an integer (${p.type})`)
    const n = word.startsWith('-') ? -BigInt(word.slice(1)) : BigInt(word)
    const bits = BigInt(int[2] || '256')
    const [min, max] = int[1] ? [0n, 2n ** bits - 1n] : [-(2n ** (bits - 1n)), 2n ** (bits - 1n) - 1n]
    if (n < min || n > max) throw bad(`${p.type} (${min}..${max})`)
    return n
  }
  if (p.type === 'bool') {
    if (word !== 'true' && word !== 'false') throw bad('true or false')
    return word === 'true'
  }
  if (p.type === 'address') {
    try {
      return getAddress(word)
    } catch {
      throw bad('an address')
    }
  }
  const fixed = /^bytes(\d+)$/.exec(p.type)
  if (fixed) {
    if (!isHexString(word, Number(fixed[1]))) throw bad(`${fixed[1]} bytes of 0x-hex`)
    return word
  }
  if (p.type === 'bytes') {
    if (!isHexString(word) || word.length % 2 !== 0) throw bad('0x-hex bytes')
    return word
  }
  if (p.type === 'string') return word
  try {
    return JSON.parse(word) as unknown // arrays and tuples as JSON; the ABI coder checks them
  } catch {
    throw bad(`JSON for ${p.type}`)
  }
}
