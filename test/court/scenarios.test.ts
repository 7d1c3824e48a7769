/**
 * The court client end to end, with scripted roles on a real anvil (go-perun style): honest
 * Alice and Bob run a Channel with an attached court (ChainListener + DisputeHandler) and act
 * on-chain by themselves; Mallory (participant 2) is a plain Channel the test silences or uses
 * to cheat. Time travel replaces waiting. Each scenario asserts exact balances (deltas of the
 * manager balances) and the manager's solvency.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ChainListener } from '../../src/chain/ChainListener.js'
import { Channel } from '../../src/channel/Channel.js'
import { attachCourt } from '../../src/dispute/attachCourt.js'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { ChannelPhase } from '../../src/channel/phase.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { hashState } from '../../src/protocol/eip712.js'
import { signDigest, packSignedTransaction } from '../../src/protocol/signatures.js'
import { timeoutCandidates } from '../../src/dispute/anchor.js'
import { DisputeKind, type Hex, type Transaction } from '../../src/protocol/types.js'
import { BOND, ETH1, balances, move, openCourtChannel, pastDeadline, pay, reach, solvent, travel, type CourtChannel } from '../helpers/courtPeers.js'
import type { ParleyError } from '../../src/errors/ParleyError.js'

const [ALICE, BOB, MALLORY] = [0, 1, 2]
let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let dir: string

before(async () => {
  anvil = await startAnvil({ accounts: 5 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  dir = mkdtempSync(join(tmpdir(), 'parley-court-'))
})
after(async () => {
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** A Payments mirror: balances by participant as the moves go. */
class Ledger {
  constructor(public bal: bigint[]) {}
  pay(from: number, to: number, amount: bigint): bigint {
    this.bal[from]! -= amount
    this.bal[to]! += amount
    return amount
  }
}

/** Opens a 3-party channel (Alice, Bob honest with courts; Mallory plain) and plays one honest round. */
async function start(label: string): Promise<{ c: CourtChannel; m: Ledger; before: bigint[] }> {
  const wallets = anvil.wallets.slice(1, 4)
  const before = await balances(stack, wallets)
  const c = await openCourtChannel({ anvil, stack, hasher, wallets, label: `${label}-${Date.now()}`, honest: [ALICE, BOB] })
  const m = new Ledger([ETH1, 2n * ETH1, 3n * ETH1])
  const all = c.roles.map((r) => r.channel)
  for (const who of [ALICE, BOB, MALLORY]) await move(all[who]!, pay((who + 1) % 3, m.pay(who, (who + 1) % 3, ETH1 / 10n)), all)
  return { c, m, before }
}

/** Mallory signs a transaction on her head with `data` (the machine's result, or `stateHash` when given). */
async function craft(c: CourtChannel, data: Hex, stateHash?: Hex): Promise<{ transaction: Transaction; signature: Hex }> {
  const m = c.roles[MALLORY]!
  const head = m.channel.state
  const timestamp = m.clock.now()
  const result = stateHash ?? hashState(await (await c.machine()).transition(head.state, MALLORY, data, timestamp))
  const transaction: Transaction = {
    channelId: c.channelId, fork: head.fork, seq: head.seq + 1n, timestamp, actor: MALLORY, previousStateHash: head.stateHash, data, stateHash: result,
  }
  return { transaction, signature: signDigest(m.wallet.signingKey, hasher.transaction(transaction)) }
}

/** Mallory sends a transaction to Alice and Bob directly. */
function broadcast(c: CourtChannel, t: { transaction: Transaction; signature: Hex }): void {
  for (const to of [ALICE, BOB]) c.hub.route(MALLORY, to, { type: 'tx', ...t })
}

