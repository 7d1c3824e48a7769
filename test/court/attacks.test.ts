/**
 * The attacks reproduced in issue 10 (funds safety), end to end: honest Alice and Bob run the
 * real client (Channel + attachCourt, acting on-chain by themselves) on a real anvil; Mallory
 * is driven by the test with the byzantine toolkit (test/helpers/byzantine.ts). Each test is
 * named after its case in the issue and asserts the exact credits of every participant, the
 * manager's solvency and that the channel reaches its end. The contract-level versions are in
 * test/disputes/attacks.test.ts.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Wallet } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deploy } from '../../src/chain/deploy.js'
import { deployLocalStack } from '../../src/chain/stack.js'
import { hashState } from '../../src/protocol/eip712.js'
import { DisputeKind, type Hex, type PackedSignedTransaction, type Transaction } from '../../src/protocol/types.js'
import { anchoredList, nextBlockAt, signedHistory, type CourtCall, type Route } from '../helpers/byzantine.js'
import {
  ALICE, BOB, C, MALLORY, W, assertRemovedEnding, assertSlashedEnding, genesisHash, genesisTimestamp, heldTx, honestCarryOn, paymentsState, round, scene, timeOutMallory,
  type Scene, type SceneContext,
} from '../helpers/attackPlay.js'
import { decodeRevert, expectRevert } from '../helpers/revert.js'
import { ETH1, move, pay } from '../helpers/courtPeers.js'

/** A chain with the stack deployed, and three wallets for Alice, Bob and Mallory. */
async function chain(hardfork?: 'prague'): Promise<{ ctx: SceneContext; wallets: Wallet[]; forwarder?: Hex }> {
  const anvil: Anvil = await startAnvil({ accounts: 5, ...(hardfork ? { hardfork } : {}) })
  const stack = await deployLocalStack(anvil.wallets[0]!)
  const ctx = { anvil, stack, hasher: await stack.manager.hasher(), ...(hardfork ? { hardfork } : {}) }
  const forwarder = hardfork ? (await deploy('Forwarder', anvil.wallets[0]!)).address : undefined
  return { ctx, wallets: anvil.wallets.slice(1, 4), ...(forwarder ? { forwarder } : {}) }
}

/**
 * Mallory's transaction at `height` (≤ the honest head) to a made-up state (every balance hers,
 * Alice to move), on the honest history below it, stamped with its parent's time (backdated:
 * the earliest stamp the rules allow), in an anchored list; `raiseAt` is the first second a
 * timeout on it is allowed. At seq 3 (her turn) it is an equivocation; lower, a wrong actor.
 */
function conflictingCandidate(s: Scene, height: bigint): { list: PackedSignedTransaction[]; state: Hex; fake: Transaction; raiseAt: bigint } {
  const parent = height === 1n ? { fork: 0n, seq: 0n, stateHash: genesisHash(s), timestamp: genesisTimestamp(s) } : heldTx(s, height - 1n).transaction
  const total = s.c.params.deposits.reduce((a, b) => a + b)
  const state = paymentsState(0b111n, ALICE, [0n, 0n, total])
  const fake = s.mallory.tx(parent, { stateHash: hashState(state) })
  return { list: candidate(s, height - 1n, fake), state, fake, raiseAt: parent.timestamp + BigInt(W) + 1n }
}

/** An anchored candidate list: Mallory's history up to `upTo`, then `t` signed by her. */
function candidate(s: Scene, upTo: bigint, t: Transaction): PackedSignedTransaction[] {
  const history = signedHistory(s.c.roles[MALLORY]!.store, s.c.channelId, 0n, 1n, upTo)
  return anchoredList([...history, { transaction: t, signatures: new Map([[MALLORY, s.mallory.sign(t)]]) }], { genesisHash: genesisHash(s), active: 0b111n })
}

/**
 * 10.1 / 10.2: played to seq 3 (Mallory's own seq 3 40 s after Bob's seq 2, so her backdated
 * candidate is due before any honest timeout), optionally one more honest move (`below`);
 * Mallory raises her conflicting timeout at `height` through `route` (or posts it); the honest
 * courts prove the equivocation or invalid transition from the event, Mallory is slashed,
 * Alice and Bob play on and close.
 */
