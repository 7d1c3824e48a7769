/**
 * What the court (src/dispute) may see and do of a channel — and nothing else. The court reads
 * the ledger and the stored evidence inside the channel's queue, signs a late move or a response
 * through the channel, and keeps its own state beside the channel's; it never reaches into the
 * Engine's components, so the Engine can change without breaking the court.
 */
import type { ChannelParams, Hex, PackedSignedTransaction, Transaction } from '../protocol/types.js'
import type { Entry, Ledger } from '../state/ledger.js'
import type { ForkRecord, OwnSignatureRecord, Store, TxRecord } from '../store/types.js'
import type { CloseReady } from './CloseCoordinator.js'
import type { ChannelPhase } from './phase.js'

/** The ledger as the court reads it (inside a job): the current fork, head, final state and pending entries. */
export type LedgerView = Pick<Ledger, 'fork' | 'head' | 'final' | 'get' | 'pending'>

/** A channel's transactions and signatures as stored (what survives a restart). */
export interface StoredEvidence {
  /** The stored transaction at `seq` of `fork`. */
  txAt(fork: bigint, seq: bigint): TxRecord | undefined
  /** Stored transactions of `fork` from `fromSeq` on, at most `limit`. */
  txsFrom(fork: bigint, fromSeq: bigint, limit: number): TxRecord[]
  /** Every signature we hold of the transaction `digest`, by participant. */
  signaturesOf(digest: Hex): Map<number, Hex>
  /** What we signed on `fork` from `fromSeq` on. */
  ownSignaturesFrom(fork: bigint, fromSeq: bigint): OwnSignatureRecord[]
  /** The channel's forks, oldest first. */
  forks(): ForkRecord[]
}

/**
 * The channel as its court sees it.
 * @example const port = courtPortOf(channel); const head = await port.job(async () => port.ledger().head)
 */
export interface CourtPort extends StoredEvidence {
  readonly channelId: Hex
  readonly params: ChannelParams
  readonly me: number
  /** The channel's phase now. */
  phase(): ChannelPhase
  /** Whether the channel instance was disposed. */
  disposed(): boolean
  /** Runs `fn` in the channel's queue: the ledger does not move meanwhile. */
  job<T>(fn: () => Promise<T>): Promise<T>
  /** In a job: the channel's ledger, to read. */
  ledger(): LedgerView
  /** The channel's logical clock. */
  now(): bigint
  /** The EIP-712 digest of a transaction of this channel. */
  digest(t: Transaction): Hex
  /** The close every active participant signed, ready to submit, if any. */
  closeReady(): CloseReady | undefined
  /** A finality proof of the latest final transaction (throws when only an ancestor of it is final). */
  finalityProof(): PackedSignedTransaction[]
  /** Our move signed now, stored before it is returned; `response`: the accused's move in a timeout. */
  lateMove(data: Hex, opts?: { response?: boolean }): Promise<Entry>
  /** Whether the machine says `state` is terminal. */
  isTerminal(state: Hex): Promise<boolean>
  /** The court's saved state (JSON), if any. */
  courtState(): string | undefined
  /** Saves the court's state (JSON) beside the channel's. */
  saveCourtState(json: string): void
  /** The store where the chain listener keeps this channel's cursor. */
  readonly cursorStore: Store
}
