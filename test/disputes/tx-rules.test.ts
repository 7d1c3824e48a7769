/**
 * The entry rules of single transactions (docs/protocol.md §7.2, docs/contracts.md §7.3), table-driven over every
 * entry point that takes one: postTransaction, respond, refute, proveInvalidTransition and
 * proveEquivocation. Data of at most MAX_DATA_BYTES; a timestamp in [earliest, block time +
 * skew], where earliest is the fork genesis — except for respond, whose move may not be stamped
 * before the dispute's candidate (record.timestamp). Every bound is inclusive and checked on
 * both sides.
 *
 * Base: Counter channel of Alice (0), Bob (1), Carol (2); tx1 (Alice) and tx2 (Bob) stamped
 * genesis + 10 and + 20; Carol is the next actor. The transaction under test is Carol's move at
 * seq 3.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { atTime, setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, assertSolvent, expectRevert } from '../helpers/court.js'
import { DisputeKind, MAX_DATA_BYTES, Phase, type Hex, type Transaction } from '../../src/protocol/types.js'

const ALICE = 0
const BOB = 1
const CAROL = 2

let f: Fixture
let sim: Sim
let g: bigint
let restore: () => Promise<void>

before(async () => {
  f = await setup(5)
  sim = await Sim.open(f, f.wallets.slice(1, 4), f.counter, { bond: 10n ** 17n })
  g = sim.genesisTimestamp
  await sim.move(ALICE, inc(), g + 10n)
  await sim.move(BOB, inc(), g + 20n)
  await f.anvil.increaseTime(1_000) // a timeout on tx2 is due
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

/** Carol's move at seq 3 on tx2's state (valid unless `over` says otherwise). */
const carols = (over: Partial<Transaction> = {}): Transaction =>
  sim.forge({ seq: 3n, actor: CAROL, previousStateHash: sim.entry(2n).tx.stateHash, timestamp: g + 30n, data: inc(), ...over })
/** Bob's timeout against Carol on [tx1, tx2] (record.timestamp = genesis + 20). */
const bobTimesOutCarol = () => sim.timeout(BOB, sim.chain(1n, 2n), sim.entry(2n).state)

interface Point {
  name: string
  /** The earliest timestamp the transaction may carry. */
  earliest: () => bigint
  prepare?: () => Promise<unknown>
  /** Sends the call with `over` applied to the transaction under test. */
  call: (over: Partial<Transaction>) => Promise<unknown>
  /** What an accepted call leaves behind. */
  check: () => Promise<void>
}

const POINTS: Point[] = [
  { name: 'postTransaction', earliest: () => g,
    call: (over) => { const t = carols(over); return sim.post(CAROL, t, sim.sig(t, CAROL)) },
    check: async () => assert.equal(sim.events('TransactionPosted').length, 1) },
  { name: 'respond (earliest = the candidate\'s timestamp)', earliest: () => sim.entry(2n).tx.timestamp, prepare: bobTimesOutCarol,
    call: (over) => { const t = carols(over); return sim.respond(CAROL, t, sim.sig(t, CAROL)) },
    check: async () => assert.equal(Number((await sim.channel()).phase), Phase.Open) },
  { name: 'refute', earliest: () => g, prepare: bobTimesOutCarol,
    call: (over) => { const t = carols(over); return sim.refute(ALICE, t, sim.sig(t, BOB)) },
    check: async () => assert.equal(sim.record.kind, DisputeKind.Fraud) },
  { name: 'proveInvalidTransition', earliest: () => g,
    // A zero increment (or data of any other size than 32 bytes) makes Counter revert.
    call: (over) => sim.proveInvalid(ALICE, sim.signed(carols({ data: inc(0n), ...over }), [CAROL]), sim.entry(2n).state),
    check: async () => assert.equal(sim.record.removals, 1n << BigInt(CAROL)) },
  { name: 'proveEquivocation (first)', earliest: () => g,
    call: (over) => sim.proveEquivocation(ALICE, sim.signed(carols(over), [CAROL]), sim.signed(carols({ data: inc(2n) }), [CAROL])),
    check: async () => assert.equal(sim.record.removals, 1n << BigInt(CAROL)) },
  { name: 'proveEquivocation (second)', earliest: () => g,
    call: (over) => sim.proveEquivocation(ALICE, sim.signed(carols({ data: inc(2n) }), [CAROL]), sim.signed(carols(over), [CAROL])),
    check: async () => assert.equal(sim.record.removals, 1n << BigInt(CAROL)) },
]

interface Case {
  name: string
  over: (earliest: bigint, latest: bigint) => Partial<Transaction>
  error?: (t: Partial<Transaction>, earliest: bigint, latest: bigint) => [string, unknown[]]
}
const data = (k: number): Hex => `0x${'a5'.repeat(k)}`
const badTime = (t: Partial<Transaction>, earliest: bigint, latest: bigint): [string, unknown[]] =>
  ['TransactionTimestampInvalid', [t.timestamp, earliest, latest]]
const CASES: Case[] = [
  { name: 'data of exactly MAX_DATA_BYTES', over: () => ({ data: data(MAX_DATA_BYTES) }) },
  { name: 'data of MAX_DATA_BYTES + 1', over: () => ({ data: data(MAX_DATA_BYTES + 1) }),
    error: () => ['TransactionDataTooLarge', [MAX_DATA_BYTES + 1, MAX_DATA_BYTES]] },
  { name: 'stamped exactly at the earliest', over: (earliest) => ({ timestamp: earliest }) },
  { name: 'stamped one second before the earliest', over: (earliest) => ({ timestamp: earliest - 1n }), error: badTime },
  { name: 'stamped exactly block time + skew', over: (_, latest) => ({ timestamp: latest }) },
  { name: 'stamped one second after block time + skew', over: (_, latest) => ({ timestamp: latest + 1n }), error: badTime },
]

for (const p of POINTS) {
  describe(`transaction entry rules: ${p.name}`, () => {
    for (const c of CASES) {
      test(`${c.name} → ${c.error ? 'refused' : 'accepted'}`, async () => {
        await p.prepare?.()
        const blockTime = (await sim.now()) + 1n
        await atTime(f, blockTime)
        const latest = blockTime + sim.skew
        const earliest = p.earliest()
        const over = c.over(earliest, latest)
        if (c.error) {
          const [name, args] = c.error(over, earliest, latest)
          await expectRevert(p.call(over), name, args)
        } else {
          await p.call(over)
          await p.check()
          await assertSolvent(f)
        }
      })
    }
  })
}

test('respond: the genesis is not the floor — a move stamped between the genesis and the candidate is refused', async () => {
  await bobTimesOutCarol()
  const t = carols({ timestamp: g + 15n })
  const r = await expectRevert(sim.respond(CAROL, t, sim.sig(t, CAROL)), 'TransactionTimestampInvalid')
  assert.deepEqual(r.args.slice(0, 2), [g + 15n, g + 20n])
})
