/**
 * HyperswarmTransport: the issue-4 {@link Transport} for one channel and participant, on a
 * {@link P2PManager}. The Channel hands it plain messages; it encodes them once, sends them on
 * the verified link to each participant, and keeps a per-peer {@link Backlog} that it replays
 * whenever a link (re)opens — so a message sent while a peer was away, or lost with a dying
 * connection, still arrives, in order. Incoming messages come from verified participants only,
 * already decoded and bounded; the Channel still verifies every signature.
 *
 * @example
 * const p2p = new P2PManager({ seed })
 * const transport = await HyperswarmTransport.join(p2p, { channelId, participants, me: 0, signer: wallet.signingKey })
 * const channel = await Channel.create({ ...opts, transport })
 */
import { RuntimeError, UsageError } from '../errors/ParleyError.js'
import type { Message } from '../transport/messages.js'
import type { MessageHandler, Transport } from '../transport/Transport.js'
import { Backlog, DEFAULT_BACKLOG, type BacklogLimits } from './Backlog.js'
import { short } from './logger.js'
import type { NetChannel } from './NetChannel.js'
import type { JoinOptions, P2PManager } from './P2PManager.js'
import { encodeMessage } from './wire.js'

export interface HyperswarmTransportOptions extends JoinOptions {
  /** Per-peer backlog bounds (see {@link Backlog}). */
  backlog?: Partial<BacklogLimits>
}

/** Called when a verified link to participant `index` opens (`up`) or the last one closes. */
export type PeerHandler = (index: number, up: boolean) => void

/** What the transport did, for tests and diagnostics. */
export interface TransportStats {
  sent: number
  received: number
  replayed: number
  /** Messages dropped from a full backlog. */
  dropped: number
  reconnects: number
}

/** Most messages held for a transport nobody listens to yet. */
const MAX_EARLY = 4096

/** One-shot message types: kept only until written once (see {@link Backlog}). */
const ONE_SHOT = new Set<Message['type']>(['sync-request', 'sync-response', 'ping', 'pong'])

export class HyperswarmTransport implements Transport {
  readonly me: number
  readonly stats: TransportStats = { sent: 0, received: 0, replayed: 0, dropped: 0, reconnects: 0 }
  private closed = false
  private readonly handlers = new Set<MessageHandler>()
  private readonly peerHandlers = new Set<PeerHandler>()
  private readonly backlogs = new Map<number, Backlog>()
  private readonly seen = new Set<number>()
  /** Messages that arrived before anyone subscribed. */
  private readonly early: [number, Message][] = []

  /**
   * Joins the channel on `p2p` (started if needed) and returns its transport.
   * @example const t = await HyperswarmTransport.join(p2p, { channelId, participants, me, signer })
   */
  static async join(p2p: P2PManager, o: HyperswarmTransportOptions): Promise<HyperswarmTransport> {
    return new HyperswarmTransport(await p2p.join(o), { ...DEFAULT_BACKLOG, ...o.backlog })
  }

  constructor(readonly net: NetChannel, limits: BacklogLimits = DEFAULT_BACKLOG) {
    this.me = net.me
    for (let i = 0; i < net.participants.length; i++) if (i !== this.me) this.backlogs.set(i, new Backlog(limits))
    net.on('message', (from, m) => {
      this.stats.received++
      if (this.handlers.size === 0 || this.early.length > 0) return this.hold(from, m)
      for (const h of [...this.handlers]) h(from, m)
    })
    net.on('peer-open', (i) => this.onPeerOpen(i))
    net.on('peer-close', (i) => {
      for (const h of [...this.peerHandlers]) h(i, false)
    })
    net.on('close', () => void (this.closed = true)) // the P2PManager was closed under us
    for (const i of net.connected()) this.onPeerOpen(i)
  }

  /** Participants with a verified link now. */
  get connected(): number[] {
    return this.net.connected()
  }

