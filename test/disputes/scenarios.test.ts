/**
 * Scripted dispute scenarios on a Payments channel with N = 2, 3 and 5 (go-perun style roles:
 * honest Alice, Bob, Carol, Dave; the last participant is the cheater Mallory or the silent
 * one). Every scenario asserts each participant's exact manager balance and the solvency
 * invariant after every step that moves funds.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setup, type Fixture } from '../helpers/fixture.js'
import { pay, type Sim } from '../helpers/court.js'
import { BOND, ETH1, NAMES, Play } from '../helpers/play.js'
import { accusedOf, timeoutDeadline } from '../../src/protocol/disputes.js'
import { bitIndices } from '../../src/protocol/bitmap.js'
import { DisputeKind, Phase, type Hex, type PackedSignedTransaction } from '../../src/protocol/types.js'

const ALICE = 0
let f: Fixture
let base: string

before(async () => {
  f = await setup(7)
})
after(() => f.stop())
beforeEach(async () => (base = (await f.anvil.provider.send('evm_snapshot', [])) as string))
afterEach(() => f.anvil.provider.send('evm_revert', [base]))

/** Waits until a timeout on the head state may be raised. */
async function pastPostingDeadline(sim: Sim): Promise<void> {
  const T = sim.history.at(-1)?.tx.timestamp ?? sim.genesisTimestamp
  const wait = timeoutDeadline(T, sim.params) + 1n - BigInt(await f.anvil.now())
  if (wait > 0n) await f.anvil.increaseTime(Number(wait))
}

/**
 * The prover's checkpoint: its latest final state, the head signed by everyone (culprits
 * included: they stay in the active set until resolution, so the proof is judged by the same
 * set the state was final under, even if a culprit authored it).
 */
function checkpoint(p: Play): PackedSignedTransaction[] {
  return p.sim.final(p.sim.head.seq)
}

/** After a resolution: settle the expectations, or continue one round and close cooperatively. */
async function finish(p: Play): Promise<void> {
  if (Number((await p.sim.channel()).phase) === Phase.Closed) {
    p.settleActive()
    return p.check(true)
  }
  await p.check()
  await p.round((a) => BigInt(a + 1) * ETH1 / 100n)
  await p.sim.closeCoop(p.sim.head.state)
  p.settleActive()
  await p.check(true)
}

/** Round 1: everyone pays (i+1)/10 ETH on; round 2: everyone but the last pays 1/20 ETH. */
async function playUntilLastsTurn(p: Play): Promise<void> {
  await p.round((a) => BigInt(a + 1) * ETH1 / 10n)
  await p.round(() => ETH1 / 20n, p.n - 1)
  assert.equal(await p.sim.turn(), p.n - 1)
}

