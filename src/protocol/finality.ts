/**
 * The finality rule (virtual voting), as a pure reference of the contract's verifier
 * (AFinality._verifyFinality) and the rule the AgreementManager applies.
 *
 * A participant supports transaction k if it signed k or a later transaction of the same fork
 * linked to k. Transaction k is final when every active participant supports it, provable with
 * at most A = |active| linked transactions starting at k (the contract's bound).
 */
import { bitCount, hasBit } from './bitmap.js'
import type { Hex, Transaction } from './types.js'

/** Contract error names the verdict uses, so tests can compare them one to one. */
export type FinalityFault =
  | 'ProofLengthInvalid'
  | 'ProofChannelMismatch'
  | 'ProofForkMismatch'
  | 'ProofNotLinked'
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
 * Checks a finality proof exactly as the contract does, minus the ECDSA checks (the caller
 * verifies each signature against the participant its bit names).
 *
 * @example
 * const v = checkFinalityProof({ channelId, fork: 0n, active: 0b111n }, proof)
 * if (v.final) settleFrom(v.stateHash)
 */
export function checkFinalityProof(
  ctx: { channelId: Hex; fork: bigint; active: bigint },
  proof: readonly ProofEntry[],
): FinalityVerdict {
  const max = bitCount(ctx.active)
  if (proof.length === 0 || proof.length > max) return { final: false, fault: 'ProofLengthInvalid', index: 0 }
  let support = 0n
  for (let i = 0; i < proof.length; i++) {
    const { transaction: t, signers } = proof[i]!
    if (t.channelId.toLowerCase() !== ctx.channelId.toLowerCase()) return { final: false, fault: 'ProofChannelMismatch', index: i }
    if (t.fork !== ctx.fork) return { final: false, fault: 'ProofForkMismatch', index: i }
    if (t.seq === 0n) return { final: false, fault: 'ProofNotLinked', index: i }
    if (i > 0) {
      const prev = proof[i - 1]!.transaction
      if (t.seq !== prev.seq + 1n || t.previousStateHash.toLowerCase() !== prev.stateHash.toLowerCase()) {
        return { final: false, fault: 'ProofNotLinked', index: i }
      }
    }
    if (!hasBit(ctx.active, t.actor)) return { final: false, fault: 'ProofActorInvalid', index: i }
    if (!hasBit(signers, t.actor)) return { final: false, fault: 'ProofActorNotSigned', index: i }
    if ((signers & ~ctx.active) !== 0n) return { final: false, fault: 'SignerInactive', index: i }
    support |= signers
  }
  if (support !== ctx.active) return { final: false, fault: 'ProofNotFinal', index: proof.length - 1, missing: ctx.active & ~support }
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