  async send(to: number, message: Message): Promise<void> {
    this.usable()
    const log = this.backlogs.get(to)
    if (!log) {
      throw new UsageError(to === this.me ? 'TRANSPORT_SELF' : 'TRANSPORT_INDEX_INVALID', `cannot send to participant ${to} of ${this.net.participants.length} (we are ${this.me})`)
    }
    for (const bytes of this.encode(message)) this.deliverTo(to, log, message.type, bytes)
  }

  async broadcast(message: Message): Promise<void> {
    this.usable()
    for (const bytes of this.encode(message)) for (const [to, log] of this.backlogs) this.deliverTo(to, log, message.type, bytes)
  }

  /**
   * Subscribes to incoming messages. Messages that arrived before the first subscription
   * (a peer may connect while the Channel is still being built) are held and delivered to it,
   * asynchronously and in order.
   */
  onMessage(handler: MessageHandler): () => void {
    this.handlers.add(handler)
    if (this.early.length > 0) setImmediate(() => this.drainEarly())
    return () => void this.handlers.delete(handler)
  }

  /**
   * Subscribes to link changes: `up` each time a verified link to a participant opens (first
   * connect, reconnect, or a restarted peer), `down` when none is left.
   * @example transport.onPeer((i, up) => console.log(`participant ${i} ${up ? 'connected' : 'gone'}`))
   */
  onPeer(handler: PeerHandler): () => void {
    this.peerHandlers.add(handler)
    return () => void this.peerHandlers.delete(handler)
  }

  /** Resolves once every other participant (or those in `indices`) is connected. */
  waitForPeers(indices?: number[], timeoutMs?: number): Promise<void> {
    return this.net.waitForPeers(indices, timeoutMs)
  }

  /** Leaves the channel's topic and closes its links (the P2PManager stays up). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.handlers.clear()
    this.peerHandlers.clear()
    await this.net.close()
  }

  /**
   * Encodes `message` as one wire message, or — a sync response above `maxMessageSize` — as
   * several sync responses of consecutive entries, each within the limit. (The requester asks
   * for more only after a full batch, so a split full batch is completed by its next request.)
   */
  private encode(message: Message): Uint8Array[] {
    const bytes = encodeMessage(message)
    const max = this.net.limits.maxMessageSize
    if (bytes.byteLength <= max) return [bytes]
    if (message.type === 'sync-response' && message.entries.length > 1) {
      const half = Math.ceil(message.entries.length / 2)
      return [message.entries.slice(0, half), message.entries.slice(half)].flatMap((entries) => this.encode({ ...message, entries }))
    }
    throw new UsageError('MESSAGE_TOO_LARGE', `a ${message.type} message of ${bytes.byteLength} bytes exceeds maxMessageSize ${max}`, { details: { size: bytes.byteLength, max } })
  }

  private deliverTo(to: number, log: Backlog, type: Message['type'], bytes: Uint8Array): void {
    const sent = this.net.sendBytes(to, bytes)
    if (sent) this.stats.sent++
    const dropped = log.push(bytes, { replay: !ONE_SHOT.has(type), sent })
    if (dropped > 0) {
      this.stats.dropped += dropped
      this.net.log.warn('backlog full: dropped oldest messages for a peer', { channel: short(this.net.channelId), index: to, dropped })
    }
  }

  private hold(from: number, m: Message): void {
    if (this.early.length >= MAX_EARLY) {
      this.stats.dropped++
      this.net.log.warn('no message handler yet and the early buffer is full: dropped a message', { channel: short(this.net.channelId), from, type: m.type })
      return
    }
    this.early.push([from, m])
  }

  private drainEarly(): void {
    while (this.handlers.size > 0 && this.early.length > 0) {
      const [from, m] = this.early.shift()!
      for (const h of [...this.handlers]) h(from, m)
    }
  }

  private onPeerOpen(index: number): void {
    if (this.seen.has(index)) this.stats.reconnects++
    this.seen.add(index)
    const log = this.backlogs.get(index)
    if (log) this.stats.replayed += log.replay((b) => this.net.sendBytes(index, b))
    for (const h of [...this.peerHandlers]) h(index, true)
  }

  private usable(): void {
    if (this.closed) throw new RuntimeError('TRANSPORT_CLOSED', `the transport of participant ${this.me} is closed`)
  }
}
