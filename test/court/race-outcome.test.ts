/**
 * Two honest courts raise the same timeout in the same block (docs/protocol.md §7.11: they act on
 * the same chain facts): one is mined, the other reverts with DisputeAlreadyOpen. The loser's
 * `failed` event carries the dispute the chain holds open — the winner's, the same raise — and
 * `classifyFailure` calls it `done-by-another`, which `parley run` prints as an ordinary line
 * (cli/run/printer.ts), not an error. On anvil, with both transactions held for one block.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Wallet } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { classifyFailure, type FailedAction } from '../../src/dispute/outcome.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { DisputeKind } from '../../src/protocol/types.js'
import { ETH1, move, pay, travel } from '../helpers/courtPeers.js'
import { ALICE, BOB, MALLORY, W, round, scene, type SceneContext } from '../helpers/attackPlay.js'
import { manualMining } from '../helpers/byzantine.js'

let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let wallets: Wallet[]

before(async () => {
  anvil = await startAnvil({ accounts: 5 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  wallets = anvil.wallets.slice(1, 4)
})
after(async () => {
  await anvil.stop()
})

describe('a race lost to another honest court', () => {
  test('Alice and Bob time silent Mallory out in the same block: one timeout is mined, the other is refused with DisputeAlreadyOpen while the chain holds the same one — done by another court, not an error', { timeout: 120_000 }, async () => {
    const ctx: SceneContext = { anvil, stack, hasher }
    const s = await scene(ctx, wallets, 'race-timeout')
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    try {
      await round(ctx, s)
      s.c.hub.filter = (from, to) => from !== MALLORY && to !== MALLORY
      await move(alice.channel, pay(BOB, s.m.pay(ALICE, BOB, ETH1 / 10n)), [bob.channel])
      await move(bob.channel, pay(MALLORY, s.m.pay(BOB, MALLORY, ETH1 / 10n)), [alice.channel])
      assert.equal(alice.channel.state.nextActor, MALLORY)
      // Nobody confirmed their moves in time: the courts post them first (not under test).
      const posted = Promise.all([alice, bob].map((r) => r.court!.next('submitted', { filter: (x) => x.action.kind === 'post' })))
      await travel(anvil, s.c, 60 + 30 + 1)
      await posted

      const failed: { who: number; f: FailedAction }[] = []
      const submitted: number[] = []
      for (const [who, r] of [[ALICE, alice], [BOB, bob]] as const) {
        r.court!.on('failed', (f) => f.action.kind === 'timeout' && failed.push({ who, f }))
        r.court!.on('submitted', (x) => x.action.kind === 'timeout' && submitted.push(who))
      }
      const lost = Promise.race([alice, bob].map((r) => r.court!.next('failed', { filter: (x) => x.action.kind === 'timeout' })))
      await manualMining(anvil.provider, async ({ mine, pending }) => {
        // Past Mallory's posting deadline both courts send their timeout; both wait in the pool.
        const due = alice.channel.state.timestamp + BigInt(W) + 1n
        await travel(anvil, s.c, Number(due - BigInt(await anvil.now())))
        await pending([alice.wallet.address, bob.wallet.address])
        await mine()
      })
      await lost
      assert.equal(submitted.length, 1, `one timeout mined (${submitted.join(', ')})`)
      assert.equal(failed.length, 1, 'the other refused')
      const { who, f } = failed[0]!
      assert.notEqual(who, submitted[0])
      assert.equal((f.error as { code?: string }).code, 'DISPUTE_ALREADY_OPEN', String(f.error))
      assert.equal(f.retried, false)
      assert.ok(f.open, 'the failed event carries the dispute the chain holds open')
      assert.deepEqual([f.open.kind, f.open.disputer, f.open.removals], [DisputeKind.Timeout, submitted[0], 1n << BigInt(MALLORY)], "the winner's timeout against Mallory")
      assert.equal(classifyFailure(f), 'done-by-another')
    } finally {
      await s.c.close()
    }
  })
})
