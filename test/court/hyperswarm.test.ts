/**
 * The court client over the real network: Alice, Bob and Mallory on HyperswarmTransport over a
 * local HyperDHT testnet (loopback), each with its own P2PManager. Mallory goes offline on her
 * turn; Alice's and Bob's courts accuse her on-chain by themselves, resolve the timeout, and
 * the two play on on the new fork to a cooperative close, with exact balances.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { ChannelPhase } from '../../src/channel/phase.js'
import { HyperswarmTransport } from '../../src/net/HyperswarmTransport.js'
import type { P2PManager } from '../../src/net/P2PManager.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { DisputeKind } from '../../src/protocol/types.js'
import { BOND, ETH1, balances, move, openCourtChannel, pay, solvent, travel, pastDeadline } from '../helpers/courtPeers.js'
import { manager, startTestnet, type Testnet } from '../helpers/net.js'
import { seedOf } from '../helpers/netpeers.js'

const [ALICE, BOB, MALLORY] = [0, 1, 2]
let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let testnet: Testnet
const p2ps: P2PManager[] = []

before(async () => {
  ;[anvil, testnet] = await Promise.all([startAnvil({ accounts: 4 }), startTestnet()])
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
})
after(async () => {
  await Promise.allSettled(p2ps.map((p) => p.close()))
  await testnet.destroy()
  await anvil.stop()
})

describe('the court over hyperswarm', () => {
  test('Mallory drops off the network on her turn: removed by the chain, Alice and Bob continue and close', { timeout: 120_000 }, async () => {
    const wallets = anvil.wallets.slice(1, 4)
    const before = await balances(stack, wallets)
    const label = `court-net-${Date.now()}`
    const c = await openCourtChannel({
      anvil, stack, hasher, wallets, label, honest: [ALICE, BOB], pollMs: 50,
      transport: async (i, { channelId, participants }) => {
        const p2p = manager(testnet, { seed: seedOf(label, i) })
        p2ps[i] = p2p
        return HyperswarmTransport.join(p2p, { channelId, participants, me: i, signer: wallets[i]!.signingKey })
      },
    })
    const [alice, bob] = [c.roles[ALICE]!, c.roles[BOB]!]
    try {
      const bal = [ETH1, 2n * ETH1, 3n * ETH1]
      const pays = (from: number, to: number, amount: bigint) => ((bal[from]! -= amount), (bal[to]! += amount), pay(to, amount))
      const all = c.roles.map((r) => r.channel)
      for (const who of [ALICE, BOB, MALLORY]) await move(all[who]!, pays(who, (who + 1) % 3, ETH1 / 10n), all)
      await move(alice.channel, pays(ALICE, BOB, ETH1 / 5n), all)
      const head = await move(bob.channel, pays(BOB, ALICE, ETH1 / 4n), all)
      const atRemoval = [...bal]

      await c.roles[MALLORY]!.channel.dispose()
      await p2ps[MALLORY]!.close() // gone from the network

      const raised = alice.court!.next('dispute')
      await travel(anvil, c, 60 + 30 + 120 + 1)
      const { record } = await raised
      assert.deepEqual([record.kind, record.seq, record.removals], [DisputeKind.Timeout, head, 1n << BigInt(MALLORY)])
      const forked = Promise.all([alice.channel.next('fork'), bob.channel.next('fork')])
      await pastDeadline(anvil, c, record)
      await forked
      for (const ch of [alice.channel, bob.channel]) assert.deepEqual([ch.phase, ch.state.active], [ChannelPhase.Open, 0b011n])

      const first = alice.channel.state.isMyTurn ? alice.channel : bob.channel
      const second = first === alice.channel ? bob.channel : alice.channel
      await move(first, pays(first.me, second.me, ETH1 / 50n), [second])
      const last = await move(second, pays(second.me, first.me, ETH1 / 40n), [first])
      await Promise.all([alice.channel.waitFinal(last), bob.channel.waitFinal(last)])
      const closed = alice.court!.next('closed')
      await alice.channel.close()
      await closed

      const now = await balances(stack, wallets)
      assert.deepEqual(now.map((b, i) => b - before[i]!), [bal[ALICE]! + BOND, bal[BOB]! + BOND, atRemoval[MALLORY]! + BOND])
      await solvent(anvil, stack)
    } finally {
      await c.close()
    }
  })
})
