/**
 * The Channel on the in-memory hub (real machine bytecode from anvil, manual clocks): what a peer
 * does when its listener and the network disagree for a moment about a dispute. A move that
 * reaches a peer while it still sees the fork disputed is not confirmed then; once that dispute
 * is cancelled, the peer confirms it (if still in time) and the move becomes final everywhere —
 * the crash matrix's stuck timeout runs (docs/crash-matrix.md).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder } from 'ethers'
import { startAnvil, type Anvil } from '../chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../chain/stack.js'
import type { Hex } from '../protocol/types.js'
import { openPeers, play, settle, type Peers } from '../../test/helpers/peers.js'

const pay = (to: number, amount: bigint) => AbiCoder.defaultAbiCoder().encode(['uint16', 'uint256'], [to, amount]) as Hex
let anvil: Anvil
let stack: LocalStack

before(async () => {
  anvil = await startAnvil({ accounts: 4 })
  stack = await deployLocalStack(anvil.wallets[0]!)
})
after(() => anvil.stop())

describe('Channel: a dispute seen late', () => {
  let peers: Peers
  before(async () => {
    peers = await openPeers({ anvil, stack, hasher: await stack.manager.hasher(), machine: 'payments', wallets: anvil.wallets.slice(1, 4) })
    await play(peers.channels, 3, (who) => pay((who + 1) % 3, 10n ** 16n)) // seq 1..3 by #0, #1, #2: #0 moves next
  })
  after(async () => {
    for (const c of peers?.channels ?? []) await c.dispose().catch(() => {})
  })

  test('a move received while the fork looked disputed is confirmed once the dispute is cancelled, and becomes final', async () => {
    const [a, b, c] = peers.channels as [typeof peers.channels[0], typeof peers.channels[0], typeof peers.channels[0]]
    await c.applyDispute({ fork: 0n }) // #2's listener saw a dispute; the others' did not (or saw it end)
    assert.equal(c.state.phase, 'disputed')
    await a.propose(pay(1, 10n ** 16n))
    await settle(peers.hub, peers.channels)
    assert.deepEqual(peers.channels.map((x) => x.state.seq), [4n, 4n, 4n], 'the move reached everyone')
    assert.deepEqual(peers.channels.map((x) => x.state.finalSeq), [3n, 3n, 3n], '#2 did not confirm it on a disputed fork')
    assert.equal(peers.stores[2]!.getOwnSignature(peers.channelId, 'tx', 0n, 4n), undefined)

    await c.applyDisputeCancelled({ fork: 0n })
    await settle(peers.hub, peers.channels)
    assert.equal(c.state.phase, 'open')
    assert.ok(peers.stores[2]!.getOwnSignature(peers.channelId, 'tx', 0n, 4n), '#2 confirmed it after the cancellation')
    assert.deepEqual(peers.channels.map((x) => x.state.finalSeq), [4n, 4n, 4n], 'final everywhere')
  })
})
