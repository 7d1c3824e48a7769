/**
 * extend: during an exit's or force-close's answer window (until deadline − challengeTime), any
 * participant may move the candidate forward with valid moves that are not final yet (a list
 * anchored like a timeout candidate list, candidate = its last entry), so the last extension
 * stays open to fraud proofs for a full challenge time.
 *
 * Base: Counter channel of Alice (0), Bob (1), Carol (2), bond 0.1 ETH; tx1..tx4 (Alice, Bob,
 * Carol, Alice) each signed by its author only: nothing after the genesis is final.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { atTime, setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, assertSolvent, expectRevert } from '../helpers/court.js'
import { timeoutDeadline } from '../../src/protocol/disputes.js'
import { DisputeKind, Phase } from '../../src/protocol/types.js'

const ALICE = 0
const BOB = 1
const CAROL = 2
const C = 300n

let f: Fixture
let sim: Sim
let restore: () => Promise<void>

before(async () => {
  f = await setup(5)
  sim = await Sim.open(f, f.wallets.slice(1, 4), f.counter, { bond: 10n ** 17n })
  for (const actor of [ALICE, BOB, CAROL, ALICE]) await sim.move(actor, inc())
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

describe('extend: accepted', () => {
  test('a non-final list from the genesis moves a force-close forward; the deadline stays', async () => {
    await sim.exit(ALICE, [], false)
    const deadline = sim.record.deadline
    await sim.extend(BOB, sim.chain(1n, 3n))
    assert.deepEqual(sim.record, {
      kind: DisputeKind.ForceClose, disputer: ALICE, seq: 3n, timestamp: sim.entry(3n).tx.timestamp,
      deadline, removals: 1n, stateHash: sim.entry(3n).tx.stateHash,
    })
    const [ev] = sim.events('DisputeAnswered')
    assert.equal(ev!.state, sim.entry(3n).state)
    assert.deepEqual((ev!.txs as { transaction: { seq: bigint } }[]).map((t) => t.transaction.seq), [1n, 2n, 3n])
    await assertSolvent(f)
  })

  test('a list anchored by finality (its first entry final), then extended again; resolve settles from the last', async () => {
    await sim.exit(BOB, [], true)
    await sim.extend(CAROL, [sim.signed(sim.entry(1n).tx, [ALICE, BOB, CAROL]), ...sim.chain(2n, 2n)])
    assert.equal(sim.record.seq, 2n)
    await sim.extend(ALICE, [sim.signed(sim.entry(2n).tx, [ALICE, BOB, CAROL]), ...sim.chain(3n, 4n)])
    assert.equal(sim.record.seq, 4n)
    await sim.resolve(sim.entry(4n).state)
    assert.deepEqual([sim.fork, sim.active], [1n, 0b101n])
    await assertSolvent(f)
  })

  test('exactly at the end of the answer window (deadline − challengeTime)', async () => {
    await sim.exit(ALICE, [], false)
    await atTime(f, sim.record.deadline - C)
    await sim.extend(BOB, sim.chain(1n, 2n))
    assert.equal(sim.record.seq, 2n)
  })

  test('the last extension stays open to fraud proofs for a full challenge time', async () => {
    await sim.exit(ALICE, [], false)
    // Carol extends with an invalid last move of Alice's (a zero increment claimed to change
    // nothing): lists never run the machine, fraud proofs do.
    const bad = { ...sim.entry(4n).tx, data: inc(0n), stateHash: sim.entry(3n).tx.stateHash }
    await atTime(f, sim.record.deadline - C)
    await sim.extend(CAROL, [sim.signed(sim.entry(2n).tx, [ALICE, BOB, CAROL]), ...sim.chain(3n, 3n), sim.signed(bad, [ALICE])], sim.entry(3n).state)
    await atTime(f, sim.record.deadline)
    await sim.proveInvalid(BOB, sim.signed(bad, [ALICE]), sim.entry(3n).state)
    assert.deepEqual([sim.record.kind, sim.record.disputer, sim.record.removals], [DisputeKind.Fraud, BOB, 0b001n])
    await assertSolvent(f)
  })
})

describe('extend: rejected', () => {
  const cases: { name: string; run: () => Promise<unknown>; error: string; args?: () => unknown[] }[] = [
    { name: 'one second after the answer window', error: 'AnswerWindowClosed', args: () => [sim.record.deadline - C + 1n, sim.record.deadline - C],
      run: async () => { await sim.exit(ALICE, [], false); await atTime(f, sim.record.deadline - C + 1n); return sim.extend(BOB, sim.chain(1n, 2n)) } },
    { name: 'after the deadline', error: 'DisputeExpired',
      run: async () => { await sim.exit(ALICE, [], false); await atTime(f, sim.record.deadline + 1n); return sim.extend(BOB, sim.chain(1n, 2n)) } },
    { name: 'not later than the candidate', error: 'CandidateNotLater', args: () => [2n, 2n],
      run: async () => { await sim.exit(ALICE, [sim.signed(sim.entry(2n).tx, [ALICE, BOB, CAROL])], false); return sim.extend(BOB, sim.chain(1n, 2n)) } },
    { name: 'neither final nor from the genesis', error: 'CandidateNotAnchored',
      run: async () => { await sim.exit(ALICE, [], false); return sim.extend(BOB, sim.chain(2n, 3n)) } },
    { name: 'state bytes of another state', error: 'StateHashMismatch',
      run: async () => { await sim.exit(ALICE, [], false); return sim.extend(BOB, sim.chain(1n, 2n), sim.entry(1n).state) } },
    { name: 'a state above MAX_STATE_BYTES (no valid move produces one)', error: 'StateTooLarge', args: () => [32769n, 32768n],
      run: async () => { await sim.exit(ALICE, [], false); return sim.extend(BOB, sim.chain(1n, 2n), `0x${'00'.repeat(32769)}`) } },
    { name: 'a timeout', error: 'DisputeKindInvalid', args: () => [DisputeKind.Timeout],
      run: async () => {
        await f.anvil.increaseTime(Number(timeoutDeadline(sim.head.timestamp, sim.params) - (await sim.now())) + 1)
        await sim.timeout(ALICE, [sim.signed(sim.entry(3n).tx, [ALICE, BOB, CAROL]), ...sim.chain(4n, 4n)], sim.entry(4n).state)
        return sim.extend(CAROL, sim.chain(1n, 2n))
      } },
    { name: 'a fraud dispute', error: 'DisputeKindInvalid', args: () => [DisputeKind.Fraud],
      run: async () => {
        await sim.proveInvalid(ALICE, sim.signed(sim.forge({ actor: CAROL, data: inc(0n) }), [CAROL]), sim.entry(4n).state)
        return sim.extend(BOB, sim.chain(1n, 2n))
      } },
    { name: 'no dispute open', error: 'DisputeNotOpen', args: () => [sim.channelId], run: () => sim.extend(BOB, sim.chain(1n, 2n)) },
    { name: 'non-participant caller', error: 'CallerNotParticipant',
      run: async () => { await sim.exit(ALICE, [], false); return sim.send(f.wallets[4]!, 'extend', sim.channelId, sim.participants, 0, sim.record, sim.chain(1n, 2n), sim.entry(2n).state) } },
  ]
  for (const c of cases) {
    test(c.name, async () => {
      const run = c.run()
      await run.catch(() => {}) // the arguments may name the dispute the call opened first
      await expectRevert(run, c.error, c.args?.())
    })
  }
})

test('the channel stays disputed while extended', async () => {
  await sim.exit(ALICE, [], false)
  await sim.extend(BOB, sim.chain(1n, 2n))
  assert.equal(Number((await sim.channel()).phase), Phase.Disputed)
})