async function conflictingTimeout(ctx: SceneContext, wallets: Wallet[], label: string, o: { route?: Route; height?: bigint; below?: boolean; post?: boolean; sessionKeys?: boolean } = {}): Promise<void> {
  const s = await scene(ctx, wallets, label, o.sessionKeys ? { sessionKeys: true } : {})
  const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
  try {
    let head = await round(ctx, s, { slowBefore: [MALLORY] })
    const all = s.c.roles.map((r) => r.channel)
    if (o.below) {
      head = await move(alice.channel, pay(BOB, s.m.pay(ALICE, BOB, ETH1 / 5n)), all)
      await Promise.all(all.map((ch) => ch.waitFinal(head)))
    }
    const share = s.m.bal[MALLORY]!
    const height = o.height ?? 3n
    const { list, state, fake, raiseAt } = conflictingCandidate(s, height)
    const slashed = alice.court!.next('slashed')
    const proven = alice.court!.next('dispute', { filter: (d) => d.record.kind === DisputeKind.Fraud })
    let sent: CourtCall
    if (o.post) {
      // Published as a post instead (anyone may post: a plain relay gets through).
      sent = await s.mallory.call('postTransaction', [fake, s.mallory.sign(fake)], o.route)
      assert.deepEqual(sent.events.map((e) => e.name), ['TransactionPosted'])
    } else {
      await nextBlockAt(ctx.anvil.provider, raiseAt)
      sent = await s.mallory.call('disputeTimeout', [list, state], o.route)
      assert.deepEqual([sent.record!.kind, sent.record!.seq, sent.record!.removals], [DisputeKind.Timeout, height, 1n << BigInt(ALICE)], 'Mallory accuses Alice')
    }
    // The top-level transaction is the wrapper's, not a manager call.
    const top = (await ctx.anvil.provider.getTransaction(sent.receipt.hash))!
    const route = o.route ?? 'direct'
    if (route === 'direct') assert.equal(top.to!.toLowerCase(), ctx.stack.manager.address)
    else if ('delegate' in route) assert.deepEqual([top.type, top.to!.toLowerCase()], [4, s.mallory.o.wallet.address.toLowerCase()])
    else assert.equal(top.to!.toLowerCase(), route.relay.toLowerCase())

    const { index, beneficiary } = await slashed
    assert.equal(index, MALLORY)
    assert.ok(beneficiary === ALICE || beneficiary === BOB, `beneficiary ${beneficiary}`)
    const fraud = (await proven).record
    assert.deepEqual([fraud.kind, fraud.seq, fraud.removals], [DisputeKind.Fraud, head, 1n << BigInt(MALLORY)], 'the candidate is the honest head; Mallory is the culprit')
    for (const r of [alice, bob]) assert.equal(r.court!.chain.active, 0b111n, 'nobody honest removed')
    await honestCarryOn(ctx, s, fraud.deadline)
    await assertSlashedEnding(ctx, s, share, beneficiary)
  } finally {
    await s.c.close()
  }
}

