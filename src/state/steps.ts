/**
 * The verification pipeline's steps as pure functions, in order. Each one either returns
 * or throws its own {@link ProtocolError} code (see ./evidence.ts). No I/O: the machine
 * call of the execute step and the store lookups happen in ./pipeline.ts.
 */
import { hasBit } from '../protocol/bitmap.js'
import { recoverSigner } from '../protocol/signatures.js'
import { broadcastDeadline, latestTimestamp, type TimingParams } from '../protocol/timing.js'
import { MAX_DATA_BYTES, type Hex, type Transaction } from '../protocol/types.js'
import { reject, type AuthoredTransaction } from './evidence.js'

/** How far ahead of the head a transaction may be held until its parent arrives. */
export const MAX_AHEAD = 64n
const UINT64_MAX = (1n << 64n) - 1n

/** Where a transaction came from; the clock checks depend on it. */
export type TxSource = 'peer' | 'sync' | 'chain'

/** The channel's timing parameters (seconds) and our skew tolerance (default: `defaultSkew`). */
export interface Timing extends TimingParams {
  /** Tolerated difference between a tx timestamp and our clock. */
  skew: bigint
}

const isHex = (v: unknown, bytes?: number): v is Hex =>
  typeof v === 'string' && /^0x([0-9a-fA-F]{2})*$/.test(v) && (bytes === undefined || v.length === 2 + 2 * bytes)
const isUint64 = (v: unknown): v is bigint => typeof v === 'bigint' && v >= 0n && v <= UINT64_MAX

/** 1. Well-formed: field types and sizes; returns a copy with lowercase hex. */
export function checkWellFormed(input: unknown, n: number): AuthoredTransaction {
  const bad = (field: string, why: string) => reject('TX_MALFORMED', `malformed transaction: ${field} ${why}`, { field })
  if (typeof input !== 'object' || input === null) throw bad('message', 'is not an object')
  const { transaction: t, signature } = input as Partial<AuthoredTransaction>
  if (typeof t !== 'object' || t === null) throw bad('transaction', 'is missing')
  for (const f of ['channelId', 'previousStateHash', 'stateHash'] as const) if (!isHex(t[f], 32)) throw bad(f, 'is not 32-byte hex')
  for (const f of ['fork', 'seq', 'timestamp'] as const) if (!isUint64(t[f])) throw bad(f, 'is not a uint64 bigint')
  if (!Number.isInteger(t.actor) || t.actor < 0 || t.actor >= n) throw bad('actor', `is not a participant index below ${n}`)
  if (!isHex(t.data)) throw bad('data', 'is not hex')
  if ((t.data.length - 2) / 2 > MAX_DATA_BYTES) throw bad('data', `exceeds ${MAX_DATA_BYTES} bytes`)
  if (!isHex(signature, 65)) throw bad('signature', 'is not 65-byte hex')
  const lower = (h: Hex) => h.toLowerCase() as Hex
  return {
    transaction: {
      channelId: lower(t.channelId), fork: t.fork, seq: t.seq, timestamp: t.timestamp, actor: t.actor,
      previousStateHash: lower(t.previousStateHash), data: lower(t.data), stateHash: lower(t.stateHash),
    },
    signature: lower(signature),
  }
}

/** 2. Channel: the tx is for this channel. */
export function checkChannel(t: Transaction, channelId: Hex): void {
  if (t.channelId !== channelId) throw reject('TX_WRONG_CHANNEL', 'transaction is for another channel', { expected: channelId, got: t.channelId })
}

/** 3. Fork: the tx is on the current fork. */
export function checkFork(t: Transaction, fork: bigint): void {
  if (t.fork !== fork) throw reject('TX_WRONG_FORK', `transaction is on fork ${t.fork}, the channel is on fork ${fork}`, { expected: fork, got: t.fork })
}

/**
 * 4. Seq: the next height (`'next'`), or one we already hold (`'historic'`, checked for
 * duplicates and equivocation). A tx from the near future throws with `future: true` so the
 * caller can hold it until its parent arrives.
 */
export function checkSeq(t: Transaction, head: bigint): 'next' | 'historic' {
  if (t.seq === head + 1n) return 'next'
  if (t.seq >= 1n && t.seq <= head) return 'historic'
  const future = t.seq > head + 1n
  throw reject('TX_BAD_SEQ', `transaction seq ${t.seq} does not follow the head ${head}`, {
    expected: head + 1n, got: t.seq, future, holdable: future && t.seq <= head + 1n + MAX_AHEAD,
  })
}

