/**
 * ABI encoding of the six IStateMachine calls and decoding of their results, written out for
 * these fixed signatures. ethers' general-purpose coder costs more than the EVM run of a small
 * transition on slow CPUs, so the hot path builds calldata directly into one buffer. The
 * selectors come from the ethers Interface (`abi.ts`), and `codec.test.ts` checks every
 * encoder against ethers' `encodeFunctionData` and every decoder against `decodeFunctionResult`
 * on random values.
 *
 * Input checks throw UsageError `MACHINE_INPUT_INVALID`. Results are decoded exactly as the
 * manager decodes them (contracts/manager/AMachineCalls.sol), so both sides call the same
 * results failures: a `bytes` result is word 32, a length ≤ MAX_STATE_BYTES and at least that
 * many bytes, in at most 64 + MAX_STATE_BYTES bytes; nextActor and isTerminal are exactly one
 * word (≤ 0xffff, ≤ 1); outcome is word 32, a length n and exactly n words. Anything else throws
 * ProtocolError `MACHINE_RESULT_INVALID` — a failed call, like a revert.
 */
import { ProtocolError, UsageError } from '../errors/ParleyError.js'
import { MAX_STATE_BYTES, type Hex } from '../protocol/types.js'
import { SELECTORS, type MachineMethod } from './abi.js'

const MAX_UINT256 = (1n << 256n) - 1n
const MAX_UINT64 = (1n << 64n) - 1n

const pad32 = (n: number): number => (n + 31) & ~31

function invalidInput(method: MachineMethod, what: string, value: unknown): UsageError {
  const shown = typeof value === 'string' && value.length > 80 ? `${value.slice(0, 80)}…` : String(value)
  return new UsageError('MACHINE_INPUT_INVALID', `${method}: ${what}, got ${shown}`, { details: { method } })
}

/** Byte length of a 0x-hex string, or throws. */
function hexLength(method: MachineMethod, name: string, hex: unknown): number {
  if (typeof hex !== 'string' || !hex.startsWith('0x') || hex.length % 2 !== 0) {
    throw invalidInput(method, `${name} must be a 0x-prefixed hex string of whole bytes`, hex)
  }
  return (hex.length - 2) / 2
}

function checkUint16(method: MachineMethod, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) throw invalidInput(method, `${name} must be an integer in [0, 65535]`, v)
  return v
}

/** Encoder state: one buffer of the exact final size, filled front to back. */
class Writer {
  readonly buf: Buffer
  private readonly view: DataView
  constructor(
    readonly method: MachineMethod,
    size: number,
  ) {
    this.buf = Buffer.alloc(4 + size)
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length)
    this.buf.write(SELECTORS[method].slice(2), 0, 'hex')
  }
  /** A uint at byte `pos` (< 2^256), big-endian in 32 bytes. */
  uint(pos: number, v: bigint): void {
    const p = 4 + pos
    this.view.setBigUint64(p, v >> 192n)
    this.view.setBigUint64(p + 8, (v >> 128n) & 0xffffffffffffffffn)
    this.view.setBigUint64(p + 16, (v >> 64n) & 0xffffffffffffffffn)
    this.view.setBigUint64(p + 24, v & 0xffffffffffffffffn)
  }
  small(pos: number, v: number): void {
    this.view.setUint32(4 + pos + 28, v) // the 28 bytes before are already zero
  }
  /** Length word + bytes of `hex` at `pos`; returns the position after the padded tail. */
  bytes(pos: number, name: string, hex: string, len: number): number {
    this.small(pos, len)
    if (len > 0 && this.buf.write(hex.slice(2), 4 + pos + 32, len, 'hex') !== len) {
      throw invalidInput(this.method, `${name} must be a 0x-prefixed hex string of whole bytes`, hex)
    }
    return pos + 32 + pad32(len)
  }
}

/** Calldata of `transition(bytes state, uint16 actor, bytes data, uint64 timestamp)`. */
export function encodeTransition(state: Hex, actor: number, data: Hex, timestamp: bigint): Buffer {
  const m = 'transition'
  const sLen = hexLength(m, 'state', state)
  const dLen = hexLength(m, 'data', data)
  checkUint16(m, 'actor', actor)
  if (typeof timestamp !== 'bigint' || timestamp < 0n || timestamp > MAX_UINT64) throw invalidInput(m, 'timestamp must be a bigint in [0, 2^64)', timestamp)
  const dataAt = 128 + 32 + pad32(sLen)
  const w = new Writer(m, dataAt + 32 + pad32(dLen))
  w.small(0, 128)
  w.small(32, actor)
  w.small(64, dataAt)
  w.uint(96, timestamp)
  w.bytes(128, 'state', state, sLen)
  w.bytes(dataAt, 'data', data, dLen)
  return w.buf
}

