/**
 * The in-memory view of the current fork: its genesis, the accepted transactions that are not
 * yet final (plus the latest final one) with their signatures, the head and the final anchor.
 * StateManager appends to it; AgreementManager adds signatures and moves finality. Older
 * entries live only in the store.
 */
import { UsageError } from '../errors/ParleyError.js'
import type { Hex, Transaction } from '../protocol/types.js'
import type { ForkRecord } from '../store/types.js'

/** An accepted transaction with what we know about it. */
export interface Entry {
  transaction: Transaction
  digest: Hex
  /** The state the transaction produced. */
  state: Hex
  /** `nextActor(state)`. */
  nextActor: number
  /** Our clock when it reached us (seconds). */
  receivedAt: bigint
  /** Verified signatures by participant index (the author's is always present). */
  signatures: Map<number, Hex>
  /** Bitmap of `signatures`' keys. */
  signers: bigint
}

/** A state the fork can build on: the genesis (seq 0) or an accepted transaction's result. */
export interface Anchor {
  seq: bigint
  state: Hex
  stateHash: Hex
  timestamp: bigint
  nextActor: number
}

/** The anchor of an entry. */
export function anchorOf(e: Entry): Anchor {
  return { seq: e.transaction.seq, state: e.state, stateHash: e.transaction.stateHash, timestamp: e.transaction.timestamp, nextActor: e.nextActor }
}

export class Ledger {
  /** Entries with seq ≥ final.seq (the final one, when it is a tx, and everything after). */
  private readonly entries = new Map<bigint, Entry>()
  /** The latest accepted state. */
  head: Anchor
  /** The latest final state (the genesis until a transaction is final). */
  final: Anchor

  constructor(
    readonly fork: ForkRecord,
    genesisNextActor: number,
  ) {
    const genesis: Anchor = { seq: 0n, state: fork.state, stateHash: fork.stateHash, timestamp: fork.timestamp, nextActor: genesisNextActor }
    this.head = genesis
    this.final = genesis
  }

  /** The entry at `seq` if it is still in memory (seq ≥ final.seq). */
  get(seq: bigint): Entry | undefined {
    return this.entries.get(seq)
  }

  /** Entries after the final one, ascending (the finality window). */
  pending(): Entry[] {
    const out: Entry[] = []
    for (let s = this.final.seq + 1n; s <= this.head.seq; s++) out.push(this.entries.get(s)!)
    return out
  }

  /** Restore: `e` is the latest known final entry of a fresh ledger. */
  restoreFinal(e: Entry): void {
    if (this.head.seq !== 0n) throw new UsageError('LEDGER_NOT_FRESH', 'restoreFinal needs a ledger at its genesis')
    this.entries.set(e.transaction.seq, e)
    this.head = anchorOf(e)
    this.final = this.head
  }

  /** Appends the next entry; it must extend the head. */
  append(e: Entry): void {
    const t = e.transaction
    if (t.seq !== this.head.seq + 1n || t.previousStateHash !== this.head.stateHash || t.fork !== this.fork.fork) {
      throw new UsageError('LEDGER_NOT_LINKED', `entry ${t.seq} does not extend the head ${this.head.seq}`)
    }
    this.entries.set(t.seq, e)
    this.head = anchorOf(e)
  }

  /** Marks `seq` final; returns the newly final entries, ascending, and forgets older ones. */
  finalize(seq: bigint): Entry[] {
    if (seq <= this.final.seq) return []
    const out: Entry[] = []
    for (let s = this.final.seq + 1n; s <= seq; s++) out.push(this.entries.get(s)!)
    for (let s = this.final.seq; s < seq; s++) this.entries.delete(s)
    this.final = anchorOf(out[out.length - 1]!)
    return out
  }
}
