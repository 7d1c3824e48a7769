/**
 * The issue-4 Channel facade, unchanged, on HyperswarmTransport over a local HyperDHT, with the
 * Counter machine's deployed bytecode run in the local EVM and SQLite stores: play to finality,
 * survive a dropped connection mid-channel, and restart a peer from its store — catch-up
 * completes and the channel finalizes.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import type { Channel } from '../../src/channel/Channel.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { play } from '../helpers/peers.js'
import { startTestnet, type Testnet } from '../helpers/net.js'
import { inc, openNetPeers, stop, type NetPeers } from '../helpers/netpeers.js'

let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let testnet: Testnet
let dir: string
const opened: NetPeers[] = []

before(async () => {
  ;[anvil, testnet] = await Promise.all([startAnvil({ accounts: 5 }), startTestnet()])
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  dir = mkdtempSync(join(tmpdir(), 'parley-net-'))
})
after(async () => {
  await Promise.allSettled(opened.map((p) => p.close()))
  await testnet.destroy()
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Resolves once `channel` has a state at height `seq` or later. */
function reach(channel: Channel, seq: bigint): Promise<void> {
  return new Promise((resolve) => {
    const off = channel.on('state', (s) => {
      if (s.seq >= seq) (off(), resolve())
    })
    if (channel.state.seq >= seq) (off(), resolve())
  })
}

async function open(n: number, label: string): Promise<NetPeers> {
  const p = await openNetPeers({ anvil, stack, hasher, testnet, wallets: anvil.wallets.slice(1, 1 + n), label: `${label}-${Date.now()}`, sqliteDir: dir })
  opened.push(p)
  return p
}

describe('Channel over hyperswarm', () => {
  it('three peers play a Counter channel to finality', async () => {
    const p = await open(3, 'play')
    const channels = p.peers.map((x) => x.channel)
    await play(channels, 6, () => inc())
    for (const c of channels) assert.equal(c.state.finalSeq, 6n)
    assert.equal(new Set(channels.map((c) => c.state.finalStateHash)).size, 1)
  })

  it('a connection dropped mid-channel: the backlog replays, the channel finalizes', async () => {
    const p = await open(3, 'drop')
    const channels = p.peers.map((x) => x.channel)
    await play(channels, 3, () => inc())
    const victim = p.peers[1]!
    const back = Promise.all([once(victim.transport.net, 'peer-open'), once(victim.transport.net, 'peer-open')])
    for (const conn of victim.p2p.connections) conn.destroy() // both of its links go down
    await play(channels, 4, () => inc()) // moves go on while it reconnects
    await back
    assert.ok(victim.transport.stats.reconnects >= 1)
    for (const c of channels) assert.equal(c.state.finalSeq, 7n)
    assert.equal(new Set(channels.map((c) => c.state.finalStateHash)).size, 1)
  })

  it('a peer restarted from its SQLite store catches up and the channel finalizes', async () => {
    const p = await open(3, 'restart')
    await play(p.peers.map((x) => x.channel), 4, () => inc()) // seq 1..4 final; next actor: 1
    const before = p.peers[2]!.channel.state
    await stop(p.peers[2]!)
    // while participant 2 is down, participant 1 moves (seq 5): it cannot become final
    await p.peers[1]!.channel.propose(inc(5))
    assert.equal(p.peers[0]!.channel.state.seq >= 4n, true)
    const restored = await p.restore(2)
    const resumed = restored.channel.state
    assert.deepEqual([resumed.seq, resumed.finalSeq, resumed.stateHash], [before.seq, before.finalSeq, before.stateHash])
    // catch-up: seq 5 arrives (sync response or replayed backlog), and it is its turn
    await reach(restored.channel, 5n)
    assert.equal(restored.channel.state.isMyTurn, true)
    const channels = p.peers.map((x) => x.channel)
    await play(channels, 4, () => inc())
    for (const c of channels) assert.equal(c.state.finalSeq, 9n)
    assert.equal(new Set(channels.map((c) => c.state.finalStateHash)).size, 1)
  })
})
