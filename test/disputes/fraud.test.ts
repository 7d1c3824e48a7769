/**
 * Fraud proofs (invalid transition, equivocation), table-driven on one anvil. Base: Counter
 * channel of Alice (0), Bob (1) and Mallory (2), bond 0.1 ETH; tx1 (Alice) and tx2 (Bob)
 * signed by everyone; Mallory is the next actor.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Wallet } from 'ethers'
import { setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, expectRevert, assertSolvent, NO_DISPUTE, type Entry } from '../helpers/court.js'
import { accusedOf, timeoutDeadline } from '../../src/protocol/disputes.js'
import { hashState } from '../../src/protocol/eip712.js'
import { DisputeKind, Phase, type PackedSignedTransaction } from '../../src/protocol/types.js'

const ALICE = 0
const BOB = 1
const MALLORY = 2
const ETH1 = 10n ** 18n
const BOND = ETH1 / 10n

let f: Fixture
let sim: Sim
let other: Sim
let outsider: Wallet
let restore: () => Promise<void>

/**
 * tx2 signed by everyone: a checkpoint. Culprits stay in the active set until resolution, so
 * every proof in a fraud dispute is judged by the set the states were final under.
 */
const checkpoint2 = (): PackedSignedTransaction[] => sim.final(2n)

/** Mallory's tx3 with a zero increment: the machine reverts (MachineInvalidMove). */
function revertingTx3(signers = [MALLORY]): PackedSignedTransaction {
  return sim.signed(sim.forge({ actor: MALLORY, data: inc(0n) }), signers)
}

/** Two different valid moves by Mallory at seq 3. */
async function equivocation(): Promise<[Entry, Entry]> {
  const a = await sim.move(MALLORY, inc(1n), undefined, false)
  const b = await sim.move(MALLORY, inc(2n), undefined, false)
  return [a, b]
}

