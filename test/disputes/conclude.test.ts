/**
 * Conclude disputes: a timeout raised on a terminal candidate (nobody can move after it) settles
 * the channel from that candidate at resolution, unless the disputer is shown to have signed
 * something later (answer, refute: it becomes a Fraud dispute) or a fraud proof replaces it.
 *
 * Base: TicTacToe of Alice (X, 0) and Bob (O, 1), 1 ETH each, bond 0.1 ETH. Moves X0 O3 X1 O4
 * (tx1..tx4) are final; Alice's winning X2 (tx5) is signed by her alone — Bob never confirms.
 * For the liar cases Alice had also signed X8 (tx5', confirmed by Bob) and Bob's O5 after it
 * (tx6', both signed), yet raises the winning X2 as her latest.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { abi, setup, type Fixture } from '../helpers/fixture.js'
import { Sim, assertSolvent, expectRevert, type Entry } from '../helpers/court.js'
import { DisputeKind, Phase, type Hex, type PackedSignedTransaction } from '../../src/protocol/types.js'

const ALICE = 0
const BOB = 1
const ETH1 = 10n ** 18n
const BOND = ETH1 / 10n

let f: Fixture
let sim: Sim
let win: Entry
let restore: () => Promise<void>

const cell = (c: number) => abi.encode(['uint256'], [c]) as Hex

before(async () => {
  f = await setup(4)
  sim = await Sim.open(f, f.wallets.slice(1, 3), f.tictactoe, { bond: BOND })
  for (const [k, c] of [0, 3, 1, 4].entries()) await sim.move(k % 2, cell(c))
  win = await sim.move(ALICE, cell(2), undefined, false)
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

/** tx4 final, then the winning tx5 signed by Alice alone: anchored, candidate = tx5. */
const winningList = (): PackedSignedTransaction[] => [...sim.final(4n), sim.signed(win.tx, [ALICE])]

async function deltas(run: () => Promise<unknown>): Promise<bigint[]> {
  const before = await sim.balances()
  await run()
  return (await sim.balances()).map((b, i) => b - before[i]!)
}

/** Alice's other line: X8 (tx5') and Bob's O5 (tx6'), both signed by both; returns tx5'. */
async function otherLine(): Promise<Entry> {
  const x8 = await sim.move(ALICE, cell(8))
  await sim.move(BOB, cell(5))
  return x8
}

describe('raise', () => {
  test('a terminal candidate is a Conclude: no removals, deadline one challenge time, no waiting for the accused', async () => {
    const r = await sim.timeout(ALICE, winningList(), win.state)
    const now = BigInt((await f.anvil.provider.getBlock(r.blockNumber))!.timestamp)
    // Raised right after the move (a timeout would wait for the posting window), and Bob not
    // having signed does not lengthen it: nobody has a move to make.
    assert.deepEqual(sim.record, {
      kind: DisputeKind.Conclude, disputer: ALICE, seq: 5n, timestamp: win.tx.timestamp,
      deadline: now + 300n, removals: 0n, stateHash: win.tx.stateHash,
    })
    const [ev] = sim.events('DisputeRaised')
    assert.equal(ev!.state, win.state)
    assert.deepEqual((ev!.txs as { transaction: { seq: bigint } }[]).map((t) => t.transaction.seq), [4n, 5n])
    await assertSolvent(f)
  })

  test('rejected: the candidate lacks the disputer\'s signature (Bob cannot conclude Alice\'s unsent move)', async () => {
    await expectRevert(sim.timeout(BOB, [...sim.final(4n), sim.signed(win.tx, [ALICE])], win.state), 'DisputerNotSigned', [BOB])
  })
})

describe('resolve', () => {
  test('unchallenged: the channel settles from the candidate (the winner takes the pot)', async () => {
    await sim.timeout(ALICE, winningList(), win.state)
    const d = await deltas(() => sim.resolve(win.state, BOB))
    assert.deepEqual(d, [2n * ETH1 + BOND, BOND])
    assert.equal(sim.events('ParticipantRemoved').length, 0)
    assert.equal(Number((await sim.channel()).phase), Phase.Closed)
    await assertSolvent(f)
  })

  test('rejected: before the deadline', async () => {
    await sim.timeout(ALICE, winningList(), win.state)
    await expectRevert(sim.send(BOB, 'resolve', sim.channelId, sim.participants, sim.record, win.state), 'DisputePending')
  })
})

