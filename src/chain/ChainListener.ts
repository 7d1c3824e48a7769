/**
 * ChainListener [DLTEventListener]: watches the manager's events for one or more channels by
 * polling `eth_getLogs` over block ranges (works the same on anvil and on public RPCs, which
 * rarely keep filters alive), decodes each into its typed form (Solidity names, ./decode.ts)
 * and delivers it to the channel's handler in chain order, once the block is `confirmations`
 * deep. Each watch keeps a cursor — in the channel's store meta when a store is given — so a
 * restarted client resumes after the last delivered event without missing or repeating one.
 * RPC failures are reported as RuntimeError `CHAIN_POLL_FAILED` on `error` and retried with a
 * doubling backoff. Every new head block also feeds the clock.
 *
 * Reorganisations: the listener follows the chain by block hash. It remembers the hash of every
 * block it read logs up to (and of every block an event came from, up to `reorgDepth` blocks
 * back; the cursor keeps the last one across restarts). At each round it checks the newest; when
 * that block is no longer the chain's, it walks back to the last common block, tells every watch
 * that had events after it (`onReorg`, awaited: retract what those blocks said), moves its cursor
 * back, and delivers what the new blocks say. A reorganisation deeper than `reorgDepth` rewinds
 * `reorgDepth` blocks below the oldest block it remembers.
 *
 * A node behind: the head, the blocks and the logs may come from different nodes (a load
 * balancer), some behind the others. A head below a block already read is a node behind, not a
 * reorganisation: the round fails and is retried. The newest `lagBlocks` blocks are read one by
 * one by block hash (EIP-234) and every older range's last block too: a node that does not have
 * the block answers with an error instead of an empty list, so a lagging `eth_getLogs` never moves
 * the cursor past blocks it did not cover.
 */
import type { Provider } from 'ethers'
import { RuntimeError, UsageError } from '../errors/ParleyError.js'
import type { Clock } from '../clock/Clock.js'
import { Emitter } from '../observe/Emitter.js'
import type { Hex } from '../protocol/types.js'
import type { Store } from '../store/types.js'
import { contractInterface } from '../contracts/artifacts.js'
import { after, backoff, delivered, formatCursor, isRewound, nextRange, parseCursor, rewind, type Cursor } from './cursor.js'
import { MANAGER_EVENTS, decodeManagerLog, type ManagerEvent } from './decode.js'
import { META } from '../store/metaKeys.js'
import { RECORD_LOG_RANGE } from './recordLog.js'

/** A decoded event with where and when it happened. */
export type ChainEvent = ManagerEvent & {
  blockNumber: number
  /** Index of the log in its block. */
  logIndex: number
  transactionHash: Hex
  /** Timestamp of its block (chain seconds). */
  blockTimestamp: bigint
}

/** A block as the listener saw it. */
export interface HeadBlock {
  number: number
  timestamp: bigint
  /** Its hash (lowercase). */
  hash?: string
}

/** A reorganisation: blocks after `ancestor` were replaced (or dropped). */
export interface Reorg {
  /** The last block the old and the new chain share. */
  ancestor: number
  /** The head when it was found. */
  head: HeadBlock
}

/** Events of the listener itself. */
export type ChainListenerEvents = {
  /** A new head block was seen (before its events are delivered). */
  head: HeadBlock
  /** A poll round completed: every event up to the confirmed block was delivered. */
  tick: HeadBlock
  /** An RPC failure (RuntimeError `CHAIN_POLL_FAILED`, retried) or a handler that threw. */
  error: { error: unknown; channelId?: Hex }
  /** A reorganisation was found; the watches it concerns were told and rewound. */
  reorg: Reorg
}