const scenarios: Record<string, (n: number) => Promise<void>> = {
  async 'a silent participant is removed; the rest continue on the new fork to a cooperative close'(n) {
    const p = await Play.open(f, n)
    const { sim } = p
    const silent = n - 1
    await playUntilLastsTurn(p)
    await pastPostingDeadline(sim)
    const disputer = n - 2 // signed the head: it is its latest transaction
    await sim.timeout(disputer, sim.final(sim.head.seq), sim.head.state)
    assert.equal(accusedOf(sim.record), silent)
    await sim.resolve(sim.head.state)
    p.credit(silent, p.bal[silent]! + BOND)
    await finish(p)
  },

  async 'an invalid transition is proven; its signers are removed and slashed'(n) {
    const p = await Play.open(f, n)
    const { sim } = p
    const mallory = n - 1
    const culprits = n === 5 ? [3, mallory] : [mallory] // with five, Dave co-signs
    await playUntilLastsTurn(p)
    // Mallory pays Alice 100 ETH she does not have, claiming some resulting state.
    const bad = sim.forge({ actor: mallory, data: pay(ALICE, 100n * ETH1), timestamp: BigInt(await f.anvil.now()) })
    await sim.proveInvalid(ALICE, sim.signed(bad, culprits), sim.head.state, checkpoint(p))
    assert.deepEqual(bitIndices(sim.record.removals), culprits)
    await p.check() // nothing moves until resolution
    await sim.resolve(sim.head.state, 1)
    for (const c of culprits) p.credit(ALICE, p.bal[c]! + BOND) // shares and bonds to the prover
    await finish(p)
  },

  async 'an equivocator is slashed (one version sent to Alice, the other posted on-chain)'(n) {
    const p = await Play.open(f, n)
    const { sim } = p
    const mallory = n - 1
    await playUntilLastsTurn(p)
    const toAlice = await sim.move(mallory, pay(ALICE, ETH1 / 10n), undefined, false)
    const posted = await sim.move(mallory, '0x', undefined, false)
    await sim.post(mallory, posted.tx, sim.sig(posted.tx, mallory))
    const signature = sim.events('TransactionPosted')[0]!.signature as Hex
    await sim.proveEquivocation(ALICE, sim.signed(toAlice.tx, [mallory]),
      { transaction: posted.tx, signers: 1n << BigInt(mallory), signatures: signature }, checkpoint(p))
    await p.check()
    await sim.resolve(sim.head.state)
    p.credit(ALICE, p.bal[mallory]! + BOND)
    await finish(p)
  },

  async 'a lying disputer is slashed by a later final state (answer)'(n) {
    await lyingDisputer(n, 'answer')
  },

  async 'a lying disputer is slashed by its own later signature (refute)'(n) {
    await lyingDisputer(n, 'refute')
  },

  async 'a force-close from a stale state is answered with the latest final state'(n) {
    const p = await Play.open(f, n)
    const { sim } = p
    const mallory = n - 1
    await playUntilLastsTurn(p)
    await sim.exit(mallory, [], false) // the genesis: before Mallory paid anything
    await sim.answer(n >= 3 ? 2 : ALICE, sim.final(sim.head.seq))
    assert.equal(sim.record.seq, sim.head.seq)
    await sim.resolve(sim.head.state)
    // Mallory leaves through onRemove (Payments keeps her balance), then everyone settles.
    assert.deepEqual(sim.events('ParticipantRemoved').map((e) => e.index), [BigInt(mallory)])
    p.credit(mallory, p.bal[mallory]! + BOND)
    p.settleActive()
    await p.check(true)
  },

  async 'a participant leaves; the others continue'(n) {
    const p = await Play.open(f, n)
    const { sim } = p
    const bob = 1
    await p.round((a) => BigInt(a + 1) * ETH1 / 10n)
    await sim.exit(bob, sim.final(sim.head.seq), true)
    await sim.resolve(sim.head.state)
    p.credit(bob, p.bal[bob]! + BOND)
    await finish(p)
  },

  async 'a withheld move: Alice learns it from the dispute and answers on-chain in time'(n) {
    const p = await Play.open(f, n)
    const { sim } = p
    const mallory = n - 1
    await playUntilLastsTurn(p)
    // Mallory moves but keeps the transaction to herself, then accuses Alice of silence.
    const m = await p.move(pay(ALICE, ETH1 / 10n))
    await pastPostingDeadline(sim)
    await sim.timeout(mallory, [...sim.final(m.tx.seq - 1n), sim.signed(m.tx, [mallory])], m.state)
    assert.deepEqual([accusedOf(sim.record), sim.events('DisputeRaised')[0]!.state], [ALICE, m.state])
    const reply = await p.move(pay(1, ETH1 / 20n))
    await sim.respond(ALICE, reply.tx, sim.sig(reply.tx, ALICE))
    assert.equal(Number((await sim.channel()).phase), Phase.Open)
    await p.round(() => ETH1 / 100n)
    await sim.closeCoop(sim.head.state)
    p.settleActive()
    await p.check(true)
  },
}

async function lyingDisputer(n: number, challenge: 'answer' | 'refute'): Promise<void> {
  const p = await Play.open(f, n)
  const { sim } = p
  const mallory = n - 1
  await playUntilLastsTurn(p)
  // Mallory claims her round-1 move (seq n) is the latest she signed and accuses Alice, who
  // in fact moved at seq n + 1 (and Mallory confirmed it).
  const stale = BigInt(n)
  await f.anvil.increaseTime(211)
  await sim.timeout(mallory, sim.final(stale), sim.entry(stale).state)
  assert.equal(accusedOf(sim.record), ALICE)
  if (challenge === 'answer') {
    await sim.answer(ALICE, sim.final(sim.head.seq))
  } else {
    // Mallory's signature on a later move convicts her; the dispute continues from Alice's
    // latest final state (the liar's own candidate might not even be valid).
    const later = sim.entry(stale + 1n).tx
    await sim.refute(ALICE, later, sim.sig(later, mallory), sim.final(sim.head.seq))
  }
  assert.deepEqual([sim.record.kind, sim.record.removals, sim.record.seq], [DisputeKind.Fraud, 1n << BigInt(mallory), sim.head.seq])
  await p.check()
  await sim.resolve(sim.head.state)
  p.credit(ALICE, p.bal[mallory]! + BOND)
  await finish(p)
}

for (const [name, run] of Object.entries(scenarios)) {
  describe(name, () => {
    for (const n of [2, 3, 5]) {
      test(`N = ${n} (${NAMES.slice(0, n - 1).join(', ')} and the last one)`, () => run(n))
    }
  })
}
