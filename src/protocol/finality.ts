/**
 * The finality rule (virtual voting), as a pure reference of the contract's verifier
 * (AFinality._verifyFinality) and the rule the AgreementManager applies.
 *
 * A participant supports transaction k if it signed k or a later transaction of the same fork
 * linked to k. Transaction k is final when every active participant supports it, provable with
 * at most A = |active| linked transactions starting at k (the contract's bound).
 */
import { bitCount, hasBit } from './bitmap.js'
import { MAX_DATA_BYTES, type Hex, type Transaction } from './types.js'

/** Contract error names the verdict uses, so tests can compare them one to one. */
export type FinalityFault =
  | 'ProofLengthInvalid'
  | 'ProofChannelMismatch'
  | 'ProofForkMismatch'
  | 'ProofNotLinked'
  | 'ProofDataTooLarge'
  | 'ProofTimestampInvalid'
  | 'ProofActorInvalid'
  | 'ProofActorNotSigned'
  | 'SignerInactive'
  | 'ProofNotFinal'

export type FinalityVerdict =
  | { final: true; stateHash: Hex; seq: bigint }
  | { final: false; fault: FinalityFault; index: number; missing?: bigint }

/** A proof entry with its signer bitmap (signatures assumed checked separately). */
export interface ProofEntry {
  transaction: Transaction
  signers: bigint
}

/**
 * What a list is checked against: the channel, its current fork and active set, and — as the
 * contract checks them wherever a list enters it — the timestamp bounds: `earliest` is the fork
 * genesis timestamp (the first entry's floor; later entries' is their parent's) and `latest` the
 * block's time plus the channel's skew ({@link latestTimestamp}). Without them only the rest is
 * checked (a client re-checking a proof it built itself).
 */
export interface ListContext {
  channelId: Hex
  fork: bigint
  active: bigint
  earliest?: bigint
  latest?: bigint
}

/** How a list of signed transactions fares against the contract's entry checks. */
export type ListVerdict =
  | { ok: true; support: bigint; last: bigint }
  | { ok: false; fault: FinalityFault; index: number }

/**
 * Checks a list entry by entry exactly as the contract's `_verifyList` does, minus the ECDSA
 * checks (the caller verifies each signature against the participant its bit names): at most
 * |active| entries; per entry, in this order, channel, fork, seq ≥ 1 and linked to the one
 * before, data ≤ MAX_DATA_BYTES, timestamp within [floor, latest], active author, author
 * signed, only active signers. Returns the union of the signers and the last entry's.
 *
 * @example const v = checkList({ channelId, fork, active, earliest: genesisTs, latest }, txs)
 */
export function checkList(ctx: ListContext, list: readonly ProofEntry[]): ListVerdict {
  if (list.length > bitCount(ctx.active)) return { ok: false, fault: 'ProofLengthInvalid', index: 0 }
  let support = 0n
  let last = 0n
  for (let i = 0; i < list.length; i++) {
    const { transaction: t, signers } = list[i]!
    const fault = (f: FinalityFault): ListVerdict => ({ ok: false, fault: f, index: i })
    if (t.channelId.toLowerCase() !== ctx.channelId.toLowerCase()) return fault('ProofChannelMismatch')
    if (t.fork !== ctx.fork) return fault('ProofForkMismatch')
    if (t.seq === 0n) return fault('ProofNotLinked')
    let floor = ctx.earliest
    if (i > 0) {
      const prev = list[i - 1]!.transaction
      if (t.seq !== prev.seq + 1n || t.previousStateHash.toLowerCase() !== prev.stateHash.toLowerCase()) return fault('ProofNotLinked')
      floor = prev.timestamp
    }
    if ((t.data.length - 2) / 2 > MAX_DATA_BYTES) return fault('ProofDataTooLarge')
    if ((floor !== undefined && t.timestamp < floor) || (ctx.latest !== undefined && t.timestamp > ctx.latest)) return fault('ProofTimestampInvalid')
    if (!hasBit(ctx.active, t.actor)) return fault('ProofActorInvalid')
    if (!hasBit(signers, t.actor)) return fault('ProofActorNotSigned')
    if ((signers & ~ctx.active) !== 0n) return fault('SignerInactive')
    support |= signers
    last = signers
  }
  return { ok: true, support, last }
}

/**
 * Checks a finality proof exactly as the contract does (a non-empty {@link checkList} whose
 * signers cover the active set), minus the ECDSA checks.
 *
 * @example
 * const v = checkFinalityProof({ channelId, fork: 0n, active: 0b111n }, proof)
 * if (v.final) settleFrom(v.stateHash)
 */
export function checkFinalityProof(ctx: ListContext, proof: readonly ProofEntry[]): FinalityVerdict {
  if (proof.length === 0) return { final: false, fault: 'ProofLengthInvalid', index: 0 }
  const v = checkList(ctx, proof)
  if (!v.ok) return { final: false, fault: v.fault, index: v.index }
  if (v.support !== ctx.active) return { final: false, fault: 'ProofNotFinal', index: proof.length - 1, missing: ctx.active & ~v.support }
  return { final: true, stateHash: proof[0]!.transaction.stateHash, seq: proof[0]!.transaction.seq }
}

/**
 * For a linked run of transactions with signer bitmaps (`signers[i]` for the i-th, ascending
 * seq), the length of the shortest proof that makes entry `k` final, or 0 if none fits in the
 * bound A = |active|.
 */
export function proofLength(signers: readonly bigint[], k: number, active: bigint): number {
  const max = bitCount(active)
  let support = 0n
  for (let j = k; j < signers.length && j - k < max; j++) {
    support |= signers[j]! & active
    if (support === active) return j - k + 1
  }
  return 0
}

/**
 * The index of the latest final entry in a linked run (see {@link proofLength}), or -1.
 *
 * @example latestFinal([0b01n, 0b10n], 0b11n) === 0 // entry 1 is only supported by its author
 */
export function latestFinal(signers: readonly bigint[], active: bigint): number {
  for (let k = signers.length - 1; k >= 0; k--) if (proofLength(signers, k, active) > 0) return k
  return -1
}
