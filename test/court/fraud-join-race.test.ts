/**
 * A fraud-proof join front-running an honest answer, end to end (fix 495c7f7: DisputeRecordMismatch
 * is decided again, `refusedForGood` in src/dispute/perform.ts; docs/protocol.md §7.6, §7.11, §11.0).
 *
 * Alice is the only honest participant (court attached); Trudy, Uma and Mallory collude. Mallory
 * proves an equivocation of Trudy's from the genesis (checkpoint empty): a fraud dispute whose
 * candidate is the genesis, where Alice had 0.9 ETH less than at her latest final state. Alice's
 * court answers with that state. While its answer waits in the pool, Uma joins the dispute with a
 * proof of an equivocation of Mallory's, paying more: mined first in the same block, the join
 * changes the dispute record (disputer, removals; the candidate stays the genesis), so Alice's
 * answer reverts DisputeRecordMismatch — with the same key as the answer still needed. Before the
 * fix the court gave it up for good and the channel settled from the genesis: Alice 0.9 ETH short.
 * Required: the court answers again before the deadline; Alice ends with exactly her latest final
 * balance and bond; the manager stays solvent.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Wallet } from 'ethers'
import { startAnvil } from '../../src/chain/anvil.js'
import { NO_DISPUTE } from '../../src/chain/ManagerClient.js'
import { deployLocalStack } from '../../src/chain/stack.js'
import { hashState } from '../../src/protocol/eip712.js'
import { DisputeKind, type PackedSignedTransaction } from '../../src/protocol/types.js'
import { Byzantine, manualMining, type Parent } from '../helpers/byzantine.js'
import { ALICE, deltas, heldTx, round, scene, settledAfter, type SceneContext } from '../helpers/attackPlay.js'
import { BOND, ETH1, pastDeadline, solvent, travel } from '../helpers/courtPeers.js'

let ctx: SceneContext
let wallets: Wallet[]
before(async () => {
  const anvil = await startAnvil({ accounts: 6 })
  const stack = await deployLocalStack(anvil.wallets[0]!)
  ctx = { anvil, stack, hasher: await stack.manager.hasher() }
  wallets = anvil.wallets.slice(1, 6)
})
after(() => ctx.anvil.stop())

/** Two versions of `culprit`'s move on `parent`, each signed by it alone. */
function equivocation(culprit: Byzantine, parent: Parent): [PackedSignedTransaction, PackedSignedTransaction] {
  const [a, b] = (['0xa1', '0xb2'] as const).map((x) => culprit.signed(culprit.tx(parent, { stateHash: hashState(x) })))
  return [a!, b!]
}

/** Fees that put a transaction ahead of the honest ones waiting in the same block (anvil orders by fee). */
const FRONT = { maxPriorityFeePerGas: 10n ** 11n, maxFeePerGas: 10n ** 12n, gasLimit: 12_000_000n }

