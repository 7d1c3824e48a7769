/**
 * disputeTimeout and its three challenges (respond, answer, refute), table-driven on one
 * anvil. Base: Counter channel of Alice (0), Bob (1), Carol (2), bond 0.1 ETH; tx1 by Alice
 * and tx2 by Bob, each signed by its author only; Carol is the next actor.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Wallet } from 'ethers'
import { setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, assertSolvent, expectRevert, NO_DISPUTE } from '../helpers/court.js'
import { accusedOf, responseArgs, timeoutDeadline } from '../../src/protocol/disputes.js'
import { channelWordOf } from '../../src/chain/records.js'
import { trackOf } from '../helpers/records.js'
import { hashState } from '../../src/protocol/eip712.js'
import { DisputeKind, Phase, type Hex, type Transaction } from '../../src/protocol/types.js'

const ALICE = 0
const BOB = 1
const CAROL = 2
const BOND = 10n ** 17n

let f: Fixture
let sim: Sim
let other: Sim
let outsider: Wallet
let restore: () => Promise<void>

/** Waits until a timeout on the head state is allowed. */
async function pastDeadline(s: Sim = sim): Promise<void> {
  const T = s.history.at(-1)?.tx.timestamp ?? s.genesisTimestamp
  const now = BigInt(await f.anvil.now())
  const wait = timeoutDeadline(T, s.params) + 1n - now
  if (wait > 0n) await f.anvil.increaseTime(Number(wait))
}

/** Waits until the open dispute's deadline has passed. */
async function pastDisputeDeadline(): Promise<void> {
  const now = await sim.now()
  if (now <= sim.record.deadline) await f.anvil.increaseTime(Number(sim.record.deadline - now) + 1)
}

/** Bob's timeout against Carol on [tx1, tx2]. */
async function bobTimesOutCarol(): Promise<void> {
  await pastDeadline()
  await sim.timeout(BOB, sim.chain(1n, 2n), sim.head.state)
}

