/**
 * HyperswarmTransport (the issue-4 Transport on P2PManager) over a local HyperDHT: the
 * Transport contract, delivery of what was sent before a peer connected, and in-order delivery
 * across a dropped connection (replayed backlog) with the reconnect reported.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { ParleyError } from '../../src/errors/ParleyError.js'
import { HyperswarmTransport } from '../../src/net/HyperswarmTransport.js'
import type { P2PManager } from '../../src/net/P2PManager.js'
import type { Message } from '../../src/transport/messages.js'
import { channel, manager, startTestnet, type Testnet } from '../helpers/net.js'

let testnet: Testnet
const managers: P2PManager[] = []

before(async () => {
  testnet = await startTestnet()
})
after(async () => {
  await Promise.allSettled(managers.map((m) => m.close()))
  await testnet.destroy()
})

function start(opts: Parameters<typeof manager>[1] = {}): P2PManager {
  const m = manager(testnet, opts)
  managers.push(m)
  return m
}

/** Collects what a transport receives; `until(n)` resolves after n messages. */
function inbox(t: HyperswarmTransport) {
  const got: [number, Message][] = []
  let waiter: { n: number; resolve: () => void } | undefined
  t.onMessage((from, m) => {
    got.push([from, m])
    if (waiter && got.length >= waiter.n) waiter.resolve()
  })
  return {
    got,
    until: (n: number) => (got.length >= n ? Promise.resolve() : new Promise<void>((resolve) => (waiter = { n, resolve }))),
  }
}

const confirm = (seq: number): Message => ({ type: 'confirm', fork: 0n, seq: BigInt(seq), digest: `0x${'ab'.repeat(32)}`, signer: 0, signature: `0x${'cd'.repeat(64)}1b` })

function code(e: unknown): string {
  assert.ok(e instanceof ParleyError, String(e))
  return e.code
}