before(async () => {
  f = await setup(6)
  outsider = f.wallets[5]!
  sim = await Sim.open(f, f.wallets.slice(1, 4), f.counter, { bond: BOND })
  other = await Sim.open(f, f.wallets.slice(1, 4), f.counter, { bond: BOND })
  await sim.move(ALICE, inc())
  await sim.move(BOB, inc())
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

describe('proveInvalidTransition: accepted', () => {
  test('the machine reverts: Mallory slashed at once, a fraud dispute from the checkpoint', async () => {
    const before = await sim.balance(BOB)
    const r = await sim.proveInvalid(BOB, revertingTx3(), sim.entry(2n).state, checkpoint2())
    const now = BigInt((await f.anvil.provider.getBlock(r.blockNumber))!.timestamp)
    assert.deepEqual(sim.record, {
      kind: DisputeKind.Fraud, disputer: BOB, seq: 2n, timestamp: sim.entry(2n).tx.timestamp,
      deadline: now + 300n, removals: 0b100n, stateHash: sim.entry(2n).tx.stateHash,
    })
    // The evidence: the candidate's bytes and the checkpoint (the fraud itself is not emitted).
    const [ev] = sim.events('DisputeRaised')
    assert.equal(ev!.state, sim.entry(2n).state)
    assert.deepEqual((ev!.txs as { transaction: { seq: bigint } }[]).map((t) => t.transaction.seq), [2n])
    assert.deepEqual(sim.events('ParticipantSlashed').map((e) => [e.index, e.beneficiary]), [[2n, 1n]])
    assert.equal(await sim.balance(BOB), before) // bond and share are paid at resolution
    const ch = await sim.channel()
    assert.deepEqual([ch.phase, ch.active, ch.slashed], [BigInt(Phase.Disputed), 0b111n, 0b100n])
    await assertSolvent(f)
  })

  test('the author is not the next actor (empty checkpoint = fork genesis)', async () => {
    const t = sim.forge({ actor: ALICE, data: inc(), seq: 3n }) // Mallory's turn, Alice moves; Mallory signs too
    await sim.proveInvalid(BOB, sim.signed(t, [ALICE, MALLORY]), sim.entry(2n).state)
    assert.deepEqual([sim.record.removals, sim.record.seq, sim.record.stateHash], [0b101n, 0n, hashState(sim.genesis)])
    assert.equal((await sim.channel()).slashed, 0b101n)
  })

  test('a different result hash, by every signer but the prover', async () => {
    const good = await sim.move(MALLORY, inc(), undefined, false)
    const bad = { ...good.tx, stateHash: hashState('0x1234') }
    await sim.proveInvalid(ALICE, sim.signed(bad, [BOB, MALLORY]), sim.entry(2n).state)
    assert.equal(sim.record.removals, 0b110n)
  })

  test('a fraud proof replaces an open timeout (the accused is no longer accused)', async () => {
    const T = sim.entry(2n).tx.timestamp
    await f.anvil.increaseTime(Number(timeoutDeadline(T, sim.params) - BigInt(await f.anvil.now())) + 1)
    await sim.timeout(ALICE, sim.chain(1n, 2n, () => [ALICE]), sim.entry(2n).state)
    assert.equal(accusedOf(sim.record), MALLORY)
    await sim.proveInvalid(BOB, revertingTx3(), sim.entry(2n).state, checkpoint2())
    assert.deepEqual([sim.record.kind, sim.record.removals, sim.record.disputer], [DisputeKind.Fraud, 0b100n, BOB])
  })

  test('a second fraud proof adds culprits and keeps the later candidate and the deadline', async () => {
    await sim.proveInvalid(ALICE, revertingTx3(), sim.entry(2n).state, checkpoint2())
    const first = sim.record
    await f.anvil.increaseTime(100)
    // Bob signed two different transactions at seq 1 (Alice's tx1 and a forged one).
    const tx1b = { ...sim.entry(1n).tx, data: inc(9n) }
    await sim.proveEquivocation(ALICE, sim.signed(sim.entry(1n).tx, [BOB]), sim.signed(tx1b, [BOB]))
    assert.deepEqual([sim.record.removals, sim.record.seq, sim.record.disputer], [0b110n, first.seq, ALICE])
    assert.equal(sim.record.deadline, first.deadline)
    assert.equal(sim.events('DisputeRaised')[0]!.state, sim.entry(2n).state) // the kept candidate's bytes
    const ch = await sim.channel()
    assert.deepEqual([ch.active, ch.slashed], [0b111n, 0b110n])
    await assertSolvent(f)
  })

  test('several provers: each gets the shares of the culprits it proved (Alice, Bob, then Alice again)', async () => {
    const s = await Sim.open(f, f.wallets.slice(1, 6), f.counter, { bond: BOND, deposits: [1n, 2n, 3n, 4n, 5n].map((k) => k * ETH1) })
    for (const actor of [0, 1, 2, 3, 4]) await s.move(actor, inc())
    const head = s.entry(5n)
    const wrongActor = (culprit: number) => s.signed(s.forge({ actor: culprit, data: inc() }), [culprit])
    await s.proveInvalid(0, wrongActor(2), head.state, s.final(5n))
    const a = s.forge({ actor: 3, data: inc(1n) })
    await s.proveEquivocation(1, s.signed(a, [3]), s.signed({ ...a, data: inc(2n) }, [3]))
    assert.equal(s.record.disputer, 1)
    await s.proveInvalid(0, wrongActor(4), head.state)
    assert.deepEqual([s.record.removals, s.record.disputer, s.record.seq], [0b11100n, 0, 5n])
    const before = await s.balances()
    await s.resolve(head.state)
    const after = await s.balances()
    // Culprits 2 (3 ETH) and 4 (5 ETH) with their bonds to Alice, 3 (4 ETH) and its bond to Bob.
    assert.deepEqual(after.map((b, i) => b - before[i]!), [8n * ETH1 + 2n * BOND, 4n * ETH1 + BOND, 0n, 0n, 0n])
    assert.deepEqual([s.fork, s.active], [1n, 0b11n])
    await assertSolvent(f)
  })

  test('accepted after the deadline until the dispute is resolved', async () => {
    await sim.exit(ALICE, sim.final(2n), false)
    await f.anvil.increaseTime(601)
    await sim.proveInvalid(ALICE, revertingTx3(), sim.entry(2n).state, checkpoint2())
    assert.equal(sim.record.kind, DisputeKind.Fraud)
  })

  test('resolve: the culprit\'s share and bond go to the prover, the others continue on fork 1', async () => {
    await sim.proveInvalid(BOB, revertingTx3(), sim.entry(2n).state, checkpoint2())
    const before = await sim.balances()
    await sim.resolve(sim.entry(2n).state)
    const after = await sim.balances()
    assert.deepEqual(after.map((b, i) => b - before[i]!), [0n, ETH1 + BOND, 0n])
    assert.deepEqual([sim.fork, sim.active], [1n, 0b011n])
    assert.deepEqual((await sim.channel()).locked, 2n * ETH1)
    await assertSolvent(f)
  })
})

describe('proveInvalidTransition: rejected', () => {
  const cases: { name: string; run: () => Promise<unknown>; error: string; args?: () => unknown[] }[] = [
    { name: 'a valid transition', error: 'FraudNotProven',
      run: async () => { const e = await sim.move(MALLORY, inc(), undefined, false); return sim.proveInvalid(ALICE, sim.signed(e.tx, [MALLORY]), sim.entry(2n).state) } },
    { name: 'the prover signed it', error: 'FraudProverSigned', args: () => [BigInt(ALICE)],
      run: () => sim.proveInvalid(ALICE, revertingTx3([ALICE, MALLORY]), sim.entry(2n).state) },
    { name: 'every signer is already removed', error: 'FraudNoCulprit',
      run: async () => { await sim.proveInvalid(ALICE, revertingTx3(), sim.entry(2n).state); return sim.proveInvalid(BOB, revertingTx3(), sim.entry(2n).state) } },
    { name: 'the previous state does not match', error: 'StateHashMismatch',
      run: () => sim.proveInvalid(ALICE, revertingTx3(), sim.entry(1n).state) },
    { name: 'a transaction of another fork', error: 'TransactionForkMismatch', args: () => [1n, 0n],
      run: () => sim.proveInvalid(ALICE, sim.signed({ ...revertingTx3().transaction, fork: 1n }, [MALLORY]), sim.entry(2n).state) },
    { name: 'a transaction of another channel', error: 'TransactionChannelMismatch', args: () => [other.channelId],
      run: () => sim.proveInvalid(ALICE, sim.signed({ ...revertingTx3().transaction, channelId: other.channelId }, [MALLORY]), sim.entry(2n).state) },
    { name: 'a forged signature', error: 'SignerMismatch',
      run: () => { const t = revertingTx3().transaction; return sim.proveInvalid(ALICE, { transaction: t, signers: 0b100n, signatures: sim.sig(t, BOB) }, sim.entry(2n).state) } },
    { name: 'a checkpoint without the culprit\'s signature (it still counts until resolution)', error: 'ProofNotFinal', args: () => [0b100n],
      run: () => sim.proveInvalid(BOB, revertingTx3(), sim.entry(2n).state, [sim.signed(sim.entry(2n).tx, [ALICE, BOB])]) },
    { name: 'a checkpoint that is not final', error: 'ProofNotFinal', args: () => [0b101n],
      run: () => sim.proveInvalid(BOB, revertingTx3(), sim.entry(2n).state, sim.chain(2n, 2n)) },
    { name: 'non-participant caller', error: 'CallerNotParticipant',
      run: () => sim.send(outsider, 'proveInvalidTransition', sim.channelId, sim.participants, 0, NO_DISPUTE, revertingTx3(), sim.entry(2n).state, [], sim.genesis) },
    { name: 'state bytes that are not the resulting candidate\'s', error: 'StateHashMismatch',
      run: () => sim.proveInvalid(BOB, revertingTx3(), sim.entry(2n).state, checkpoint2(), sim.entry(1n).state) },
    { name: 'joining: the checkpoint\'s bytes when the open fraud dispute\'s candidate is later', error: 'StateHashMismatch',
      run: async () => {
        await sim.proveInvalid(ALICE, revertingTx3(), sim.entry(2n).state, checkpoint2())
        const tx1b = { ...sim.entry(1n).tx, data: inc(9n) }
        return sim.proveEquivocation(ALICE, sim.signed(sim.entry(1n).tx, [BOB]), sim.signed(tx1b, [BOB]), [], sim.genesis)
      } },
    { name: 'slashed caller', error: 'CallerSlashed', args: () => [BigInt(MALLORY)],
      run: async () => { await sim.proveInvalid(ALICE, revertingTx3(), sim.entry(2n).state); return sim.proveInvalid(MALLORY, revertingTx3([BOB]), sim.entry(2n).state) } },
    { name: 'a tampered record during a dispute', error: 'DisputeRecordMismatch',
      run: async () => { await sim.exit(ALICE, [], false); sim.record = { ...sim.record, seq: 1n }; return sim.proveInvalid(ALICE, revertingTx3(), sim.entry(2n).state) } },
    { name: 'a closed channel', error: 'ChannelNotOpen',
      run: async () => { await sim.exit(ALICE, [], false); await sim.resolve(sim.genesis); return sim.proveInvalid(ALICE, revertingTx3(), sim.entry(2n).state) } },
  ]
  for (const c of cases) test(c.name, async () => { await expectRevert(c.run(), c.error, c.args?.()) })
})

describe('proveEquivocation', () => {
  test('two different moves at one height: the signer of both is slashed', async () => {
    const [a, b] = await equivocation()
    await sim.proveEquivocation(ALICE, sim.signed(a.tx, [MALLORY]), sim.signed(b.tx, [BOB, MALLORY]), checkpoint2())
    assert.deepEqual([sim.record.removals, sim.record.seq, sim.record.disputer], [0b100n, 2n, ALICE])
    assert.deepEqual(sim.events('ParticipantSlashed').map((e) => [e.index, e.beneficiary]), [[2n, 0n]])
    await assertSolvent(f)
  })

  const cases: { name: string; run: () => Promise<unknown>; error: string; args?: () => unknown[] }[] = [
    { name: 'the same transaction twice', error: 'EquivocationInvalid',
      run: async () => { const [a] = await equivocation(); return sim.proveEquivocation(ALICE, sim.signed(a.tx, [MALLORY]), sim.signed(a.tx, [BOB, MALLORY])) } },
    { name: 'different heights', error: 'EquivocationInvalid',
      run: async () => { const [a] = await equivocation(); return sim.proveEquivocation(ALICE, sim.signed(a.tx, [MALLORY]), sim.signed(sim.entry(2n).tx, [MALLORY])) } },
    { name: 'no one signed both', error: 'FraudNoCulprit',
      run: async () => { const [a, b] = await equivocation(); return sim.proveEquivocation(ALICE, sim.signed(a.tx, [MALLORY]), sim.signed(b.tx, [BOB])) } },
    { name: 'the prover is the equivocator', error: 'FraudProverSigned', args: () => [BigInt(MALLORY)],
      run: async () => { const [a, b] = await equivocation(); return sim.proveEquivocation(MALLORY, sim.signed(a.tx, [MALLORY]), sim.signed(b.tx, [MALLORY])) } },
    { name: 'transactions of another fork', error: 'TransactionForkMismatch', args: () => [1n, 0n],
      run: async () => {
        const [a, b] = await equivocation()
        return sim.proveEquivocation(ALICE, sim.signed({ ...a.tx, fork: 1n }, [MALLORY]), sim.signed({ ...b.tx, fork: 1n }, [MALLORY]))
      } },
    { name: 'a forged signature', error: 'SignerMismatch',
      run: async () => {
        const [a, b] = await equivocation()
        return sim.proveEquivocation(ALICE, sim.signed(a.tx, [MALLORY]), { transaction: b.tx, signers: 0b100n, signatures: sim.sig(b.tx, ALICE) })
      } },
  ]
  for (const c of cases) test(`rejected: ${c.name}`, async () => { await expectRevert(c.run(), c.error, c.args?.()) })
})
