/**
 * The entry rules of signed-transaction lists (docs/protocol.md §7.2, docs/contracts.md §7.3), table-driven over
 * every entry point that takes a list: conclude, verifyFinalityProof, exit, answer,
 * disputeTimeout, extend, and the checkpoints of refute, proveInvalidTransition and
 * proveEquivocation. Each entry of a list must carry data of at most MAX_DATA_BYTES and a
 * timestamp in [floor, block time + skew], the floor being the fork genesis for entry 0 and the
 * parent's timestamp for the others; every bound is inclusive and checked on both sides.
 *
 * Base: Counter channel (target 3) of Alice (0), Bob (1), Carol (2); tx1..tx3 stamped genesis
 * + 10, + 20, + 30 (tx3 reaches the target: terminal), and a forged tx4 after it (lists never run
 * the machine). Every list has two entries, so each rule is checked on entry 0 and entry 1.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { hexlify, randomBytes } from 'ethers'
import { abi, atTime, setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, assertSolvent, expectRevert } from '../helpers/court.js'
import { bitIndices } from '../../src/protocol/bitmap.js'
import { MAX_DATA_BYTES, type Hex, type PackedSignedTransaction, type Transaction } from '../../src/protocol/types.js'

const ALICE = 0
const BOB = 1
const CAROL = 2

let f: Fixture
let sim: Sim
let g: bigint
let tx4: Transaction
let restore: () => Promise<void>

before(async () => {
  f = await setup(5)
  sim = await Sim.open(f, f.wallets.slice(1, 4), f.counter, { bond: 10n ** 17n, initData: abi.encode(['uint64'], [3]) as Hex })
  g = sim.genesisTimestamp
  for (const [k, actor] of [ALICE, BOB, CAROL].entries()) await sim.move(actor, inc(), g + 10n * BigInt(k + 1))
  const t3 = sim.entry(3n).tx
  tx4 = { ...t3, seq: 4n, actor: ALICE, previousStateHash: t3.stateHash, data: '0x', timestamp: g + 40n, stateHash: hexlify(randomBytes(32)) as Hex }
  // Far enough from the candidates that a timeout on tx2 is due.
  await f.anvil.increaseTime(1_000)
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

/** Two entries each signed by `signers`. */
const list = (a: [Transaction, number[]], b: [Transaction, number[]]) => [sim.signed(...a), sim.signed(...b)]
/** tx1 (Alice, Carol) and tx2 (Bob): together final, a proof of tx1. */
const finalFrom1 = () => list([sim.entry(1n).tx, [ALICE, CAROL]], [sim.entry(2n).tx, [BOB]])
/** tx1 and tx2 by their authors alone: anchored by the genesis, not final (candidate tx2). */
const anchored = () => list([sim.entry(1n).tx, [ALICE]], [sim.entry(2n).tx, [BOB]])

/** Rewrites entry `i` (and lifts later timestamps to stay linked in time), re-signed by the same signers. */
function mutate(l: PackedSignedTransaction[], i: number, over: Partial<Transaction>): PackedSignedTransaction[] {
  const txs = l.map((e) => ({ ...e.transaction }))
  Object.assign(txs[i]!, over)
  for (let k = i + 1; k < txs.length; k++) if (txs[k]!.timestamp < txs[k - 1]!.timestamp) txs[k]!.timestamp = txs[k - 1]!.timestamp
  return txs.map((t, k) => sim.signed(t, bitIndices(l[k]!.signers)))
}

/** Another move by the timeout's disputer (Bob) after its candidate. */
const bobsLaterMove = () => sim.forge({ seq: 3n, actor: CAROL, previousStateHash: sim.entry(2n).tx.stateHash, timestamp: g + 30n, data: inc() })

interface Point {
  name: string
  /** A view: judged at the latest block (eth_call), not at a block of its own. */
  view?: boolean
  /** The valid list this entry point takes. */
  base: () => PackedSignedTransaction[]
  /** Opens the dispute the call needs, if any. */
  prepare?: () => Promise<unknown>
  call: (l: PackedSignedTransaction[]) => Promise<unknown>
  /** The later check an accepted list with a candidate stamped at `latest` meets (a timeout on a future state is too early). */
  futureCandidate?: string
}

