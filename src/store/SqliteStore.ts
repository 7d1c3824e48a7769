/**
 * Durable {@link Store} on SQLite (better-sqlite3 12), one file per peer.
 *
 * Why SQLite through better-sqlite3:
 * - **Synchronous API**: a write has completed (and with `synchronous = FULL`, reached the
 *   disk) when the call returns, so "persist before a signature leaves the process" is simply
 *   the order of two statements, not a promise chain that could interleave.
 * - **Crash safety**: WAL journal + `synchronous = FULL` — a committed transaction survives a
 *   process kill and a power cut; an interrupted one is rolled back on the next open.
 * - **Transactions**: a tx, its state and our signing-log entry land together or not at all.
 * - **One file**, no server, inspectable with the `sqlite3` CLI.
 *
 * One process may open a file at a time (a second writer would break the signing log's
 * "never sign twice" guarantee, which lives in this process's call order).
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import Database from 'better-sqlite3'
import { RuntimeError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import { decodeParams, decodeTransaction, encodeParams, encodeTransaction } from './codec.js'
import { SCHEMA, SCHEMA_VERSION } from './schema.js'
import type { ChannelRecord, ForkRecord, OwnSignatureRecord, Store, StoreStats, TxRecord } from './types.js'

export interface SqliteStoreOptions {
  /**
   * SQLite `synchronous` level. `FULL` (default) fsyncs every commit; `NORMAL` is still
   * crash-safe for process crashes in WAL mode but may lose the last commits on power loss.
   */
  synchronous?: 'FULL' | 'NORMAL'
}

type Row = Record<string, unknown>

/** The async context of code run {@link SqliteStore.apart}: no hold's owner. */
const APART = Object.freeze({})

/** Page size of a new store file (bytes). */
const PAGE_SIZE = 2048

/**
 * @example
 * const store = new SqliteStore('./alice.db')
 * const channel = await Channel.create({ ...opts, store })
 * // later, after a restart:
 * const again = await Channel.restore({ ...opts, store: new SqliteStore('./alice.db'), channelId })
 */
export class SqliteStore implements Store {
  readonly durable = true
  private readonly db: Database.Database
  private durableCommits = 0
  private readonly q: ReturnType<typeof prepare>
  /** The open hold's owner (see {@link hold}); the code running inside it carries it as its context. */
  private held: object | undefined
  /** Holds whose COMMIT, made by someone outside them, failed (rolled back): their owners' `hold` throws when it ends. */
  private readonly lost = new WeakSet<object>()
  /** Some hold was lost (the per-statement check of {@link lost} is skipped until then). */
  private anyLost = false
  private readonly context = new AsyncLocalStorage<object>()

  constructor(readonly path: string, opts: SqliteStoreOptions = {}) {
    try {
      this.db = new Database(path)
      const version = Number(this.db.pragma('user_version', { simple: true }))
      // A new file gets 2 KiB pages (set before anything is written; a file keeps its size): a
      // commit appends every page it touched to the WAL, and ours touch several b-tree leaves
      // of a row or two each, so smaller pages write less per fsync (~20 % less time per commit).
      if (version === 0) this.db.pragma(`page_size = ${PAGE_SIZE}`)
      this.db.pragma('journal_mode = WAL')
      this.db.pragma(`synchronous = ${opts.synchronous ?? 'FULL'}`)
      this.db.pragma('foreign_keys = ON')
      this.db.defaultSafeIntegers(true)
      if (version === 0) {
        this.db.exec(SCHEMA)
        this.db.pragma(`user_version = ${SCHEMA_VERSION}`)
      } else if (version !== SCHEMA_VERSION) {
        throw new RuntimeError('STORE_VERSION', `store schema version ${version} is not ${SCHEMA_VERSION}`, { details: { path } })
      }
      this.q = prepare(this.db)
    } catch (cause) {
      if (cause instanceof RuntimeError) throw cause
      throw new RuntimeError('STORE_OPEN_FAILED', `cannot open the store at ${path}`, { cause, details: { path } })
    }
  }

  putChannel(r: ChannelRecord): void {
    this.write(() => this.q.putChannel.run(r.channelId, encodeParams(r.params), r.me))
  }