/** After a fraud resolution: Alice and Bob are on fork 1; they play a round and close. */
async function continueAndClose(c: CourtChannel, m: Ledger): Promise<void> {
  const [alice, bob] = [c.roles[ALICE]!.channel, c.roles[BOB]!.channel]
  for (const ch of [alice, bob]) assert.deepEqual([ch.state.fork, ch.state.active, ch.phase], [1n, 0b011n, ChannelPhase.Open])
  const first = alice.state.isMyTurn ? alice : bob
  const second = first === alice ? bob : alice
  await move(first, pay(second.me, m.pay(first.me, second.me, ETH1 / 50n)), [second])
  const last = await move(second, pay(first.me, m.pay(second.me, first.me, ETH1 / 40n)), [first])
  await Promise.all([alice.waitFinal(last), bob.waitFinal(last)])
  const closed = c.roles[ALICE]!.court!.next('closed')
  await alice.close()
  await closed
}

/** The block time of the latest DisputeRaised whose record is `record`. */
async function raisedAt(record: { deadline: bigint; seq: bigint }): Promise<bigint> {
  const logs = await stack.manager.contract.queryFilter(stack.manager.contract.filters.DisputeRaised!())
  for (const log of logs.reverse()) {
    const d = (log as unknown as { args: { dispute: { deadline: bigint; seq: bigint } } }).args.dispute
    if (d.deadline === record.deadline && d.seq === record.seq) return BigInt((await log.getBlock()).timestamp)
  }
  throw new Error('no DisputeRaised for this record')
}

async function deltas(c: CourtChannel, before: bigint[]): Promise<bigint[]> {
  const now = await balances(stack, c.roles.map((r) => r.wallet))
  return now.map((b, i) => b - before[i]!)
}

/**
 * After Mallory was slashed to `beneficiary` with `share` at stake: the challenge period passes,
 * fork 1 starts for Alice and Bob, they play on and close; every credit and the manager's
 * solvency are checked.
 */
async function settleAfterSlash(c: CourtChannel, m: Ledger, before: bigint[], share: bigint, beneficiary: number): Promise<void> {
  const forked = Promise.all([c.roles[ALICE]!.channel.next('fork'), c.roles[BOB]!.channel.next('fork')])
  await travel(anvil, c, 300 + 1)
  await forked
  await continueAndClose(c, m)
  const expected = [m.bal[ALICE]! + BOND, m.bal[BOB]! + BOND, 0n]
  expected[beneficiary]! += share + BOND
  assert.deepEqual(await deltas(c, before), expected)
  await solvent(anvil, stack)
}

/**
 * Seq 4 final for all, then Mallory cut off while Bob moves (seq 5, which she never receives); the
 * chain's clock past Bob's deadline after seq 4. `accuse()` sends Mallory's timeout from seq 4.
 */
async function malloryWillAccuseBob(c: CourtChannel, m: Ledger): Promise<{ four: bigint; accuse: () => ReturnType<CourtChannel['roles'][number]['manager']['disputeTimeout']> }> {
  const [alice, bob, mallory] = [c.roles[ALICE]!, c.roles[BOB]!, c.roles[MALLORY]!]
  const all = c.roles.map((r) => r.channel)
  const four = await move(alice.channel, pay(BOB, m.pay(ALICE, BOB, ETH1 / 5n)), all)
  await Promise.all(all.map((ch) => ch.waitFinal(four)))
  await travel(anvil, c, 30)
  c.hub.filter = (from, to) => from !== MALLORY && to !== MALLORY
  await move(bob.channel, pay(ALICE, m.pay(BOB, ALICE, ETH1 / 4n)), [alice.channel])
  // Mallory's latest signature is on seq 4: she accuses Bob once his deadline after it passed.
  const T4 = mallory.channel.state.timestamp
  await travel(anvil, c, Number(T4 + 211n - BigInt(await anvil.now())))
  const rec = mallory.store.getTx(c.channelId, 0n, four)!
  const genesisHash = mallory.store.getForks(c.channelId)[0]!.stateHash
  const anchor = timeoutCandidates([{ transaction: rec.transaction, signatures: mallory.store.getSignatures(c.channelId, rec.digest) }], genesisHash, 0b111n)!
  return { four, accuse: () => mallory.manager.disputeTimeout(c.channelId, c.params.participants, anchor, rec.state) }
}

