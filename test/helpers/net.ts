/**
 * Shared helpers for networking tests: a local HyperDHT testnet bound to loopback, managers on
 * it, a capturing logger, and "Mallory" — a raw protomux peer that passes the handshake with a
 * real participant key and then sends whatever bytes a test wants.
 */
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { Wallet } from 'ethers'
import c from 'compact-encoding'
import createTestnet from '@hyperswarm/testnet'
import DHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import Protomux from 'protomux'
import type { Hex } from '../../src/protocol/types.js'
import { P2PManager, type P2PManagerOptions } from '../../src/net/P2PManager.js'
import { createHandshake } from '../../src/net/handshake.js'
import { PROTOCOL } from '../../src/net/PeerLink.js'
import { formatLogLine, type Logger } from '../../src/net/logger.js'

export type Testnet = Awaited<ReturnType<typeof createTestnet>>

/** A 3-node DHT on 127.0.0.1 (this machine needs loopback; see issue 5). */
export function startTestnet(): Promise<Testnet> {
  return createTestnet(3, { host: '127.0.0.1' })
}

/** A logger that keeps every line (tests assert on the refusal lines). */
export class CaptureLogger implements Logger {
  readonly lines: string[] = []
  info(message: string, fields?: Record<string, unknown>): void {
    this.lines.push(formatLogLine(`info ${message}`, fields))
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.lines.push(formatLogLine(`warn ${message}`, fields))
  }
  warnings(): string[] {
    return this.lines.filter((l) => l.includes(' warn '))
  }
}

/**
 * Options for a peer on the testnet: bound to loopback, and not firewalled — on this machine a
 * DHT node that thinks it may be firewalled is never reached by peers in other processes.
 */
export function local(testnet: { bootstrap: { host: string; port: number }[] }): P2PManagerOptions {
  return { bootstrap: testnet.bootstrap, host: '127.0.0.1', firewalled: false }
}

/** A P2PManager on the testnet (see {@link local}). */
export function manager(testnet: Testnet, opts: P2PManagerOptions = {}): P2PManager {
  return new P2PManager({ ...local(testnet), logger: new CaptureLogger(), ...opts })
}

/** A fresh channel: random id and `n` participant wallets. */
export function channel(n: number): { channelId: Hex; wallets: Wallet[]; participants: Hex[] } {
  const wallets = Array.from({ length: n }, () => Wallet.createRandom() as unknown as Wallet)
  return { channelId: `0x${randomBytes(32).toString('hex')}`, wallets, participants: wallets.map((w) => w.address.toLowerCase() as Hex) }
}

/**
 * Mallory: a hand-driven peer. It connects to `target` (a Noise public key), opens `parley/1`
 * with a handshake signed by `key` as participant `index`, and exposes raw sends.
 */
export async function mallory(testnet: Testnet, o: { target: Uint8Array; channelId: Hex; key: Wallet; index: number }) {
  const swarm = new Hyperswarm({ dht: new DHT({ bootstrap: testnet.bootstrap, host: '127.0.0.1', firewalled: false }) })
  const connected = once(swarm, 'connection') as Promise<[Hyperswarm.Connection]>
  swarm.joinPeer(Buffer.from(o.target))
  const [conn] = await connected
  conn.on('error', () => {})
  const mux = Protomux.from(conn)
  const closed = { value: false }
  const ch = mux.createChannel({ protocol: PROTOCOL, id: Buffer.from(o.channelId.slice(2), 'hex'), handshake: c.raw, onclose: () => void (closed.value = true) })!
  const raw = ch.addMessage({ encoding: c.raw })
  ch.open(createHandshake(o.key.signingKey, o.index, { channelId: o.channelId, signerKey: conn.publicKey, verifierKey: conn.remotePublicKey, handshakeHash: conn.handshakeHash }))
  const opened = await ch.fullyOpened()
  return {
    opened,
    closed,
    conn,
    send: (bytes: Uint8Array) => raw.send(bytes),
    whenClosed: () => ch.fullyClosed(),
    destroy: () => swarm.destroy(),
  }
}

/** What a {@link rogue} did so far. */
export interface RogueStats {
  /** Connections made. */
  attempts: number
  /** Links the target accepted (the protomux channel opened at both ends). */
  opened: number
  /** Links the target closed. */
  closed: number
}

/**
 * A rogue that holds participant `index`'s key (a leaked key, a zombie second instance) and
 * keeps trying to be that participant towards `target`: every `everyMs` it makes a new
 * connection (a fresh Noise key each time, so hyperswarm never deduplicates it) while fewer
 * than `live` of its connections are up, opens `parley/1` with a valid handshake for the key,
 * and then stays silent — it sends nothing and answers no link probe.
 */
export async function rogue(testnet: Testnet, o: { target: Uint8Array; channelId: Hex; key: Wallet; index: number; everyMs?: number; live?: number }) {
  const dht = new DHT({ bootstrap: testnet.bootstrap, host: '127.0.0.1', firewalled: false })
  await dht.ready()
  type Conn = Hyperswarm.Connection & { opened: Promise<boolean> }
  const connect = (dht as unknown as { connect(key: Buffer, o: { keyPair: DHT.KeyPair }): Conn }).connect.bind(dht)
  const stats: RogueStats = { attempts: 0, opened: 0, closed: 0 }
  const conns = new Set<Conn>()
  const attempt = () => {
    if (conns.size >= (o.live ?? 1)) return
    stats.attempts++
    const conn = connect(Buffer.from(o.target), { keyPair: DHT.keyPair() })
    conns.add(conn)
    conn.on('error', () => {})
    conn.on('close', () => conns.delete(conn))
    conn.opened.then((ok: boolean) => {
      if (!ok) return
      const mux = Protomux.from(conn)
      const ch = mux.createChannel({ protocol: PROTOCOL, id: Buffer.from(o.channelId.slice(2), 'hex'), handshake: c.raw, onopen: () => void stats.opened++, onclose: () => void stats.closed++ })
      ch?.addMessage({ encoding: c.raw })
      ch?.open(createHandshake(o.key.signingKey, o.index, { channelId: o.channelId, signerKey: conn.publicKey, verifierKey: conn.remotePublicKey, handshakeHash: conn.handshakeHash }))
    })
  }
  const timer = setInterval(attempt, o.everyMs ?? 300)
  attempt()
  return {
    stats,
    async stop() {
      clearInterval(timer)
      for (const conn of conns) conn.destroy()
      await dht.destroy()
    },
  }
}
