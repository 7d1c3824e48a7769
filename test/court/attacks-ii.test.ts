/**
 * The attacks reproduced in issue 16 (funds safety II), cases 16.1–16.3, end to end: honest
 * clients run the real client with its court (acting on-chain by themselves) on a real anvil;
 * Mallory is driven by the test with the byzantine toolkit. Each test asserts the exact credits
 * of every participant, solvency and the channel's end. 16.4–16.6 are in
 * attacks-iii.test.ts; the contract-level versions in test/disputes/attacks.test.ts.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Wallet } from 'ethers'
import { startAnvil } from '../../src/chain/anvil.js'
import { deployLocalStack } from '../../src/chain/stack.js'
import type { ParleyError } from '../../src/errors/ParleyError.js'
import { hashState } from '../../src/protocol/eip712.js'
import { DisputeKind, type PackedSignedTransaction, type Transaction } from '../../src/protocol/types.js'
import { anchoredList, bytes, nextBlockAt, signedHistory } from '../helpers/byzantine.js'
import {
  ALICE, BOB, MALLORY, W, assertRemovedEnding, assertSlashedEnding, cell, genesisHash, heldTx, honestCarryOn, paymentsState, round, scene,
  timeOutMallory, type Scene, type SceneContext,
} from '../helpers/attackPlay.js'
import { BOND, ETH1, balances, move, pastDeadline, pay, solvent } from '../helpers/courtPeers.js'
import { decodeRevert, expectRevert } from '../helpers/revert.js'

let ctx: SceneContext
let wallets: Wallet[]
before(async () => {
  const anvil = await startAnvil({ accounts: 5 })
  const stack = await deployLocalStack(anvil.wallets[0]!)
  ctx = { anvil, stack, hasher: await stack.manager.hasher() }
  wallets = anvil.wallets.slice(1, 4)
})
after(() => ctx.anvil.stop())

/** An anchored candidate list: Mallory's history up to `upTo`, then `t` signed by her. */
function candidate(s: Scene, upTo: bigint, t: Transaction): PackedSignedTransaction[] {
  const last = s.c.roles.length - 1
  const history = signedHistory(s.c.roles[last]!.store, s.c.channelId, 0n, 1n, upTo)
  const active = (1n << BigInt(s.c.roles.length)) - 1n
  return anchoredList([...history, { transaction: t, signatures: new Map([[last, s.mallory.sign(t)]]) }], { genesisHash: genesisHash(s), active })
}

