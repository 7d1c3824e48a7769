/**
 * Attacks found while writing the end-to-end regressions of issues 10 and 16 (attacks*.test.ts),
 * same setting: honest clients run the real client with its court on a real anvil; Mallory is
 * driven by the test with the byzantine toolkit. Each test states the behaviour the safety
 * invariant requires.
 *
 * Root cause of both (fixed): the court dropped a fraud proof's evidence for good when the proof
 * reverted (DisputeHandler.run marked the action failed and removed the evidence; addEvidence
 * refused it again) — though a revert such as DisputeRecordMismatch only says the open dispute
 * changed between the court's view and the proof's inclusion, and the evidence is as valid as
 * before. Now a fraud proof's key names the record it is built against, and evidence stays until
 * a proof of it is mined.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Wallet } from 'ethers'
import { startAnvil } from '../../src/chain/anvil.js'
import { NO_DISPUTE } from '../../src/chain/ManagerClient.js'
import { deployLocalStack } from '../../src/chain/stack.js'
import { hashState } from '../../src/protocol/eip712.js'
import { bitIndices } from '../../src/protocol/bitmap.js'
import { DisputeKind, type Transaction } from '../../src/protocol/types.js'
import { Byzantine, anchoredList, manualMining, signedHistory, type Signed } from '../helpers/byzantine.js'
import {
  ALICE, BOB, MALLORY, deltas, genesisHash, heldTx, paymentsState, playAndClose, round, scene, type Scene, type SceneContext,
} from '../helpers/attackPlay.js'
import { BOND, ETH1, pastDeadline, pay, solvent } from '../helpers/courtPeers.js'

let ctx: SceneContext
let wallets: Wallet[]
before(async () => {
  const anvil = await startAnvil({ accounts: 5 })
  const stack = await deployLocalStack(anvil.wallets[0]!)
  ctx = { anvil, stack, hasher: await stack.manager.hasher() }
  wallets = anvil.wallets.slice(1, 5)
})
after(() => ctx.anvil.stop())


/** Signed by its author only (the byzantine one). */
const own = (b: Byzantine, t: Transaction): Signed => ({ transaction: t, signatures: new Map([[b.me, b.sign(t)]]) })

/**
 * Waits until the open dispute settles or starts a fork; on a fork Alice and Bob play on and
 * close. Returns how it ended.
 */
async function finish(s: Scene): Promise<'closed' | 'fork'> {
  const alice = s.c.roles[ALICE]!
  await Promise.all([ALICE, BOB].map((i) => s.c.roles[i]!.court!.idle()))
  const open = alice.court!.chain.dispute!.record
  const end = Promise.race([alice.court!.next('closed').then(() => 'closed' as const), alice.channel.next('fork').then(() => 'fork' as const)])
  await pastDeadline(ctx.anvil, s.c, open)
  const how = await end
  if (how === 'fork') {
    if (s.c.roles[BOB]!.channel.state.fork < alice.channel.state.fork) await s.c.roles[BOB]!.channel.next('fork')
    await playAndClose(s)
  }
  return how
}

