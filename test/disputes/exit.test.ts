/**
 * exit (leave / force-close), answers to them, and resolve, table-driven on one anvil.
 * Base: Counter channel of Alice (0), Bob (1), Carol (2) with deposits 1, 2, 3 ETH and bond
 * 0.1 ETH; tx1..tx3 (Alice, Bob, Carol) each signed by everyone.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder, keccak256, type Contract, type Wallet } from 'ethers'
import { atTime, setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, pay, expectRevert, assertSolvent } from '../helpers/court.js'
import { deploy } from '../../src/chain/deploy.js'
import { hashState } from '../../src/protocol/eip712.js'
import { DisputeKind, Phase } from '../../src/protocol/types.js'

const ALICE = 0
const BOB = 1
const CAROL = 2
const ETH1 = 10n ** 18n
const BOND = ETH1 / 10n
/** TicTacToe move data: mark `c` (0..8). */
const cell = (c: number) => AbiCoder.defaultAbiCoder().encode(['uint256'], [c]) as `0x${string}`

let f: Fixture
let sim: Sim
let relay: Contract
let outsider: Wallet
let restore: () => Promise<void>

async function deltas(s: Sim, run: () => Promise<unknown>): Promise<bigint[]> {
  const before = await s.balances()
  await run()
  return (await s.balances()).map((b, i) => b - before[i]!)
}

