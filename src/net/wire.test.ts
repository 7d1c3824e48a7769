/**
 * Codec tests: every message type round-trips, encodings are canonical, and every decoder that
 * reads peer bytes (the tagged message, each body codec, the handshake, the link probe) turns random, truncated,
 * oversized and mutated input into DecodeError `MESSAGE_MALFORMED` and nothing else.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { Hex, Transaction } from '../protocol/types.js'
import type { Message, MessageType } from '../transport/messages.js'
import { MAX_DATA_BYTES } from '../protocol/types.js'
import { decode, encode } from './codec.js'
import { DecodeError, EncodeError } from './errors.js'
import { handshakeCodec } from './handshake.js'
import { decodeProbe, encodeProbe, type Probe } from './probe.js'
import { CODECS, MAX_SYNC_ENTRIES, TAGS, decodeMessage, encodeMessage, transaction } from './wire.js'

/** Records with an ordinary prototype, as decoders build them. */
const rec: typeof fc.record = ((model: never) => fc.record(model, { noNullPrototype: true })) as never
const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => `0x${Buffer.from(b).toString('hex')}` as Hex)
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
const u256 = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), fc.constantFrom(0n, (1n << 256n) - 1n))
const index = fc.integer({ min: 0, max: 63 })
const arbTx: fc.Arbitrary<Transaction> = rec({
  channelId: hex(32), fork: u64, seq: u64, timestamp: u64, actor: index, previousStateHash: hex(32),
  data: fc.uint8Array({ maxLength: 300 }).map((b) => `0x${Buffer.from(b).toString('hex')}` as Hex), stateHash: hex(32),
})
const arbSigs = fc.uniqueArray(index, { maxLength: 8 }).chain((ids) =>
  fc.tuple(...ids.sort((a, b) => a - b).map((i) => hex(65).map((s) => [i, s] as [number, Hex]))))
const arbMessage: fc.Arbitrary<Message> = fc.oneof(
  rec({ type: fc.constant('tx' as const), transaction: arbTx, signature: hex(65) }),
  rec({ type: fc.constant('confirm' as const), fork: u64, seq: u64, digest: hex(32), signer: index, signature: hex(65) }),
  rec({ type: fc.constant('sync-request' as const), fork: u64, fromSeq: u64 }),
  rec({ type: fc.constant('sync-response' as const), fork: u64, entries: fc.array(rec({ transaction: arbTx, signatures: arbSigs }), { maxLength: 4 }) }),
  rec({ type: fc.constant('close' as const), fork: u64, seq: u64, stateHash: hex(32), payouts: fc.array(u256, { maxLength: 64 }), signer: index, signature: hex(65) }),
  rec({ type: fc.constantFrom('ping' as const, 'pong' as const), nonce: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }),
)

/** Every decoder that reads bytes from a peer, by name. */
const DECODERS: [string, (b: Uint8Array) => unknown][] = [
  ['message', decodeMessage],
  ['handshake', (b) => decode(handshakeCodec, b, 'handshake')],
  ['probe', decodeProbe],
  ...(Object.keys(CODECS) as MessageType[]).map((k): [string, (b: Uint8Array) => unknown] => [k, (b) => decode(CODECS[k] as never, b, k)]),
]

function onlyDecodeError(fn: () => unknown): void {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof DecodeError, `expected DecodeError, got ${String(e)}`)
    assert.equal(e.code, 'MESSAGE_MALFORMED')
  }
}

