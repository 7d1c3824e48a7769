/**
 * JSON codecs for records whose fields are bigint (uint64/uint256 in the protocol). Pure.
 * Integers are written as decimal strings; everything else is kept as is.
 */
import { RuntimeError } from '../errors/ParleyError.js'
import type { ChannelParams, Hex, Transaction } from '../protocol/types.js'

/** ChannelParams → JSON text. */
export function encodeParams(p: ChannelParams): string {
  return JSON.stringify({ ...p, deposits: p.deposits.map(String), bond: String(p.bond), openDeadline: String(p.openDeadline) })
}

/** JSON text → ChannelParams. */
export function decodeParams(text: string): ChannelParams {
  const o = parse(text) as Omit<ChannelParams, 'deposits' | 'bond' | 'openDeadline'> & { deposits: string[]; bond: string; openDeadline?: string }
  // A store written before consents had a deadline holds none: 0 (its channel is long open).
  return { ...o, deposits: o.deposits.map((d) => BigInt(d)), bond: BigInt(o.bond), openDeadline: BigInt(o.openDeadline ?? '0') }
}

/** Transaction → JSON text. */
export function encodeTransaction(t: Transaction): string {
  return JSON.stringify({ ...t, fork: String(t.fork), seq: String(t.seq), timestamp: String(t.timestamp) })
}

/** JSON text → Transaction. */
export function decodeTransaction(text: string): Transaction {
  const o = parse(text) as Record<string, unknown>
  return {
    channelId: o.channelId as Hex,
    fork: BigInt(o.fork as string),
    seq: BigInt(o.seq as string),
    timestamp: BigInt(o.timestamp as string),
    actor: o.actor as number,
    previousStateHash: o.previousStateHash as Hex,
    data: o.data as Hex,
    stateHash: o.stateHash as Hex,
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (cause) {
    throw new RuntimeError('STORE_CORRUPT', 'a stored record is not valid JSON', { cause })
  }
}
