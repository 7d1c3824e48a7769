/**
 * Issue 11, reorganisations, end to end: honest Alice and Bob run the real client (Channel +
 * attachCourt) on a real anvil; Mallory is driven by the test. The chain is reorganised under the
 * listeners with `anvil_reorg` (a block they already read replaced by one holding Mallory's call)
 * and `evm_snapshot` / `evm_revert` (blocks they read dropped for a longer chain without them).
 * Each test asserts the exact credits of every participant and the manager's solvency.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Transaction, type Block, type Wallet } from 'ethers'
import { startAnvil } from '../../src/chain/anvil.js'
import { NO_DISPUTE } from '../../src/chain/ManagerClient.js'
import { deployLocalStack } from '../../src/chain/stack.js'
import { ChannelPhase } from '../../src/channel/phase.js'
import { DisputeKind } from '../../src/protocol/types.js'
import { ALICE, BOB, MALLORY, assertRemovedEnding, deltas, round, scene, settledAfter, type Scene, type SceneContext } from '../helpers/attackPlay.js'
import { BOND, ETH1, pastDeadline, pay, reach, solvent, travel } from '../helpers/courtPeers.js'
import { ETH } from '../../src/protocol/types.js'

let ctx: SceneContext
let wallets: Wallet[]
before(async () => {
  const anvil = await startAnvil({ accounts: 4 })
  const stack = await deployLocalStack(anvil.wallets[0]!)
  ctx = { anvil, stack, hasher: await stack.manager.hasher() }
  wallets = anvil.wallets.slice(1, 4)
})
after(() => ctx.anvil.stop())

/** Every honest listener reads up to the current head. */
async function readAll(s: Scene): Promise<void> {
  for (const r of s.c.roles) await r.listener?.poll()
}

/** A round more, Alice closes cooperatively; every credit exact, the manager solvent. */
async function playOnAndClose(s: Scene): Promise<void> {
  await round(ctx, s)
  const closed = s.c.roles[ALICE]!.court!.next('closed')
  await s.c.roles[ALICE]!.channel.close()
  await closed
  await assertRemovedEnding(ctx, s)
}

/**
 * After a round played off-chain (the open is the channel's last block), a one-block reorg takes
 * the open away; resolves once Alice and Bob stopped (Unopened), with the open's block and its
 * signed transaction (to put it back).
 */
async function openTakenAway(s: Scene): Promise<{ block: Block; raw: string }> {
  await round(ctx, s)
  const head = await ctx.anvil.provider.getBlockNumber()
  assert.equal(head, s.c.openBlock)
  const block = (await ctx.anvil.provider.getBlock(head))!
  const raw = Transaction.from((await ctx.anvil.provider.getTransaction(block.transactions[0]!))!).serialized
  const stopped = Promise.all([ALICE, BOB].map((i) => s.c.roles[i]!.channel.next('phase', { filter: (p) => p.to === ChannelPhase.Unopened })))
  await ctx.anvil.provider.send('anvil_reorg', [1, []]) // the open's block replaced by an empty one
  await readAll(s)
  await stopped
  return { block, raw }
}