before(async () => {
  f = await setup(6)
  outsider = f.wallets[5]!
  relay = (await deploy('Relay', f.wallets[0]!)) as unknown as Contract
  sim = await Sim.open(f, f.wallets.slice(1, 4), f.counter, { bond: BOND, deposits: [ETH1, 2n * ETH1, 3n * ETH1] })
  for (const actor of [ALICE, BOB, CAROL]) await sim.move(actor, inc())
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

/** Waits until the open dispute's deadline has passed. */
async function pastDisputeDeadline(): Promise<void> {
  const now = await sim.now()
  if (now <= sim.record.deadline) await f.anvil.increaseTime(Number(sim.record.deadline - now) + 1)
}

describe('exit', () => {
  test('leave from a final state: the record removes the caller; an answer window, then a challenge window', async () => {
    const r = await sim.exit(BOB, sim.final(2n), true)
    const now = BigInt((await f.anvil.provider.getBlock(r.blockNumber))!.timestamp)
    assert.deepEqual(sim.record, {
      kind: DisputeKind.Exit, disputer: BOB, seq: 2n, timestamp: sim.entry(2n).tx.timestamp,
      deadline: now + 2n * 300n, removals: 0b010n, stateHash: sim.entry(2n).tx.stateHash,
    })
    // The evidence is in the event: the candidate's bytes and the proof the call carried.
    const [ev] = sim.events('DisputeRaised')
    assert.equal(ev!.state, sim.entry(2n).state)
    assert.deepEqual((ev!.txs as { transaction: { seq: bigint } }[]).map((t) => t.transaction.seq), [2n])
  })

  test('force-close from the genesis (empty proof): the force-closer is removed too', async () => {
    await sim.exit(CAROL, [], false)
    assert.deepEqual([sim.record.kind, sim.record.seq, sim.record.timestamp, sim.record.removals, sim.record.stateHash],
      [DisputeKind.ForceClose, 0n, sim.genesisTimestamp, 0b100n, hashState(sim.genesis)])
    assert.equal(sim.events('DisputeRaised')[0]!.state, sim.genesis)
  })

  const cases: { name: string; run: () => Promise<unknown>; error: string; args?: () => unknown[] }[] = [
    { name: 'a proof that is not final', error: 'ProofNotFinal', args: () => [0b011n], run: () => sim.exit(ALICE, sim.chain(3n, 3n), false) },
    { name: 'a proof from another fork', error: 'ProofForkMismatch', args: () => [0n, 2n, 0n],
      run: () => sim.exit(ALICE, [sim.signed({ ...sim.entry(3n).tx, fork: 2n }, [0, 1, 2])], false) },
    { name: 'a dispute is already open', error: 'DisputeAlreadyOpen', args: () => [sim.channelId],
      run: async () => { await sim.exit(ALICE, [], false); return sim.exit(BOB, sim.final(3n), true) } },
    { name: 'non-participant caller', error: 'CallerNotParticipant', args: () => [0n, outsider.address],
      run: () => sim.send(outsider, 'exit', sim.channelId, sim.participants, 0, sim.record, [], false, sim.genesis) },
    { name: 'state bytes of another state', error: 'StateHashMismatch', args: () => [sim.entry(3n).tx.stateHash, hashState(sim.entry(2n).state)],
      run: () => sim.exit(ALICE, sim.final(3n), false, sim.entry(2n).state) },
    { name: 'removed caller', error: 'CallerInactive', args: () => [BigInt(BOB)],
      run: async () => { await sim.exit(BOB, sim.final(3n), true); await sim.resolve(sim.entry(3n).state); return sim.exit(BOB, [], false) } },
  ]
  for (const c of cases) test(`rejected: ${c.name}`, async () => { await expectRevert(c.run(), c.error, c.args?.()) })
})

describe('exit over an open timeout', () => {
  /** Carol accuses Alice (next after tx3, which everyone signed) once the posting window passed. */
  async function timeoutOnAlice(): Promise<void> {
    await f.anvil.increaseTime(60 + 30 + 120 + 1)
    await sim.timeout(CAROL, sim.final(3n), sim.head.state)
    assert.equal(sim.record.kind, DisputeKind.Timeout)
  }

  test('an exit or force-close replaces an open timeout (a timeout can be cancelled and raised again for ever)', async () => {
    for (const leave of [true, false]) {
      const back = await sim.checkpoint()
      await timeoutOnAlice()
      const r = await sim.exit(BOB, sim.final(3n), leave)
      const now = BigInt((await f.anvil.provider.getBlock(r.blockNumber))!.timestamp)
      assert.deepEqual([sim.record.kind, sim.record.disputer, sim.record.seq, sim.record.removals, sim.record.deadline],
        [leave ? DisputeKind.Exit : DisputeKind.ForceClose, BOB, 3n, 0b010n, now + 600n])
      assert.equal((await sim.channel()).phase, BigInt(Phase.Disputed))
      await back()
    }
  })

  test('the accused itself may leave instead of answering', async () => {
    await timeoutOnAlice()
    await sim.exit(ALICE, sim.final(3n), true)
    assert.deepEqual([sim.record.kind, sim.record.removals], [DisputeKind.Exit, 0b001n])
  })

  const cases: { name: string; run: () => Promise<unknown>; error: string; args?: () => unknown[] }[] = [
    { name: 'another kind of dispute open (an exit is not replaced)', error: 'DisputeAlreadyOpen', args: () => [sim.channelId],
      run: async () => { await sim.exit(ALICE, [], true); return sim.exit(BOB, sim.final(3n), false) } },
    { name: 'an expired timeout (it is resolved, its accused removed, not replaced)', error: 'DisputeExpired',
      run: async () => { await timeoutOnAlice(); await pastDisputeDeadline(); return sim.exit(ALICE, sim.final(3n), false) } },
    { name: 'a stale or tampered timeout record', error: 'DisputeRecordMismatch', args: () => [sim.channelId],
      run: async () => { await timeoutOnAlice(); sim.record = { ...sim.record, deadline: sim.record.deadline + 1n }; return sim.exit(BOB, sim.final(3n), true) } },
  ]
  for (const c of cases) test(`rejected: ${c.name}`, async () => { await expectRevert(c.run(), c.error, c.args?.()) })
})

describe('answer an exit or force-close', () => {
  test('a later final state becomes the candidate; the deadline stays', async () => {
    await sim.exit(ALICE, sim.final(1n), false)
    const deadline = sim.record.deadline
    await f.anvil.increaseTime(100)
    await sim.answer(CAROL, sim.final(3n))
    assert.deepEqual([sim.record.seq, sim.record.stateHash, sim.record.deadline, sim.record.kind],
      [3n, sim.entry(3n).tx.stateHash, deadline, DisputeKind.ForceClose])
    assert.equal(sim.events('DisputeAnswered').length, 1)
  })

  test('the disputer may answer its own exit with a later state', async () => {
    await sim.exit(ALICE, [], true)
    await sim.answer(ALICE, sim.final(2n))
    assert.equal(sim.record.seq, 2n)
  })

  const cases: { name: string; run: () => Promise<unknown>; error: string; args?: () => unknown[] }[] = [
    { name: 'not later', error: 'CandidateNotLater', args: () => [2n, 2n],
      run: async () => { await sim.exit(ALICE, sim.final(2n), false); return sim.answer(BOB, sim.final(2n)) } },
    { name: 'an empty proof (the genesis is never later)', error: 'CandidateNotLater', args: () => [0n, 0n],
      run: async () => { await sim.exit(ALICE, [], false); return sim.answer(BOB, []) } },
    { name: 'after the deadline', error: 'DisputeExpired',
      run: async () => { await sim.exit(ALICE, [], false); await pastDisputeDeadline(); return sim.answer(BOB, sim.final(3n)) } },
    { name: 'a tampered record', error: 'DisputeRecordMismatch', args: () => [sim.channelId],
      run: async () => { await sim.exit(ALICE, [], false); sim.record = { ...sim.record, removals: 0b10n }; return sim.answer(BOB, sim.final(3n)) } },
    { name: 'a tampered record timestamp', error: 'DisputeRecordMismatch', args: () => [sim.channelId],
      run: async () => { await sim.exit(ALICE, [], false); sim.record = { ...sim.record, timestamp: sim.record.timestamp + 1n }; return sim.answer(BOB, sim.final(3n)) } },
    { name: 'state bytes of another state', error: 'StateHashMismatch',
      run: async () => { await sim.exit(ALICE, [], false); return sim.answer(BOB, sim.final(3n), sim.entry(2n).state) } },
    { name: 'no dispute open', error: 'DisputeNotOpen', args: () => [sim.channelId], run: () => sim.answer(BOB, sim.final(3n)) },
    { name: 'non-participant caller', error: 'CallerNotParticipant',
      run: async () => { await sim.exit(ALICE, [], false); return sim.send(outsider, 'answer', sim.channelId, sim.participants, 1, sim.record, sim.final(3n), sim.entry(3n).state) } },
  ]
  for (const c of cases) test(`rejected: ${c.name}`, async () => { await expectRevert(c.run(), c.error, c.args?.()) })
})

describe('resolve', () => {
  test('leave: the leaver gets its share and bond now; the others continue on fork 1', async () => {
    await sim.exit(BOB, sim.final(3n), true)
    const d = await deltas(sim, () => sim.resolve(sim.entry(3n).state, CAROL))
    assert.deepEqual(d, [0n, 2n * ETH1 + BOND, 0n])
    assert.deepEqual([sim.fork, sim.active], [1n, 0b101n])
    assert.deepEqual(sim.events('ParticipantRemoved').map((e) => e.index), [BigInt(BOB)])
    const ch = await sim.channel()
    assert.deepEqual([ch.phase, ch.locked, ch.genesisTimestamp], [BigInt(Phase.Open), 4n * ETH1, sim.genesisTimestamp])
    assert.deepEqual([...(await f.manager.getFunction('getDispute')(sim.channelId))], [`0x${'00'.repeat(32)}`, 0n])
    assert.equal(ch.participantsHash, keccak256(AbiCoder.defaultAbiCoder().encode(sim.participants.map(() => 'address'), sim.participants)))
    await assertSolvent(f)
    // The rest continue (Alice's turn after tx3), then a force-close from the new fork's
    // latest final state pays the others their deposits and bonds.
    await sim.move(ALICE, inc())
    await sim.exit(CAROL, sim.final(1n), false)
    const end = await deltas(sim, () => sim.resolve(sim.entry(1n).state))
    assert.deepEqual(end, [ETH1 + BOND, 0n, 3n * ETH1 + BOND])
    await assertSolvent(f)
  })

  test('force-close settles from the latest answered state; anyone may resolve', async () => {
    await sim.exit(ALICE, [], false)
    await sim.answer(BOB, sim.final(3n))
    await pastDisputeDeadline()
    const d = await deltas(sim, () => sim.send(outsider, 'resolve', sim.channelId, sim.participants, sim.record, sim.entry(3n).state))
    // Counter's onRemove only takes Alice out of the turn order: the force-closer keeps its share.
    assert.deepEqual(d, [ETH1 + BOND, 2n * ETH1 + BOND, 3n * ETH1 + BOND])
    assert.deepEqual(sim.events('ParticipantRemoved').map((e) => e.index), [BigInt(ALICE)])
    assert.equal(sim.events('ChannelClosed').length, 1)
    assert.equal(Number((await sim.channel()).phase), Phase.Closed)
    await assertSolvent(f)
  })

  test('two participants, one leaves: the channel settles', async () => {
    const s = await Sim.open(f, sim.wallets.slice(0, 2), f.counter, { bond: BOND })
    await s.move(ALICE, inc())
    await s.exit(ALICE, s.final(1n), true)
    const d = await deltas(s, () => s.resolve(s.entry(1n).state))
    assert.deepEqual(d, [ETH1 + BOND, ETH1 + BOND])
    assert.equal(s.events('ChannelClosed').length, 1)
    await assertSolvent(f)
  })

  test('a terminal genesis after onRemove settles (TicTacToe: the leaver forfeits)', async () => {
    const s = await Sim.open(f, sim.wallets.slice(0, 2), f.tictactoe, { bond: BOND })
    await s.exit(BOB, [], true)
    const d = await deltas(s, () => s.resolve(s.genesis))
    assert.deepEqual(d, [2n * ETH1 + BOND, BOND])
    await assertSolvent(f)
  })

  test('force-close on TicTacToe: the force-closer is removed through onRemove first, so it forfeits', async () => {
    const s = await Sim.open(f, sim.wallets.slice(0, 2), f.tictactoe, { bond: BOND })
    await s.move(ALICE, cell(4))
    await s.exit(BOB, s.final(1n), false) // Bob, about to lose, tries to end the game as a draw
    const d = await deltas(s, () => s.resolve(s.entry(1n).state))
    assert.deepEqual(d, [2n * ETH1 + BOND, BOND])
    assert.deepEqual(s.events('ParticipantRemoved').map((e) => e.index), [BigInt(BOB)])
    await assertSolvent(f)
  })

  test('force-close on Payments: onRemove keeps every balance, so everyone is paid what the state says', async () => {
    const s = await Sim.open(f, sim.wallets, f.payments, { bond: BOND, deposits: [ETH1, 2n * ETH1, 3n * ETH1] })
    await s.move(ALICE, pay(CAROL, ETH1 / 2n))
    await s.move(BOB, pay(ALICE, ETH1))
    await s.exit(CAROL, s.final(2n), false)
    const d = await deltas(s, () => s.resolve(s.entry(2n).state))
    assert.deepEqual(d, [ETH1 / 2n + ETH1 + BOND, ETH1 + BOND, 3n * ETH1 + ETH1 / 2n + BOND])
    assert.equal(Number((await s.channel()).phase), Phase.Closed)
    await assertSolvent(f)
  })

  test('a next actor that is no longer active settles (a machine with the default onRemove)', async () => {
    const s = await Sim.open(f, sim.wallets, relay, { bond: BOND })
    await s.exit(ALICE, [], true) // genesis turn is Alice's; onRemove leaves it so
    const d = await deltas(s, () => s.resolve(s.genesis))
    assert.deepEqual(d, [ETH1 + BOND, ETH1 + BOND, ETH1 + BOND])
    assert.equal(s.events('StateSet').length, 0)
    await assertSolvent(f)
  })

  const cases: { name: string; run: () => Promise<unknown>; error: string; args?: () => unknown[] }[] = [
    { name: 'before the deadline', error: 'DisputePending',
      run: async () => { await sim.exit(ALICE, [], false); return sim.send(ALICE, 'resolve', sim.channelId, sim.participants, sim.record, sim.genesis) } },
    { name: 'no dispute open', error: 'DisputeNotOpen', args: () => [sim.channelId],
      run: () => sim.send(ALICE, 'resolve', sim.channelId, sim.participants, sim.record, sim.genesis) },
    { name: 'state bytes of another state', error: 'StateHashMismatch',
      run: async () => { await sim.exit(ALICE, [], false); return sim.resolve(sim.entry(1n).state) } },
    { name: 'one second before the deadline passed', error: 'DisputePending',
      run: async () => {
        await sim.exit(ALICE, [], false); await atTime(f, sim.record.deadline)
        return sim.send(ALICE, 'resolve', sim.channelId, sim.participants, sim.record, sim.genesis)
      } },
    { name: 'a wrong participant list (checked against the record)', error: 'ChannelParticipantsMismatch', args: () => [sim.channelId],
      run: async () => {
        await sim.exit(ALICE, [], false); await pastDisputeDeadline()
        return sim.send(ALICE, 'resolve', sim.channelId, sim.participants.slice(0, 2), sim.record, sim.genesis)
      } },
    { name: 'twice', error: 'DisputeNotOpen',
      run: async () => { await sim.exit(ALICE, [], true); const r = sim.record; await sim.resolve(sim.genesis); return sim.send(BOB, 'resolve', sim.channelId, sim.participants, r, sim.genesis) } },
  ]
  for (const c of cases) test(`rejected: ${c.name}`, async () => { await expectRevert(c.run(), c.error, c.args?.()) })
})

test('cooperative close and conclude are refused while a dispute is open', async () => {
  await sim.exit(ALICE, [], false)
  await expectRevert(sim.send(BOB, 'conclude', sim.channelId, sim.participants, sim.final(3n), sim.entry(3n).state),
    'ChannelNotOpen', [sim.channelId, BigInt(Phase.Disputed)])
})