/** 5. Actor: the author is the machine's next actor and active on this fork. */
export function checkActor(t: Transaction, expected: number, active: bigint): void {
  if (t.actor !== expected || !hasBit(active, t.actor)) {
    throw reject('NOT_YOUR_TURN', `participant ${t.actor} may not author seq ${t.seq}; the next actor is ${expected}`, {
      actor: t.actor, expected, active: hasBit(active, t.actor),
    })
  }
}

/** 6. Author signature: `signature` over `digest` recovers to the author's address. */
export function checkAuthorSignature(t: Transaction, digest: Hex, signature: Hex, participants: readonly Hex[]): void {
  let signer: Hex
  try {
    signer = recoverSigner(digest, signature)
  } catch (cause) {
    throw reject('SIGNATURE_INVALID', 'the author signature is invalid', { actor: t.actor }, cause)
  }
  if (signer !== participants[t.actor]!.toLowerCase()) {
    throw reject('SIGNATURE_INVALID', `the signature is not participant ${t.actor}'s`, { actor: t.actor, recovered: signer })
  }
}

/**
 * 7. Duplicate: a historic tx is either one we hold (TX_DUPLICATE, harmless) or a second tx
 * by the same author at that height (TX_EQUIVOCATION, with both signed txs as evidence).
 */
export function checkDuplicate(incoming: AuthoredTransaction, digest: Hex, known: { signed: AuthoredTransaction; digest: Hex }): never {
  if (known.digest === digest) throw reject('TX_DUPLICATE', `transaction ${incoming.transaction.seq} is already known`, { digest })
  const culprit = incoming.transaction.actor
  throw reject('TX_EQUIVOCATION', `participant ${culprit} signed two transactions at seq ${incoming.transaction.seq}`, {
    culprit, knownDigest: known.digest, evidence: { kind: 'Equivocation', culprit, a: known.signed, b: incoming },
  })
}

/**
 * 8. Timestamp vs clock (docs/protocol.md "Turns, clock and timeouts"): not before the parent
 * (T); not in our future beyond `skew`; for live peer messages, not in our past beyond `skew`;
 * not after the author's broadcast window T + p2pTime (a late tx must go through the chain).
 * A tx from the chain is judged by the chain's clock, as the contract judged it: not after the
 * publishing block's time plus the channel's skew (`chainTime`, when known).
 */
export function checkTimestamp(t: Transaction, ctx: { parentTimestamp: bigint; now: bigint; receivedAt: bigint; source: TxSource; timing: Timing; chainTime?: bigint }): void {
  const { parentTimestamp: T, now, receivedAt, source, timing } = ctx
  if (t.timestamp < T) throw reject('TX_TIMESTAMP_REGRESSED', `timestamp ${t.timestamp} is before its parent's ${T}`, { timestamp: t.timestamp, parent: T })
  if (source === 'chain') {
    const latest = ctx.chainTime === undefined ? undefined : latestTimestamp(ctx.chainTime, timing.agreementTime)
    if (latest !== undefined && t.timestamp > latest) {
      throw reject('TX_TIMESTAMP_SKEW', `timestamp ${t.timestamp} is after the chain's ${latest}`, { timestamp: t.timestamp, now: ctx.chainTime, skew: latest - ctx.chainTime! })
    }
    return
  }
  if (t.timestamp > now + timing.skew) {
    throw reject('TX_TIMESTAMP_SKEW', `timestamp ${t.timestamp} is ahead of our clock ${now} by more than ${timing.skew} s`, { timestamp: t.timestamp, now, skew: timing.skew })
  }
  if (source === 'peer' && t.timestamp + timing.skew < receivedAt) {
    throw reject('TX_TIMESTAMP_SKEW', `timestamp ${t.timestamp} is behind our clock ${receivedAt} by more than ${timing.skew} s`, { timestamp: t.timestamp, now: receivedAt, skew: timing.skew })
  }
  const deadline = broadcastDeadline(T, timing)
  if (t.timestamp > deadline) {
    throw reject('TX_LATE', `timestamp ${t.timestamp} is after the broadcast deadline ${deadline}`, { timestamp: t.timestamp, deadline })
  }
}

/** 9. Previous hash: the tx extends our head. */
export function checkPreviousHash(t: Transaction, headHash: Hex): void {
  if (t.previousStateHash !== headHash) {
    throw reject('TX_PREVIOUS_HASH_MISMATCH', `transaction ${t.seq} does not extend our state ${headHash}`, { expected: headHash, got: t.previousStateHash })
  }
}

/** 10b. State hash: the machine's result hashes to what the author claimed. */
export function checkStateHash(t: Transaction, resultHash: Hex): void {
  if (t.stateHash !== resultHash) {
    throw reject('TX_STATE_MISMATCH', `transaction ${t.seq} claims state ${t.stateHash}, the machine computed ${resultHash}`, { expected: resultHash, got: t.stateHash })
  }
}
