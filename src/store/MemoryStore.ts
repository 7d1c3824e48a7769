/**
 * In-memory {@link Store}: same semantics as SqliteStore (conflicts, ordering, atomic
 * transactions through an undo log), nothing survives the process. For tests and benchmarks.
 */
import { RuntimeError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import { RESERVED_SIGNATURE, type ChannelRecord, type ForkRecord, type OwnSignatureRecord, type Store, type StoreStats, type TxRecord } from './types.js'

const k = (...parts: (string | number | bigint)[]): string => parts.join('|')

/**
 * @example
 * const store = new MemoryStore()
 * const channel = await Channel.create({ ...opts, store })
 */
export class MemoryStore implements Store {
  private readonly channels = new Map<Hex, ChannelRecord>()
  private readonly forks = new Map<Hex, Map<bigint, ForkRecord>>()
  private readonly txs = new Map<string, Map<bigint, TxRecord>>()
  private readonly sigs = new Map<string, Map<number, Hex>>()
  private readonly own = new Map<string, OwnSignatureRecord>()
  private readonly meta = new Map<string, string>()
  private undo: (() => void)[] | undefined
  private closed = false

  putChannel(record: ChannelRecord): void {
    this.open()
    const prev = this.channels.get(record.channelId)
    this.channels.set(record.channelId, structuredClone(record))
    this.onUndo(() => (prev ? this.channels.set(record.channelId, prev) : this.channels.delete(record.channelId)))
  }

  getChannel(channelId: Hex): ChannelRecord | undefined {
    this.open()
    const r = this.channels.get(channelId)
    return r && structuredClone(r)
  }

  listChannels(): Hex[] {
    this.open()
    return [...this.channels.keys()]
  }

  putFork(channelId: Hex, fork: ForkRecord): void {
    this.known(channelId)
    const m = this.forks.get(channelId) ?? new Map<bigint, ForkRecord>()
    this.forks.set(channelId, m)
    const prev = m.get(fork.fork)
    m.set(fork.fork, { ...fork })
    this.onUndo(() => (prev ? m.set(fork.fork, prev) : m.delete(fork.fork)))
  }

  getForks(channelId: Hex): ForkRecord[] {
    this.open()
    return [...(this.forks.get(channelId)?.values() ?? [])].sort((a, b) => (a.fork < b.fork ? -1 : 1)).map((f) => ({ ...f }))
  }

  setForkDisputed(channelId: Hex, fork: bigint, disputed = true): void {
    this.open()
    const f = this.forks.get(channelId)?.get(fork)
    if (!f) throw new RuntimeError('STORE_NOT_FOUND', `no fork ${fork} stored for channel ${channelId}`)
    const prev = f.disputed
    f.disputed = disputed
    this.onUndo(() => (f.disputed = prev))
  }

  putTx(channelId: Hex, record: TxRecord): void {
    this.known(channelId)
    const key = k(channelId, record.transaction.fork)
    const m = this.txs.get(key) ?? new Map<bigint, TxRecord>()
    this.txs.set(key, m)
    const seq = record.transaction.seq
    const prev = m.get(seq)
    if (prev) {
      if (prev.digest !== record.digest) throw conflict('tx', { fork: record.transaction.fork, seq })
      return
    }
    m.set(seq, record)
    this.onUndo(() => m.delete(seq))
  }

  getTx(channelId: Hex, fork: bigint, seq: bigint): TxRecord | undefined {
    this.open()
    return this.txs.get(k(channelId, fork))?.get(seq)
  }

  getTxs(channelId: Hex, fork: bigint, fromSeq: bigint, limit = Number.MAX_SAFE_INTEGER): TxRecord[] {
    this.open()
    const m = this.txs.get(k(channelId, fork))
    if (!m) return []
    const seqs = [...m.keys()].filter((s) => s >= fromSeq).sort((a, b) => (a < b ? -1 : 1))
    return seqs.slice(0, limit).map((s) => m.get(s)!)
  }

  putSignature(channelId: Hex, digest: Hex, signer: number, signature: Hex): void {
    this.known(channelId)
    const key = k(channelId, digest)
    const m = this.sigs.get(key) ?? new Map<number, Hex>()
    this.sigs.set(key, m)
    const prev = m.get(signer)
    if (prev !== undefined) {
      if (prev !== signature) throw conflict('signature', { digest, signer })
      return
    }
    m.set(signer, signature)
    this.onUndo(() => m.delete(signer))
  }

  getSignatures(channelId: Hex, digest: Hex): Map<number, Hex> {
    this.open()
    return new Map(this.sigs.get(k(channelId, digest)) ?? [])
  }

  putOwnSignature(channelId: Hex, record: OwnSignatureRecord): void {
    this.known(channelId)
    const key = k(channelId, record.kind, record.fork, record.seq)
    const prev = this.own.get(key)
    if (prev) {
      if (prev.digest !== record.digest) throw conflict('own signature', { kind: record.kind, fork: record.fork, seq: record.seq })
      if (prev.signature !== RESERVED_SIGNATURE || record.signature === RESERVED_SIGNATURE) return
      this.own.set(key, { ...record }) // a reservation filled in
      this.onUndo(() => this.own.set(key, prev))
      return
    }
    this.own.set(key, { ...record })
    this.onUndo(() => this.own.delete(key))
  }

  getOwnSignature(channelId: Hex, kind: OwnSignatureRecord['kind'], fork: bigint, seq: bigint): OwnSignatureRecord | undefined {
    this.open()
    const r = this.own.get(k(channelId, kind, fork, seq))
    return r && { ...r }
  }

  getOwnSignatures(channelId: Hex, fork: bigint, fromSeq = 0n): OwnSignatureRecord[] {
    this.open()
    const prefix = `${channelId}|`
    return [...this.own.entries()]
      .filter(([key, r]) => key.startsWith(prefix) && r.fork === fork && r.seq >= fromSeq)
      .map(([, r]) => ({ ...r }))
      .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : a.kind < b.kind ? -1 : 1))
  }

  putMeta(channelId: Hex, key: string, value: string): void {
    this.known(channelId)
    const mk = k(channelId, key)
    const prev = this.meta.get(mk)
    this.meta.set(mk, value)
    this.onUndo(() => (prev === undefined ? this.meta.delete(mk) : this.meta.set(mk, prev)))
  }

  getMeta(channelId: Hex, key: string): string | undefined {
    this.open()
    return this.meta.get(k(channelId, key))
  }

  transaction<T>(fn: () => T): T {
    this.open()
    if (this.undo) return fn() // nested: the outer transaction owns the rollback
    this.undo = []
    try {
      const out = fn()
      this.undo = undefined
      return out
    } catch (e) {
      const log = this.undo ?? []
      this.undo = undefined
      for (let i = log.length - 1; i >= 0; i--) log[i]!()
      throw e
    }
  }

  stats(channelId: Hex): StoreStats {
    this.open()
    let txs = 0
    for (const [key, m] of this.txs) if (key.startsWith(`${channelId}|`)) txs += m.size
    let signatures = 0
    for (const [key, m] of this.sigs) if (key.startsWith(`${channelId}|`)) signatures += m.size
    const ownSignatures = [...this.own.keys()].filter((key) => key.startsWith(`${channelId}|`)).length
    return { txs, signatures, ownSignatures, forks: this.forks.get(channelId)?.size ?? 0 }
  }

  close(): void {
    this.closed = true
  }

  private onUndo(fn: () => void): void {
    this.undo?.push(fn)
  }

  private known(channelId: Hex): void {
    this.open()
    if (!this.channels.has(channelId)) {
      throw new RuntimeError('STORE_NOT_FOUND', 'no such channel in the store: put the channel record first')
    }
  }

  private open(): void {
    if (this.closed) throw new RuntimeError('STORE_CLOSED', 'the store was closed')
  }
}

function conflict(what: string, details: Record<string, unknown>): RuntimeError {
  return new RuntimeError('STORE_CONFLICT', `a different ${what} is already stored`, { details })
}