describe('a fraud-proof join front-running an honest answer (docs/protocol.md §7.11, §11.0)', () => {
  test('Mallory proves Trudy from the genesis; Uma\'s proof of Mallory joins in the same block just ahead of Alice\'s answer, which reverts DisputeRecordMismatch: the court answers again, the channel goes on from Alice\'s latest final state; exact credits, solvent', { timeout: 120_000 }, async () => {
    const [TRUDY, UMA, M] = [1, 2, 3]
    const s = await scene(ctx, wallets.slice(0, 4), 'fraud-join-race', { honest: [ALICE] })
    const [trudy, uma] = [TRUDY, UMA].map((i) => new Byzantine({ ...s.mallory.o, wallet: s.c.roles[i]!.wallet }))
    const alice = s.c.roles[ALICE]!
    try {
      // Mallory pays Alice 1 ETH in the round: Alice's latest final state (seq 4) gives her 0.9 ETH more than the genesis.
      const head = await round(ctx, s, { amount: (who) => (who === M ? ETH1 : ETH1 / 10n) })
      const shares = [...s.m.bal]
      assert.equal(shares[ALICE]! - s.c.params.deposits[ALICE]!, (9n * ETH1) / 10n)
      const g = alice.court!.chain.genesis
      const parent = heldTx(s, head).transaction
      const [t1, t2] = equivocation(trudy!, parent)
      const [m1, m2] = equivocation(s.mallory, parent)

      const failures: { code?: string; retried: boolean }[] = []
      alice.court!.on('failed', (x) => x.action.kind === 'answer' && failures.push({ code: (x.error as { code?: string }).code, retried: x.retried }))
      const answeredLate = alice.court!.next('answered', { filter: (x) => x.record.seq === head && x.record.removals === ((1n << BigInt(TRUDY)) | (1n << BigInt(M))) })

      let deadline = 0n
      await manualMining(ctx.anvil.provider, async ({ mine, pending }) => {
        // Mallory's proof of Trudy, checkpoint empty: a fraud dispute on the genesis.
        const proof = s.mallory.call('proveEquivocation', [NO_DISPUTE, t1, t2, [], g.state], 'direct', { gasLimit: 12_000_000n })
        await pending([s.mallory.o.wallet.address])
        await mine()
        const raised = (await proof).record!
        assert.deepEqual([raised.kind, raised.seq, raised.removals], [DisputeKind.Fraud, 0n, 1n << BigInt(TRUDY)])
        deadline = raised.deadline
        // Alice's court answers with seq `head`; while its answer waits, Uma joins paying more.
        await pending([alice.wallet.address])
        const join = uma!.call('proveEquivocation', [raised, m1, m2, [], g.state], 'direct', FRONT)
        await Promise.race([pending([uma!.o.wallet.address]), join])
        await mine()
        const joined = (await join).record!
        assert.deepEqual([joined.kind, joined.seq, joined.disputer, joined.deadline], [DisputeKind.Fraud, 0n, UMA, deadline], 'the join lands first: the candidate is still the genesis, the deadline kept')
      })
      // The answer that lost the race is in the court's report: refused for its record, decided again.
      await travel(ctx.anvil, s.c, 1)
      const timer = new Promise<undefined>((r) => setTimeout(() => r(undefined), 8_000))
      const got = await Promise.race([answeredLate, timer])
      assert.ok(failures.some((f) => f.code === 'DISPUTE_RECORD_MISMATCH'), `Alice's first answer lost to the join (${JSON.stringify(failures)})`)
      assert.ok(got, `Alice's court must answer again after the join; its answer's failures: ${JSON.stringify(failures)}`)
      assert.equal(got.record.deadline, deadline)

      // Resolution: Trudy and Mallory removed, a new fork from seq `head` with Alice and Uma. Uma
      // stays silent; Alice force-closes there and the channel settles from that state.
      const forked = alice.channel.next('fork')
      await pastDeadline(ctx.anvil, s.c, { deadline })
      assert.equal((await forked).fork, 1n)
      const close = await alice.court!.forceClose()
      await settledAfter(ctx, s, close.raised.dispute.deadline)

      // Alice: her seq-4 balance and bond. Trudy's bounty went to Mallory, then with Mallory's own
      // share and bond to Uma, who proved her (§7.6 rule 5).
      const expected = [shares[ALICE]! + BOND, 0n, shares[UMA]! + BOND + shares[TRUDY]! + BOND + shares[M]! + BOND, 0n]
      assert.deepEqual(await deltas(ctx, s), expected)
      await solvent(ctx.anvil, ctx.stack)
    } finally {
      await s.c.close()
    }
  })

  test('churn (docs/protocol.md §11.0): each of Alice\'s answers is front-run by another colluder\'s join in its block — Uma proves Mallory, then Victor proves Uma; Alice answers a third time, before the deadline; exact credits, solvent', { timeout: 120_000 }, async () => {
    const [TRUDY, UMA, VICTOR, M] = [1, 2, 3, 4]
    const s = await scene(ctx, wallets, 'fraud-join-churn', { honest: [ALICE] })
    const [trudy, uma, victor] = [TRUDY, UMA, VICTOR].map((i) => new Byzantine({ ...s.mallory.o, wallet: s.c.roles[i]!.wallet }))
    const alice = s.c.roles[ALICE]!
    try {
      const head = await round(ctx, s, { amount: (who) => (who === M ? ETH1 : ETH1 / 10n) })
      const shares = [...s.m.bal]
      const g = alice.court!.chain.genesis
      const parent = heldTx(s, head).transaction
      const [t1, t2] = equivocation(trudy!, parent)
      const [m1, m2] = equivocation(s.mallory, parent)
      const [u1, u2] = equivocation(uma!, parent)
      const mismatches: string[] = []
      alice.court!.on('failed', (x) => x.action.kind === 'answer' && mismatches.push((x.error as { code?: string }).code ?? 'ERROR'))
      const culprits = (1n << BigInt(TRUDY)) | (1n << BigInt(M)) | (1n << BigInt(UMA))
      const answeredLate = alice.court!.next('answered', { filter: (x) => x.record.seq === head && x.record.removals === culprits })

      let deadline = 0n
      await manualMining(ctx.anvil.provider, async ({ mine, pending }) => {
        const proof = s.mallory.call('proveEquivocation', [NO_DISPUTE, t1, t2, [], g.state], 'direct', { gasLimit: 12_000_000n })
        await pending([s.mallory.o.wallet.address])
        await mine()
        let record = (await proof).record!
        deadline = record.deadline
        // Twice: Alice's answer waits in the pool; a colluder's join, paying more, is mined ahead of it.
        for (const [joiner, [a, b]] of [[uma!, [m1, m2]], [victor!, [u1, u2]]] as const) {
          await pending([alice.wallet.address])
          const join = joiner.call('proveEquivocation', [record, a, b, [], g.state], 'direct', FRONT)
          await Promise.race([pending([joiner.o.wallet.address]), join])
          await mine()
          record = (await join).record!
          assert.deepEqual([record.disputer, record.seq, record.deadline], [joiner.me, 0n, deadline], 'the join lands first; candidate and deadline kept')
        }
      })
      await travel(ctx.anvil, s.c, 1)
      const timer = new Promise<undefined>((r) => setTimeout(() => r(undefined), 8_000))
      const got = await Promise.race([answeredLate, timer])
      assert.deepEqual(mismatches.filter((c) => c === 'DISPUTE_RECORD_MISMATCH').length, 2, `both answers lost to a join (${mismatches.join(', ')})`)
      assert.ok(got, `Alice's court must answer a third time; failures: ${mismatches.join(', ')}`)
      assert.equal(got.record.deadline, deadline)

      const forked = alice.channel.next('fork')
      await pastDeadline(ctx.anvil, s.c, { deadline })
      assert.equal((await forked).fork, 1n)
      const close = await alice.court!.forceClose()
      await settledAfter(ctx, s, close.raised.dispute.deadline)
      // Trudy's bounty went to Mallory, then with Mallory's to Uma, then with Uma's to Victor (§7.6 rule 5).
      const expected = [shares[ALICE]! + BOND, 0n, 0n, shares[VICTOR]! + BOND + shares[TRUDY]! + BOND + shares[M]! + BOND + shares[UMA]! + BOND, 0n]
      assert.deepEqual(await deltas(ctx, s), expected)
      await solvent(ctx.anvil, ctx.stack)
    } finally {
      await s.c.close()
    }
  })
})