describe('HyperswarmTransport', () => {
  it('keeps the Transport contract: me, typed errors for bad targets, oversize and after close', async () => {
    const { channelId, wallets, participants } = channel(2)
    const t = await HyperswarmTransport.join(start({ maxMessageSize: 1024 }), { channelId, participants, me: 0, signer: wallets[0]!.signingKey })
    assert.equal(t.me, 0)
    assert.equal(await t.send(0, confirm(1)).catch(code), 'TRANSPORT_SELF')
    assert.equal(await t.send(2, confirm(1)).catch(code), 'TRANSPORT_INDEX_INVALID')
    const tx = { channelId, fork: 0n, seq: 1n, timestamp: 0n, actor: 0, previousStateHash: channelId, data: `0x${'00'.repeat(1000)}` as const, stateHash: channelId }
    assert.equal(await t.send(1, { type: 'tx', transaction: tx, signature: `0x${'cd'.repeat(64)}1b` }).catch(code), 'MESSAGE_TOO_LARGE')
    assert.equal(await t.send(1, { type: 'ping', nonce: -1 }).catch(code), 'MESSAGE_INVALID')
    await t.close()
    await t.close()
    assert.equal(await t.send(1, confirm(1)).catch(code), 'TRANSPORT_CLOSED')
    assert.equal(await t.broadcast(confirm(1)).catch(code), 'TRANSPORT_CLOSED')
    // closing the P2PManager closes its transports too
    const m = start()
    const u = await HyperswarmTransport.join(m, { channelId, participants, me: 1, signer: wallets[1]!.signingKey })
    await m.close()
    assert.equal(await u.send(0, confirm(1)).catch(code), 'TRANSPORT_CLOSED')
  })

  it('splits a sync response above maxMessageSize into consecutive responses that fit', async () => {
    const { channelId, wallets, participants } = channel(2)
    const [a, b] = await Promise.all([0, 1].map((i) => HyperswarmTransport.join(start({ maxMessageSize: 1024 }), { channelId, participants, me: i, signer: wallets[i]!.signingKey })))
    const ib = inbox(b!)
    const entries = Array.from({ length: 20 }, (_, k) => ({
      transaction: { channelId, fork: 0n, seq: BigInt(k + 1), timestamp: 0n, actor: 0, previousStateHash: channelId, data: '0x' as const, stateHash: channelId },
      signatures: [] as [number, `0x${string}`][],
    }))
    await a!.send(1, { type: 'sync-response', fork: 0n, entries })
    await ib.until(1)
    const marker = new Promise<void>((resolve) => b!.onMessage((_, m) => m.type === 'ping' && resolve()))
    await a!.send(1, { type: 'ping', nonce: 1 }) // everything sent before it has arrived once it has
    await marker
    const parts = ib.got.filter(([, m]) => m.type === 'sync-response').map(([, m]) => (m as { entries: { transaction: { seq: bigint } }[] }).entries)
    assert.ok(parts.length > 1, 'split')
    assert.deepEqual(parts.flat().map((e) => e.transaction.seq), entries.map((e) => e.transaction.seq), 'every entry, in order')
  })

  it('delivers what was sent before the peer connected, in order, once per one-shot message', async () => {
    const { channelId, wallets, participants } = channel(3)
    const a = await HyperswarmTransport.join(start(), { channelId, participants, me: 0, signer: wallets[0]!.signingKey })
    // nobody is connected yet: a restarted Channel's re-announcement looks like this
    await a.broadcast({ type: 'sync-request', fork: 0n, fromSeq: 3n })
    await a.broadcast(confirm(3))
    await a.send(2, confirm(4))
    const b = await HyperswarmTransport.join(start(), { channelId, participants, me: 1, signer: wallets[1]!.signingKey })
    const c = await HyperswarmTransport.join(start(), { channelId, participants, me: 2, signer: wallets[2]!.signingKey })
    const [ib, ic] = [inbox(b), inbox(c)]
    await Promise.all([ib.until(2), ic.until(3)])
    assert.deepEqual(ib.got.map(([f, m]) => [f, m.type]), [[0, 'sync-request'], [0, 'confirm']])
    assert.deepEqual(ic.got.map(([f, m]) => [f, m.type, (m as { seq?: bigint }).seq]), [[0, 'sync-request', undefined], [0, 'confirm', 3n], [0, 'confirm', 4n]])
    await Promise.all([a.waitForPeers(), b.waitForPeers(), c.waitForPeers()])
    // b and c talk directly too
    const before = ic.got.length
    await b.send(2, { type: 'ping', nonce: 5 })
    await ic.until(before + 1)
    assert.deepEqual(ic.got.at(-1), [1, { type: 'ping', nonce: 5 }])
  })

  it('a dropped connection: messages sent meanwhile arrive after the reconnect, in order, and the reconnect is reported', async () => {
    const { channelId, wallets, participants } = channel(2)
    const [pa, pb] = [start(), start()]
    const a = await HyperswarmTransport.join(pa, { channelId, participants, me: 0, signer: wallets[0]!.signingKey })
    const b = await HyperswarmTransport.join(pb, { channelId, participants, me: 1, signer: wallets[1]!.signingKey })
    await Promise.all([a.waitForPeers(), b.waitForPeers()])
    const ib = inbox(b)
    const events: string[] = []
    a.onPeer((i, up) => events.push(`${i}:${up ? 'up' : 'down'}`))
    await a.send(1, confirm(1))
    await ib.until(1)
    const down = once(a.net, 'peer-close')
    const up = once(a.net, 'peer-open')
    for (const conn of pa.connections) conn.destroy()
    await down
    for (let s = 2; s <= 6; s++) await a.send(1, confirm(s)) // nobody to send to: kept
    await up
    // the whole backlog is replayed on the new link: duplicates of seq 1 are harmless, order holds
    await ib.until(7)
    const seqs = ib.got.map(([, m]) => Number((m as { seq: bigint }).seq))
    assert.deepEqual(seqs.slice(-5), [2, 3, 4, 5, 6])
    assert.deepEqual([...new Set(seqs)].sort(), [1, 2, 3, 4, 5, 6], 'nothing lost')
    assert.equal(a.stats.reconnects, 1)
    assert.deepEqual(events, ['1:down', '1:up'])
    assert.ok(a.stats.replayed >= 6)
  })
})