export interface ChainListenerOptions {
  /** Any ethers provider (JSON-RPC, WebSocket, fallback). */
  provider: Provider
  /** The StateChannelManager's address. */
  manager: string
  /**
   * Deliver an event once its block has this many blocks on top (default 0; see
   * {@link defaultConfirmations} for a safe value per chain). Reorganisations are followed at any
   * depth up to `reorgDepth`; confirmations only make them rarer for the channel.
   */
  confirmations?: number
  /** How many blocks back a reorganisation is followed (default 128). */
  reorgDepth?: number
  /** Delay between polls in ms (default 1000). */
  pollMs?: number
  /** Largest block range per `eth_getLogs` (default 2000; public RPCs often cap it). */
  maxBlockRange?: number
  /**
   * How many blocks behind the head a node answering `eth_getLogs` may lag without an event being
   * missed: the newest `lagBlocks` blocks (below the confirmed one) are read one by one by hash,
   * older ones in ranges whose last block is read by hash (default 32).
   */
  lagBlocks?: number
  /** Retry delays after RPC failures: doubling from `initialMs` (default `pollMs`) up to `maxMs` (default 30 s). */
  retry?: { initialMs?: number; maxMs?: number }
  /** Fed with every new head block's timestamp. */
  clock?: Clock
  /** Local time in ms for clock samples (default Date.now). */
  localTime?: () => number
}

/** Per-watch options. */
export interface WatchOptions {
  /** First block to read when no cursor is stored (default 0; use the channel's open block on public chains). */
  fromBlock?: number
  /** Keep the cursor in this store's meta for the channel, to resume after a restart. */
  store?: Store
  /**
   * Called (and awaited) when a reorganisation dropped blocks after `ancestor` from which this
   * watch had delivered events: retract what they said. The events of the new blocks follow —
   * from `ancestor + 1`, or from an earlier block the callback returns (a consumer that cannot
   * take back only the dropped blocks reads more again).
   */
  onReorg?: (reorg: Reorg) => void | number | Promise<void | number>
}

/** Receives one channel's events in chain order; the next one waits until it resolves. */
export type ChainEventHandler = (event: ChainEvent) => void | Promise<void>

interface Watch {
  channelId: Hex
  handler: ChainEventHandler
  cursor: Cursor
  store: Store | undefined
  onReorg: WatchOptions['onReorg']
  live: boolean
}

/**
 * @example
 * const listener = new ChainListener({ provider, manager: manager.address, confirmations: 2, clock })
 * const unwatch = listener.watch(channelId, (e) => console.log(e.name, e.blockNumber), { store, fromBlock: openBlock })
 * listener.on('error', ({ error }) => log.warn(error))
 * // … later
 * unwatch(); await listener.close()
 */
export class ChainListener {
  readonly events = new Emitter<ChainListenerEvents>()
  readonly manager: Hex
  private readonly watches = new Set<Watch>()
  /** Block number → hash (lowercase) of the blocks read, newest `reorgDepth` only. */
  private readonly seen = new Map<number, string>()
  private readonly topics: string[]
  private readonly iface = contractInterface('StateChannelManager')
  private lastHead: HeadBlock | undefined
  private running: Promise<void> | undefined
  private lock: Promise<void> = Promise.resolve()
  private closed = false
  private wake: (() => void) | undefined

  constructor(private readonly o: ChainListenerOptions) {
    if (!o?.provider || typeof o.provider.getLogs !== 'function') throw new UsageError('PROVIDER_REQUIRED', 'ChainListener needs an ethers provider')
    if (typeof o.manager !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(o.manager)) throw new UsageError('ADDRESS_INVALID', 'manager must be an address')
    for (const k of ['confirmations', 'pollMs', 'maxBlockRange', 'reorgDepth', 'lagBlocks'] as const) {
      const v = o[k]
      const min = k === 'confirmations' || k === 'lagBlocks' ? 0 : 1
      if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new UsageError('OPTIONS_INVALID', `${k} must be a ${min === 0 ? 'non-negative' : 'positive'} integer`)
    }
    this.manager = o.manager.toLowerCase() as Hex
    this.topics = MANAGER_EVENTS.map((name) => this.iface.getEvent(name)!.topicHash)
  }

