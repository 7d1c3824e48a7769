/**
 * Beneficiary chains: a slashed participant's outcome share and bond go to whoever proved it —
 * and if that prover is slashed later in the same dispute, to whoever proved that, and so on. A
 * prover convicted afterwards keeps none of its bounties.
 *
 * Base: Counter channel of Alice (0), Bob (1), Carol (2), Dave (3), Erin (4), deposits 1..5 ETH,
 * bond 0.1 ETH; tx1..tx5 (one per participant) signed by everyone.
 */
import { after, afterEach, before, beforeEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, assertSolvent } from '../helpers/court.js'
import type { PackedSignedTransaction } from '../../src/protocol/types.js'

const [ALICE, BOB, CAROL, DAVE, ERIN] = [0, 1, 2, 3, 4]
const ETH1 = 10n ** 18n
const BOND = ETH1 / 10n

let f: Fixture
let sim: Sim
let restore: () => Promise<void>

before(async () => {
  f = await setup(7)
  sim = await Sim.open(f, f.wallets.slice(1, 6), f.counter, { bond: BOND, deposits: [1n, 2n, 3n, 4n, 5n].map((k) => k * ETH1) })
  for (const actor of [ALICE, BOB, CAROL, DAVE, ERIN]) await sim.move(actor, inc())
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

/** `culprit` signed two different moves at seq 6. */
function equivocation(culprit: number): [PackedSignedTransaction, PackedSignedTransaction] {
  const a = sim.forge({ actor: ALICE, data: inc(1n) })
  return [sim.signed(a, [culprit]), sim.signed({ ...a, data: inc(2n) }, [culprit])]
}

async function deltas(run: () => Promise<unknown>): Promise<bigint[]> {
  const before = await sim.balances()
  await run()
  return (await sim.balances()).map((b, i) => b - before[i]!)
}

test('Alice proves Bob, then Carol proves Alice: Bob\'s and Alice\'s shares and bonds both go to Carol', async () => {
  await sim.proveEquivocation(ALICE, ...equivocation(BOB), sim.final(5n))
  assert.deepEqual(sim.events('ParticipantSlashed').map((e) => [e.index, e.beneficiary]), [[1n, 0n]])
  await sim.proveEquivocation(CAROL, ...equivocation(ALICE))
  assert.deepEqual(sim.events('ParticipantSlashed').map((e) => [e.index, e.beneficiary]), [[0n, 2n]])
  assert.deepEqual([sim.record.disputer, sim.record.removals], [CAROL, 0b00011n])
  const d = await deltas(() => sim.resolve(sim.entry(5n).state))
  assert.deepEqual(d, [0n, 0n, 3n * ETH1 + 2n * BOND, 0n, 0n])
  assert.deepEqual([sim.fork, sim.active], [1n, 0b11100n])
  await assertSolvent(f)
  // The rest go on: a cooperative close pays Carol, Dave and Erin their own shares.
  const end = await deltas(() => sim.closeCoop(sim.genesis))
  assert.deepEqual(end, [0n, 0n, 3n * ETH1 + BOND, 4n * ETH1 + BOND, 5n * ETH1 + BOND])
  await assertSolvent(f)
})

test('a chain of three: Bob ← Alice ← Carol ← Dave; everything the chain took goes to Dave', async () => {
  await sim.proveEquivocation(ALICE, ...equivocation(BOB), sim.final(5n))
  await sim.proveEquivocation(CAROL, ...equivocation(ALICE))
  await sim.proveEquivocation(DAVE, ...equivocation(CAROL))
  assert.deepEqual([sim.record.disputer, sim.record.removals], [DAVE, 0b00111n])
  // Two left after the removals: Dave (4 ETH) and Erin (5 ETH) continue; the removed are paid now.
  const d = await deltas(() => sim.resolve(sim.entry(5n).state))
  assert.deepEqual(d, [0n, 0n, 0n, 6n * ETH1 + 3n * BOND, 0n])
  assert.deepEqual([sim.fork, sim.active], [1n, 0b11000n])
  await assertSolvent(f)
})

test('a prover who is never convicted keeps its bounty when another prover takes over', async () => {
  await sim.proveEquivocation(ALICE, ...equivocation(BOB), sim.final(5n))
  await sim.proveEquivocation(DAVE, ...equivocation(CAROL))
  const d = await deltas(() => sim.resolve(sim.entry(5n).state))
  assert.deepEqual(d, [2n * ETH1 + BOND, 0n, 0n, 3n * ETH1 + BOND, 0n])
  await assertSolvent(f)
})