  getChannel(channelId: Hex): ChannelRecord | undefined {
    const row = this.run(() => this.q.getChannel.get(channelId) as Row | undefined)
    return row && { channelId, params: decodeParams(row.params as string), me: Number(row.me) }
  }

  listChannels(): Hex[] {
    return this.run(() => (this.q.listChannels.all() as Row[]).map((r) => r.channel_id as Hex))
  }

  putFork(channelId: Hex, f: ForkRecord): void {
    this.write(() => this.q.putFork.run(channelId, f.fork, f.state, f.stateHash, f.timestamp, f.active.toString(), f.disputed ? 1 : 0))
  }

  getForks(channelId: Hex): ForkRecord[] {
    return this.run(() =>
      (this.q.getForks.all(channelId) as Row[]).map((r) => ({
        fork: r.fork as bigint,
        state: r.state as Hex,
        stateHash: r.state_hash as Hex,
        timestamp: r.timestamp as bigint,
        active: BigInt(r.active as string),
        disputed: Number(r.disputed) === 1,
      })),
    )
  }

  setForkDisputed(channelId: Hex, fork: bigint, disputed = true): void {
    const info = this.write(() => this.q.setForkDisputed.run(disputed ? 1 : 0, channelId, fork))
    if (info.changes === 0) throw new RuntimeError('STORE_NOT_FOUND', `no fork ${fork} stored for channel ${channelId}`)
  }

  putTx(channelId: Hex, r: TxRecord): void {
    const t = r.transaction
    this.write(() => {
      const info = this.q.putTx.run(channelId, t.fork, t.seq, r.digest, encodeTransaction(t), r.state, r.nextActor, r.receivedAt)
      if (info.changes === 0) {
        const prev = this.q.getTxDigest.get(channelId, t.fork, t.seq) as Row
        if (prev.digest !== r.digest) throw conflict('tx', { fork: t.fork, seq: t.seq })
      }
    })
  }

  getTx(channelId: Hex, fork: bigint, seq: bigint): TxRecord | undefined {
    const row = this.run(() => this.q.getTx.get(channelId, fork, seq) as Row | undefined)
    return row && toTx(row)
  }

  getTxs(channelId: Hex, fork: bigint, fromSeq: bigint, limit = -1): TxRecord[] {
    return this.run(() => (this.q.getTxs.all(channelId, fork, fromSeq, limit) as Row[]).map(toTx))
  }

  putSignature(channelId: Hex, digest: Hex, signer: number, signature: Hex): void {
    this.write(() => {
      const info = this.q.putSig.run(channelId, digest, signer, signature)
      if (info.changes === 0) {
        const prev = this.q.getSig.get(channelId, digest, signer) as Row
        if (prev.signature !== signature) throw conflict('signature', { digest, signer })
      }
    })
  }

  getSignatures(channelId: Hex, digest: Hex): Map<number, Hex> {
    const rows = this.run(() => this.q.getSigs.all(channelId, digest) as Row[])
    return new Map(rows.map((r) => [Number(r.signer), r.signature as Hex]))
  }

  putOwnSignature(channelId: Hex, r: OwnSignatureRecord): void {
    this.write(() => {
      const info = this.q.putOwn.run(channelId, r.kind, r.fork, r.seq, r.digest, r.signature)
      if (info.changes === 0) {
        const prev = this.q.getOwn.get(channelId, r.kind, r.fork, r.seq) as Row
        if (prev.digest !== r.digest) throw conflict('own signature', { kind: r.kind, fork: r.fork, seq: r.seq })
      }
    })
  }

  getOwnSignature(channelId: Hex, kind: OwnSignatureRecord['kind'], fork: bigint, seq: bigint): OwnSignatureRecord | undefined {
    const row = this.run(() => this.q.getOwn.get(channelId, kind, fork, seq) as Row | undefined)
    return row && toOwn(row)
  }

  getOwnSignatures(channelId: Hex, fork: bigint, fromSeq = 0n): OwnSignatureRecord[] {
    return this.run(() => (this.q.getOwns.all(channelId, fork, fromSeq) as Row[]).map(toOwn))
  }

  putMeta(channelId: Hex, key: string, value: string): void {
    this.write(() => this.q.putMeta.run(channelId, key, value))
  }

  getMeta(channelId: Hex, key: string): string | undefined {
    const row = this.run(() => this.q.getMeta.get(channelId, key) as Row | undefined)
    return row?.value as string | undefined
  }

