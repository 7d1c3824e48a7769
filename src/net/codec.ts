/**
 * Strict compact-encoding primitives for the wire format. Every field is fixed-width (or a
 * fixed-width length followed by that many bytes), so an encoding is canonical: a byte string
 * that decodes re-encodes to itself. Integers are little-endian (compact-encoding's order);
 * bigints travel as uint64, hashes as 32 raw bytes, signatures as 65 raw bytes (r ‖ s ‖ v).
 */
import c from 'compact-encoding'
import { DecodeError, EncodeError } from './errors.js'
import type { Hex } from '../protocol/types.js'

/** compact-encoding's codec state. */
export type State = { start: number; end: number; buffer: Uint8Array | null }

/** One encoder/decoder pair (compact-encoding's shape). */
export interface Codec<T> {
  preencode(state: State, value: T): void
  encode(state: State, value: T): void
  decode(state: State): T
}

/** Thrown inside a decoder; {@link decode} turns it into a {@link DecodeError}. */
export class Invalid extends Error {}

const MAX_U64 = (1n << 64n) - 1n

function uintN(bits: 8 | 16 | 32): Codec<number> {
  const inner = bits === 8 ? c.uint8 : bits === 16 ? c.uint16 : c.uint32
  const max = 2 ** bits - 1
  return {
    preencode: (s, v) => inner.preencode(s, v),
    encode(s, v) {
      if (!Number.isInteger(v) || v < 0 || v > max) throw new Invalid(`uint${bits} out of range: ${v}`)
      inner.encode(s, v)
    },
    decode: (s) => inner.decode(s),
  }
}

export const u8 = uintN(8)
export const u16 = uintN(16)
export const u32 = uintN(32)

/** uint64 as a bigint. */
export const u64: Codec<bigint> = {
  preencode: (s, v) => c.biguint64.preencode(s, v),
  encode(s, v) {
    if (typeof v !== 'bigint' || v < 0n || v > MAX_U64) throw new Invalid(`uint64 out of range: ${String(v)}`)
    c.biguint64.encode(s, v)
  },
  decode: (s) => c.biguint64.decode(s),
}

function toBytes(hex: Hex, length?: number): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !hex.startsWith('0x')) throw new Invalid(`not 0x-prefixed hex bytes: ${String(hex).slice(0, 20)}`)
  // Buffer stops at the first non-hex pair, so a short result means a bad digit
  const bytes = Buffer.from(hex.slice(2), 'hex')
  if (bytes.length * 2 !== hex.length - 2) throw new Invalid(`not hex: ${hex.slice(0, 20)}`)
  if (length !== undefined && bytes.length !== length) throw new Invalid(`expected ${length} bytes, got ${bytes.length}`)
  return bytes
}

function toHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}

/** Exactly `n` raw bytes as lowercase hex (hashes, signatures, ids). */
export function fixedHex(n: number): Codec<Hex> {
  const raw = c.fixed(n)
  return {
    preencode(s, v) {
      s.end += n
      void v
    },
    encode: (s, v) => raw.encode(s, toBytes(v, n)),
    decode: (s) => toHex(raw.decode(s)),
  }
}

export const bytes32 = fixedHex(32)
export const sig65 = fixedHex(65)

/** A uint32 length then that many bytes, at most `max`, as lowercase hex. */
export function varHex(max: number): Codec<Hex> {
  return {
    preencode(s, v) {
      s.end += 4 + (v.length - 2) / 2
    },
    encode(s, v) {
      const bytes = toBytes(v)
      if (bytes.length > max) throw new Invalid(`${bytes.length} bytes exceed the bound of ${max}`)
      c.uint32.encode(s, bytes.length)
      s.buffer!.set(bytes, s.start)
      s.start += bytes.length
    },
    decode(s) {
      const len = c.uint32.decode(s)
      if (len > max) throw new Invalid(`length ${len} exceeds the bound of ${max}`)
      if (s.end - s.start < len) throw new Invalid('length runs past the end')
      const bytes = s.buffer!.subarray(s.start, s.start + len)
      s.start += len
      return toHex(bytes)
    },
  }
}

/** A uint16 count then that many items, at most `max`. */
export function list<T>(item: Codec<T>, max: number): Codec<T[]> {
  return {
    preencode(s, v) {
      s.end += 2
      for (const x of v) item.preencode(s, x)
    },
    encode(s, v) {
      if (!Array.isArray(v) || v.length > max) throw new Invalid(`list of ${Array.isArray(v) ? v.length : '?'} exceeds the bound of ${max}`)
      c.uint16.encode(s, v.length)
      for (const x of v) item.encode(s, x)
    },
    decode(s) {
      const n = c.uint16.decode(s)
      if (n > max) throw new Invalid(`count ${n} exceeds the bound of ${max}`)
      const out: T[] = []
      for (let i = 0; i < n; i++) out.push(item.decode(s))
      return out
    },
  }
}

/**
 * Encodes `value`; any failure is an {@link EncodeError}.
 * @example const bytes = encode(u64, 5n)
 */
export function encode<T>(codec: Codec<T>, value: T, name: string): Uint8Array {
  try {
    const state: State = { start: 0, end: 0, buffer: null }
    codec.preencode(state, value)
    state.buffer = Buffer.allocUnsafe(state.end)
    codec.encode(state, value)
    if (state.start !== state.end) throw new Invalid('size mismatch')
    return state.buffer
  } catch (cause) {
    if (cause instanceof EncodeError) throw cause
    throw new EncodeError(name, cause instanceof Error ? cause.message : String(cause), { cause })
  }
}

/**
 * Decodes exactly the whole of `bytes` (trailing bytes are an error). Any failure — short
 * input, a bound exceeded, a bad tag — is a {@link DecodeError}; nothing else escapes.
 * @example const n = decode(u64, bytes, 'u64')
 */
export function decode<T>(codec: Codec<T>, bytes: Uint8Array, name: string): T {
  const state: State = { start: 0, end: bytes.byteLength, buffer: bytes }
  let value: T
  try {
    value = codec.decode(state)
  } catch (cause) {
    if (cause instanceof DecodeError) throw cause
    const reason = cause instanceof Invalid ? cause.message : cause instanceof Error && cause.message === 'Out of bounds' ? 'truncated' : String(cause)
    throw new DecodeError(name, reason, { offset: state.start, cause })
  }
  if (state.start !== bytes.byteLength) throw new DecodeError(name, `${bytes.byteLength - state.start} trailing bytes`, { offset: state.start })
  return value
}
