/**
 * One channel's records in a {@link Store}, typed: each per-channel fact behind a named accessor
 * (the keys are ./metaKeys.ts; nobody else spells them), and the one mapping between a stored
 * transaction — its {@link TxRecord} and the signatures stored for its digest — and the shape the
 * ledger keeps in memory ({@link SignedRecord}, which the ledger's `Entry` is). The channel's
 * modules read and write their records through it; it adds no transaction of its own (callers
 * group writes with `store.transaction`).
 */
import { bitmapOf } from '../protocol/bitmap.js'
import type { Hex } from '../protocol/types.js'
import { META } from './metaKeys.js'
import type { ForkRecord, OwnSignatureRecord, Store, TxRecord } from './types.js'

/** A stored transaction with every signature stored for it (by participant index) and their bitmap. */
export interface SignedRecord extends TxRecord {
  signatures: Map<number, Hex>
  signers: bigint
}

/**
 * @example
 * const records = new ChannelRecords(store, channelId)
 * const e = records.entry(0n, 5n) // seq 5 of fork 0 with its signatures
 * store.transaction(() => { records.putEntry(next); records.setRefusers(0n, 0b100n) })
 */
export class ChannelRecords {
  constructor(
    readonly store: Store,
    readonly channelId: Hex,
  ) {}

  // ─── transactions ──────────────────────────────────────────────────────────────────────

  /** The transaction stored at (`fork`, `seq`), without its signatures. */
  tx(fork: bigint, seq: bigint): TxRecord | undefined {
    return this.store.getTx(this.channelId, fork, seq)
  }

  /** The transactions of `fork` from `fromSeq` on, ascending (at most `limit`), without their signatures. */
  txs(fork: bigint, fromSeq: bigint, limit?: number): TxRecord[] {
    return this.store.getTxs(this.channelId, fork, fromSeq, limit)
  }

  /** The transaction stored at (`fork`, `seq`) with every signature stored for it. */
  entry(fork: bigint, seq: bigint): SignedRecord | undefined {
    const r = this.store.getTx(this.channelId, fork, seq)
    return r && this.signed(r)
  }

  /** The transactions of `fork` from `fromSeq` on, ascending (at most `limit`), each with its signatures. */
  entries(fork: bigint, fromSeq: bigint, limit?: number): SignedRecord[] {
    return this.store.getTxs(this.channelId, fork, fromSeq, limit).map((r) => this.signed(r))
  }

  /** Stores a transaction, its state and the signatures it holds. */
  putEntry(e: SignedRecord): void {
    for (const [i, sig] of e.signatures) this.store.putSignature(this.channelId, e.digest, i, sig)
    this.store.putTx(this.channelId, { transaction: e.transaction, digest: e.digest, state: e.state, nextActor: e.nextActor, receivedAt: e.receivedAt })
  }

  /** Stores one more signature of the transaction `digest`. */
  putSignature(digest: Hex, signer: number, signature: Hex): void {
    this.store.putSignature(this.channelId, digest, signer, signature)
  }

  /** Every signature stored for `digest`, by participant index. */
  signatures(digest: Hex): Map<number, Hex> {
    return this.store.getSignatures(this.channelId, digest)
  }
  /** Our signature (or reservation) of `kind` at (`fork`, `seq`) in the signing log: one per height, one close per fork (seq 0). */
  ownSignature(kind: OwnSignatureRecord['kind'], fork: bigint, seq: bigint): OwnSignatureRecord | undefined {
    return this.store.getOwnSignature(this.channelId, kind, fork, seq)
  }

  /** Logs our signature (or a reservation) in the signing log (Store.putOwnSignature's rules). */
  putOwnSignature(record: OwnSignatureRecord): void {
    this.store.putOwnSignature(this.channelId, record)
  }

  /** Our signatures (the signing log) on `fork` from height `fromSeq` on, ascending. */
  ownSignatures(fork: bigint, fromSeq = 0n): OwnSignatureRecord[] {
    return this.store.getOwnSignatures(this.channelId, fork, fromSeq)
  }

  /** Every fork the chain set for this channel, ascending (fork 0 is the open's genesis). */
  forks(): ForkRecord[] {
    return this.store.getForks(this.channelId)
  }

  /** Stores a fork the chain set (StateSet). */
  putFork(f: ForkRecord): void {
    this.store.putFork(this.channelId, f)
  }

  /** Marks `fork` disputed on-chain (or no longer). */
  setForkDisputed(fork: bigint, disputed = true): void {
    this.store.setForkDisputed(this.channelId, fork, disputed)
  }


  // ─── per-channel facts ─────────────────────────────────────────────────────────────────

  /** The channel's local phase as stored (channel/phase.ts parses it). */
  phase(): string | undefined {
    return this.store.getMeta(this.channelId, META.phase)
  }

  setPhase(phase: string): void {
    this.store.putMeta(this.channelId, META.phase, phase)
  }

  /** A final seq of `fork` to restore from (0: none stored). */
  finalHint(fork: bigint): bigint {
    return BigInt(this.store.getMeta(this.channelId, META.final(fork)) ?? '0')
  }

  setFinalHint(fork: bigint, seq: bigint): void {
    this.store.putMeta(this.channelId, META.final(fork), String(seq))
  }

  /** Participants that refused our transactions on `fork` (bitmap). */
  refusers(fork: bigint): bigint {
    return BigInt(this.store.getMeta(this.channelId, META.refusers(fork)) ?? '0')
  }

  setRefusers(fork: bigint, refusers: bigint): void {
    this.store.putMeta(this.channelId, META.refusers(fork), String(refusers))
  }

  /** Our transactions on `fork` up to this seq make no refusers (their deadline passed while we were stopped). */
  excused(fork: bigint): bigint {
    return BigInt(this.store.getMeta(this.channelId, META.excused(fork)) ?? '0')
  }

  setExcused(fork: bigint, seq: bigint): void {
    this.store.putMeta(this.channelId, META.excused(fork), String(seq))
  }

  /** Our cooperative close in progress (JSON, the CloseCoordinator's). */
  close(): string | undefined {
    return this.store.getMeta(this.channelId, META.close)
  }

  setClose(json: string): void {
    this.store.putMeta(this.channelId, META.close, json)
  }

  /** The court's state (JSON, the DisputeHandler's). */
  courtState(): string | undefined {
    return this.store.getMeta(this.channelId, META.courtState)
  }

  setCourtState(json: string): void {
    this.store.putMeta(this.channelId, META.courtState, json)
  }

  private signed(r: TxRecord): SignedRecord {
    const signatures = this.store.getSignatures(this.channelId, r.digest)
    return { ...r, signatures, signers: bitmapOf(signatures.keys()) }
  }
}
