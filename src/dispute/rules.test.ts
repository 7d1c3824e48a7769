/**
 * Pure helpers of the court client: the chain view reduced from events (idempotent, fork-
 * aware), the timeout candidate list (property-tested against the finality rule), virtual-
 * voting support, the listener cursor and the bigint JSON codec.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { ChainEvent } from '../chain/ChainListener.js'
import { after, backoff, delivered, formatCursor, nextRange, parseCursor } from '../chain/cursor.js'
import { bitCount, bitIndices, fullBitmap } from '../protocol/bitmap.js'
import { checkFinalityProof } from '../protocol/finality.js'
import { DisputeKind, type DisputeRecord, type Hex, type Transaction } from '../protocol/types.js'
import { supportersOf, timeoutCandidates, type SignedEntry } from './anchor.js'
import { applyChainEvent, initialChainView } from './chainView.js'
import { decodeJson, encodeJson } from './codec.js'

const h = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex
const ME = '0x00000000000000000000000000000000000000aa' as Hex
const CH = h(99)
let block = 10
const at = <E extends Pick<ChainEvent, 'name' | 'args'>>(e: E, pos?: { blockNumber: number; logIndex: number }) =>
  ({ ...e, ...(pos ?? { blockNumber: ++block, logIndex: 0 }), transactionHash: h(0), blockTimestamp: BigInt(block) * 10n }) as ChainEvent
const rec = (over: Partial<DisputeRecord> = {}): DisputeRecord => ({ kind: DisputeKind.Timeout, disputer: 1, seq: 3n, timestamp: 0n, deadline: 500n, removals: 0b100n, stateHash: h(3), ...over })

describe('chain view', () => {
  const start = initialChainView({ fork: 0n, state: '0x', stateHash: h(0), timestamp: 1n, active: 0b111n, disputed: false })

  test('follows a dispute from raise to a new fork, and ignores replays', () => {
    let v = start
    const raised = at({ name: 'DisputeRaised', args: { channelId: CH, fork: 0n, dispute: rec(), state: '0x03', txs: [] } })
    v = applyChainEvent(v, raised, ME)
    assert.deepEqual([v.phase, v.dispute?.state, v.dispute?.raisedAt], ['disputed', '0x03', raised.blockTimestamp])
    v = applyChainEvent(v, at({ name: 'ParticipantSlashed', args: { channelId: CH, index: 1, beneficiary: 0 } }), ME)
    v = applyChainEvent(v, at({ name: 'DisputeAnswered', args: { channelId: CH, fork: 0n, dispute: rec({ kind: DisputeKind.Fraud, seq: 0n, stateHash: h(0) }), state: '0x', txs: [] } }), ME)
    assert.deepEqual([v.dispute?.state, v.dispute?.raisedAt], ['0x', raised.blockTimestamp], 'an answer brings its candidate\'s bytes; the raise time stays')
    v = applyChainEvent(v, at({ name: 'DisputeAnswered', args: { channelId: CH, fork: 0n, dispute: rec({ kind: DisputeKind.Fraud, seq: 5n, stateHash: h(5) }) } }), ME)
    assert.equal(v.dispute?.state, undefined, 'a later candidate: bytes unknown from events')
    const before = v
    assert.equal(applyChainEvent(v, raised, ME), before, 'an event at or before the position is ignored')
    v = applyChainEvent(v, at({ name: 'DisputeResolved', args: { channelId: CH, fork: 0n, dispute: v.dispute!.record } }), ME)
    v = applyChainEvent(v, at({ name: 'ParticipantRemoved', args: { channelId: CH, index: 1 } }), ME)
    v = applyChainEvent(v, at({ name: 'Credited', args: { channelId: CH, account: ME, asset: h(0), amount: 7n } }), ME)
    v = applyChainEvent(v, at({ name: 'StateSet', args: { channelId: CH, fork: 1n, stateHash: h(8), state: '0x08', timestamp: 9n, active: 0b101n } }), ME)
    assert.deepEqual([v.fork, v.active, v.slashed, v.phase, v.dispute, v.genesis.state], [1n, 0b101n, 0b010n, 'open', undefined, '0x08'])
    assert.deepEqual(v.credits.map((c) => c.amount), [7n])
    // history of fork 0 replayed after the view moved on changes nothing
    const old = applyChainEvent(v, at({ name: 'DisputeRaised', args: { channelId: CH, fork: 0n, dispute: rec(), state: '0x' } }), ME)
    assert.deepEqual([old.phase, old.dispute], ['open', undefined])
  })

  test('a cancelled timeout reopens the fork and records the move', () => {
    let v = applyChainEvent(start, at({ name: 'DisputeRaised', args: { channelId: CH, fork: 0n, dispute: rec(), state: '0x' } }), ME)
    const move = { channelId: CH, fork: 0n, seq: 4n, timestamp: 9n, actor: 2, previousStateHash: h(3), data: '0x' as Hex, stateHash: h(4) }
    v = applyChainEvent(v, at({ name: 'DisputeCancelled', args: { channelId: CH, fork: 0n, seq: 4n, digest: h(44), transaction: move, signature: '0x' } }), ME)
    assert.deepEqual([v.phase, v.latestSeq, v.dispute, v.posted], ['open', 4n, undefined, [h(44)]])
  })
})

describe('timeout candidates', () => {
  const active = 0b111n
  /** A linked run from seq `from`, authors round-robin, extra signers chosen by the test. */
  const run = (from: bigint, extra: bigint[]): SignedEntry[] =>
    extra.map((signers, i) => {
      const seq = from + BigInt(i)
      const actor = Number(seq % 3n)
      const transaction: Transaction = { channelId: CH, fork: 0n, seq, timestamp: 1n, actor, previousStateHash: h(Number(seq) - 1), data: '0x', stateHash: h(Number(seq)) }
      return { transaction, signatures: new Map(bitIndices(signers | (1n << BigInt(actor))).map((s) => [s, `0x${'11'.repeat(65)}` as Hex])) }
    })

  test('the shortest anchored suffix: a final tail, or everything from seq 1', () => {
    assert.equal(timeoutCandidates(run(4n, [0n, 0n, 0n]), h(0), active)?.length, 3, 'authorship alone covers A')
    assert.equal(timeoutCandidates(run(4n, [0n, 0n, 0b111n]), h(0), active)?.length, 1, 'a fully confirmed head is its own proof')
    assert.equal(timeoutCandidates(run(4n, [0n, 0n]), h(0), active), undefined, 'two authors do not cover three')
    assert.equal(timeoutCandidates(run(1n, [0n, 0n]), h(0), active)?.length, 2, 'anchored by the genesis')
  })

  test('property: every list it returns is anchored as the contract requires', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 8n }), fc.array(fc.bigInt({ min: 0n, max: 7n }), { minLength: 1, maxLength: 3 }), (from, extra) => {
        const list = timeoutCandidates(run(from, extra), h(0), active)
        if (!list) return
        assert.ok(list.length <= bitCount(active))
        assert.equal(list.at(-1)!.transaction.seq, from + BigInt(extra.length) - 1n, 'ends at the candidate')
        const fromGenesis = list[0]!.transaction.seq === 1n && list[0]!.transaction.previousStateHash === h(0)
        assert.ok(fromGenesis || checkFinalityProof({ channelId: CH, fork: 0n, active }, list).final)
      }),
      { numRuns: 300 },
    )
  })

  test('supporters follow virtual voting', () => {
    assert.deepEqual(supportersOf([{ signers: 0b001n }, { signers: 0b010n }, { signers: 0b100n }]), [0b111n, 0b110n, 0b100n])
    assert.deepEqual(supportersOf([]), [])
    assert.equal(fullBitmap(3), 0b111n)
  })
})

describe('cursor and codec', () => {
  test('cursor positions', () => {
    const c = after(7, 2)
    assert.deepEqual(c, { block: 7, index: 3 })
    assert.ok(delivered(c, 7, 2) && delivered(c, 6, 9) && !delivered(c, 7, 3) && !delivered(c, 8, 0))
    assert.deepEqual(parseCursor(formatCursor(c)), c)
    assert.equal(parseCursor('x'), undefined)
    assert.equal(parseCursor(undefined), undefined)
    assert.deepEqual(nextRange(10, 100, 50), { from: 10, to: 59 })
    assert.equal(nextRange(101, 100, 50), undefined)
    assert.deepEqual([1, 2, 3, 4, 5, 9].map((f) => backoff(f, 100, 1_000)), [100, 200, 400, 800, 1_000, 1_000])
  })

  test('bigints survive the JSON codec', () => {
    const value = { a: 1n, b: [2n, { c: -3n }], d: 'x', e: { $n: 5 } }
    assert.deepEqual(decodeJson(encodeJson(value)), value)
  })
})
