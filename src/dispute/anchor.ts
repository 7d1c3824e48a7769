/**
 * Pure rules for building what the court needs from our history: who supports each of our
 * transactions (virtual voting), and the candidate list of a timeout dispute — linked
 * transactions ending at the latest one we signed, anchored by finality or by the fork genesis,
 * at most |A| of them (docs/protocol.md §7.2).
 */
import { bitCount, bitIndices, hasBit } from '../protocol/bitmap.js'
import { packSignedTransaction } from '../protocol/signatures.js'
import type { Hex, PackedSignedTransaction, Transaction } from '../protocol/types.js'

/** A stored transaction with the signatures we hold on it. */
export interface SignedEntry {
  transaction: Transaction
  signatures: ReadonlyMap<number, Hex>
}

/**
 * For linked entries (ascending), the participants supporting each one: the signers of it or of
 * any later entry.
 * @example supportersOf([{ signers: 0b001n }, { signers: 0b010n }]) // [0b011n, 0b010n]
 */
export function supportersOf(entries: readonly { signers: bigint }[]): bigint[] {
  const out = new Array<bigint>(entries.length)
  let acc = 0n
  for (let i = entries.length - 1; i >= 0; i--) {
    acc |= entries[i]!.signers
    out[i] = acc
  }
  return out
}

function signersOf(e: SignedEntry, active: bigint): bigint {
  let m = 0n
  for (const i of e.signatures.keys()) if (hasBit(active, i)) m |= 1n << BigInt(i)
  return m
}

/**
 * The shortest candidate list for a timeout whose candidate is the last of `run` (linked
 * entries ending at the latest transaction we signed; at least the last |A| of them, or all
 * since seq 1): a suffix that is a finality proof of its first entry, or the whole run from
 * seq 1 when it extends `genesisHash`. Undefined when no suffix of at most |A| entries is
 * anchored (we signed beyond the window, docs/protocol.md §5.6). Signatures of inactive
 * participants are left out.
 *
 * @example const list = timeoutCandidates(entries, fork.stateHash, fork.active)
 */
export function timeoutCandidates(run: readonly SignedEntry[], genesisHash: Hex, active: bigint): PackedSignedTransaction[] | undefined {
  const A = bitCount(active)
  const members = bitIndices(active)
  const last = run.length - 1
  if (last < 0) return undefined
  let support = 0n
  for (let i = last; i >= 0 && last - i < A; i--) {
    const e = run[i]!
    if (!e.signatures.has(e.transaction.actor) || !hasBit(active, e.transaction.actor)) return undefined
    support |= signersOf(e, active)
    const fromGenesis = e.transaction.seq === 1n && e.transaction.previousStateHash === genesisHash
    if (support === active || fromGenesis) {
      return run.slice(i).map((x) => packSignedTransaction({ transaction: x.transaction, signatures: new Map(x.signatures) }, members))
    }
  }
  return undefined
}