describe('the court acts by itself', () => {
  test('(a) Mallory goes silent on her turn: timeout, unanswered, resolved; Alice and Bob continue and close', { timeout: 120_000 }, async () => {
    const { c, m, before } = await start('silent')
    const [alice, bob] = [c.roles[ALICE]!, c.roles[BOB]!]
    try {
      c.hub.filter = (from, to) => from !== MALLORY && to !== MALLORY // Mallory hears and says nothing
      await move(alice.channel, pay(BOB, m.pay(ALICE, BOB, ETH1 / 5n)), [bob.channel])
      const head = await move(bob.channel, pay(ALICE, m.pay(BOB, ALICE, ETH1 / 4n)), [alice.channel])
      const atRemoval = [...m.bal]

      // Past Mallory's posting deadline: Alice and Bob post their unconfirmed moves and accuse her.
      const raised = alice.court!.next('dispute')
      await travel(anvil, c, 60 + 30 + 120 + 1)
      const { record } = await raised
      assert.equal(record.kind, DisputeKind.Timeout)
      assert.equal(record.seq, head)
      assert.equal(record.removals, 1n << BigInt(MALLORY))
      assert.equal(alice.channel.phase, ChannelPhase.Disputed)

      // Nobody answers; after the deadline the honest clients resolve: Mallory removed, fork 1.
      const forked = Promise.all([alice.channel.next('fork'), bob.channel.next('fork')])
      const removed = alice.court!.next('removed')
      // Mallory never signed Bob's move: her window to move counts from the raise (deadline + posting window).
      assert.equal(record.deadline - (await raisedAt(record)), 300n + 210n)
      await pastDeadline(anvil, c, record)
      assert.equal((await removed).index, MALLORY)
      const [fork] = await forked
      assert.equal(fork.fork, 1n)
      assert.equal(fork.active, 0b011n)

      // Alice and Bob play on and close cooperatively.
      for (const ch of [alice.channel, bob.channel]) assert.equal(ch.phase, ChannelPhase.Open)
      await move(alice.channel, pay(BOB, m.pay(ALICE, BOB, ETH1 / 10n)), [bob.channel])
      const last = await move(bob.channel, pay(ALICE, m.pay(BOB, ALICE, ETH1 / 20n)), [alice.channel])
      await Promise.all([alice.channel.waitFinal(last), bob.channel.waitFinal(last)])
      const closed = alice.court!.next('closed')
      await alice.channel.close()
      await closed

      assert.deepEqual(await deltas(c, before), [m.bal[ALICE]! + BOND, m.bal[BOB]! + BOND, atRemoval[MALLORY]! + BOND])
      await solvent(anvil, stack)
    } finally {
      await c.close()
    }
  })

  test('(b) Mallory broadcasts an invalid transition: proven by an honest client, Mallory slashed, the prover paid, the channel goes on', { timeout: 120_000 }, async () => {
    const { c, m, before } = await start('invalid')
    const [alice, bob] = [c.roles[ALICE]!, c.roles[BOB]!]
    try {
      const all = c.roles.map((r) => r.channel)
      await move(alice.channel, pay(BOB, m.pay(ALICE, BOB, ETH1 / 5n)), all)
      const last = await move(bob.channel, pay(MALLORY, m.pay(BOB, MALLORY, ETH1 / 4n)), all)
      await Promise.all(all.map((ch) => ch.waitFinal(last)))
      const atFraud = [...m.bal]

      // Mallory "pays" Alice 100 ETH she does not have, with a made-up resulting state.
      const slashed = alice.court!.next('slashed')
      const raised = alice.court!.next('dispute')
      broadcast(c, await craft(c, pay(ALICE, 100n * ETH1), hashState('0xdead')))
      const { index, beneficiary } = await slashed
      assert.equal(index, MALLORY)
      assert.ok(beneficiary === ALICE || beneficiary === BOB, `beneficiary ${beneficiary}`)
      const { record } = await raised
      assert.deepEqual([record.kind, record.seq, record.removals], [DisputeKind.Fraud, last, 1n << BigInt(MALLORY)])

      await settleAfterSlash(c, m, before, atFraud[MALLORY]!, beneficiary)
    } finally {
      await c.close()
    }
  })

  test('(c) Mallory equivocates: slashed by an honest client', { timeout: 120_000 }, async () => {
    const { c, m, before } = await start('equivocate')
    const [alice, bob] = [c.roles[ALICE]!, c.roles[BOB]!]
    try {
      const all = c.roles.map((r) => r.channel)
      await move(alice.channel, pay(MALLORY, m.pay(ALICE, MALLORY, ETH1 / 5n)), all)
      await move(bob.channel, pay(ALICE, m.pay(BOB, ALICE, ETH1 / 4n)), all)

      // Two valid transactions at one height: first paying Alice, then paying Bob.
      const x = await craft(c, pay(ALICE, m.pay(MALLORY, ALICE, ETH1 / 2n)))
      const y = await craft(c, pay(BOB, ETH1 / 2n))
      broadcast(c, x)
      await Promise.all([alice.channel, bob.channel].map((ch) => ch.waitFinal(x.transaction.seq)))
      const atFraud = [...m.bal]
      const slashed = alice.court!.next('slashed')
      const raised = alice.court!.next('dispute')
      broadcast(c, y)
      const { index, beneficiary } = await slashed
      assert.equal(index, MALLORY)
      assert.equal((await raised).record.seq, x.transaction.seq, 'the checkpoint is the final state with x')

      await settleAfterSlash(c, m, before, atFraud[MALLORY]!, beneficiary)
    } finally {
      await c.close()
    }
  })

  test('(d) Mallory raises a timeout from a stale state: an honest client answers with a later final state, Mallory slashed', { timeout: 120_000 }, async () => {
    const { c, m, before } = await start('stale')
    const [alice, bob, mallory] = [c.roles[ALICE]!, c.roles[BOB]!, c.roles[MALLORY]!]
    try {
      const all = c.roles.map((r) => r.channel)
      // Two more rounds 40 s apart: the head's deadlines stay ahead of the stale candidate's.
      let last = 0n
      for (let round = 0; round < 2; round++) {
        await travel(anvil, c, 40)
        for (const who of [ALICE, BOB, MALLORY]) last = await move(all[who]!, pay((who + 1) % 3, m.pay(who, (who + 1) % 3, ETH1 / 100n)), all)
      }
      await Promise.all(all.map((ch) => ch.waitFinal(last)))
      const atAnswer = [...m.bal]

      // Mallory claims seq 3 (her own move) was the last she signed and accuses Alice.
      const stale = [1n, 2n, 3n].map((seq) => {
        const r = mallory.store.getTx(c.channelId, 0n, seq)!
        return { record: r, packed: packSignedTransaction({ transaction: r.transaction, signatures: mallory.store.getSignatures(c.channelId, r.digest) }, [r.transaction.actor]) }
      })
      const T3 = stale[2]!.record.transaction.timestamp
      await travel(anvil, c, Number(T3 + 211n - BigInt(await anvil.now())))
      const slashed = alice.court!.next('slashed')
      const answered = alice.court!.next('answered')
      const { raised } = await mallory.manager.disputeTimeout(c.channelId, c.params.participants, stale.map((s) => s.packed), stale[2]!.record.state)
      assert.equal(raised.dispute.removals, 1n << BigInt(ALICE), 'Alice is accused')

      const { index, beneficiary } = await slashed
      assert.equal(index, MALLORY)
      const { record } = await answered
      assert.deepEqual([record.kind, record.seq], [DisputeKind.Fraud, last], 'the candidate moved to the latest final state')
      assert.equal(alice.channel.state.fork, 0n)

      await settleAfterSlash(c, m, before, atAnswer[MALLORY]!, beneficiary)
    } finally {
      await c.close()
    }
  })

  test('(e) the accused responds by itself with the move Mallory claims she never got; the timeout is cancelled and play goes on', { timeout: 120_000 }, async () => {
    const { c, m, before } = await start('respond-existing')
    const [alice, bob, mallory] = [c.roles[ALICE]!, c.roles[BOB]!, c.roles[MALLORY]!]
    try {
      const all = c.roles.map((r) => r.channel)
      const { four, accuse } = await malloryWillAccuseBob(c, m)
      // Both courts report the cancellation only after their channel applied it: wait for both
      // (Bob's listener may see the event after Alice's) before reading the phases.
      const cancelled = Promise.all([alice.court!.next('cancelled'), bob.court!.next('cancelled')])
      const responded = bob.court!.next('submitted', { filter: (x) => x.action.kind === 'respond' })
      const { raised } = await accuse()
      assert.equal(raised.dispute.removals, 1n << BigInt(BOB), 'Bob is accused')
      assert.deepEqual((await cancelled).map((x) => x.seq), [four + 1n, four + 1n])
      assert.equal((await responded).action.key.startsWith('respond:'), true)
      await bob.court!.idle()
      for (const ch of [alice.channel, bob.channel]) assert.equal(ch.phase, ChannelPhase.Open)
      assert.equal(alice.court!.chain.active, 0b111n, 'nobody removed')

      // Mallory comes back with a court: she learns Bob's move from the chain; her broadcast
      // window after it is long gone, so her move goes on-chain, and play resumes off-chain.
      c.hub.filter = undefined
      const court = c.attach(MALLORY)
      await court.next('cancelled') // her listener replays the history: raise, Bob's move, cancel
      assert.deepEqual([mallory.channel.state.seq, mallory.channel.phase], [four + 1n, ChannelPhase.Open])
      const late = await court.propose(pay(ALICE, m.pay(MALLORY, ALICE, ETH1 / 2n)))
      assert.equal(late.via, 'chain')
      await Promise.all([alice.channel, bob.channel].map((ch) => reach(ch, four + 2n)))
      await assert.rejects(court.propose('0x'), (e: ParleyError) => e.code === 'NOT_YOUR_TURN')
      await move(alice.channel, pay(BOB, m.pay(ALICE, BOB, ETH1 / 100n)), all)
      const last = await move(bob.channel, pay(MALLORY, m.pay(BOB, MALLORY, ETH1 / 100n)), all)
      await Promise.all(all.map((ch) => ch.waitFinal(last)))
      const closed = alice.court!.next('closed')
      assert.equal((await alice.channel.close()).seq, last)
      await closed
      assert.deepEqual(await deltas(c, before), m.bal.map((b) => b + BOND))
      await solvent(anvil, stack)
    } finally {
      await c.close()
    }
  })

  test('(e) a client that fails to take the response\'s move still takes the cancellation (one event carries both)', { timeout: 120_000 }, async () => {
    const { c, m } = await start('respond-move-fails')
    const [bob, mallory] = [c.roles[BOB]!, c.roles[MALLORY]!]
    try {
      const { accuse } = await malloryWillAccuseBob(c, m)
      const cancelled = bob.court!.next('cancelled')
      await accuse()
      await cancelled
      // Mallory's client fails on Bob's move (say its store throws): the cancellation in the same
      // event must land all the same, and the failure is reported.
      const failure = new Error('store unavailable')
      const apply = mallory.channel.applyPostedTransaction.bind(mallory.channel)
      mallory.channel.applyPostedTransaction = async () => { throw failure }
      const court = c.attach(MALLORY)
      const signal = AbortSignal.timeout(30_000) // without the cancellation, a clear failure
      const [error] = await Promise.all([court.next('error', { signal }), court.next('cancelled', { signal })])
      assert.equal(error.error, failure)
      assert.equal(mallory.channel.phase, ChannelPhase.Open)
      assert.equal(court.chain.phase, 'open')
      mallory.channel.applyPostedTransaction = apply
    } finally {
      await c.close()
    }
  })

  test('(e) a slow accused answers a timeout with a fresh move by itself (autoMove) and play resumes', { timeout: 120_000 }, async () => {
    const wallets = anvil.wallets.slice(1, 4)
    const before = await balances(stack, wallets)
    const c = await openCourtChannel({ anvil, stack, hasher, wallets, label: `respond-fresh-${Date.now()}`, honest: [ALICE] })
    const m = new Ledger([ETH1, 2n * ETH1, 3n * ETH1])
    const bobPays = m.pay(BOB, MALLORY, ETH1 / 3n)
    c.attach(BOB, { autoMove: () => pay(MALLORY, bobPays) })
    const [alice, bob, mallory] = [c.roles[ALICE]!, c.roles[BOB]!, c.roles[MALLORY]!]
    try {
      const all = c.roles.map((r) => r.channel)
      const one = await move(alice.channel, pay(MALLORY, m.pay(ALICE, MALLORY, ETH1 / 5n)), all)
      await Promise.all(all.map((ch) => ch.waitFinal(one)))

      // Bob does not move. Past his deadline Alice's court accuses him; his court answers with a move.
      const needed = bob.court!.next('move-needed')
      const cancelled = Promise.all([alice.court!.next('cancelled'), bob.court!.next('cancelled')])
      await travel(anvil, c, 60 + 30 + 120 + 1)
      assert.equal((await needed).seq, one + 1n)
      assert.deepEqual((await cancelled).map((x) => x.seq), [one + 1n, one + 1n])
      await bob.court!.idle()
      assert.equal(alice.channel.state.seq, one + 1n, 'Alice took the move from the chain')
      // Mallory has no chain listener here: hand her the posted move as hers would.
      const two = bob.store.getTx(c.channelId, 0n, one + 1n)!
      await mallory.channel.applyPostedTransaction(two.transaction, bob.store.getSignatures(c.channelId, two.digest).get(BOB)!)

      for (const who of [MALLORY, ALICE, BOB]) await move(all[who]!, pay((who + 1) % 3, m.pay(who, (who + 1) % 3, ETH1 / 100n)), all)
      await Promise.all(all.map((ch) => ch.waitFinal(one + 4n)))
      const closed = alice.court!.next('closed')
      await alice.channel.close()
      await closed
      assert.deepEqual(await deltas(c, before), m.bal.map((b) => b + BOND))
      await solvent(anvil, stack)
    } finally {
      await c.close()
    }
  })

  test('(e) the accused never received the disputed state: its court takes it from the dispute\'s calldata and responds', { timeout: 120_000 }, async () => {
    const wallets = anvil.wallets.slice(1, 4)
    const c = await openCourtChannel({ anvil, stack, hasher, wallets, label: `withheld-${Date.now()}`, honest: [BOB] })
    c.attach(ALICE, { policy: { timeout: false }, autoMove: () => pay(BOB, ETH1 / 7n) }) // Alice would otherwise accuse Mallory first
    const [alice, bob, mallory] = [c.roles[ALICE]!, c.roles[BOB]!, c.roles[MALLORY]!]
    try {
      const all = c.roles.map((r) => r.channel)
      for (const who of [ALICE, BOB, MALLORY, ALICE, BOB]) await move(all[who]!, pay((who + 1) % 3, ETH1 / 10n), all)
      await Promise.all(all.map((ch) => ch.waitFinal(5n)))
      await travel(anvil, c, 50)
      // Mallory's move 6 goes to Bob only; then she accuses Alice of not answering it.
      const six = await craft(c, pay(BOB, ETH1 / 10n))
      c.hub.route(MALLORY, BOB, { type: 'tx', ...six })
      await reach(bob.channel, 6n)
      assert.equal(alice.channel.state.seq, 5n, 'Alice never got seq 6')
      const packed = [4n, 5n].map((seq) => {
        const r = mallory.store.getTx(c.channelId, 0n, seq)!
        return packSignedTransaction({ transaction: r.transaction, signatures: mallory.store.getSignatures(c.channelId, r.digest) })
      })
      packed.push({ transaction: six.transaction, signers: 1n << BigInt(MALLORY), signatures: six.signature })
      const state6 = await (await c.machine()).transition(mallory.channel.state.state, MALLORY, six.transaction.data, six.transaction.timestamp)
      await travel(anvil, c, Number(six.transaction.timestamp + 211n - BigInt(await anvil.now())))
      const cancelled = alice.court!.next('cancelled')
      const needed = alice.court!.next('move-needed')
      const { raised } = await mallory.manager.disputeTimeout(c.channelId, c.params.participants, packed, state6)
      assert.equal(raised.dispute.removals, 1n << BigInt(ALICE))
      assert.equal((await needed).seq, 7n, 'Alice caught up to seq 6 from the calldata')
      assert.equal((await cancelled).seq, 7n)
      await alice.court!.idle()
      assert.deepEqual([alice.channel.state.seq, alice.channel.phase, alice.court!.chain.active], [7n, ChannelPhase.Open, 0b111n])
      await reach(bob.channel, 7n)
      await solvent(anvil, stack)
    } finally {
      await c.close()
    }
  })

  test('a client restarted from its SQLite store in the middle of a dispute resumes its court: no event handled twice, the dispute resolved', { timeout: 120_000 }, async () => {
    const wallets = anvil.wallets.slice(1, 4)
    const label = `restart-${Date.now()}`
    const [mallory0] = await balances(stack, [wallets[MALLORY]!])
    const c = await openCourtChannel({ anvil, stack, hasher, wallets, label, honest: [ALICE], sqliteDir: dir })
    const alice = c.roles[ALICE]!
    try {
      const all = c.roles.map((r) => r.channel)
      for (const who of [ALICE, BOB, MALLORY]) await move(all[who]!, pay((who + 1) % 3, ETH1 / 10n), all)
      c.hub.filter = (from, to) => from !== MALLORY && to !== MALLORY
      await move(alice.channel, pay(BOB, ETH1 / 5n), [c.roles[BOB]!.channel])
      await move(c.roles[BOB]!.channel, pay(ALICE, ETH1 / 5n), [alice.channel])
      const raised = alice.court!.next('dispute')
      await travel(anvil, c, 60 + 30 + 120 + 1)
      const { record } = await raised
      await alice.court!.idle()

      // Alice crashes while the dispute is open; its deadline passes while she is down.
      await alice.court!.detach()
      await alice.listener!.close()
      await alice.channel.dispose()
      alice.store.close()
      await pastDeadline(anvil, c, record)

      const store = new SqliteStore(join(dir, `${label}-${ALICE}.db`))
      const channel = await Channel.restore({
        channelId: c.channelId, signer: alice.wallet, machine: await c.machine(), store, transport: c.hub.connect(ALICE), clock: alice.clock, hasher, chain: alice.manager,
      })
      assert.equal(channel.phase, ChannelPhase.Disputed)
      const listener = new ChainListener({ provider: anvil.provider, manager: stack.manager.address, pollMs: 30, clock: alice.clock })
      const court = attachCourt(channel, { listener, manager: alice.manager }) // the cursor is in the store
      const seen: string[] = []
      for (const name of ['dispute', 'resolved', 'removed'] as const) court.on(name, () => seen.push(name))
      const resolvedByUs = court.next('submitted', { filter: (x) => x.action.kind === 'resolve' })
      const forked = channel.next('fork')
      assert.deepEqual(court.chain.dispute?.record, record, 'the open dispute survived the restart')
      assert.equal((await resolvedByUs).action.kind, 'resolve')
      assert.equal((await forked).fork, 1n)
      await court.idle()
      assert.deepEqual(seen, ['resolved', 'removed'], 'events before the crash are not handled again')
      const [credited] = await balances(stack, [wallets[MALLORY]!])
      assert.equal(credited! - mallory0!, 3n * ETH1 + BOND, 'Mallory paid her share at removal')
      await court.detach()
      await listener.close()
      await channel.dispose()
      store.close()
      await solvent(anvil, stack)
    } finally {
      await c.close()
      for (const r of c.roles) if (r !== alice) r.store.close()
    }
  })
})