  transaction<T>(fn: () => T): T {
    this.outside()
    const outermost = !this.db.inTransaction
    const result = this.db.transaction(fn)()
    if (outermost) this.durableCommits++
    return result
  }

  /**
   * Runs `fn` inside one held SQLite transaction, committed once when `fn` ends (resolved or
   * rejected): its inner transactions become savepoints, so the writes of several steps of one
   * input cost one fsync. Code running inside `fn` is told apart by its async context; any other
   * read or write commits the hold first (see Store.hold).
   * @example await store.hold(async () => { await receive(tx); await proposeReply() }) // one commit
   */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    this.outside()
    if (this.held !== undefined || this.db.inTransaction) return fn() // inside our own hold: join it
    const owner = {}
    this.run(() => this.db.exec('BEGIN'))
    this.held = owner
    try {
      return await this.context.run(owner, fn)
    } finally {
      if (this.held === owner) this.commitHeld(true)
      else if (this.lost.delete(owner)) {
        // what fn wrote is gone, whatever fn returned: its caller must not act on it
        throw new RuntimeError('STORE_IO', 'the held transaction was rolled back: its commit, made by a reader outside it, failed')
      }
    }
  }

  settle(): void {
    if (this.held !== undefined) this.commitHeld()
  }

  apart<T>(fn: () => T): T {
    // With no hold open (and none ever lost), no caller can be inside one: nothing to step out of.
    return this.held === undefined && !this.anyLost ? fn() : this.context.run(APART, fn)
  }

  /**
   * How many durable commits this store made: each outermost `transaction` and each write outside
   * one (SQLite commits it by itself) — with `synchronous = FULL`, each one an fsync. What
   * `npm run bench:offchain` reports per transaction and peer.
   */
  get commits(): number {
    return this.durableCommits
  }

  stats(channelId: Hex): StoreStats {
    return this.run(() => {
      const n = (sql: string) => Number((this.db.prepare(sql).get(channelId) as Row).n)
      return {
        txs: n('SELECT count(*) AS n FROM txs WHERE channel_id = ?'),
        signatures: n('SELECT count(*) AS n FROM signatures WHERE channel_id = ?'),
        ownSignatures: n('SELECT count(*) AS n FROM own_signatures WHERE channel_id = ?'),
        forks: n('SELECT count(*) AS n FROM forks WHERE channel_id = ?'),
      }
    })
  }

  close(): void {
    // An open hold is rolled back with the connection: lost for its owner, not left to be committed by a reader.
    if (this.held !== undefined) this.markLost(this.held)
    this.held = undefined
    if (this.db.open) this.db.close()
  }

  /** A write statement: run, and counted as a commit of its own when no transaction holds it. */
  private write<T>(fn: () => T): T {
    const result = this.run(fn)
    if (!this.db.inTransaction) this.durableCommits++
    return result
  }

  private markLost(owner: object): void {
    this.lost.add(owner)
    this.anyLost = true
  }

  /** A read or write from outside the open hold commits the hold first. */
  outside(): void {
    if (this.held !== undefined && this.context.getStore() !== this.held) this.commitHeld()
  }

  /**
   * Commits the open hold: one durable commit. A failed COMMIT rolls it back and throws `STORE_IO`;
   * unless it was the hold's own final commit, the hold is marked lost, so its `hold` throws too.
   */
  private commitHeld(final = false): void {
    const owner = this.held
    this.held = undefined
    try {
      this.run(() => this.db.exec('COMMIT'))
    } catch (e) {
      if (this.db.open && this.db.inTransaction) this.db.exec('ROLLBACK')
      if (!final && owner) this.markLost(owner) // its owner may not go on as if it had landed
      throw e
    }
    this.durableCommits++
  }

  /** Runs a statement, turning SQLite failures into RuntimeError `STORE_IO`. */
  private run<T>(fn: () => T): T {
    if (!this.db.open) throw new RuntimeError('STORE_CLOSED', 'the store was closed')
    if (this.anyLost) {
      const ctx = this.context.getStore()
      if (ctx !== undefined && this.lost.has(ctx)) {
        // The rest of a lost hold writes nothing: it would land without what the hold wrote before.
        throw new RuntimeError('STORE_IO', 'the held transaction was rolled back: its commit, made by a reader outside it, failed')
      }
    }
    if (this.held !== undefined) this.outside()
    try {
      return fn()
    } catch (cause) {
      if (cause instanceof RuntimeError) throw cause
      if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new RuntimeError('STORE_NOT_FOUND', 'no such channel in the store: put the channel record first', { cause })
      }
      throw new RuntimeError('STORE_IO', `store operation failed: ${(cause as Error).message}`, { cause })
    }
  }
}