  /** The latest head block seen, if any. */
  get head(): HeadBlock | undefined {
    return this.lastHead
  }

  /** The largest block range of one `eth_getLogs` this listener asks (its `maxBlockRange`, default 2000). */
  get maxBlockRange(): number {
    return this.o.maxBlockRange ?? RECORD_LOG_RANGE
  }

  /** Subscribes to a listener event; returns the unsubscribe. @example listener.on('tick', (b) => …) */
  on<K extends keyof ChainListenerEvents>(name: K, fn: (p: ChainListenerEvents[K]) => void): () => void {
    return this.events.on(name, fn)
  }

  /**
   * Delivers every observed event of `channelId` to `handler`, in chain order, from the stored
   * cursor (or `fromBlock`); starts polling if needed. Returns the unwatch function.
   * @example const off = listener.watch(channelId, (e) => e.name === 'StateSet' && channel.applyStateSet(e.args), { store })
   */
  watch(channelId: Hex, handler: ChainEventHandler, opts: WatchOptions = {}): () => void {
    if (this.closed) throw new UsageError('LISTENER_CLOSED', 'this listener was closed')
    if (typeof channelId !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(channelId)) throw new UsageError('CHANNEL_ID_INVALID', 'channelId must be 32-byte hex')
    const id = channelId.toLowerCase() as Hex
    const stored = opts.store ? parseCursor(opts.store.getMeta(id, this.cursorKey)) : undefined
    const w: Watch = { channelId: id, handler, cursor: stored ?? { block: opts.fromBlock ?? 0, index: 0 }, store: opts.store, onReorg: opts.onReorg, live: true }
    // A restarted watch's last block is checked like any other: was it reorganised away meanwhile?
    if (w.cursor.anchor && !this.seen.has(w.cursor.anchor.block)) this.seen.set(w.cursor.anchor.block, w.cursor.anchor.hash)
    this.watches.add(w)
    this.running ??= this.loop()
    this.wake?.()
    return () => {
      w.live = false
      this.watches.delete(w)
    }
  }

  /**
   * Runs one poll round now (and waits for it): head, then every confirmed event. Throws
   * RuntimeError `CHAIN_POLL_FAILED` on an RPC failure.
   * @example await listener.poll() // in tests, right after mining
   */
  poll(): Promise<void> {
    const run = this.lock.then(() => this.round())
    this.lock = run.catch(() => {})
    return run
  }

  /** Stops polling; waits for the round in progress. */
  async close(): Promise<void> {
    this.closed = true
    this.wake?.()
    await this.running
    await this.lock
  }

  private get cursorKey(): string {
    return META.chainCursor(this.manager)
  }