describe('net wire codecs', () => {
  it('round-trips every message type', () => {
    fc.assert(fc.property(arbMessage, (m) => {
      assert.deepEqual(decodeMessage(encodeMessage(m)), m)
    }), { numRuns: 500 })
  })

  it('is canonical: whatever decodes re-encodes to the same bytes', () => {
    fc.assert(fc.property(arbMessage, fc.nat(), fc.nat({ max: 255 }), (m, at, byte) => {
      const bytes = Buffer.from(encodeMessage(m))
      bytes[at % bytes.length] = byte
      let decoded: Message
      try {
        decoded = decodeMessage(bytes)
      } catch (e) {
        assert.ok(e instanceof DecodeError)
        return
      }
      assert.deepEqual(Buffer.from(encodeMessage(decoded)), bytes)
    }), { numRuns: 1000 })
  })

  for (const [name, dec] of DECODERS) {
    it(`fuzz: random bytes into the ${name} decoder throw only DecodeError`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => onlyDecodeError(() => dec(b))), { numRuns: 400 })
      // Random bytes after a valid tag reach the body decoders through the tagged one too.
      fc.assert(fc.property(fc.constantFrom(...Object.values(TAGS)), fc.uint8Array({ maxLength: 600 }), (tag, b) =>
        onlyDecodeError(() => dec(Buffer.concat([Buffer.from([tag]), b])))), { numRuns: 200 })
    })
  }

  it('link probes: round trip, 5 bytes exactly, known kinds only', () => {
    const arbProbe: fc.Arbitrary<Probe> = rec({ kind: fc.constantFrom('ping' as const, 'pong' as const), nonce: fc.integer({ min: 0, max: 2 ** 32 - 1 }) })
    fc.assert(fc.property(arbProbe, (p) => {
      const bytes = encodeProbe(p)
      assert.equal(bytes.length, 5)
      assert.deepEqual(decodeProbe(bytes), p)
      for (let n = 0; n < 5; n++) assert.throws(() => decodeProbe(bytes.subarray(0, n)), DecodeError)
      assert.throws(() => decodeProbe(Buffer.concat([bytes, Buffer.from([0])])), DecodeError)
    }), { numRuns: 200 })
    assert.throws(() => decodeProbe(Buffer.from([2, 0, 0, 0, 0])), /unknown probe kind 2/)
    assert.throws(() => encodeProbe({ kind: 'pang' as never, nonce: 1 }), EncodeError)
    assert.throws(() => encodeProbe({ kind: 'ping', nonce: 2 ** 32 }), EncodeError)
  })

  it('rejects every truncation and any trailing byte of a valid message', () => {
    fc.assert(fc.property(arbMessage, fc.uint8Array({ minLength: 1, maxLength: 8 }), (m, extra) => {
      const bytes = encodeMessage(m)
      for (let n = 0; n < bytes.length; n++) assert.throws(() => decodeMessage(bytes.subarray(0, n)), DecodeError)
      assert.throws(() => decodeMessage(Buffer.concat([bytes, extra])), /trailing bytes/)
    }), { numRuns: 60 })
  })

  it('close payouts: at most 64 uint256 words, each 32 bytes big-endian', () => {
    const close = { type: 'close' as const, fork: 0n, seq: 1n, stateHash: `0x${'11'.repeat(32)}` as Hex, signer: 0, signature: `0x${'44'.repeat(65)}` as Hex }
    const max = Array.from({ length: 64 }, (_, i) => (1n << 256n) - 1n - BigInt(i))
    assert.deepEqual(decodeMessage(encodeMessage({ ...close, payouts: max })), { ...close, payouts: max })
    const one = Buffer.from(encodeMessage({ ...close, payouts: [0x0102n] }))
    const at = 1 + 8 + 8 + 32
    assert.equal(one.readUInt16LE(at), 1)
    assert.equal(one.subarray(at + 2, at + 34).toString('hex'), '0102'.padStart(64, '0'))
    assert.throws(() => encodeMessage({ ...close, payouts: [...max, 0n] }), EncodeError)
    // A count above 64 on the wire is refused before the words are read.
    const many = Buffer.from(encodeMessage({ ...close, payouts: [] }))
    many.writeUInt16LE(65, at)
    assert.throws(() => decodeMessage(Buffer.concat([many.subarray(0, at + 2), Buffer.alloc(65 * 32), many.subarray(at + 2)])), /exceeds the bound/)
    for (const bad of [-1n, 1n << 256n, 1 as unknown as bigint]) assert.throws(() => encodeMessage({ ...close, payouts: [bad] }), EncodeError)
  })

  it('enforces bounds: unknown tag, data size, signer index, sorted signers, entry count', () => {
    assert.throws(() => decodeMessage(Buffer.from([99])), /unknown message tag 99/)
    const tx: Transaction = { channelId: `0x${'11'.repeat(32)}`, fork: 0n, seq: 1n, timestamp: 5n, actor: 0, previousStateHash: `0x${'22'.repeat(32)}`, data: '0x', stateHash: `0x${'33'.repeat(32)}` }
    const sig: Hex = `0x${'44'.repeat(65)}`
    // data length field above MAX_DATA_BYTES, even though the bytes follow
    const big = encode(transaction, { ...tx, data: `0x${'ab'.repeat(MAX_DATA_BYTES)}` }, 'tx')
    const lenAt = 32 + 24 + 2 + 32
    Buffer.from(big.buffer, big.byteOffset).writeUInt32LE(MAX_DATA_BYTES + 1, lenAt)
    assert.throws(() => decode(transaction, Buffer.concat([big, Buffer.from([0])]), 'tx'), /exceeds the bound/)
    assert.throws(() => encodeMessage({ type: 'tx', transaction: { ...tx, data: `0x${'ab'.repeat(MAX_DATA_BYTES + 1)}` }, signature: sig }), EncodeError)
    // signer ≥ 64
    const confirm = Buffer.from(encodeMessage({ type: 'confirm', fork: 0n, seq: 1n, digest: tx.stateHash, signer: 3, signature: sig }))
    confirm.writeUInt16LE(64, 1 + 16 + 32)
    assert.throws(() => decodeMessage(confirm), /signer 64 is not a participant index/)
    // signatures must be strictly ascending on the wire; the encoder sorts
    const resp = encodeMessage({ type: 'sync-response', fork: 0n, entries: [{ transaction: tx, signatures: [[2, sig], [1, sig]] }] })
    assert.deepEqual((decodeMessage(resp) as { entries: { signatures: [number, Hex][] }[] }).entries[0]!.signatures.map(([i]) => i), [1, 2])
    const swapped = Buffer.from(resp)
    const pairsAt = resp.length - 2 * 67
    swapped.writeUInt16LE(2, pairsAt)
    swapped.writeUInt16LE(1, pairsAt + 67)
    assert.throws(() => decodeMessage(swapped), /strictly ascending/)
    assert.throws(() => encodeMessage({ type: 'sync-response', fork: 0n, entries: [{ transaction: tx, signatures: [[1, sig], [1, sig]] }] }), /duplicate signer/)
    const many = Buffer.alloc(1 + 8 + 2)
    many[0] = TAGS['sync-response']
    many.writeUInt16LE(MAX_SYNC_ENTRIES + 1, 9)
    assert.throws(() => decodeMessage(many), /exceeds the bound/)
  })

  it('refuses to encode ill-typed messages with EncodeError', () => {
    const bad: unknown[] = [
      { type: 'ping', nonce: -1 },
      { type: 'ping', nonce: 2 ** 32 },
      { type: 'sync-request', fork: -1n, fromSeq: 0n },
      { type: 'sync-request', fork: 1n << 64n, fromSeq: 0n },
      { type: 'confirm', fork: 0n, seq: 0n, digest: '0x12', signer: 0, signature: `0x${'00'.repeat(65)}` },
      { type: 'confirm', fork: 0n, seq: 0n, digest: `0x${'00'.repeat(32)}`, signer: 64, signature: `0x${'00'.repeat(65)}` },
      { type: 'confirm', fork: 0n, seq: 0n, digest: `0x${'zz'.repeat(32)}`, signer: 0, signature: `0x${'00'.repeat(65)}` },
      { type: 'confirm', fork: 0n, seq: 0n, digest: `${'00'.repeat(33)}`, signer: 0, signature: `0x${'00'.repeat(65)}` },
      { type: 'nope' },
    ]
    for (const m of bad) assert.throws(() => encodeMessage(m as Message), EncodeError, JSON.stringify(m, (_, v) => (typeof v === 'bigint' ? String(v) : v)))
  })
})