function prepare(db: Database.Database) {
  return {
    putChannel: db.prepare('INSERT INTO channels (channel_id, params, me) VALUES (?, ?, ?) ON CONFLICT (channel_id) DO UPDATE SET params = excluded.params, me = excluded.me'),
    getChannel: db.prepare('SELECT params, me FROM channels WHERE channel_id = ?'),
    listChannels: db.prepare('SELECT channel_id FROM channels ORDER BY rowid'),
    putFork: db.prepare(
      'INSERT INTO forks (channel_id, fork, state, state_hash, timestamp, active, disputed) VALUES (?, ?, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (channel_id, fork) DO UPDATE SET state = excluded.state, state_hash = excluded.state_hash, timestamp = excluded.timestamp, active = excluded.active, disputed = excluded.disputed',
    ),
    getForks: db.prepare('SELECT * FROM forks WHERE channel_id = ? ORDER BY fork'),
    setForkDisputed: db.prepare('UPDATE forks SET disputed = ? WHERE channel_id = ? AND fork = ?'),
    putTx: db.prepare(
      'INSERT INTO txs (channel_id, fork, seq, digest, tx, state, next_actor, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    getTxDigest: db.prepare('SELECT digest FROM txs WHERE channel_id = ? AND fork = ? AND seq = ?'),
    getTx: db.prepare('SELECT * FROM txs WHERE channel_id = ? AND fork = ? AND seq = ?'),
    getTxs: db.prepare('SELECT * FROM txs WHERE channel_id = ? AND fork = ? AND seq >= ? ORDER BY seq LIMIT ?'),
    putSig: db.prepare('INSERT INTO signatures (channel_id, digest, signer, signature) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    getSig: db.prepare('SELECT signature FROM signatures WHERE channel_id = ? AND digest = ? AND signer = ?'),
    getSigs: db.prepare('SELECT signer, signature FROM signatures WHERE channel_id = ? AND digest = ? ORDER BY signer'),
    putOwn: db.prepare(
      // A signature fills in a reservation of the same digest (RESERVED_SIGNATURE); anything else stays as it is.
      'INSERT INTO own_signatures (channel_id, kind, fork, seq, digest, signature) VALUES (?, ?, ?, ?, ?, ?) ' +
        "ON CONFLICT (channel_id, kind, fork, seq) DO UPDATE SET signature = excluded.signature WHERE own_signatures.signature = '0x' AND own_signatures.digest = excluded.digest",
    ),
    getOwn: db.prepare('SELECT * FROM own_signatures WHERE channel_id = ? AND kind = ? AND fork = ? AND seq = ?'),
    getOwns: db.prepare('SELECT * FROM own_signatures WHERE channel_id = ? AND fork = ? AND seq >= ? ORDER BY seq, kind'),
    putMeta: db.prepare('INSERT INTO meta (channel_id, key, value) VALUES (?, ?, ?) ON CONFLICT (channel_id, key) DO UPDATE SET value = excluded.value'),
    getMeta: db.prepare('SELECT value FROM meta WHERE channel_id = ? AND key = ?'),
  }
}

function toTx(r: Row): TxRecord {
  return {
    transaction: decodeTransaction(r.tx as string),
    digest: r.digest as Hex,
    state: r.state as Hex,
    nextActor: Number(r.next_actor),
    receivedAt: r.received_at as bigint,
  }
}

function toOwn(r: Row): OwnSignatureRecord {
  return {
    kind: r.kind as OwnSignatureRecord['kind'],
    fork: r.fork as bigint,
    seq: r.seq as bigint,
    digest: r.digest as Hex,
    signature: r.signature as Hex,
  }
}

function conflict(what: string, details: Record<string, unknown>): RuntimeError {
  return new RuntimeError('STORE_CONFLICT', `a different ${what} is already stored`, { details })
}
