/**
 * What a peer persists, and the narrow interface both stores implement.
 *
 * The interface is **synchronous** on purpose: when `putOwnSignature` returns, the record is
 * on disk (SqliteStore) and only then may the signature leave the process. An async store
 * would make that ordering a convention; here it is the call order.
 */
import type { ChannelParams, Hex, Transaction } from '../protocol/types.js'

/** One channel this peer takes part in. */
export interface ChannelRecord {
  channelId: Hex
  params: ChannelParams
  /** Our own participant index. */
  me: number
}

/** The genesis of one fork, as the chain set it (fork 0 = the channel's opening state). */
export interface ForkRecord {
  fork: bigint
  state: Hex
  stateHash: Hex
  /** Block timestamp of the genesis (seconds). */
  timestamp: bigint
  /** Active participants on this fork (bit i = participant i). */
  active: bigint
  /** A dispute on this fork was seen: sign nothing more on it. */
  disputed: boolean
}

/** An accepted transaction with the state it produced. */
export interface TxRecord {
  transaction: Transaction
  /** EIP-712 digest of `transaction`. */
  digest: Hex
  /** The state after the transaction (its keccak256 is `transaction.stateHash`). */
  state: Hex
  /** `nextActor(state)`, cached so a restart needs no machine call. */
  nextActor: number
  /** Our logical clock when the transaction reached us (seconds). */
  receivedAt: bigint
}

/** What we signed ourselves: one per (kind, fork, seq). Close signatures use seq 0. */
export interface OwnSignatureRecord {
  kind: 'tx' | 'close'
  fork: bigint
  seq: bigint
  digest: Hex
  /**
   * The signature, or {@link RESERVED_SIGNATURE} while an external wallet is asked for it: the
   * digest is then taken at this height (nothing else is signed there), and storing the same
   * digest with its signature later fills the reservation in.
   */
  signature: Hex
}

/**
 * The signature of a reserved own-signature record: its digest is committed to, its signature
 * not given yet (a wallet's close consent, asked for asynchronously).
 */
export const RESERVED_SIGNATURE = '0x' as Hex

/** Row counts, for tests and diagnostics. */
export interface StoreStats {
  txs: number
  signatures: number
  ownSignatures: number
  forks: number
}

/**
 * Crash-safe persistence of every channel record, fork, accepted transaction, signature and
 * our own signing log. Implementations: {@link SqliteStore} (durable) and
 * {@link MemoryStore} (tests, benchmarks). Methods throw RuntimeError `STORE_*` on I/O
 * failure and `STORE_CONFLICT` when a write would overwrite a different value.
 */
export interface Store {
  putChannel(record: ChannelRecord): void
  getChannel(channelId: Hex): ChannelRecord | undefined
  listChannels(): Hex[]

  putFork(channelId: Hex, fork: ForkRecord): void
  /** All forks of a channel, ascending. */
  getForks(channelId: Hex): ForkRecord[]
  /** Marks a fork disputed (default) or, when the chain cancelled the dispute, not disputed again. */
  setForkDisputed(channelId: Hex, fork: bigint, disputed?: boolean): void

  /** Stores an accepted tx; `STORE_CONFLICT` if another digest is stored at (fork, seq). */
  putTx(channelId: Hex, record: TxRecord): void
  getTx(channelId: Hex, fork: bigint, seq: bigint): TxRecord | undefined
  /** Txs of a fork with seq ≥ `fromSeq`, ascending, at most `limit`. */
  getTxs(channelId: Hex, fork: bigint, fromSeq: bigint, limit?: number): TxRecord[]

  /** Idempotent; `STORE_CONFLICT` if another signature of `signer` is stored for `digest`. */
  putSignature(channelId: Hex, digest: Hex, signer: number, signature: Hex): void
  getSignatures(channelId: Hex, digest: Hex): Map<number, Hex>

  /** Our signing log; `STORE_CONFLICT` if another digest was signed at (kind, fork, seq). */
  /**
   * Records our signature (or a reservation, {@link RESERVED_SIGNATURE}); the same digest again
   * is a no-op, except that a signature fills in a reservation of that digest. Another digest at
   * that (kind, fork, seq) is RuntimeError `STORE_CONFLICT`.
   */
  putOwnSignature(channelId: Hex, record: OwnSignatureRecord): void
  getOwnSignature(channelId: Hex, kind: OwnSignatureRecord['kind'], fork: bigint, seq: bigint): OwnSignatureRecord | undefined
  /** Our signatures on a fork with seq ≥ `fromSeq`, ascending. */
  getOwnSignatures(channelId: Hex, fork: bigint, fromSeq?: bigint): OwnSignatureRecord[]

  /** Small per-channel key/value facts (phase, refusals, …). */
  putMeta(channelId: Hex, key: string, value: string): void
  getMeta(channelId: Hex, key: string): string | undefined

  /**
   * Whether a commit reaches the disk (an fsync each): a channel then stores peers' signatures
   * with its next commit instead of committing each one (src/channel/Engine.ts). A store without
   * that cost (MemoryStore) stores them at once. Default false.
   */
  readonly durable?: boolean

  /** Runs `fn` atomically: all of its writes land, or none. Nests (inner calls join). */
  transaction<T>(fn: () => T): T

  /**
   * Runs `fn` (asynchronous) inside one held transaction: every `transaction` it makes, across
   * its awaits, lands in a single durable commit when it ends — on success or failure (each inner
   * `transaction` is atomic by itself). Whatever else touches the store meanwhile (another
   * channel, a listener, a reader not running inside `fn`) first commits what the hold wrote,
   * so a write or read outside `fn` never joins it nor sees it uncommitted. Where a hold is
   * already open, `fn` just runs (inside it, or after committing it). Only a durable store has
   * it (one fsync instead of several); callers run `fn` plainly where it is missing. When such an
   * outside commit fails, the hold is rolled back: `fn`'s further reads and writes and the hold
   * itself throw RuntimeError `STORE_IO` (nothing `fn` produced may leave).
   */
  hold?<T>(fn: () => Promise<T>): Promise<T>
  /** Commits what a {@link hold} wrote so far, if one is open (before anything leaves the process). */
  settle?(): void
  /**
   * Runs `fn` — and everything it starts — as code outside any {@link hold}, even when called
   * from inside one: its reads and writes commit the open hold first, never join it. Another
   * channel's input started by code running inside a hold (a turn handler that moves on a second
   * channel on the same store) carries the hold's async context; without this it would write into
   * the hold and send what it wrote before the hold commits. Present with `hold`.
   */
  apart?<T>(fn: () => T): T
  /**
   * Commits an open {@link hold} unless the caller runs inside it — what any read or write from
   * outside does — for a reader of what the store's users hold in memory: a channel's final state
   * read from outside the input that made it final is on disk first.
   */
  outside?(): void
  stats(channelId: Hex): StoreStats
  close(): void
}