  private async loop(): Promise<void> {
    const pollMs = this.o.pollMs ?? 1000
    const initial = this.o.retry?.initialMs ?? pollMs
    const max = this.o.retry?.maxMs ?? 30_000
    let failures = 0
    while (!this.closed) {
      try {
        await this.poll()
        failures = 0
      } catch (error) {
        failures++
        this.events.emit('error', { error })
      }
      if (this.closed) break
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, failures > 0 ? backoff(failures, initial, max) : pollMs)
        function done(): void {
          clearTimeout(timer)
          resolve()
        }
        this.wake = done
      })
      this.wake = undefined
    }
  }

  private async round(): Promise<void> {
    if (this.closed) return
    const head = await this.rpc('eth_getBlockByNumber', () => this.o.provider.getBlock('latest'))
    if (!head) throw new RuntimeError('CHAIN_POLL_FAILED', 'the node returned no latest block')
    const block: HeadBlock = { number: head.number, timestamp: BigInt(head.timestamp), ...(head.hash ? { hash: head.hash.toLowerCase() } : {}) }
    const newest = this.seen.size > 0 ? Math.max(...this.seen.keys()) : -1
    if (block.number < newest) {
      // Not a shorter chain: a node behind (a chain only gets shorter on a dev node, and such a
      // reorganisation is seen once the chain is longer again).
      throw new RuntimeError('CHAIN_POLL_FAILED', `the node's head ${block.number} is behind block ${newest} already read: a node lagging, read again`, { details: { method: 'eth_getBlockByNumber', head: block.number, read: newest } })
    }
    if (!this.lastHead || block.number > this.lastHead.number) {
      this.lastHead = block
      this.o.clock?.observeBlock(block.timestamp, (this.o.localTime ?? Date.now)())
      this.events.emit('head', block)
    }
    await this.followReorg(block)
    const target = block.number - (this.o.confirmations ?? 0)
    const deep = target - (this.o.lagBlocks ?? 32)
    const times = new Map<number, bigint>([[block.number, block.timestamp]])
    for (;;) {
      const pending = [...this.watches].filter((w) => w.cursor.block <= target)
      if (pending.length === 0 || this.closed) break
      const from = Math.min(...pending.map((w) => w.cursor.block))
      const group = pending.filter((w) => w.cursor.block === from)
      const range = from > deep ? { from, to: from } : nextRange(from, deep, this.maxBlockRange)!
      await this.scan(group, range, times, block)
    }
    if (!this.closed) this.events.emit('tick', block)
  }

  /** The chain's hash of block `n` now (the head's without a call); undefined above the head. */
  private async hashAt(n: number, head: HeadBlock): Promise<string | undefined> {
    return n > head.number ? undefined : (await this.blockAt(n, head)).hash
  }

  /** Block `n` (at most the head) as the node has it now. */
  private async blockAt(n: number, head: HeadBlock): Promise<{ hash: string; timestamp: bigint }> {
    if (n === head.number && head.hash) return { hash: head.hash, timestamp: head.timestamp }
    const b = await this.rpc('eth_getBlockByNumber', () => this.o.provider.getBlock(n))
    if (!b?.hash) throw new RuntimeError('CHAIN_POLL_FAILED', `the node returned no block ${n}`, { details: { method: 'eth_getBlockByNumber' } })
    return { hash: b.hash.toLowerCase(), timestamp: BigInt(b.timestamp) }
  }

  /**
   * Checks the newest block read against the chain; if it was replaced, finds the last common
   * block and rewinds the watches that read past it (telling them first).
   */
  private async followReorg(head: HeadBlock): Promise<void> {
    const known = [...this.seen.keys()].sort((a, b) => b - a)
    if (known.length === 0 || (await this.hashAt(known[0]!, head)) === this.seen.get(known[0]!)) return
    const depth = this.o.reorgDepth ?? 128
    // Nothing remembered still matches: assume the worst the window allows.
    let ancestor = Math.max(-1, known.at(-1)! - depth)
    for (const n of known.slice(1)) {
      if ((await this.hashAt(n, head)) === this.seen.get(n)) {
        ancestor = n
        break
      }
    }
    for (const n of known) if (n > ancestor) this.seen.delete(n)
    const reorg: Reorg = { ancestor, head }
    this.events.emit('reorg', reorg)
    for (const w of [...this.watches]) {
      if (!w.live || !isRewound(w.cursor, ancestor)) continue
      let from: number | void = undefined
      try {
        from = await w.onReorg?.(reorg)
      } catch (error) {
        this.events.emit('error', { error, channelId: w.channelId })
      }
      if (typeof from === 'number' && Number.isInteger(from) && from >= 0 && from <= ancestor) {
        this.advance(w, { block: from, index: 0 })
        continue
      }
      const back = rewind(w.cursor, ancestor)
      const hash = this.seen.get(ancestor)
      this.advance(w, hash ? { ...back, anchor: { block: ancestor, hash } } : back)
    }
  }

  /** Remembers that block `n` had `hash`; forgets blocks more than `reorgDepth` below the newest. */
  private remember(n: number, hash: string): void {
    this.seen.set(n, hash.toLowerCase())
    const floor = Math.max(...this.seen.keys()) - (this.o.reorgDepth ?? 128)
    for (const k of this.seen.keys()) if (k < floor) this.seen.delete(k)
  }

  /**
   * Delivers the logs of `group`'s channels in `range`, then moves their cursors past it. The
   * range's last block is read by its hash (EIP-234), the others by number: a node that does not
   * have that block fails instead of answering an empty list, and one that has it has the range.
   */
  private async scan(group: Watch[], range: { from: number; to: number }, times: Map<number, bigint>, head: HeadBlock): Promise<void> {
    const filter = { address: this.manager, topics: [this.topics, [...new Set(group.map((w) => w.channelId))]] }
    // The range's last block is read before its logs: if they come from a chain that replaced
    // it, the answer or the next round's hash check says so and the range is read again.
    const top = await this.blockAt(range.to, head)
    const toHash = top.hash
    times.set(range.to, top.timestamp)
    const below = range.from < range.to ? await this.rpc('eth_getLogs', () => this.o.provider.getLogs({ ...filter, fromBlock: range.from, toBlock: range.to - 1 })) : []
    const last = await this.rpc('eth_getLogs', () => this.o.provider.getLogs({ ...filter, blockHash: toHash }))
    const logs = [...below.filter((l) => l.blockNumber >= range.from && l.blockNumber < range.to), ...last.filter((l) => l.blockNumber === range.to)]
    const sorted = logs.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)
    for (const log of sorted) {
      const known = log.blockNumber === range.to ? toHash : this.seen.get(log.blockNumber)
      if (known !== undefined && log.blockHash.toLowerCase() !== known) {
        throw new RuntimeError('CHAIN_POLL_FAILED', `block ${log.blockNumber} changed while it was read (a reorganisation): read again`, { details: { method: 'eth_getLogs' } })
      }
    }
    for (const log of sorted) {
      this.remember(log.blockNumber, log.blockHash)
      const decoded = decodeManagerLog(this.iface, log)
      if (!decoded) continue
      const channelId = String(log.topics[1]).toLowerCase()
      for (const w of group) {
        if (!w.live || w.channelId !== channelId || delivered(w.cursor, log.blockNumber, log.index)) continue
        let blockTimestamp = times.get(log.blockNumber)
        if (blockTimestamp === undefined) {
          const b = await this.rpc('eth_getBlockByNumber', () => this.o.provider.getBlock(log.blockNumber))
          if (!b) throw new RuntimeError('CHAIN_POLL_FAILED', `the node returned no block ${log.blockNumber}`)
          blockTimestamp = BigInt(b.timestamp)
          times.set(log.blockNumber, blockTimestamp)
        }
        const event = { ...decoded, blockNumber: log.blockNumber, logIndex: log.index, transactionHash: log.transactionHash.toLowerCase() as Hex, blockTimestamp } as ChainEvent
        try {
          await w.handler(event)
        } catch (error) {
          this.events.emit('error', { error, channelId: w.channelId })
        }
        this.advance(w, { ...after(log.blockNumber, log.index), anchor: { block: log.blockNumber, hash: log.blockHash.toLowerCase() } })
      }
    }
    this.remember(range.to, toHash)
    for (const w of group) if (w.live) this.advance(w, { block: range.to + 1, index: 0, anchor: { block: range.to, hash: toHash } })
  }

  private advance(w: Watch, c: Cursor): void {
    w.cursor = c
    w.store?.putMeta(w.channelId, this.cursorKey, formatCursor(c))
  }

  private async rpc<T>(method: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call()
    } catch (cause) {
      throw new RuntimeError('CHAIN_POLL_FAILED', `${method} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause, details: { method } })
    }
  }
}