describe('issue 10: reproduced attacks against online honest clients (end to end)', () => {
  let ctx: SceneContext
  let wallets: Wallet[]
  before(async () => ({ ctx, wallets } = await chain()))
  after(() => ctx.anvil.stop())

  const heights = [
    { height: 3n, below: false, what: 'at the honest head (seq 3, an equivocation)' },
    { height: 3n, below: true, what: 'below the honest head (seq 3 of 4, an equivocation)' },
    { height: 2n, below: false, what: 'below the honest head (seq 2 of 3, Bob\'s turn: a wrong actor)' },
    { height: 1n, below: false, what: 'on the genesis (seq 1 of 3, Alice\'s turn: a wrong actor anchored by the genesis)' },
  ]
  for (const h of heights) {
    test(`10.1 a conflicting timeout ${h.what}, backdated, to a made-up state (every balance Mallory's, Alice to move) is proven from its event: Mallory slashed, nobody honest removed`, { timeout: 120_000 }, () =>
      conflictingTimeout(ctx, wallets, `10.1-${h.height}-${h.below}`, { height: h.height, below: h.below }))
  }

  test('10.1 with session keys: Mallory’s session key signs the equivocation, her bond is slashed, the payouts go to the wallets', { timeout: 120_000 }, async () => {
    await conflictingTimeout(ctx, wallets, '10.1-session-keys', { height: 3n, sessionKeys: true })
  })

  test('10.3 a candidate entry Mallory stamped before its parent is refused at raise (ProofTimestampInvalid); she is timed out, Alice and Bob close', { timeout: 120_000 }, async () => {
    const s = await scene(ctx, wallets, '10.3-before-parent')
    try {
      await round(ctx, s, { moves: 2 })
      const two = heldTx(s, 2n)
      // A valid move, stamped 500 s before Bob's seq 2: due at once, if the chain took the stamp.
      const { transaction: t3, state } = await s.mallory.move(two.transaction, two.state, pay(BOB, ETH1 / 2n), { timestamp: two.transaction.timestamp - 500n })
      const list = candidate(s, 2n, t3)
      const refused = await decodeRevert(s.mallory.call('disputeTimeout', [list, state]))
      assert.deepEqual([refused.name, ...refused.args.slice(0, 3)], ['ProofTimestampInvalid', BigInt(list.length - 1), t3.timestamp, two.transaction.timestamp])
      assert.equal(s.c.roles[ALICE]!.court!.chain.phase, 'open', 'nothing raised')

      const record = await timeOutMallory(ctx, s)
      await honestCarryOn(ctx, s, record.deadline)
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
    }
  })

  test('10.3 a legally backdated candidate the accused never saw gives it postingWindow + challengeTime; its court learns the move from the event and responds', { timeout: 120_000 }, async () => {
    const s = await scene(ctx, wallets, '10.3-legal', { honest: [BOB] })
    const alicePays = ETH1 / 7n
    s.c.attach(ALICE, { autoMove: () => pay(BOB, alicePays) })
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    try {
      await round(ctx, s, { moves: 2 })
      const two = heldTx(s, 2n)
      // Mallory's seq 3 stamped with its parent's time (the earliest legal stamp), never sent;
      // she accuses Alice in the first second the stamp allows.
      const { transaction: t3, state } = await s.mallory.move(two.transaction, two.state, pay(BOB, s.m.pay(MALLORY, BOB, ETH1 / 3n)))
      const cancelled = Promise.all([alice.court!.next('cancelled'), bob.court!.next('cancelled')])
      const responded = alice.court!.next('submitted', { filter: (x) => x.action.kind === 'respond' })
      const raiseAt = t3.timestamp + BigInt(W) + 1n
      await nextBlockAt(ctx.anvil.provider, raiseAt)
      const { record } = await s.mallory.call('disputeTimeout', [candidate(s, 2n, t3), state])
      assert.deepEqual([record!.kind, record!.removals, record!.deadline - raiseAt], [DisputeKind.Timeout, 1n << BigInt(ALICE), BigInt(C + W)])
      s.m.pay(ALICE, BOB, alicePays)
      assert.deepEqual((await cancelled).map((x) => x.seq), [4n, 4n])
      assert.equal((await responded).action.kind, 'respond')
      await alice.court!.idle()
      assert.deepEqual([alice.channel.state.seq, alice.court!.chain.active], [4n, 0b111n], 'Alice took seq 3 from the event, moved, and was not removed')

      // Play goes on: Bob moves, Mallory goes silent on her turn and is timed out.
      await move(bob.channel, pay(ALICE, s.m.pay(BOB, ALICE, ETH1 / 9n)), [alice.channel])
      const timeout = await timeOutMallory(ctx, s)
      await honestCarryOn(ctx, s, timeout.deadline)
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
    }
  })

  for (const then of ['silent', 'post'] as const) {
    test(`10.4 a Payments candidate with an empty balances array is refused at raise (OutcomeLengthInvalid); ${then === 'silent' ? 'Mallory goes silent and is timed out' : 'Mallory posts it anyway and the courts prove the invalid transition'}; settled within the bound`, { timeout: 120_000 }, async () => {
      const s = await scene(ctx, wallets, `10.4-${then}`)
      const alice = s.c.roles[ALICE]!
      try {
        await round(ctx, s, { moves: 2 })
        const two = heldTx(s, 2n).transaction
        const empty = paymentsState(0b111n, ALICE, [])
        const fake = s.mallory.tx(two, { stateHash: hashState(empty) })
        const raiseAt = two.timestamp + BigInt(W) + 1n
        await nextBlockAt(ctx.anvil.provider, raiseAt)
        await expectRevert(s.mallory.call('disputeTimeout', [candidate(s, 2n, fake), empty]), 'OutcomeLengthInvalid', [0n, 3n])
        assert.equal(alice.court!.chain.phase, 'open', 'nothing locked')
        let deadline: bigint
        if (then === 'silent') {
          deadline = (await timeOutMallory(ctx, s)).deadline
        } else {
          const share = s.m.bal[MALLORY]!
          const slashed = alice.court!.next('slashed')
          const proven = alice.court!.next('dispute', { filter: (d) => d.record.kind === DisputeKind.Fraud })
          await s.mallory.call('postTransaction', [fake, s.mallory.sign(fake)])
          const { beneficiary } = await slashed
          deadline = (await proven).record.deadline
          await honestCarryOn(ctx, s, deadline)
          await assertSlashedEnding(ctx, s, share, beneficiary)
        }
        if (then === 'silent') {
          await honestCarryOn(ctx, s, deadline)
          await assertRemovedEnding(ctx, s)
        }
        const end = BigInt(await ctx.anvil.now())
        assert.ok(end - raiseAt <= BigInt(3 * (3 - 1) * C), `settled ${end - raiseAt} s after the attack; bound 3(n − 1)C = ${3 * 2 * C} s`)
      } finally {
        await s.c.close()
      }
    })
  }
})

describe('issue 10: evidence behind a wrapper call (prague chain)', () => {
  let ctx: SceneContext
  let wallets: Wallet[]
  let forwarder: Hex
  before(async () => {
    const x = await chain('prague')
    ;[ctx, wallets, forwarder] = [x.ctx, x.wallets, x.forwarder!]
  })
  after(() => ctx.anvil.stop())

  const cases: { name: string; route: () => Route; post?: boolean }[] = [
    { name: 'control: the conflicting timeout sent straight from Mallory\'s EOA', route: () => 'direct' },
    { name: 'the conflicting timeout from Mallory\'s EIP-7702-delegated account (the transaction\'s input is forward(manager, …) to herself)', route: () => ({ delegate: forwarder }) },
    { name: 'the conflicting seq 3 posted through a relay contract (msg.sender is the relay)', route: () => ({ relay: forwarder }), post: true },
  ]
  for (const c of cases) {
    test(`10.2 ${c.name}: caught from the manager's event exactly like the direct call, Mallory slashed`, { timeout: 120_000 }, () =>
      conflictingTimeout(ctx, wallets, `10.2-${c.name.slice(0, 12)}`, { route: c.route(), ...(c.post ? { post: true } : {}) }))
  }
})
