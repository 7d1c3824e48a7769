/**
 * P2PManager [net]: peers find each other through the HyperDHT with no server of any kind and
 * talk over direct, Noise-encrypted hyperswarm connections.
 *
 * - One hyperswarm (one Noise key pair, optionally derived from a seed) per manager.
 * - Each joined Parley channel announces and looks up its topic ({@link channelTopic}).
 * - One connection per remote peer, however many channels it shares with us; every shared
 *   channel is a protomux channel on it ({@link PeerLink}), opened with the identity
 *   handshake ({@link verifyHandshake}).
 * - Bounds per peer: message size, message and byte rate; faults close that peer's channel.
 * - One link per participant: a second one replaces it only if it is dead (a link probe
 *   unanswered within `probeTimeoutMs`); see {@link NetChannel}.
 *
 * @example
 * const p2p = new P2PManager({ seed, bootstrap: testnet.bootstrap, host: '127.0.0.1' })
 * await p2p.ready()
 * const net = await p2p.join({ channelId, participants, me: 0, signer: wallet.signingKey })
 * net.on('message', (from, m) => console.log(from, m.type))
 * await net.waitForPeers()
 * net.broadcast({ type: 'ping', nonce: 1 })
 * await p2p.close()
 */
import { EventEmitter } from 'node:events'
import DHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { computeAddress, type SigningKey } from 'ethers'
import { RuntimeError, UsageError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import { defaultLogger, short, type Logger } from './logger.js'
import { NetChannel } from './NetChannel.js'
import { Peer } from './Peer.js'
import type { Limits } from './links.js'
import { PeerLink, PROTOCOL } from './PeerLink.js'
import { channelTopic } from './topic.js'
import { MAX_WIRE_BYTES } from './wire.js'

export interface P2PManagerOptions {
  /** DHT bootstrap nodes (`{ host, port }` or `'host:port'`); default: the public HyperDHT. */
  bootstrap?: ({ host: string; port: number } | string)[]
  /** Address the DHT's UDP sockets bind to (default all interfaces; tests use `127.0.0.1`). */
  host?: string
  /** Preferred DHT port (falls back to any free one). */
  port?: number
  /**
   * Whether this node is behind a firewall/NAT (default: the DHT finds out). Set `false` when
   * it is directly reachable — a server with a public address, or peers on one host (tests):
   * on this machine, processes on loopback only connect with `firewalled: false`.
   */
  firewalled?: boolean
  /** 32-byte seed of the Noise key pair (same seed ⇒ same public key across restarts); random if absent. */
  seed?: Uint8Array | Hex
  /**
   * Largest message accepted from a peer, bytes. Default {@link MAX_WIRE_BYTES} (≈ 2.1 MB, the
   * largest well-formed message); with a smaller value our own sync responses are split to fit,
   * and a larger tx message than the limit cannot be sent (at most MAX_TX_BYTES + 66 ≈ 4.3 KB).
   */
  maxMessageSize?: number
  /** Per-peer rate limit; `false` disables it (benchmarks). */
  rateLimit?: Partial<Omit<Limits, 'maxMessageSize'>> | false
  /**
   * How long a participant's link has to answer a link probe when a second verified link for
   * that participant arrives (default 5,000 ms): it is kept if it answers, replaced if not
   * (docs/net.md §3).
   */
  probeTimeoutMs?: number
  logger?: Logger
}

export interface JoinOptions {
  channelId: Hex
  /** The channel's participant addresses, in order. */
  participants: readonly Hex[]
  /** Our index in `participants`. */
  me: number
  /** Our participant key (signs the identity handshake; its address must be `participants[me]`). */
  signer: SigningKey
}

export const DEFAULT_LIMITS: Limits = {
  maxMessageSize: MAX_WIRE_BYTES,
  messagesPerSecond: 5_000,
  bytesPerSecond: 16 * 1024 * 1024,
  burstSeconds: 2,
}

export class P2PManager extends EventEmitter {
  readonly limits: Limits
  readonly log: Logger
  private swarm: Hyperswarm | undefined
  private opening: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private readonly channels = new Map<string, NetChannel>()
  private readonly peers = new Set<Peer>()

  constructor(private readonly opts: P2PManagerOptions = {}) {
    super()
    const rate = opts.rateLimit === false ? { messagesPerSecond: Infinity, bytesPerSecond: Infinity } : opts.rateLimit ?? {}
    this.limits = { ...DEFAULT_LIMITS, ...rate, maxMessageSize: opts.maxMessageSize ?? DEFAULT_LIMITS.maxMessageSize }
    for (const [k, v] of Object.entries(this.limits)) {
      if (!(typeof v === 'number' && v > 0)) throw new UsageError('NET_CONFIG_INVALID', `${k} must be a positive number`, { details: { [k]: v } })
    }
    if (opts.seed !== undefined && seedBytes(opts.seed).length !== 32) throw new UsageError('NET_CONFIG_INVALID', 'seed must be 32 bytes')
    if (opts.probeTimeoutMs !== undefined && !(Number.isFinite(opts.probeTimeoutMs) && opts.probeTimeoutMs > 0)) {
      throw new UsageError('NET_CONFIG_INVALID', 'probeTimeoutMs must be a positive number of milliseconds', { details: { probeTimeoutMs: opts.probeTimeoutMs } })
    }
    this.log = opts.logger ?? defaultLogger
  }

  /** Our Noise public key (known after {@link ready}). */
  get publicKey(): Buffer {
    if (!this.swarm) throw new UsageError('NET_NOT_READY', 'call ready() first')
    return this.swarm.keyPair.publicKey
  }

  /** Live connections, one per remote peer (destroying one simulates a network failure). */
  get connections(): ReadonlySet<Hyperswarm.Connection> {
    return this.swarm?.connections ?? new Set()
  }

  /**
   * DHT nodes our node knows (its routing table) after {@link ready}: 0 means the bootstrap
   * nodes did not answer — no peer will be found (a stopped local testnet, no network).
   */
  get dhtNodes(): number {
    return this.swarm?.dht.toArray().length ?? 0
  }

  /** Starts the DHT node and the swarm. Idempotent. */
  ready(): Promise<void> {
    if (this.closing) return Promise.reject(new RuntimeError('NET_CLOSED', 'the P2PManager is closed'))
    this.opening ??= this.open()
    return this.opening
  }

  /**
   * Joins a Parley channel: announces and looks up its topic, opens a protomux channel with
   * every connected peer, and returns the channel's {@link NetChannel}. Resolves once our
   * announcement is on the DHT.
   */
  async join(o: JoinOptions): Promise<NetChannel> {
    await this.ready()
    const swarm = this.swarm!
    validateJoin(o)
    const key = o.channelId.toLowerCase()
    if (this.channels.has(key)) throw new UsageError('NET_ALREADY_JOINED', `channel ${short(o.channelId)} is already joined`)
    const net = new NetChannel(o.channelId, o.participants, o.me, o.signer, this.limits, this.log, (n) => this.leave(n), this.opts.probeTimeoutMs)
    this.channels.set(key, net)
    for (const peer of this.peers) PeerLink.open(peer, net)
    const discovery = swarm.join(channelTopic(o.channelId), { server: true, client: true })
    try {
      await discovery.flushed()
    } catch (cause) {
      await net.close()
      throw new RuntimeError('NET_JOIN_FAILED', `could not announce channel ${short(o.channelId)} on the DHT`, { cause })
    }
    // A second lookup after our announce is stored: of two peers joining at once, the later
    // refresh is sure to see the other's announcement (their first lookups may cross).
    discovery.refresh().catch((e: unknown) => this.log.warn('topic refresh failed', { channel: short(o.channelId), error: String(e) }))
    this.log.info('joined channel', { channel: short(o.channelId), me: o.me })
    return net
  }

  /** Closes every channel and the swarm (and its DHT node). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.opening?.catch(() => {})
      await Promise.allSettled([...this.channels.values()].map((n) => n.close()))
      await this.swarm?.destroy()
      this.emit('close')
    })()
    return this.closing
  }

  private async open(): Promise<void> {
    const o = this.opts
    const keyPair = DHT.keyPair(o.seed === undefined ? undefined : seedBytes(o.seed))
    const dht = new DHT({
      ...(o.bootstrap ? { bootstrap: o.bootstrap } : {}),
      ...(o.host ? { host: o.host } : {}),
      ...(o.port ? { port: o.port } : {}),
      ...(o.firewalled === undefined ? {} : { firewalled: o.firewalled }),
    })
    const swarm = new Hyperswarm({ keyPair, dht })
    swarm.on('connection', (conn, info) => this.onConnection(conn, info))
    this.swarm = swarm
    await dht.ready()
    this.log.info('p2p ready', { key: short(keyPair.publicKey) })
  }

  private onConnection(conn: Hyperswarm.Connection, _info: Hyperswarm.PeerInfo): void {
    // errors surface as 'close'; without a listener a reset would crash the process
    conn.on('error', (e: Error) => this.log.info('connection error', { peer: short(conn.remotePublicKey), error: e.message }))
    const peer = new Peer(conn, this.limits, (p) => {
      this.log.warn('dropping connection after a fault', { peer: short(p.conn.remotePublicKey) })
      p.conn.destroy()
    })
    this.peers.add(peer)
    conn.on('close', () => this.peers.delete(peer))
    // A channel the remote opens after we joined it (e.g. it joined later): answer it.
    peer.mux.pair({ protocol: PROTOCOL }, (id) => {
      const net = id && this.channels.get(`0x${id.toString('hex')}`)
      if (net && !net.closed) PeerLink.open(peer, net)
    })
    for (const net of this.channels.values()) PeerLink.open(peer, net)
  }

  private async leave(net: NetChannel): Promise<void> {
    if (this.channels.get(net.key) === net) this.channels.delete(net.key)
    for (const peer of this.peers) peer.links.get(net.key)?.close()
    if (this.swarm && !this.swarm.destroyed) await this.swarm.leave(channelTopic(net.channelId))
  }
}

function seedBytes(seed: Uint8Array | Hex): Uint8Array {
  return typeof seed === 'string' ? Buffer.from(seed.replace(/^0x/, ''), 'hex') : seed
}

function validateJoin(o: JoinOptions): void {
  if (typeof o.channelId !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(o.channelId)) throw new UsageError('NET_CONFIG_INVALID', 'channelId must be 32 bytes of hex')
  if (!Array.isArray(o.participants) || o.participants.length < 2) throw new UsageError('NET_CONFIG_INVALID', 'a channel has at least two participants')
  if (!Number.isInteger(o.me) || o.me < 0 || o.me >= o.participants.length) throw new UsageError('NET_CONFIG_INVALID', `me (${o.me}) is not a participant index`)
  if (computeAddress(o.signer.publicKey).toLowerCase() !== o.participants[o.me]!.toLowerCase()) {
    throw new UsageError('NET_CONFIG_INVALID', `the signer is not participant ${o.me} (${o.participants[o.me]})`)
  }
}
