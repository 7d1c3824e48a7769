/**
 * An in-process network: a hub connecting N peers, each through a {@link Transport}.
 * Messages are cloned (no shared objects between peers) and delivered asynchronously, in
 * order per link by default; optional delay, drop rate, reordering and a link filter
 * (partitions) make the network misbehave for tests. Drops follow a seeded PRNG; reordered
 * deliveries run on timers, so their exact order is not reproducible.
 */
import { RuntimeError, UsageError } from '../errors/ParleyError.js'
import type { Message } from './messages.js'
import type { MessageHandler, Transport } from './Transport.js'

export interface MemoryHubOptions {
  /** Delivery delay in ms, fixed or per message (default 0: next macrotask). */
  delayMs?: number | ((from: number, to: number, message: Message) => number)
  /** Probability in [0, 1] that a message is lost (default 0). */
  dropRate?: number
  /** Adds a random 0..`reorderMs` ms to each delivery, so messages overtake each other. */
  reorderMs?: number
  /** Seed of the PRNG behind drops and reorder delays (default 1). */
  seed?: number
  /** Clone messages with structuredClone (default true; benchmarks may turn it off). */
  clone?: boolean
}

/** Counters of what the hub did. */
export interface HubStats {
  sent: number
  delivered: number
  dropped: number
}

/**
 * @example
 * const hub = new MemoryHub({ reorderMs: 5 })
 * const [a, b] = [hub.connect(0), hub.connect(1)]
 * b.onMessage((from, m) => console.log(from, m.type))
 * await a.send(1, { type: 'ping', nonce: 1 })
 */
export class MemoryHub {
  readonly stats: HubStats = { sent: 0, delivered: 0, dropped: 0 }
  /** Return false to drop a message on the link from → to (e.g. a partition). */
  filter: ((from: number, to: number, message: Message) => boolean) | undefined
  private readonly peers = new Map<number, MemoryTransport>()
  private rng: number
  private inFlight = 0
  private idleWaiters: (() => void)[] = []

  constructor(private readonly opts: MemoryHubOptions = {}) {
    this.rng = (opts.seed ?? 1) >>> 0 || 1
  }

  /** A transport for participant `index`; replaces a closed one (a restarted peer). */
  connect(index: number): Transport {
    if (!Number.isInteger(index) || index < 0) throw new UsageError('TRANSPORT_INDEX_INVALID', `participant index must be a non-negative integer, got ${index}`)
    const existing = this.peers.get(index)
    if (existing && !existing.closed) throw new UsageError('TRANSPORT_IN_USE', `participant ${index} is already connected to this hub`)
    const t = new MemoryTransport(this, index)
    this.peers.set(index, t)
    return t
  }

  /** Indices of connected peers. */
  get connected(): number[] {
    return [...this.peers.values()].filter((p) => !p.closed).map((p) => p.me)
  }

  /** Resolves when no message is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve()
    return new Promise((r) => this.idleWaiters.push(r))
  }

  /** @internal */
  route(from: number, to: number, message: Message): void {
    this.stats.sent++
    if ((this.opts.dropRate ?? 0) > 0 && this.random() < this.opts.dropRate!) return void this.stats.dropped++
    if (this.filter && !this.filter(from, to, message)) return void this.stats.dropped++
    const copy = this.opts.clone === false ? message : structuredClone(message)
    const d = this.opts.delayMs
    const delay = (typeof d === 'function' ? d(from, to, message) : d ?? 0) + (this.opts.reorderMs ? this.random() * this.opts.reorderMs : 0)
    this.inFlight++
    if (delay > 0) setTimeout(this.deliver, delay, from, to, copy)
    else setImmediate(this.deliver, from, to, copy)
  }

  /** Hands a message to its recipient (one function for every delivery: no closure per message). */
  private readonly deliver = (from: number, to: number, message: Message): void => {
    const peer = this.peers.get(to)
    if (peer && !peer.closed) {
      this.stats.delivered++
      peer.deliver(from, message)
    } else this.stats.dropped++
    if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w()
  }

  /** @internal */
  others(me: number): number[] {
    return [...this.peers.keys()].filter((i) => i !== me)
  }

  /** xorshift32: deterministic per seed. */
  private random(): number {
    let x = this.rng
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.rng = x >>> 0
    return this.rng / 0x1_0000_0000
  }
}

class MemoryTransport implements Transport {
  closed = false
  private readonly handlers = new Set<MessageHandler>()

  constructor(
    private readonly hub: MemoryHub,
    readonly me: number,
  ) {}

  async send(to: number, message: Message): Promise<void> {
    this.open()
    if (to === this.me) throw new UsageError('TRANSPORT_SELF', 'a participant does not send messages to itself')
    this.hub.route(this.me, to, message)
  }

  async broadcast(message: Message): Promise<void> {
    this.open()
    for (const to of this.hub.others(this.me)) this.hub.route(this.me, to, message)
  }

  onMessage(handler: MessageHandler): () => void {
    this.handlers.add(handler)
    return () => {
      this.handlers.delete(handler)
    }
  }

  async close(): Promise<void> {
    this.closed = true
    this.handlers.clear()
  }

  deliver(from: number, message: Message): void {
    for (const h of [...this.handlers]) h(from, message)
  }

  private open(): void {
    if (this.closed) throw new RuntimeError('TRANSPORT_CLOSED', `the transport of participant ${this.me} is closed`)
  }
}