describe('found: fraud evidence survives a proof that reverts because the dispute changed', () => {
  for (const how of ['sent back to back (no mempool games)', 'front-running the courts\' pending proofs with a higher fee'] as const) {
    test(`a second extension ${how} makes the courts' fraud proof of the first revert: they prove it again against the new record, Mallory is slashed, nothing is stolen`, { timeout: 120_000 }, async () => {
      const s = await scene(ctx, wallets.slice(0, 3), `found-ext-${how.slice(0, 5)}`)
      const [alice, bob, mallory] = [s.c.roles[ALICE]!, s.c.roles[BOB]!, s.c.roles[MALLORY]!]
      try {
        await round(ctx, s, { moves: 2 }) // seq 2 final; Mallory to move
        const share = s.m.bal[MALLORY]!
        const two = heldTx(s, 2n)
        const seen = Promise.all([alice, bob].map((r) => r.court!.next('dispute')))
        const fc = (await s.mallory.call('exit', [NO_DISPUTE, mallory.channel.finalityProof(), false, two.state])).record!
        await seen

        // F: Mallory's seq 3 to a made-up state (her turn again); G: her seq 4 on it, every balance hers.
        const total = s.c.params.deposits.reduce((a, b) => a + b)
        const stateF = paymentsState(0b111n, MALLORY, [...s.c.params.deposits])
        const F = s.mallory.tx(two.transaction, { stateHash: hashState(stateF) })
        const stateG = paymentsState(0b111n, ALICE, [0n, 0n, total])
        const G = s.mallory.tx(F, { stateHash: hashState(stateG) })
        const history = signedHistory(mallory.store, s.c.channelId, 0n, 1n, 2n)
        const anchor = { genesisHash: genesisHash(s), active: 0b111n }
        const answered = Promise.all([alice, bob].map((r) => r.court!.next('answered', { filter: (x) => x.record.seq === 4n })))
        const list1 = anchoredList([...history, own(s.mallory, F)], anchor)
        const list2 = anchoredList([...history, own(s.mallory, F), own(s.mallory, G)], anchor)
        if (how.startsWith('sent')) {
          const r2 = (await s.mallory.call('extend', [fc, list1, stateF])).record!
          await s.mallory.call('extend', [r2, list2, stateG])
        } else {
          await manualMining(ctx.anvil.provider, async ({ mine, pending }) => {
            // Extension 1 ends with F; both courts prove F invalid against its record…
            const ext1 = s.mallory.call('extend', [fc, list1, stateF])
            await pending([mallory.wallet.address])
            await mine()
            const r2 = (await ext1).record!
            await pending([alice.wallet.address, bob.wallet.address])
            // …and extension 2 (F, then G), paying more, is mined first: their proofs revert.
            const fees = { maxPriorityFeePerGas: 100n * 10n ** 9n, maxFeePerGas: 1000n * 10n ** 9n, gasLimit: 12_000_000n }
            const ext2 = s.mallory.call('extend', [r2, list2, stateG], 'direct', fees)
            await Promise.race([pending([mallory.wallet.address]), ext2])
            await mine()
            await ext2
          })
        }
        await answered
        await Promise.all([alice, bob].map((r) => r.court!.idle()))
        // Required: F is still proven (its evidence is as valid as before), Mallory is slashed and
        // Alice and Bob keep their entitlement.
        await finish(s)
        const slashed = alice.court!.chain.slashed
        const credits = await deltas(ctx, s)
        assert.deepEqual(bitIndices(slashed), [MALLORY], `Mallory must be slashed; credits were ${credits.join(', ')} (Mallory's made-up state pays her ${total + BOND})`)
        const expected = s.m.bal.map((b, i) => (i === MALLORY ? 0n : b + BOND))
        expected[credits[ALICE]! > credits[BOB]! ? ALICE : BOB]! += share + BOND
        assert.deepEqual(credits, expected)
        await solvent(ctx.anvil, ctx.stack)
      } finally {
        await s.c.close()
      }
    })
  }

  test('two colluders\' equivocations in one timeout candidate: the proof of the second reverts against the changed dispute and is built again; both are slashed', { timeout: 120_000 }, async () => {
    const [TRUDY, M] = [2, 3]
    const s = await scene(ctx, wallets.slice(0, 4), 'found-two-frauds')
    const trudy = new Byzantine({ ...s.mallory.o, wallet: s.c.roles[TRUDY]!.wallet })
    const alice = s.c.roles[ALICE]!
    try {
      const head = await round(ctx, s, { slowBefore: [TRUDY] }) // Trudy's seq 3 40 s after Bob's seq 2
      const [sT, sM] = [s.m.bal[TRUDY]!, s.m.bal[M]!]
      // Second versions of Trudy's seq 3 and Mallory's seq 4 (every balance Mallory's), stamped
      // with Bob's seq 2: an anchored candidate accusing Alice, due before any honest timeout.
      const two = heldTx(s, 2n).transaction
      const total = s.c.params.deposits.reduce((x, y) => x + y)
      const t3 = trudy.tx(two, { stateHash: hashState(paymentsState(0b1111n, M, [...s.c.params.deposits])) })
      const stateM = paymentsState(0b1111n, ALICE, [0n, 0n, 0n, total])
      const m4 = s.mallory.tx(t3, { stateHash: hashState(stateM) })
      const history = signedHistory(s.c.roles[M]!.store, s.c.channelId, 0n, 1n, 2n)
      const list = anchoredList([...history, own(trudy, t3), own(s.mallory, m4)], { genesisHash: genesisHash(s), active: 0b1111n })
      const slashed: number[] = []
      alice.court!.on('slashed', (x) => slashed.push(x.index))
      const provenM = alice.court!.next('slashed', { filter: (x) => x.index === M })
      await ctx.anvil.provider.send('evm_setNextBlockTimestamp', [Number(two.timestamp + 211n)])
      const { record } = await s.mallory.call('disputeTimeout', [list, stateM])
      assert.deepEqual([record!.kind, record!.seq], [DisputeKind.Timeout, head])
      // Both courts' first proof of Mallory's equivocation reverts (the record changed when
      // Trudy's was proven); they build it again against the new record.
      await provenM
      await Promise.all([ALICE, BOB].map((i) => s.c.roles[i]!.court!.idle()))
      assert.deepEqual(slashed.sort(), [TRUDY, M], 'both equivocations must be proven')
      assert.equal(await finish(s), 'fork')
      const credits = await deltas(ctx, s)
      assert.equal(credits[TRUDY]! + credits[M]!, 0n)
      // Alice and Bob: their balances and bonds, plus both culprits' shares and bonds to their provers.
      assert.equal(credits[ALICE]! + credits[BOB]!, s.m.bal[ALICE]! + s.m.bal[BOB]! + 2n * BOND + sT + sM + 2n * BOND)
      for (const i of [ALICE, BOB]) assert.ok(credits[i]! >= s.m.bal[i]! + BOND)
      await solvent(ctx.anvil, ctx.stack)
    } finally {
      await s.c.close()
    }
  })
})
