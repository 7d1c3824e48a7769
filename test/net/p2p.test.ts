/**
 * P2PManager over a real local HyperDHT (testnet on 127.0.0.1): discovery, one connection per
 * peer with one protomux channel per shared Parley channel, the identity handshake, and the
 * bounds that close a misbehaving peer's channel without crashing the process.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { randomBytes } from 'node:crypto'
import type { Message, TxMessage } from '../../src/transport/messages.js'
import type { NetChannel } from '../../src/net/NetChannel.js'
import type { P2PManager } from '../../src/net/P2PManager.js'
import { encodeMessage } from '../../src/net/wire.js'
import { CaptureLogger, channel, mallory, manager, startTestnet, type Testnet } from '../helpers/net.js'

let testnet: Testnet
const managers: P2PManager[] = []
const closers: (() => Promise<void>)[] = []

before(async () => {
  testnet = await startTestnet()
})
after(async () => {
  await Promise.allSettled([...managers.map((m) => m.close()), ...closers.map((f) => f())])
  await testnet.destroy()
})

function start(opts: Parameters<typeof manager>[1] = {}): P2PManager {
  const m = manager(testnet, opts)
  managers.push(m)
  return m
}

function next(net: NetChannel): Promise<[number, Message]> {
  return once(net, 'message') as Promise<[number, Message]>
}

const sig = `0x${'11'.repeat(64)}1b` as const
const tx = (channelId: `0x${string}`): TxMessage => ({
  type: 'tx', signature: sig,
  transaction: { channelId, fork: 0n, seq: 1n, timestamp: 1_700_000_000n, actor: 0, previousStateHash: `0x${'aa'.repeat(32)}`, data: '0x0102', stateHash: `0x${'bb'.repeat(32)}` },
})

describe('P2PManager on a local HyperDHT', () => {
  it('rejects bad configuration and joins with typed UsageErrors', async () => {
    const { channelId, wallets, participants } = channel(2)
    const codeOf = (fn: () => unknown) => {
      try {
        fn()
      } catch (e) {
        return (e as { code?: string }).code
      }
    }
    assert.equal(codeOf(() => start({ maxMessageSize: 0 })), 'NET_CONFIG_INVALID')
    assert.equal(codeOf(() => start({ seed: '0x1234' })), 'NET_CONFIG_INVALID')
    assert.equal(codeOf(() => start({ rateLimit: { messagesPerSecond: -1 } })), 'NET_CONFIG_INVALID')
    const m = start()
    assert.equal(codeOf(() => m.publicKey), 'NET_NOT_READY')
    const join = (o: Partial<Parameters<P2PManager['join']>[0]>) => m.join({ channelId, participants, me: 0, signer: wallets[0]!.signingKey, ...o }).then(() => 'JOINED', (e) => e.code)
    assert.equal(await join({ signer: wallets[1]!.signingKey }), 'NET_CONFIG_INVALID', 'the signer must be participants[me]')
    assert.equal(await join({ me: 2 }), 'NET_CONFIG_INVALID')
    assert.equal(await join({ channelId: '0x12' }), 'NET_CONFIG_INVALID')
    assert.equal(await join({ participants: participants.slice(0, 1) }), 'NET_CONFIG_INVALID')
    assert.equal(await join({}), 'JOINED')
    assert.equal(await join({}), 'NET_ALREADY_JOINED')
    await m.close()
    assert.equal(await join({}), 'NET_CLOSED')
  })

  it('two peers discover each other and exchange every message type', async () => {
    const { channelId, wallets, participants } = channel(2)
    const [a, b] = [start(), start()]
    const [na, nb] = await Promise.all([0, 1].map((i) => [a, b][i]!.join({ channelId, participants, me: i, signer: wallets[i]!.signingKey })))
    await Promise.all([na!.waitForPeers(), nb!.waitForPeers()])
    assert.deepEqual(na!.connected(), [1])
    const messages: Message[] = [
      tx(channelId),
      { type: 'confirm', fork: 0n, seq: 1n, digest: `0x${'cc'.repeat(32)}`, signer: 1, signature: sig },
      { type: 'sync-request', fork: 0n, fromSeq: 1n },
      { type: 'sync-response', fork: 0n, entries: [{ transaction: tx(channelId).transaction, signatures: [[0, sig], [1, sig]] }] },
      { type: 'close', fork: 0n, seq: 1n, stateHash: `0x${'dd'.repeat(32)}`, payouts: [5n, 0n, 2n ** 256n - 1n], signer: 0, signature: sig },
      { type: 'ping', nonce: 42 },
      { type: 'pong', nonce: 42 },
    ]
    for (const m of messages) {
      const got = next(nb!)
      assert.equal(na!.send(1, m), true)
      assert.deepEqual(await got, [0, m])
    }
    const back = next(na!)
    nb!.broadcast({ type: 'ping', nonce: 7 })
    assert.deepEqual(await back, [1, { type: 'ping', nonce: 7 }])
  })

  it('three peers share two channels over one connection per peer', async () => {
    const one = channel(3)
    const two = { ...channel(3), wallets: one.wallets, participants: one.participants }
    const ms = [start(), start(), start()]
    const nets = await Promise.all(ms.flatMap((m, i) => [one, two].map((c) => m.join({ channelId: c.channelId, participants: c.participants, me: i, signer: c.wallets[i]!.signingKey }))))
    await Promise.all(nets.map((n) => n.waitForPeers()))
    for (const m of ms) assert.equal(m.connections.size, 2, 'one connection to each other peer')
    // every channel delivers independently, tagged with the sender's verified index
    const [a1, a2, , , c1, c2] = nets
    const onC1 = next(c1!), onC2 = next(c2!)
    a1!.broadcast({ type: 'ping', nonce: 1 })
    a2!.broadcast({ type: 'pong', nonce: 2 })
    assert.deepEqual(await onC1, [0, { type: 'ping', nonce: 1 }])
    assert.deepEqual(await onC2, [0, { type: 'pong', nonce: 2 }])
    const gone = once(c2!, 'peer-close')
    await a2!.close()
    assert.deepEqual(await gone, [0, undefined])
    assert.deepEqual(c2!.connected(), [1])
    assert.deepEqual(c1!.connected(), [0, 1], 'closing one channel leaves the other on the shared connection')
  })

  it('refuses impostors and non-participants with a log line, and keeps serving participants', async () => {
    const { channelId, wallets, participants } = channel(3)
    const log = new CaptureLogger()
    const honest = start({ logger: log })
    const net = await honest.join({ channelId, participants, me: 0, signer: wallets[0]!.signingKey })
    // participant 2 claims to be participant 1
    let refused = once(net, 'refused') as Promise<[{ error: { code: string } }]>
    const liar = await mallory(testnet, { target: honest.publicKey, channelId, key: wallets[2]!, index: 1 })
    closers.push(liar.destroy)
    assert.equal((await refused)[0].error.code, 'HANDSHAKE_INVALID')
    await liar.whenClosed() // the honest peer closed the channel it had opened towards it
    // a stranger with a key outside the channel
    refused = once(net, 'refused') as Promise<[{ error: { code: string } }]>
    const stranger = await mallory(testnet, { target: honest.publicKey, channelId, key: channel(1).wallets[0]!, index: 1 })
    closers.push(stranger.destroy)
    assert.equal((await refused)[0].error.code, 'PEER_NOT_PARTICIPANT')
    await stranger.whenClosed()
    assert.deepEqual(net.connected(), [])
    const lines = log.warnings().filter((l) => l.includes('refused peer'))
    assert.equal(lines.length, 2)
    assert.match(lines[0]!, /code=HANDSHAKE_INVALID/)
    assert.match(lines[1]!, /code=PEER_NOT_PARTICIPANT/)
    // the real participant 1 still gets in
    const real = start()
    const n1 = await real.join({ channelId, participants, me: 1, signer: wallets[1]!.signingKey })
    await Promise.all([net.waitForPeers([1]), n1.waitForPeers([0])])
  })

  for (const [name, bytes, code] of [
    ['oversized', (id: `0x${string}`) => Buffer.concat([encodeMessage(tx(id)), Buffer.alloc(70 * 1024)]), 'MESSAGE_TOO_LARGE'],
    ['truncated', (id: `0x${string}`) => encodeMessage(tx(id)).subarray(0, 50), 'MESSAGE_MALFORMED'],
    ['random', () => Buffer.concat([Buffer.from([2]), randomBytes(300)]), 'MESSAGE_MALFORMED'],
    ['unknown tag', () => Buffer.from([200, 1, 2, 3]), 'MESSAGE_MALFORMED'],
  ] as const) {
    it(`closes a participant's channel on ${name} bytes, without a crash, and serves the others`, async () => {
      const { channelId, wallets, participants } = channel(3)
      const log = new CaptureLogger()
      const honest = start({ logger: log, maxMessageSize: 64 * 1024 })
      const other = start()
      const net = await honest.join({ channelId, participants, me: 0, signer: wallets[0]!.signingKey })
      const n2 = await other.join({ channelId, participants, me: 2, signer: wallets[2]!.signingKey })
      const m = await mallory(testnet, { target: honest.publicKey, channelId, key: wallets[1]!, index: 1 })
      closers.push(m.destroy)
      assert.equal(m.opened, true)
      await net.waitForPeers([1, 2])
      const closed = once(net, 'peer-close') as Promise<[number, { code: string } | undefined]>
      m.send(bytes(channelId))
      const [index, error] = await closed
      assert.equal(index, 1)
      assert.equal(error?.code, code)
      await m.whenClosed()
      assert.ok(log.warnings().some((l) => l.includes('protocol violation') && l.includes(`code=${code}`)), log.warnings().join('\n'))
      // still alive and serving participant 2
      const got = next(n2)
      net.send(2, { type: 'ping', nonce: 9 })
      assert.deepEqual(await got, [0, { type: 'ping', nonce: 9 }])
    })
  }

  it('closes a participant that exceeds its rate', async () => {
    const { channelId, wallets, participants } = channel(2)
    const honest = start({ rateLimit: { messagesPerSecond: 50, burstSeconds: 1 } })
    const net = await honest.join({ channelId, participants, me: 0, signer: wallets[0]!.signingKey })
    const m = await mallory(testnet, { target: honest.publicKey, channelId, key: wallets[1]!, index: 1 })
    closers.push(m.destroy)
    await net.waitForPeers([1])
    let delivered = 0
    net.on('message', () => delivered++)
    const closed = once(net, 'peer-close') as Promise<[number, { code: string } | undefined]>
    const ping = encodeMessage({ type: 'ping', nonce: 1 })
    for (let i = 0; i < 200; i++) m.send(ping)
    const [, error] = await closed
    assert.equal(error?.code, 'RATE_LIMITED')
    assert.ok(delivered >= 50 && delivered < 200, `delivered ${delivered}`)
  })
})