describe('issue 16: reproduced attacks against online honest clients (end to end), 16.1–16.3', () => {
  const sizes = [
    { data: 5_000, outcome: 'refused at raise (ProofDataTooLarge)' },
    { data: 4_096, outcome: 'accepted at raise (MAX_DATA_BYTES), then proven invalid by the courts' },
    { data: 64, outcome: 'control, normal-size data: accepted at raise, then proven invalid by the courts' },
  ] as const
  for (const size of sizes) {
    test(`16.1 a candidate entry with ${size.data} bytes of data and an invented state (every balance Mallory's, Alice to move): ${size.outcome}; Alice and Bob keep their funds`, { timeout: 120_000 }, async () => {
      const s = await scene(ctx, wallets, `16.1-${size.data}`)
      const alice = s.c.roles[ALICE]!
      try {
        await round(ctx, s, { moves: 2 })
        const two = heldTx(s, 2n).transaction
        const total = s.c.params.deposits.reduce((a, b) => a + b)
        const invented = paymentsState(0b111n, ALICE, [0n, 0n, total])
        const fake = s.mallory.tx(two, { data: size.data === 64 ? pay(ALICE, 0n) : bytes(size.data), stateHash: hashState(invented) })
        const share = s.m.bal[MALLORY]!
        await nextBlockAt(ctx.anvil.provider, two.timestamp + BigInt(W) + 1n)
        if (size.data > 4_096) {
          await expectRevert(s.mallory.call('disputeTimeout', [candidate(s, 2n, fake), invented]), 'ProofDataTooLarge', [1n, 5_000n, 4_096n])
          assert.equal(alice.court!.chain.phase, 'open', 'nothing raised')
          const timeout = await timeOutMallory(ctx, s)
          await honestCarryOn(ctx, s, timeout.deadline)
          await assertRemovedEnding(ctx, s)
          return
        }
        const slashed = alice.court!.next('slashed')
        const proven = alice.court!.next('dispute', { filter: (d) => d.record.kind === DisputeKind.Fraud })
        const { record } = await s.mallory.call('disputeTimeout', [candidate(s, 2n, fake), invented])
        assert.deepEqual([record!.kind, record!.removals], [DisputeKind.Timeout, 1n << BigInt(ALICE)])
        const { index, beneficiary } = await slashed
        assert.equal(index, MALLORY)
        const fraud = (await proven).record
        assert.deepEqual([fraud.seq, fraud.removals], [2n, 1n << BigInt(MALLORY)], 'the candidate is the honest head')
        await honestCarryOn(ctx, s, fraud.deadline)
        await assertSlashedEnding(ctx, s, share, beneficiary)
      } finally {
        await s.c.close()
      }
    })
  }

  test('16.2 TicTacToe: Mallory\'s valid seq-2 move stamped before Alice\'s seq 1, raised as [tx1, tx2], is refused (ProofTimestampInvalid); Alice is not removed and wins the pot when Mallory is timed out', { timeout: 120_000 }, async () => {
    const duel = wallets.slice(0, 2)
    const s = await scene(ctx, duel, '16.2', { machine: ctx.stack.machines.tictactoe, deposits: [ETH1, ETH1] })
    const alice = s.c.roles[ALICE]!
    try {
      const all = s.c.roles.map((r) => r.channel)
      const one = await move(alice.channel, cell(4), all)
      await Promise.all(all.map((ch) => ch.waitFinal(one)))
      const tx1 = heldTx(s, 1n)
      // Valid (O takes a corner) but stamped 100 s before its parent; never sent to Alice.
      const { transaction: tx2, state } = await s.mallory.move(tx1.transaction, tx1.state, cell(0), { timestamp: tx1.transaction.timestamp - 100n })
      const list = candidate(s, 1n, tx2)
      assert.equal(list.length, 2)
      const refused = await decodeRevert(s.mallory.call('disputeTimeout', [list, state]))
      assert.deepEqual([refused.name, ...refused.args.slice(0, 3)], ['ProofTimestampInvalid', 1n, tx2.timestamp, tx1.transaction.timestamp])
      assert.deepEqual([alice.court!.chain.phase, alice.court!.chain.active], ['open', 0b11n])

      // Mallory stays silent: Alice's court accuses her; she is removed (a removed player forfeits) and the channel settles.
      const timeout = await timeOutMallory(ctx, s)
      const closed = alice.court!.next('closed')
      await pastDeadline(ctx.anvil, s.c, timeout)
      await closed
      assert.deepEqual(await balances(ctx.stack, duel).then((b) => b.map((x, i) => x - s.before[i]!)), [2n * ETH1 + BOND, BOND])
      await solvent(ctx.anvil, ctx.stack)
    } finally {
      await s.c.close()
    }
  })

  for (const [label, far] of [['2^62', 2n ** 62n], ['2^64 − 1', 2n ** 64n - 1n]] as const) {
    test(`16.3 far-future timestamps (${label}): Mallory's move is refused by her peers, as a post and as a response (TransactionTimestampInvalid); she is still timed out and the channel goes on`, { timeout: 120_000 }, async () => {
      const s = await scene(ctx, wallets, `16.3-${label}`)
      const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
      try {
        await round(ctx, s, { moves: 2 })
        const two = heldTx(s, 2n)
        const { transaction: t3 } = await s.mallory.move(two.transaction, two.state, pay(ALICE, ETH1 / 2n), { timestamp: far })
        const signature = s.mallory.sign(t3)

        // Off-chain: refused by both peers (no evidence: the chain would refuse it too); their heads stay at seq 2.
        const refusals = Promise.all([alice, bob].map((r) => r.channel.next('error', { filter: (e) => (e.error as ParleyError).code === 'TX_TIMESTAMP_SKEW' })))
        for (const to of [ALICE, BOB]) s.c.hub.route(MALLORY, to, { type: 'tx', transaction: t3, signature })
        await refusals
        for (const r of [alice, bob]) assert.equal(r.channel.state.seq, 2n)

        // On-chain: refused as a post.
        await expectRevert(s.mallory.call('postTransaction', [t3, signature]), 'TransactionTimestampInvalid')
        // Sent with a fixed gas limit (no estimate), it is mined and reverts: the revert is still named (from the node's trace).
        await expectRevert(s.mallory.call('postTransaction', [t3, signature], 'direct', { gasLimit: 1_000_000n }), 'TransactionTimestampInvalid')

        // Timeouts still work: the courts accuse Mallory; her far-future response is refused.
        const timeout = await timeOutMallory(ctx, s)
        const r = await decodeRevert(s.mallory.call('respond', [timeout, t3, signature]))
        assert.deepEqual([r.name, ...r.args.slice(0, 2)], ['TransactionTimestampInvalid', far, two.transaction.timestamp])

        // She is removed; Alice and Bob's next moves are accepted by each other and they close.
        await honestCarryOn(ctx, s, timeout.deadline)
        await assertRemovedEnding(ctx, s)
      } finally {
        await s.c.close()
      }
    })
  }
})
