/**
 * Wire format of the protocol messages (src/transport/messages.ts), one codec per type.
 *
 * A message on the wire is a one-byte tag followed by the body; see `docs/net.md` for the
 * byte layout. Decoding is strict: fixed-width fields, bounded lengths and counts, signer
 * indices strictly ascending, no trailing bytes — so any byte string that decodes re-encodes
 * to itself, and anything else is a {@link DecodeError}.
 */
import type { Transaction } from '../protocol/types.js'
import { MAX_DATA_BYTES, MAX_PARTICIPANTS } from '../protocol/types.js'
import type { Message, MessageType } from '../transport/messages.js'
import { Invalid, bytes32, decode, encode, list, sig65, u16, u32, u64, u8, varHex, type Codec } from './codec.js'

/** Most entries one sync response carries (the requester asks again from where it ended). */
export const MAX_SYNC_ENTRIES = 256

/** Largest encoded transaction: fixed fields, a 4-byte length and MAX_DATA_BYTES of data. */
export const MAX_TX_BYTES = 32 + 3 * 8 + 2 + 32 + 4 + MAX_DATA_BYTES + 32
/**
 * Largest well-formed message: a sync response of MAX_SYNC_ENTRIES largest txs, each with a
 * signature of every one of MAX_PARTICIPANTS participants (≈ 2.1 MB). Every other message is
 * far smaller (a tx message is MAX_TX_BYTES + 66).
 */
export const MAX_WIRE_BYTES = 1 + 8 + 2 + MAX_SYNC_ENTRIES * (MAX_TX_BYTES + 2 + MAX_PARTICIPANTS * (2 + 65))

/** Tag byte of each message type. Stable: a new type gets a new tag, never a reused one. */
export const TAGS = { tx: 1, confirm: 2, 'sync-request': 3, 'sync-response': 4, close: 5, ping: 6, pong: 7 } as const satisfies Record<MessageType, number>

const TYPES = Object.fromEntries(Object.entries(TAGS).map(([k, v]) => [v, k])) as Record<number, MessageType>

function participant(name: string): Codec<number> {
  return {
    preencode: (s, v) => u16.preencode(s, v),
    encode(s, v) {
      if (!Number.isInteger(v) || v < 0 || v >= MAX_PARTICIPANTS) throw new Invalid(`${name} ${v} is not a participant index`)
      u16.encode(s, v)
    },
    decode(s) {
      const v = u16.decode(s)
      if (v >= MAX_PARTICIPANTS) throw new Invalid(`${name} ${v} is not a participant index`)
      return v
    },
  }
}

/** A uint256 as 32 big-endian bytes. */
const u256: Codec<bigint> = {
  preencode: (s) => {
    s.end += 32
  },
  encode(s, v) {
    if (typeof v !== 'bigint' || v < 0n || v >= 1n << 256n) throw new Invalid(`${String(v)} is not a uint256`)
    bytes32.encode(s, `0x${v.toString(16).padStart(64, '0')}`)
  },
  decode: (s) => BigInt(bytes32.decode(s)),
}

const actor = participant('actor')
const signer = participant('signer')
const data = varHex(MAX_DATA_BYTES)

/** EIP-712 `Transaction`, field by field. */
export const transaction: Codec<Transaction> = {
  preencode(s, t) {
    bytes32.preencode(s, t.channelId)
    s.end += 8 * 3
    actor.preencode(s, t.actor)
    bytes32.preencode(s, t.previousStateHash)
    data.preencode(s, t.data)
    bytes32.preencode(s, t.stateHash)
  },
  encode(s, t) {
    bytes32.encode(s, t.channelId)
    u64.encode(s, t.fork)
    u64.encode(s, t.seq)
    u64.encode(s, t.timestamp)
    actor.encode(s, t.actor)
    bytes32.encode(s, t.previousStateHash)
    data.encode(s, t.data)
    bytes32.encode(s, t.stateHash)
  },
  decode: (s) => ({
    channelId: bytes32.decode(s),
    fork: u64.decode(s),
    seq: u64.decode(s),
    timestamp: u64.decode(s),
    actor: actor.decode(s),
    previousStateHash: bytes32.decode(s),
    data: data.decode(s),
    stateHash: bytes32.decode(s),
  }),
}