const POINTS: Point[] = [
  { name: 'verifyFinalityProof', view: true, base: finalFrom1,
    call: (l) => f.manager.getFunction('verifyFinalityProof')(sim.channelId, sim.participants, l) },
  { name: 'conclude', base: () => list([sim.entry(3n).tx, [BOB, CAROL]], [tx4, [ALICE]]),
    call: (l) => sim.send(ALICE, 'conclude', sim.channelId, sim.participants, l, sim.entry(3n).state) },
  { name: 'exit', base: finalFrom1, call: (l) => sim.exit(BOB, l, true, sim.entry(1n).state) },
  { name: 'answer', base: finalFrom1, prepare: () => sim.exit(ALICE, [], false), call: (l) => sim.answer(BOB, l, sim.entry(1n).state) },
  { name: 'disputeTimeout', base: anchored, futureCandidate: 'DisputeTooEarly', call: (l) => sim.timeout(BOB, l, sim.entry(2n).state) },
  { name: 'extend', base: anchored, prepare: () => sim.exit(ALICE, sim.final(1n), false), call: (l) => sim.extend(CAROL, l, sim.entry(2n).state) },
  { name: 'refute (checkpoint)', base: finalFrom1, prepare: () => sim.timeout(BOB, anchored(), sim.entry(2n).state),
    call: (l) => { const t = bobsLaterMove(); return sim.refute(ALICE, t, sim.sig(t, BOB), l, sim.entry(1n).state) } },
  { name: 'proveInvalidTransition (checkpoint)', base: finalFrom1,
    call: (l) => {
      const t = sim.forge({ seq: 3n, actor: CAROL, previousStateHash: sim.entry(2n).tx.stateHash, timestamp: g + 30n, data: inc(0n) })
      return sim.proveInvalid(ALICE, sim.signed(t, [CAROL]), sim.entry(2n).state, l, sim.entry(1n).state)
    } },
  { name: 'proveEquivocation (checkpoint)', base: finalFrom1,
    call: (l) => {
      const a = sim.forge({ seq: 3n, actor: CAROL, previousStateHash: sim.entry(2n).tx.stateHash, timestamp: g + 30n, data: inc(1n) })
      const b = { ...a, data: inc(2n) }
      return sim.proveEquivocation(ALICE, sim.signed(a, [CAROL]), sim.signed(b, [CAROL]), l, sim.entry(1n).state)
    } },
]

/** A case: which entry, what to change (given the floor and latest), and the verdict (undefined = accepted). */
interface Case {
  name: string
  i: 0 | 1
  over: (floor: bigint, latest: bigint) => Partial<Transaction>
  error?: (t: Partial<Transaction>, floor: bigint, latest: bigint) => [string, unknown[]]
  future?: boolean
}
const data = (k: number): Hex => `0x${'a5'.repeat(k)}`
const tooLarge = (i: number) => (): [string, unknown[]] => ['ProofDataTooLarge', [i, MAX_DATA_BYTES + 1, MAX_DATA_BYTES]]
const badTime = (i: number) => (t: Partial<Transaction>, floor: bigint, latest: bigint): [string, unknown[]] =>
  ['ProofTimestampInvalid', [i, t.timestamp, floor, latest]]
const CASES: Case[] = [
  ...([0, 1] as const).flatMap((i): Case[] => [
    { name: `entry ${i}: data of exactly MAX_DATA_BYTES`, i, over: () => ({ data: data(MAX_DATA_BYTES) }) },
    { name: `entry ${i}: data of MAX_DATA_BYTES + 1`, i, over: () => ({ data: data(MAX_DATA_BYTES + 1) }), error: tooLarge(i) },
    { name: `entry ${i}: stamped exactly block time + skew`, i, over: (_, latest) => ({ timestamp: latest }), future: true },
    { name: `entry ${i}: stamped one second after block time + skew`, i, over: (_, latest) => ({ timestamp: latest + 1n }), error: badTime(i) },
  ]),
  { name: 'entry 0: stamped exactly at the fork genesis', i: 0, over: (floor) => ({ timestamp: floor }) },
  { name: 'entry 0: stamped one second before the fork genesis', i: 0, over: (floor) => ({ timestamp: floor - 1n }), error: badTime(0) },
  { name: 'entry 1: stamped exactly as its parent', i: 1, over: (floor) => ({ timestamp: floor }) },
  { name: 'entry 1: stamped one second before its parent (after the genesis)', i: 1, over: (floor) => ({ timestamp: floor - 1n }), error: badTime(1) },
]

for (const p of POINTS) {
  describe(`list entry rules: ${p.name}`, () => {
    for (const c of CASES) {
      test(`${c.name} → ${c.error ? 'refused' : 'accepted'}`, async () => {
        await p.prepare?.()
        const now = await sim.now()
        // A transaction is judged in its own block (pinned at now + 1); a view at the latest block.
        const blockTime = p.view ? now : now + 1n
        if (!p.view) await atTime(f, blockTime)
        const latest = blockTime + sim.skew
        const l = p.base()
        const floor = c.i === 0 ? g : l[c.i - 1]!.transaction.timestamp
        const over = c.over(floor, latest)
        const run = p.call(mutate(l, c.i, over))
        if (c.error) {
          const [name, args] = c.error(over, floor, latest)
          await expectRevert(run, name, args)
        } else if (c.future && p.futureCandidate) {
          await expectRevert(run, p.futureCandidate) // the list passed; a later check refuses it
        } else {
          await run
          if (!p.view) await assertSolvent(f)
        }
      })
    }
  })
}

test('the first failing rule is reported: data before timestamps, the earlier entry first', async () => {
  const l = finalFrom1()
  const both = mutate(mutate(l, 1, { timestamp: g - 1n }), 0, { data: data(MAX_DATA_BYTES + 1), timestamp: g - 1n })
  await expectRevert(f.manager.getFunction('verifyFinalityProof')(sim.channelId, sim.participants, both), 'ProofDataTooLarge', [0, MAX_DATA_BYTES + 1, MAX_DATA_BYTES])
  assert.equal(both[1]!.transaction.timestamp, g - 1n)
})
