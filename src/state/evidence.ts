/**
 * Rejection codes of the verification pipeline and the evidence a provable violation carries.
 * A rejection is a {@link ProtocolError}; when the violation can be proven on-chain
 * (`proveInvalidTransition`, `proveEquivocation`) its `details.evidence` holds everything the
 * proof needs besides the prover's checkpoint.
 */
import { ProtocolError } from '../errors/ParleyError.js'
import type { TxRejectionCode } from '../errors/codes.js'
import type { Hex, Transaction } from '../protocol/types.js'

/** Every code the pipeline rejects with, in step order. */
export const TX_REJECTIONS = {
  TX_MALFORMED: 'well-formed',
  TX_WRONG_CHANNEL: 'channel',
  TX_WRONG_FORK: 'fork',
  TX_BAD_SEQ: 'seq',
  NOT_YOUR_TURN: 'actor',
  SIGNATURE_INVALID: 'author signature',
  TX_DUPLICATE: 'duplicate',
  TX_EQUIVOCATION: 'duplicate',
  TX_TIMESTAMP_REGRESSED: 'timestamp',
  TX_TIMESTAMP_SKEW: 'timestamp',
  TX_LATE: 'timestamp',
  TX_PREVIOUS_HASH_MISMATCH: 'previous hash',
  TX_INVALID_TRANSITION: 'execute',
  TX_STATE_MISMATCH: 'execute',
} as const satisfies Record<TxRejectionCode, string>

export type { TxRejectionCode }

/** A transaction with its author's signature. */
export interface AuthoredTransaction {
  transaction: Transaction
  signature: Hex
}

/**
 * Evidence of a provable violation.
 * - `InvalidTransition`: the author signed a tx whose actor is not `nextActor(previousState)`
 *   (or whose nextActor fails), whose transition fails (reverts, runs out of gas, returns no
 *   valid state), or whose result hash differs from `stateHash`. Every active signer of it is a
 *   culprit on-chain; `signatures` holds every signature we saw on it (the author's at least).
 * - `Equivocation`: `culprit` signed two different txs at one (channel, fork, seq). Every
 *   participant that signed both is a culprit on-chain; `aSignatures` / `bSignatures` hold all
 *   the signatures we saw on each.
 */
export type Evidence =
  | {
      kind: 'InvalidTransition'
      reason: 'actor' | 'reverted' | 'stateHash'
      culprit: number
      signed: AuthoredTransaction
      /** The state bytes the tx claims to extend (keccak256 = previousStateHash). */
      previousState: Hex
      signatures?: ReadonlyMap<number, Hex>
    }
  | {
      kind: 'Equivocation'
      culprit: number
      a: AuthoredTransaction
      b: AuthoredTransaction
      aSignatures?: ReadonlyMap<number, Hex>
      bSignatures?: ReadonlyMap<number, Hex>
    }

/** Builds a pipeline rejection. */
export function reject(code: TxRejectionCode, message: string, details: Record<string, unknown> = {}, cause?: unknown): ProtocolError {
  return new ProtocolError(code, message, { details: { step: TX_REJECTIONS[code], ...details }, ...(cause === undefined ? {} : { cause }) })
}

/**
 * The evidence attached to a rejection, if the violation is provable.
 * @example channel.on('error', ({ error }) => { const ev = evidenceOf(error); if (ev) disputes.prove(ev) })
 */
export function evidenceOf(e: unknown): Evidence | undefined {
  return e instanceof ProtocolError ? (e.details?.evidence as Evidence | undefined) : undefined
}

/**
 * A rejection of a transaction that arrived with several signatures (a list the chain
 * published), with its evidence widened to every signature: the contract slashes every active
 * signer of an invalid transaction and every participant that signed both sides of an
 * equivocation. `storedSignatures(digest)` gives the signatures we hold on our own side.
 * Other errors are returned unchanged.
 * @example engine.report(withSigners(error, entry, (d) => store.getSignatures(channelId, d)))
 */
export function withSigners(
  e: unknown,
  entry: { transaction: Transaction; signatures: ReadonlyMap<number, Hex> },
  storedSignatures: (digest: Hex) => ReadonlyMap<number, Hex>,
): unknown {
  const ev = evidenceOf(e)
  if (!ev || !(e instanceof ProtocolError)) return e
  let widened: Evidence
  if (ev.kind === 'InvalidTransition') {
    widened = { ...ev, signatures: entry.signatures }
  } else {
    const known = (e.details?.knownDigest as Hex | undefined)
    widened = { ...ev, bSignatures: entry.signatures, ...(known ? { aSignatures: storedSignatures(known) } : {}) }
  }
  return new ProtocolError(e.code, e.message, { details: { ...e.details, evidence: widened }, ...(e.cause === undefined ? {} : { cause: e.cause }) })
}
