/**
 * One link per participant, replaced only when it is dead (docs/net.md §3): a rogue holding
 * Carol's key (a leaked key, a zombie second instance) keeps connecting to Alice as Carol and
 * then stays silent — no message, no answer to a link probe. While Carol's link answers, every
 * rogue link is refused and the channel finalizes as if nothing happened; when Carol's link
 * dies (its connection killed, her process hung, her restart from the store), the next link
 * takes over — the rogue's, if it comes first, until Carol's next connection finds it silent.
 * Alice, Bob and Carol play a Counter channel (bytecode in the local EVM, SQLite stores) over
 * hyperswarm on a local HyperDHT testnet.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import type { NetChannel } from '../../src/net/NetChannel.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { play } from '../helpers/peers.js'
import { CaptureLogger, rogue, startTestnet, type Testnet } from '../helpers/net.js'
import { inc, openNetPeers, stop, type NetPeers } from '../helpers/netpeers.js'

const [ALICE, CAROL] = [0, 2]
const PROBE_MS = 1_000
let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let testnet: Testnet
let dir: string
const opened: NetPeers[] = []
const stops: (() => Promise<void>)[] = []

before(async () => {
  ;[anvil, testnet] = await Promise.all([startAnvil({ accounts: 4 }), startTestnet()])
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  dir = mkdtempSync(join(tmpdir(), 'parley-links-'))
})
after(async () => {
  await Promise.allSettled([...stops.map((f) => f()), ...opened.map((p) => p.close())])
  await testnet.destroy()
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

async function open(label: string): Promise<NetPeers> {
  const p = await openNetPeers({ anvil, stack, hasher, testnet, wallets: anvil.wallets.slice(1, 4), label: `${label}-${Date.now()}`, sqliteDir: dir, p2p: { probeTimeoutMs: PROBE_MS } })
  opened.push(p)
  return p
}

/** Fails with `what` unless `p` settles within `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer!: NodeJS.Timeout
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms)))
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

/** Resolves once `check()` holds (polled), fails with `what` after `ms`. */
function until(check: () => boolean, ms: number, what: string): Promise<void> {
  let poll!: NodeJS.Timeout
  const held = new Promise<void>((resolve) => (poll = setInterval(() => check() && resolve(), 25)))
  return within(held, ms, what).finally(() => clearInterval(poll))
}

/** `n` more moves, final everywhere (on one state) within 20 s. */
async function moves(p: NetPeers, n: number): Promise<void> {
  const channels = p.peers.map((x) => x.channel)
  await within(play(channels, n, () => inc()), 20_000, `${n} more moves final everywhere`)
  assert.equal(new Set(channels.map((c) => c.state.finalStateHash)).size, 1)
}

/** Participant `index`'s links that `net` refused as duplicates, counted from now on. */
function duplicates(net: NetChannel, index: number): { count: number } {
  const seen = { count: 0 }
  net.on('refused', ({ error }) => {
    if (error.code === 'PEER_DUPLICATE' && error.details?.index === index) seen.count++
  })
  return seen
}

describe('one link per participant', () => {
  it('a rogue with Carol\'s key cannot take her live link: refused every time, the channel goes on', async () => {
    const p = await open('hijack')
    await moves(p, 3)
    const alice = p.peers[ALICE]!
    const refused = duplicates(alice.transport.net, CAROL)
    const r = await rogue(testnet, { target: alice.p2p.publicKey, channelId: p.channelId, key: anvil.wallets[1 + CAROL]!, index: CAROL, everyMs: 200 })
    stops.push(r.stop)
    await until(() => r.stats.opened >= 1, 20_000, 'a rogue link opened at Alice')
    await moves(p, 3)
    await until(() => r.stats.opened >= 4, 20_000, 'three more rogue links')
    await moves(p, 3)
    assert.ok(refused.count >= 3, `${refused.count} rogue links refused as duplicates`)
    assert.equal(alice.transport.stats.reconnects, 0, 'Alice\'s link to Carol was never replaced')
    const lines = (alice.p2p.log as CaptureLogger).warnings().filter((l) => l.includes('duplicate link'))
    assert.ok(lines.length >= 3 && lines.every((l) => /index=2 .*code=PEER_DUPLICATE/.test(l)), lines.join('\n'))
    await r.stop()
  })

  it('when Carol\'s link dies the next link takes over; a silent one (the rogue) loses it to Carol\'s next', async () => {
    const p = await open('dead')
    await moves(p, 3)
    const aliceKey = p.peers[ALICE]!.p2p.publicKey
    const alice = () => p.peers[ALICE]!.transport.net
    const refused = duplicates(alice(), CAROL)
    const r = await rogue(testnet, { target: aliceKey, channelId: p.channelId, key: anvil.wallets[1 + CAROL]!, index: CAROL, everyMs: 200 })
    stops.push(r.stop)
    await until(() => r.stats.opened >= 1, 20_000, 'a rogue link opened at Alice')
    await moves(p, 3)
    await until(() => refused.count >= 1, 10_000, 'the rogue link refused while Carol answers')

    // 1) Carol's connection to Alice is killed: Carol reconnects (if the rogue got in first, it is found silent)
    const conn = [...p.peers[CAROL]!.p2p.connections].find((x) => x.remotePublicKey.equals(aliceKey))!
    conn.destroy()
    await moves(p, 3)

    // 2) Carol's process hangs: it reads nothing more, so her link stops answering; the rogue's next link replaces it
    const taken = new Promise<void>((resolve) => alice().on('peer-open', (i) => i === CAROL && resolve()))
    for (const x of p.peers[CAROL]!.p2p.connections) x.pause()
    await within(taken, 10_000, 'a new link for Carol at Alice after hers stopped answering')
    const log = p.peers[ALICE]!.p2p.log as CaptureLogger
    assert.ok(log.warnings().some((l) => l.includes('replaced a dead peer link') && l.includes('index=2')), log.warnings().join('\n'))

    // 3) Carol restarts from her store: her new link finds the rogue's silent and replaces it; the channel moves again
    await stop(p.peers[CAROL]!)
    await p.restore(CAROL)
    const before = refused.count
    await moves(p, 6)
    await until(() => refused.count > before, 10_000, 'the rogue refused again once Carol is back')
    assert.equal(alice().isConnected(CAROL), true)
    await r.stop()
  })
})