/** The fields of message type `K` without its `type` tag. */
type Body<K extends MessageType, M = Message> = M extends Message ? (K extends M['type'] ? Omit<M, 'type'> : never) : never

/** Builds a record codec from named field codecs, in order. */
function record<T extends object>(fields: { [K in keyof T]: Codec<T[K]> }): Codec<T> {
  const entries = Object.entries(fields) as [keyof T, Codec<unknown>][]
  return {
    preencode(s, v) {
      for (const [k, f] of entries) f.preencode(s, v[k])
    },
    encode(s, v) {
      for (const [k, f] of entries) f.encode(s, v[k])
    },
    decode(s) {
      const out = {} as T
      for (const [k, f] of entries) out[k] = f.decode(s) as T[keyof T]
      return out
    },
  }
}

/** `[participant, signature]` pairs, strictly ascending by participant. */
const signaturePairs: Codec<[number, `0x${string}`][]> = (() => {
  const pair: Codec<[number, `0x${string}`]> = {
    preencode(s, [i, sig]) {
      signer.preencode(s, i)
      sig65.preencode(s, sig)
    },
    encode(s, [i, sig]) {
      signer.encode(s, i)
      sig65.encode(s, sig)
    },
    decode: (s) => [signer.decode(s), sig65.decode(s)],
  }
  const inner = list(pair, MAX_PARTICIPANTS)
  const ascending = (v: [number, unknown][]) => v.every(([i], k) => k === 0 || i > v[k - 1]![0])
  return {
    preencode: (s, v) => inner.preencode(s, v),
    encode(s, v) {
      const sorted = [...v].sort((a, b) => a[0] - b[0])
      if (!ascending(sorted)) throw new Invalid('duplicate signer')
      inner.encode(s, sorted)
    },
    decode(s) {
      const v = inner.decode(s)
      if (!ascending(v)) throw new Invalid('signers not strictly ascending')
      return v
    },
  }
})()

const syncEntry = record<Body<'sync-response'>['entries'][number]>({ transaction, signatures: signaturePairs })
const nonce = record<{ nonce: number }>({ nonce: u32 })

/** One codec per message type (the body after the tag). */
export const CODECS: { [K in MessageType]: Codec<Body<K>> } = {
  tx: record<Body<'tx'>>({ transaction, signature: sig65 }),
  confirm: record<Body<'confirm'>>({ fork: u64, seq: u64, digest: bytes32, signer, signature: sig65 }),
  'sync-request': record<Body<'sync-request'>>({ fork: u64, fromSeq: u64 }),
  'sync-response': record<Body<'sync-response'>>({ fork: u64, entries: list(syncEntry, MAX_SYNC_ENTRIES) }),
  close: record<Body<'close'>>({ fork: u64, seq: u64, stateHash: bytes32, payouts: list(u256, MAX_PARTICIPANTS), signer, signature: sig65 }),
  ping: nonce,
  pong: nonce,
}

/** A tagged message: tag byte, then the body of that type. */
export const message: Codec<Message> = {
  preencode(s, m) {
    s.end += 1
    codecOf(m.type).preencode(s, m)
  },
  encode(s, m) {
    u8.encode(s, TAGS[m.type])
    codecOf(m.type).encode(s, m)
  },
  decode(s) {
    const tag = u8.decode(s)
    const type = TYPES[tag]
    if (type === undefined) throw new Invalid(`unknown message tag ${tag}`)
    return { ...codecOf(type).decode(s), type } as Message
  },
}

function codecOf(type: MessageType): Codec<Message> {
  const c = (CODECS as unknown as Record<string, Codec<Message> | undefined>)[type]
  if (!c) throw new Invalid(`unknown message type ${String(type)}`)
  return c
}

/**
 * Encodes a protocol message for the wire. Throws EncodeError `MESSAGE_INVALID` if a field
 * does not fit its type or bound.
 * @example const bytes = encodeMessage({ type: 'ping', nonce: 1 })
 */
export function encodeMessage(m: Message): Uint8Array {
  return encode(message, m, typeof m?.type === 'string' ? m.type : 'message')
}

/**
 * Decodes one message from a peer. Throws DecodeError `MESSAGE_MALFORMED` and nothing else.
 * @example const m = decodeMessage(bytes) // { type: 'ping', nonce: 1 }
 */
export function decodeMessage(bytes: Uint8Array): Message {
  return decode(message, bytes, 'message')
}