before(async () => {
  f = await setup(6)
  const ws = f.wallets.slice(1, 4)
  outsider = f.wallets[5]!
  sim = await Sim.open(f, ws, f.counter, { bond: BOND })
  other = await Sim.open(f, ws, f.counter, { bond: BOND })
  await sim.move(ALICE, inc())
  await sim.move(BOB, inc())
  await other.move(ALICE, inc())
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

describe('disputeTimeout: accepted', () => {
  test('from the fork genesis (no transactions): the genesis actor is accused', async () => {
    const s = await Sim.open(f, sim.wallets, f.counter)
    await pastDeadline(s)
    const r = await s.timeout(BOB, [], s.genesis)
    const now = BigInt((await f.anvil.provider.getBlock(r.blockNumber))!.timestamp)
    // Every participant holds the genesis: the accused's window is one challenge time.
    assert.deepEqual(s.record, {
      kind: DisputeKind.Timeout, disputer: BOB, seq: 0n, timestamp: s.genesisTimestamp,
      deadline: now + 300n, removals: 1n, stateHash: hashState(s.genesis),
    })
    assert.deepEqual([s.events('DisputeRaised')[0]!.state, s.events('DisputeRaised')[0]!.txs], [s.genesis, []])
    assert.equal(Number((await s.channel()).phase), Phase.Disputed)
    await assertSolvent(f)
  })

  test('anchored by the genesis: a chain from seq 1, the last tx signed by the disputer', async () => {
    await bobTimesOutCarol()
    assert.equal(accusedOf(sim.record), CAROL)
    assert.equal(sim.record.seq, 2n)
    assert.equal(sim.record.timestamp, sim.entry(2n).tx.timestamp)
    assert.equal(sim.record.removals, 0b100n)
    const [ev] = sim.events('DisputeRaised')
    assert.equal(ev!.state, sim.head.state)
    assert.deepEqual((ev!.txs as { transaction: { seq: bigint } }[]).map((t) => t.transaction.seq), [1n, 2n])
    // The channel's one word commits to the record (phase Disputed) and the dispute record.
    const track = (await trackOf(f.rawManager, sim.channelId))!
    assert.deepEqual(track.dispute, sim.record)
    assert.deepEqual([...(await f.manager.getFunction('channelWord')(sim.channelId))], [BigInt(Phase.Disputed), channelWordOf(track)])
    assert.equal(track.record.latestSeq, 0n)
  })

  test('the accused signed the candidate: its window to move is one challenge time', async () => {
    await pastDeadline()
    const r = await sim.timeout(BOB, sim.chain(1n, 2n, (e) => (e.tx.seq === 2n ? [CAROL] : [])), sim.head.state)
    const now = BigInt((await f.anvil.provider.getBlock(r.blockNumber))!.timestamp)
    assert.equal(sim.record.deadline, now + 300n)
  })

  test('the accused did not sign the candidate (it may never have received it): the posting window longer', async () => {
    await pastDeadline()
    const r = await sim.timeout(BOB, sim.chain(1n, 2n), sim.head.state)
    const now = BigInt((await f.anvil.provider.getBlock(r.blockNumber))!.timestamp)
    assert.equal(sim.record.deadline, now + 300n + BigInt(60 + 30 + 120))
  })

  test('anchored by finality: a proof that does not start at seq 1', async () => {
    await sim.move(CAROL, inc())
    await sim.move(ALICE, inc())
    await pastDeadline()
    // tx3 is signed by everyone, tx4 by its author Alice: final from tx3, Bob is accused.
    await sim.timeout(ALICE, [sim.final(3n)[0]!, ...sim.chain(4n, 4n)], sim.head.state)
    assert.deepEqual([sim.record.seq, accusedOf(sim.record), sim.record.disputer], [4n, BOB, ALICE])
  })
})

test('the posting deadline is exact: rejected at T + p2p + agreement + fallback, accepted one second later', async () => {
  const T = sim.entry(2n).tx.timestamp
  const deadline = timeoutDeadline(T, sim.params)
  const at = async (t: bigint) => f.anvil.provider.send('evm_setNextBlockTimestamp', [Number(t)])
  await at(deadline)
  await expectRevert(sim.timeout(BOB, sim.chain(1n, 2n), sim.head.state), 'DisputeTooEarly', [deadline, deadline + 1n])
  await at(deadline + 1n)
  await sim.timeout(BOB, sim.chain(1n, 2n), sim.head.state)
  assert.equal(accusedOf(sim.record), CAROL)
})

describe('disputeTimeout: rejected', () => {
  const cases: { name: string; run: () => Promise<unknown>; error: string; args?: (() => unknown[]) | unknown[] }[] = [
    { name: 'too early (before T + p2p + agreement + fallback)', error: 'DisputeTooEarly',
      run: () => sim.timeout(BOB, sim.chain(1n, 2n), sim.head.state) },
    { name: 'a dispute is already open', error: 'DisputeAlreadyOpen', args: () => [sim.channelId],
      run: async () => { await bobTimesOutCarol(); return sim.timeout(ALICE, sim.chain(1n, 1n), sim.entry(1n).state) } },
    { name: 'non-participant caller', error: 'CallerNotParticipant', args: () => [0n, outsider.address],
      run: async () => { await pastDeadline(); return sim.send(outsider, 'disputeTimeout', sim.channelId, sim.participants, 0, [], sim.genesis) } },
    { name: 'caller names another participant\'s index', error: 'CallerNotParticipant', args: () => [BOB, sim.wallets[ALICE]!.address],
      run: async () => { await pastDeadline(); return sim.send(ALICE, 'disputeTimeout', sim.channelId, sim.participants, BOB, sim.chain(1n, 2n), sim.head.state) } },
    { name: 'the last transaction lacks the disputer\'s signature', error: 'DisputerNotSigned', args: [ALICE],
      run: async () => { await pastDeadline(); return sim.timeout(ALICE, sim.chain(1n, 2n), sim.head.state) } },
    { name: 'the accused would be the disputer itself', error: 'AccusedInvalid', args: [CAROL],
      run: async () => { await pastDeadline(); return sim.timeout(CAROL, sim.chain(1n, 2n, () => [CAROL]), sim.head.state) } },
    { name: 'state bytes do not match the candidate', error: 'StateHashMismatch',
      run: async () => { await pastDeadline(); return sim.timeout(BOB, sim.chain(1n, 2n), sim.entry(1n).state) } },
    { name: 'neither final nor starting at the genesis', error: 'CandidateNotAnchored',
      run: async () => { await pastDeadline(); return sim.timeout(BOB, sim.chain(2n, 2n), sim.head.state) } },
    { name: 'not linked (a gap)', error: 'ProofNotLinked', args: [1n],
      run: async () => { await sim.move(CAROL, inc()); await pastDeadline(); return sim.timeout(CAROL, [...sim.chain(1n, 1n), ...sim.chain(3n, 3n)], sim.head.state) } },
    { name: 'longer than the active participants', error: 'ProofLengthInvalid', args: [4n, 3n],
      run: async () => { await sim.move(CAROL, inc()); await sim.move(ALICE, inc()); await pastDeadline(); return sim.timeout(ALICE, sim.chain(1n, 4n), sim.head.state) } },
    { name: 'a transaction replayed from another channel', error: 'ProofChannelMismatch', args: [0n],
      run: async () => { await pastDeadline(); return sim.timeout(ALICE, other.chain(1n, 1n), other.head.state) } },
    { name: 'a transaction replayed on another fork', error: 'ProofForkMismatch', args: [0n, 1n, 0n],
      run: async () => { await pastDeadline(); const t = { ...sim.entry(1n).tx, fork: 1n }; return sim.timeout(ALICE, [sim.signed(t, [ALICE])], sim.entry(1n).state) } },
    { name: 'a forged author signature', error: 'SignerMismatch',
      run: async () => { await pastDeadline(); const e = sim.entry(1n); return sim.timeout(ALICE, [{ transaction: e.tx, signers: 1n, signatures: sim.sig(e.tx, BOB) }], e.state) } },
    { name: 'a state above MAX_STATE_BYTES', error: 'StateTooLarge', args: [32769n, 32768n],
      run: async () => { await pastDeadline(); return sim.timeout(BOB, sim.chain(1n, 2n), `0x${'00'.repeat(32769)}`) } },
  ]
  for (const c of cases) {
    test(c.name, async () => {
      await expectRevert(c.run(), c.error, typeof c.args === 'function' ? c.args() : c.args)
    })
  }

  test('stale: a candidate older than a move that answered an earlier timeout', async () => {
    await bobTimesOutCarol()
    const move = await sim.move(CAROL, inc())
    await sim.respond(CAROL, move.tx, sim.sig(move.tx, CAROL))
    const [, latest] = await f.manager.getFunction('getDispute')(sim.channelId)
    assert.equal(latest, 3n)
    await expectRevert(sim.timeout(BOB, sim.chain(1n, 2n), sim.entry(2n).state), 'DisputeStale', [2n, 3n])
  })

  test('removed caller', async () => {
    await bobTimesOutCarol()
    await sim.resolve(sim.head.state)
    assert.equal(sim.active, 0b011n)
    await pastDeadline()
    await expectRevert(sim.timeout(CAROL, [], sim.genesis), 'CallerInactive', [CAROL])
  })

  test('on a closed channel', async () => {
    await sim.exit(ALICE, [], false)
    await sim.resolve(sim.genesis)
    await expectRevert(sim.timeout(BOB, [], sim.genesis), 'ChannelNotOpen', [sim.channelId, BigInt(Phase.Closed)])
  })
})

describe('respond: the accused moves', () => {
  test('the accused answers with its move: cancelled, move published, latestSeq set', async () => {
    await bobTimesOutCarol()
    const move = await sim.move(CAROL, inc())
    await sim.respond(CAROL, move.tx, sim.sig(move.tx, CAROL))
    // The move is published in the cancellation itself (no TransactionPosted); its seq is the
    // channel's latestSeq from now on.
    const [cancelled] = sim.events('DisputeCancelled')
    assert.equal((cancelled!.transaction as { seq: bigint }).seq, 3n)
    assert.equal(cancelled!.digest, f.hasher.transaction(move.tx))
    assert.equal(sim.events('TransactionPosted').length, 0)
    assert.equal(Number((await sim.channel()).phase), Phase.Open)
    assert.equal(sim.record, NO_DISPUTE)
  })

  test('another participant relays a move the accused posted earlier', async () => {
    const move = await sim.move(CAROL, inc())
    const signature = sim.sig(move.tx, CAROL)
    await sim.post(CAROL, move.tx, signature)
    sim.history.pop()
    await bobTimesOutCarol()
    sim.history.push(move)
    await sim.respond(ALICE, move.tx, signature)
    assert.equal(Number((await sim.channel()).phase), Phase.Open)
  })

  const cases: { name: string; run: () => Promise<unknown>; error: string; args?: unknown[] }[] = [
    { name: 'after the deadline', error: 'DisputeExpired', run: async () => {
      await bobTimesOutCarol(); await pastDisputeDeadline(); const m = await sim.move(CAROL, inc())
      return sim.respond(CAROL, m.tx, sim.sig(m.tx, CAROL)) } },
    { name: 'a forged signature', error: 'SignerMismatch', run: async () => {
      await bobTimesOutCarol(); const m = await sim.move(CAROL, inc()); return sim.respond(ALICE, m.tx, sim.sig(m.tx, ALICE)) } },
    { name: 'move data above MAX_DATA_BYTES', error: 'TransactionDataTooLarge', args: [4097n, 4096n], run: async () => {
      await bobTimesOutCarol(); const t = sim.forge({ actor: CAROL, data: `0x${'01'.repeat(4097)}` }); return sim.respond(CAROL, t, sim.sig(t, CAROL)) } },
    { name: 'a tampered record', error: 'DisputeRecordMismatch', run: async () => {
      await bobTimesOutCarol(); sim.record = { ...sim.record, deadline: sim.record.deadline + 1n }
      const m = await sim.move(CAROL, inc()); return sim.respond(CAROL, m.tx, sim.sig(m.tx, CAROL)) } },
    { name: 'no dispute open', error: 'DisputeNotOpen', run: async () => {
      const m = await sim.move(CAROL, inc()); return sim.respond(CAROL, m.tx, sim.sig(m.tx, CAROL)) } },
    { name: 'not a timeout', error: 'DisputeKindInvalid', args: [BigInt(DisputeKind.ForceClose)], run: async () => {
      await sim.exit(ALICE, [], false); const t = sim.forge({ actor: CAROL }); return sim.respond(CAROL, t, sim.sig(t, CAROL)) } },
    { name: 'non-participant caller', error: 'CallerNotParticipant', run: async () => {
      await bobTimesOutCarol(); const m = await sim.move(CAROL, inc())
      return sim.send(outsider, 'respond', sim.channelId, sim.participants, CAROL, sim.record, ...responseArgs(m.tx), sim.sig(m.tx, CAROL)) } },
  ]
  for (const c of cases) test(`rejected: ${c.name}`, async () => { await expectRevert(c.run(), c.error, c.args) })

  // respond takes only the move's timestamp, data and state hash: the rest is the dispute's, so
  // a move signed with another author, height, previous state, fork or channel is checked as
  // the accused's move on the candidate, and its signature recovers to someone else.
  const foreign: [string, () => Partial<Transaction>, number][] = [
    ['a move by someone else (signed by its author)', () => ({ actor: ALICE }), ALICE],
    ['a move by someone else (signed by the accused)', () => ({ actor: ALICE }), CAROL],
    ['a move at the wrong height', () => ({ actor: CAROL, seq: 4n }), CAROL],
    ['a move on another state', () => ({ actor: CAROL, previousStateHash: sim.entry(1n).tx.stateHash }), CAROL],
    ['a move on another fork', () => ({ actor: CAROL, fork: 1n }), CAROL],
    ['a move on another channel', () => ({ actor: CAROL, channelId: `0x${'ab'.repeat(32)}` as Hex }), CAROL],
  ]
  for (const [name, over, signer] of foreign) {
    test(`rejected: ${name} — checked as the accused's move, its signature is not the accused's`, async () => {
      await bobTimesOutCarol()
      const t = sim.forge(over())
      const r = await expectRevert(sim.respond(ALICE, t, sim.sig(t, signer)), 'SignerNotParticipant')
      assert.equal(r.args[0], BigInt(CAROL), 'the signature checked is the accused\'s')
      assert.notEqual(String(r.args[1]).toLowerCase(), sim.participants[CAROL]!.toLowerCase())
    })
  }
})

describe('answer and refute: the disputer lied', () => {
  /** Carol moved (tx3) and everyone, Bob included, signed it; Bob then disputes at tx2. */
  async function bobLies(): Promise<void> {
    await sim.move(CAROL, inc())
    await pastDeadline()
    await sim.timeout(BOB, sim.chain(1n, 2n), sim.entry(2n).state)
  }

  test('answer with a later final state: Bob slashed, candidate moves to it', async () => {
    await bobLies()
    const before = await sim.balance(ALICE)
    const r = await sim.answer(ALICE, sim.final(3n))
    assert.deepEqual(sim.events('ParticipantSlashed').map((e) => [e.index, e.beneficiary]), [[BigInt(BOB), BigInt(ALICE)]])
    const now = BigInt((await f.anvil.provider.getBlock(r.blockNumber))!.timestamp)
    assert.deepEqual(sim.record, {
      kind: DisputeKind.Fraud, disputer: ALICE, seq: 3n, timestamp: sim.entry(3n).tx.timestamp, deadline: now + 300n,
      removals: 1n << BigInt(BOB), stateHash: sim.entry(3n).tx.stateHash,
    })
    assert.equal(sim.events('DisputeAnswered')[0]!.state, sim.entry(3n).state)
    assert.equal(await sim.balance(ALICE), before) // Bob's bond and share come at resolution
    const ch = await sim.channel()
    assert.deepEqual([ch.active, ch.slashed], [0b111n, 0b010n])
    await assertSolvent(f)
  })

  test('refute with Bob\'s signature on a later transaction: the dispute continues from the challenger\'s checkpoint', async () => {
    await bobLies()
    const t3 = sim.entry(3n).tx
    const r = await sim.refute(CAROL, t3, sim.sig(t3, BOB), sim.final(1n))
    const now = BigInt((await f.anvil.provider.getBlock(r.blockNumber))!.timestamp)
    assert.deepEqual(sim.record, {
      kind: DisputeKind.Fraud, disputer: CAROL, seq: 1n, timestamp: sim.entry(1n).tx.timestamp, deadline: now + 300n,
      removals: 0b010n, stateHash: sim.entry(1n).tx.stateHash,
    })
    const [ev] = sim.events('DisputeAnswered')
    assert.equal(ev!.state, sim.entry(1n).state)
    assert.deepEqual((ev!.txs as { transaction: { seq: bigint } }[]).map((t) => t.transaction.seq), [1n])
    await assertSolvent(f)
  })

  test('refute with an empty checkpoint continues from the fork genesis (the liar\'s candidate may be invalid)', async () => {
    await bobLies()
    const t3 = sim.entry(3n).tx
    await sim.refute(CAROL, t3, sim.sig(t3, BOB))
    assert.deepEqual([sim.record.kind, sim.record.seq, sim.record.timestamp, sim.record.stateHash, sim.record.removals],
      [DisputeKind.Fraud, 0n, sim.genesisTimestamp, hashState(sim.genesis), 0b010n])
    assert.deepEqual(sim.events('DisputeAnswered')[0]!.txs, [])
    // Honest parties then move the candidate forward with answers (deadline unchanged).
    const deadline = sim.record.deadline
    await sim.answer(ALICE, sim.final(3n))
    assert.deepEqual([sim.record.seq, sim.record.deadline], [3n, deadline])
  })

  const cases: { name: string; run: () => Promise<unknown>; error: string; args?: unknown[] }[] = [
    { name: 'answer: not later than the candidate', error: 'CandidateNotLater', args: [2n, 2n],
      run: async () => { await bobLies(); return sim.answer(ALICE, sim.final(2n)) } },
    { name: 'answer: not final', error: 'ProofNotFinal',
      run: async () => { await bobLies(); return sim.answer(ALICE, sim.chain(3n, 3n)) } },
    { name: 'answer: by the disputer itself', error: 'CallerIsDisputer', args: [BOB],
      run: async () => { await bobLies(); return sim.answer(BOB, sim.final(3n)) } },
    { name: 'answer: after the deadline', error: 'DisputeExpired',
      run: async () => { await bobLies(); await pastDisputeDeadline(); return sim.answer(ALICE, sim.final(3n)) } },
    { name: 'answer: state bytes of another state', error: 'StateHashMismatch',
      run: async () => { await bobLies(); return sim.answer(ALICE, sim.final(3n), sim.entry(2n).state) } },
    { name: 'refute: a checkpoint that is not final', error: 'ProofNotFinal',
      run: async () => { await bobLies(); const t = sim.entry(3n).tx; return sim.refute(ALICE, t, sim.sig(t, BOB), sim.chain(3n, 3n)) } },
    { name: 'refute: state bytes of another state than the checkpoint', error: 'StateHashMismatch',
      run: async () => { await bobLies(); const t = sim.entry(3n).tx; return sim.refute(ALICE, t, sim.sig(t, BOB), sim.final(3n), sim.entry(2n).state) } },
    { name: 'refute: not later', error: 'CandidateNotLater', args: [2n, 2n],
      run: async () => { await bobLies(); const t = sim.entry(2n).tx; return sim.refute(ALICE, t, sim.sig(t, BOB)) } },
    { name: 'refute: someone else\'s signature', error: 'SignerMismatch',
      run: async () => { await bobLies(); const t = sim.entry(3n).tx; return sim.refute(ALICE, t, sim.sig(t, CAROL)) } },
    { name: 'refute: a transaction replayed from another fork', error: 'TransactionForkMismatch', args: [1n, 0n],
      run: async () => { await bobLies(); const t = { ...sim.entry(3n).tx, fork: 1n }; return sim.refute(ALICE, t, sim.sig(t, BOB)) } },
    { name: 'refute: a transaction replayed from another channel', error: 'TransactionChannelMismatch',
      run: async () => { await bobLies(); const t = { ...sim.entry(3n).tx, channelId: other.channelId }; return sim.refute(ALICE, t, sim.sig(t, BOB)) } },
    { name: 'refute: not a timeout', error: 'DisputeKindInvalid', args: [BigInt(DisputeKind.Exit)],
      run: async () => { await sim.move(CAROL, inc()); await sim.exit(ALICE, [], true); const t = sim.entry(3n).tx; return sim.refute(CAROL, t, sim.sig(t, ALICE)) } },
    { name: 'refute: by the disputer itself', error: 'CallerIsDisputer', args: [BOB],
      run: async () => { await bobLies(); const t = sim.entry(3n).tx; return sim.refute(BOB, t, sim.sig(t, BOB)) } },
  ]
  for (const c of cases) test(`rejected: ${c.name}`, async () => { await expectRevert(c.run(), c.error, c.args) })
})

describe('resolve a timeout', () => {
  test('unchallenged: the accused is removed, paid its share and bond; fork 1 starts', async () => {
    await bobTimesOutCarol()
    await expectRevert(sim.send(ALICE, 'resolve', sim.channelId, sim.participants, sim.record, sim.head.state), 'DisputePending')
    const before = await sim.balances()
    await sim.resolve(sim.head.state)
    const after = await sim.balances()
    assert.deepEqual(after.map((b, i) => b - before[i]!), [0n, 0n, 10n ** 18n + BOND])
    assert.deepEqual([sim.fork, sim.active], [1n, 0b011n])
    const ch = await sim.channel()
    assert.deepEqual([ch.fork, ch.phase, ch.locked, ch.genesisStateHash], [1n, BigInt(Phase.Open), 2n * 10n ** 18n, hashState(sim.genesis)])
    await assertSolvent(f)
  })

  test('rejected: wrong state bytes', async () => {
    await bobTimesOutCarol()
    await pastDisputeDeadline()
    await expectRevert(sim.send(ALICE, 'resolve', sim.channelId, sim.participants, sim.record, sim.genesis), 'StateHashMismatch')
  })
})