describe('issue 11: reorganisations under online honest clients', () => {
  test('11.1 a force-close from the opening state, put by a one-block reorg into a block every listener had read, is seen: the courts answer with the latest final state and the payouts follow it', { timeout: 120_000 }, async () => {
    const s = await scene(ctx, wallets, '11.1-reorg-insert')
    try {
      // Mallory pays 1 ETH: the opening state would give it back to her.
      await round(ctx, s, { amount: (who) => (who === MALLORY ? ETH1 : ETH1 / 10n) })
      await ctx.anvil.mine()
      await readAll(s)
      const raw = await s.mallory.rawCall('exit', [NO_DISPUTE, [], false, s.c.roles[ALICE]!.court!.chain.genesis.state])
      const answered = s.c.roles[ALICE]!.court!.next('answered')
      const head = await ctx.anvil.provider.getBlockNumber()
      await ctx.anvil.provider.send('anvil_reorg', [1, [[raw, 0]]])
      assert.equal(await ctx.anvil.provider.getBlockNumber(), head, 'the block was replaced, not added')
      const { record } = await answered
      assert.deepEqual([record.kind, record.seq], [DisputeKind.ForceClose, 3n], 'answered with the latest final state')
      await settledAfter(ctx, s, record.deadline)
      await assertRemovedEnding(ctx, s) // everyone paid by the final state of seq 3, plus bonds
    } finally {
      await s.c.close()
    }
  })

  test('11.2 a force-close the listeners delivered, then reorganised away: the channels go back to open, play on and close cooperatively', { timeout: 120_000 }, async () => {
    const s = await scene(ctx, wallets, '11.2-reorg-drop')
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    try {
      await round(ctx, s)
      const snapshot = await ctx.anvil.provider.send('evm_snapshot', [])
      const seen = Promise.all([alice, bob].map((r) => r.court!.next('dispute')))
      const m = s.c.roles[MALLORY]!.channel
      await s.mallory.call('exit', [NO_DISPUTE, m.finalityProof(), false, m.state.finalState])
      await seen
      for (const r of [alice, bob]) assert.equal(r.channel.phase, ChannelPhase.Disputed)

      await ctx.anvil.provider.send('evm_revert', [snapshot])
      await ctx.anvil.mine()
      await ctx.anvil.mine() // a longer chain without the force-close
      await readAll(s)
      for (const r of [alice, bob]) {
        assert.equal(r.channel.phase, ChannelPhase.Open, `participant ${r.channel.me} is open again`)
        assert.equal(r.court!.chain.phase, 'open')
        assert.equal(r.court!.chain.dispute, undefined)
      }
      // Play on (Mallory's client has no court: it never left open) and close.
      await playOnAndClose(s)
    } finally {
      await s.c.close()
    }
  })
  test('11.5 our move posted after our broadcast window, then reorganised away: our court posts it again; the peers take it, the channel closes with it', { timeout: 120_000 }, async () => {
    const s = await scene(ctx, wallets, '11.5-reorg-post')
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    try {
      await round(ctx, s)
      s.c.hub.filter = (from, to) => from !== ALICE && to !== ALICE // Alice is cut off from her peers
      await travel(ctx.anvil, s.c, 70) // past her broadcast window
      const snapshot = await ctx.anvil.provider.send('evm_snapshot', [])
      const sent = await alice.court!.propose(pay(BOB, s.m.pay(ALICE, BOB, ETH1 / 10n)))
      assert.equal(sent.via, 'chain')
      await reach(bob.channel, 4n) // Bob's court took it from the chain

      await ctx.anvil.provider.send('evm_revert', [snapshot])
      await ctx.anvil.mine()
      const again = alice.court!.next('submitted', { filter: (x) => x.action.kind === 'post' })
      await travel(ctx.anvil, s.c, 40) // past the move's confirmation window: nobody confirmed it
      const { action } = await again
      assert.equal(action.kind === 'post' && action.transaction.seq, 4n, 'the same move, posted again')
      await alice.listener!.poll()
      assert.ok(alice.court!.chain.posted.includes(sent.digest), 'the chain holds it again')

      await bob.listener!.poll()
      assert.ok(bob.court!.chain.posted.includes(sent.digest), 'Bob\'s court sees it again')
      // Nobody confirmed it (Alice is still cut off): Alice force-closes from seq 3; the courts
      // extend with her posted move and the settlement includes it.
      const extended = alice.court!.next('answered')
      const raised = alice.court!.next('dispute', { filter: (d) => d.record.kind === DisputeKind.ForceClose })
      // Raised now, or (LEAVE_DEFERRED) by the court itself as soon as the chain lets it.
      await alice.court!.forceClose().catch((e: { code?: string }) => assert.equal(e.code, 'LEAVE_DEFERRED'))
      assert.equal((await raised).record.seq, 3n)
      const { record } = await extended
      assert.equal(record.seq, 4n, 'extended with the posted move')
      await settledAfter(ctx, s, record.deadline)
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
    }
  })
  test('11.4 a cooperative close reorganised away: the channels go back to closing, a court submits the signed close again, and it settles', { timeout: 120_000 }, async () => {
    const s = await scene(ctx, wallets, '11.4-reorg-close')
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    try {
      await round(ctx, s)
      const snapshot = await ctx.anvil.provider.send('evm_snapshot', [])
      const closed = Promise.all([alice, bob].map((r) => r.court!.next('closed')))
      await alice.channel.close()
      await closed
      for (const r of [alice, bob]) assert.equal(r.channel.phase, ChannelPhase.Closed)

      await ctx.anvil.provider.send('evm_revert', [snapshot])
      await ctx.anvil.mine()
      await ctx.anvil.mine() // a longer chain without the close
      const again = Promise.all([alice, bob].map((r) => r.court!.next('closed')))
      await readAll(s)
      for (const r of [alice, bob]) assert.equal(r.channel.phase, ChannelPhase.Closing, `participant ${r.channel.me} is closing again: its close is signed, not settled`)
      await travel(ctx.anvil, s.c, 70) // past p2pTime: every court may submit the signed close
      await again
      for (const r of [alice, bob]) assert.equal(r.channel.phase, ChannelPhase.Closed)
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
    }
  })
  test('11.3 the open reorganised away: the channels stop (Unopened: nothing signed, proposals and closes refused); the deposits are free again and each participant withdraws exactly its own', { timeout: 120_000 }, async () => {
    const s = await scene(ctx, wallets, '11.3-reorg-open')
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    try {
      await openTakenAway(s)
      for (const r of [alice, bob]) {
        assert.equal(r.channel.phase, ChannelPhase.Unopened)
        await assert.rejects(r.channel.propose(pay(BOB, 1n)), { code: 'CHANNEL_NOT_OPEN' })
      }
      const before = alice.channel.state.seq
      await assert.rejects(alice.channel.close(), { code: 'CHANNEL_NOT_OPEN' })
      assert.equal(alice.channel.state.seq, before)
      // The chain has no channel: every deposit (and bond) is free again, exactly as deposited.
      for (const r of s.c.roles) await ctx.stack.manager.connect(r.wallet).withdraw(ETH, s.c.params.deposits[s.c.roles.indexOf(r)]! + BOND)
      assert.deepEqual(await deltas(ctx, s), s.c.roles.map(() => 0n))
      await solvent(ctx.anvil, ctx.stack)
    } finally {
      await s.c.close()
    }
  })

  test('11.3b the open reorganised away, then the same open back in a sibling block (same genesis time): the channels resume where they were, play on and close with exact payouts', { timeout: 120_000 }, async () => {
    const s = await scene(ctx, wallets, '11.3b-reorg-open-back', { openAtParentTime: true })
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    try {
      const { block, raw } = await openTakenAway(s)
      const seq = alice.channel.state.seq
      // The open comes back at the same height and time (a sibling block): the channel resumes.
      const resumed = Promise.all([alice, bob].map((r) => r.channel.next('phase', { filter: (p) => p.to === ChannelPhase.Open })))
      await ctx.anvil.provider.send('anvil_reorg', [1, [[raw, 0]]])
      const again = (await ctx.anvil.provider.getBlock(block.number))!
      assert.notEqual(again.hash, block.hash)
      assert.equal(again.timestamp, block.timestamp)
      await readAll(s)
      await resumed
      for (const r of [alice, bob]) {
        assert.equal(r.channel.phase, ChannelPhase.Open)
        assert.equal(r.channel.state.seq, seq, 'nothing signed was lost')
      }
      await playOnAndClose(s)
    } finally {
      await s.c.close()
    }
  })

  test('11.3c the open reorganised away and re-included one block later (another genesis time): OPEN_CHANGED, the channels stay Unopened — nothing signed on the old genesis is played on the new one', { timeout: 120_000 }, async () => {
    const s = await scene(ctx, wallets, '11.3c-reorg-open-later')
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    try {
      const changed = Promise.all([alice, bob].map((r) => r.channel.next('error', { filter: (e) => (e.error as { code?: string }).code === 'OPEN_CHANGED' })))
      const { block, raw } = await openTakenAway(s)
      await ctx.anvil.increaseTime(30) // its block is later: another genesis time (anvil may stamp blocks of one second alike)
      const mined = (await (await ctx.anvil.provider.broadcastTransaction(raw)).wait())!
      await ctx.anvil.mine()
      await readAll(s)
      await changed
      for (const r of [alice, bob]) {
        assert.equal(r.channel.phase, ChannelPhase.Unopened)
        await assert.rejects(r.channel.propose(pay(BOB, 1n)), { code: 'CHANNEL_NOT_OPEN' })
      }
      const reopened = (await ctx.anvil.provider.getBlock(mined.blockNumber))!
      assert.ok(mined.status === 1 && reopened.timestamp > block.timestamp, 'the open is on chain again, later')
      await solvent(ctx.anvil, ctx.stack)
    } finally {
      await s.c.close()
    }
  })
})