describe('challenges: the disputer signed something later', () => {
  test('answer with a later final state: Alice slashed, a Fraud dispute from it', async () => {
    await otherLine()
    await sim.timeout(ALICE, winningList(), win.state)
    const r = await sim.answer(BOB, sim.final(6n))
    const now = BigInt((await f.anvil.provider.getBlock(r.blockNumber))!.timestamp)
    assert.deepEqual(sim.record, {
      kind: DisputeKind.Fraud, disputer: BOB, seq: 6n, timestamp: sim.entry(6n).tx.timestamp,
      deadline: now + 300n, removals: 1n, stateHash: sim.entry(6n).tx.stateHash,
    })
    assert.deepEqual(sim.events('ParticipantSlashed').map((e) => [e.index, e.beneficiary]), [[0n, 1n]])
    // Alice leaves through onRemove (she forfeits the unfinished game); her bond is Bob's too.
    const d = await deltas(() => sim.resolve(sim.entry(6n).state))
    assert.deepEqual(d, [0n, 2n * ETH1 + 2n * BOND])
    await assertSolvent(f)
  })

  test('refute with Alice\'s signature on a later transaction: a Fraud dispute from Bob\'s checkpoint', async () => {
    await otherLine()
    await sim.timeout(ALICE, winningList(), win.state)
    const t6 = sim.entry(6n).tx
    await sim.refute(BOB, t6, sim.sig(t6, ALICE), sim.final(4n))
    assert.deepEqual([sim.record.kind, sim.record.disputer, sim.record.seq, sim.record.removals], [DisputeKind.Fraud, BOB, 4n, 1n])
    await assertSolvent(f)
  })

  test('a fraud proof replaces it: Alice\'s two moves at seq 5 (equivocation), fresh deadline', async () => {
    const x8 = await otherLine()
    await sim.timeout(ALICE, winningList(), win.state)
    const before = sim.record.deadline
    await f.anvil.increaseTime(100)
    await sim.proveEquivocation(BOB, sim.signed(win.tx, [ALICE]), sim.signed(x8.tx, [ALICE, BOB]), sim.final(6n))
    assert.deepEqual([sim.record.kind, sim.record.disputer, sim.record.seq, sim.record.removals], [DisputeKind.Fraud, BOB, 6n, 1n])
    assert.ok(sim.record.deadline > before)
    await assertSolvent(f)
  })

  const cases: { name: string; run: () => Promise<unknown>; error: string; args?: unknown[] }[] = [
    { name: 'respond (nobody is accused)', error: 'DisputeKindInvalid', args: [DisputeKind.Conclude],
      run: async () => { await sim.timeout(ALICE, winningList(), win.state); const t = sim.forge({ actor: BOB, seq: 6n }); return sim.respond(BOB, t, sim.sig(t, BOB)) } },
    { name: 'extend (only exits and force-closes)', error: 'DisputeKindInvalid', args: [DisputeKind.Conclude],
      run: async () => { await sim.timeout(ALICE, winningList(), win.state); return sim.extend(BOB, winningList(), win.state) } },
    { name: 'answer: not later', error: 'CandidateNotLater', args: [4n, 5n],
      run: async () => { await sim.timeout(ALICE, winningList(), win.state); return sim.answer(BOB, sim.final(4n)) } },
    { name: 'refute: by the disputer itself', error: 'CallerIsDisputer', args: [ALICE],
      run: async () => { await otherLine(); await sim.timeout(ALICE, winningList(), win.state); const t = sim.entry(6n).tx; return sim.refute(ALICE, t, sim.sig(t, ALICE)) } },
  ]
  for (const c of cases) test(`rejected: ${c.name}`, async () => { await expectRevert(c.run(), c.error, c.args) })
})