/** Calldata of `initialState(uint256[] deposits, bytes initData)`. */
export function encodeInitialState(deposits: readonly bigint[], initData: Hex): Buffer {
  const m = 'initialState'
  if (!Array.isArray(deposits)) throw invalidInput(m, 'deposits must be an array of bigints', deposits)
  for (const d of deposits) if (typeof d !== 'bigint' || d < 0n || d > MAX_UINT256) throw invalidInput(m, 'each deposit must be a bigint in [0, 2^256)', d)
  const iLen = hexLength(m, 'initData', initData)
  const initAt = 64 + 32 + 32 * deposits.length
  const w = new Writer(m, initAt + 32 + pad32(iLen))
  w.small(0, 64)
  w.small(32, initAt)
  w.small(64, deposits.length)
  deposits.forEach((d, i) => w.uint(96 + 32 * i, d))
  w.bytes(initAt, 'initData', initData, iLen)
  return w.buf
}

/** Calldata of a one-argument `f(bytes state)`: nextActor, outcome, isTerminal. */
export function encodeStateCall(method: 'nextActor' | 'outcome' | 'isTerminal', state: Hex): Buffer {
  const sLen = hexLength(method, 'state', state)
  const w = new Writer(method, 32 + 32 + pad32(sLen))
  w.small(0, 32)
  w.bytes(32, 'state', state, sLen)
  return w.buf
}

/** Calldata of `onRemove(bytes state, uint16 index)`. */
export function encodeOnRemove(state: Hex, index: number): Buffer {
  const m = 'onRemove'
  const sLen = hexLength(m, 'state', state)
  checkUint16(m, 'index', index)
  const w = new Writer(m, 64 + 32 + pad32(sLen))
  w.small(0, 64)
  w.small(32, index)
  w.bytes(64, 'state', state, sLen)
  return w.buf
}

function badResult(method: MachineMethod, why: string, ret: Uint8Array): ProtocolError {
  return new ProtocolError('MACHINE_RESULT_INVALID', `${method}: the machine returned data that does not decode (${why})`, {
    details: { method, data: `0x${Buffer.from(ret.buffer, ret.byteOffset, ret.length).toString('hex')}` },
  })
}

/** The word at `pos` as a bigint, or throws if `ret` is too short. */
function word(method: MachineMethod, ret: Uint8Array, pos: number): bigint {
  if (pos + 32 > ret.length) throw badResult(method, 'too short', ret)
  const v = new DataView(ret.buffer, ret.byteOffset + pos, 32)
  return (v.getBigUint64(0) << 192n) | (v.getBigUint64(8) << 128n) | (v.getBigUint64(16) << 64n) | v.getBigUint64(24)
}

/** Most return data of a call returning `bytes` (the manager copies no more). */
export const MAX_STATE_RETURN = 64 + MAX_STATE_BYTES

/**
 * Decodes a single `bytes` return value (initialState, transition, onRemove) by the manager's
 * rule: at most 64 + MAX_STATE_BYTES bytes, offset word 32, length ≤ MAX_STATE_BYTES, and at
 * least that many bytes after the length word.
 */
export function decodeBytes(method: MachineMethod, ret: Uint8Array): Hex {
  if (ret.length > MAX_STATE_RETURN) throw badResult(method, `more than ${MAX_STATE_RETURN} bytes`, ret.subarray(0, 64))
  if (word(method, ret, 0) !== 32n) throw badResult(method, 'offset word is not 32', ret)
  const len = word(method, ret, 32)
  if (len > BigInt(MAX_STATE_BYTES)) throw badResult(method, `a state above ${MAX_STATE_BYTES} bytes`, ret.subarray(0, 64))
  if (64n + len > BigInt(ret.length)) throw badResult(method, 'bytes run past the end', ret)
  return `0x${Buffer.from(ret.buffer, ret.byteOffset + 64, Number(len)).toString('hex')}`
}

/** Decodes a `uint16` return value (nextActor): exactly one word, at most 0xffff. */
export function decodeUint16(method: MachineMethod, ret: Uint8Array): number {
  if (ret.length !== 32) throw badResult(method, 'not exactly one word', ret)
  const v = word(method, ret, 0)
  if (v > 0xffffn) throw badResult(method, 'not a uint16', ret)
  return Number(v)
}

/** Decodes a `bool` return value (isTerminal): exactly one word, 0 or 1. */
export function decodeBool(method: MachineMethod, ret: Uint8Array): boolean {
  if (ret.length !== 32) throw badResult(method, 'not exactly one word', ret)
  const v = word(method, ret, 0)
  if (v > 1n) throw badResult(method, 'not a bool', ret)
  return v === 1n
}

/** Decodes a `uint256[]` return value (outcome): offset word 32, a length n, exactly n words. */
export function decodeUintArray(method: MachineMethod, ret: Uint8Array): bigint[] {
  if (ret.length < 64 || word(method, ret, 0) !== 32n) throw badResult(method, 'offset word is not 32', ret.subarray(0, 64))
  const n = word(method, ret, 32)
  if (64n + 32n * n !== BigInt(ret.length)) throw badResult(method, 'not exactly the declared number of words', ret.subarray(0, 64))
  return Array.from({ length: Number(n) }, (_, i) => word(method, ret, 64 + 32 * i))
}
