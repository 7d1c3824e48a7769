/**
 * One peer's record of a channel's current fork: the signed transactions, the states they
 * lead to, the signatures collected, and what is final under virtual voting
 * (src/protocol/finality.ts). The client SDK's AgreementManager replaces this later; the demo
 * keeps its own small version so every rule it shows is visible in ~100 lines.
 */
import { ProtocolError } from '../src/errors/ParleyError.js'
import { fullBitmap, bitmapOf } from '../src/protocol/bitmap.js'
import { hashState, type ParleyHasher } from '../src/protocol/eip712.js'
import { checkFinalityProof, latestFinal, proofLength } from '../src/protocol/finality.js'
import { packSignedTransaction, recoverSigner } from '../src/protocol/signatures.js'
import type { Hex, PackedSignedTransaction, Transaction } from '../src/protocol/types.js'

interface Entry {
  transaction: Transaction
  digest: Hex
  state: Hex
  signatures: Map<number, Hex>
}

export class ChannelView {
  readonly active: bigint
  private readonly entries: Entry[] = []

  constructor(
    readonly channelId: Hex,
    readonly participants: readonly Hex[],
    readonly hasher: ParleyHasher,
    readonly genesis: { state: Hex; fork: bigint },
  ) {
    this.active = fullBitmap(participants.length)
  }

  /** The latest state (seq 0 = the fork's genesis). */
  head(): { seq: bigint; state: Hex; stateHash: Hex } {
    const last = this.entries.at(-1)
    if (!last) return { seq: 0n, state: this.genesis.state, stateHash: hashState(this.genesis.state) }
    return { seq: last.transaction.seq, state: last.state, stateHash: last.transaction.stateHash }
  }

  /** Appends a transaction whose state the caller has computed and checked. */
  append(transaction: Transaction, state: Hex): void {
    const head = this.head()
    if (transaction.seq !== head.seq + 1n || transaction.previousStateHash !== head.stateHash) {
      throw new ProtocolError('TX_NOT_LINKED', `tx ${transaction.seq} does not extend seq ${head.seq}`)
    }
    this.entries.push({ transaction, digest: this.hasher.transaction(transaction), state, signatures: new Map() })
  }

  /** Records participant `index`'s signature on tx `seq` after checking who signed it. */
  addSignature(seq: bigint, index: number, signature: Hex): void {
    const e = this.entry(seq)
    const signer = recoverSigner(e.digest, signature)
    if (signer !== this.participants[index]) {
      throw new ProtocolError('SIGNER_MISMATCH', `signature on tx ${seq} is not participant ${index}'s`, { details: { signer } })
    }
    e.signatures.set(index, signature)
  }

  /** The EIP-712 digest of tx `seq`. */
  digest(seq: bigint): Hex {
    return this.entry(seq).digest
  }

  /** Indices that support tx `seq`: they signed it or a later tx (virtual voting). */
  support(seq: bigint): number[] {
    let map = 0n
    for (const e of this.entries.slice(Number(seq) - 1)) map |= bitmapOf(e.signatures.keys())
    return this.participants.map((_, i) => i).filter((i) => ((map >> BigInt(i)) & 1n) === 1n)
  }

  /** Seq of the latest final tx (0 = only the genesis is final). */
  latestFinalSeq(): bigint {
    const k = latestFinal(this.signerMaps(), this.active)
    return k < 0 ? 0n : this.entries[k]!.transaction.seq
  }

  /** The state after tx `seq`. */
  stateAt(seq: bigint): Hex {
    return seq === 0n ? this.genesis.state : this.entry(seq).state
  }

  /**
   * The shortest finality proof of tx `seq` from the signatures held, optionally using only
   * each transaction's author signature (pure virtual voting). Checked with the reference rule.
   */
  finalityProof(seq: bigint, opts: { authorsOnly?: boolean } = {}): PackedSignedTransaction[] {
    const k = Number(seq) - 1
    const maps = opts.authorsOnly
      ? this.entries.map((e) => 1n << BigInt(e.transaction.actor))
      : this.signerMaps()
    const len = proofLength(maps, k, this.active)
    if (len === 0) throw new ProtocolError('NOT_FINAL', `tx ${seq} has no finality proof yet`)
    const proof = this.entries.slice(k, k + len).map((e) =>
      packSignedTransaction(e, opts.authorsOnly ? [e.transaction.actor] : undefined),
    )
    const verdict = checkFinalityProof({ channelId: this.channelId, fork: this.genesis.fork, active: this.active }, proof)
    if (!verdict.final) throw new ProtocolError('PROOF_INVALID', `proof of tx ${seq} fails: ${verdict.fault}`)
    return proof
  }

  private signerMaps(): bigint[] {
    return this.entries.map((e) => bitmapOf(e.signatures.keys()))
  }

  private entry(seq: bigint): Entry {
    const e = this.entries[Number(seq) - 1]
    if (!e) throw new ProtocolError('TX_UNKNOWN', `no tx with seq ${seq}`)
    return e
  }
}
