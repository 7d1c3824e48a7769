/**
 * The protocol's timing rules as pure functions (seconds, like `block.timestamp`).
 *
 * After a transaction with timestamp `T`:
 * - the next actor must **broadcast** its transaction by `T + p2pTime`;
 * - peers **confirm** a transaction only if it reached them by `T + p2pTime + agreementTime`
 *   (on their own clock) and its timestamp is acceptable (see {@link acceptableTimestamp});
 * - a transaction **posted** on-chain counts as in time if its block time is at most
 *   `T + p2pTime + agreementTime + chainFallbackTime`; the contract accepts a timeout dispute
 *   only after that instant (`block.timestamp >` the posting deadline).
 *
 * Every deadline here is the last second that is still on time: `now <= deadline` is in time.
 */

/** The three off-chain timing parameters of a channel (from ChannelParams). */
export interface TimingParams {
  p2pTime: number
  agreementTime: number
  chainFallbackTime: number
}

/** The deadlines that follow a transaction (all inclusive, seconds). */
export interface Deadlines {
  /** The next actor broadcasts by this time. */
  broadcast: bigint
  /** Peers confirm only what reached them by this time. */
  confirmation: bigint
  /** A post on-chain by this block time is in time; a timeout dispute needs a later block. */
  posting: bigint
}

/**
 * The deadlines after a transaction with timestamp `prevTimestamp`.
 * @example
 * const d = deadlines(tx.timestamp, params)
 * if (clock.now() > d.confirmation) refuse()
 */
export function deadlines(prevTimestamp: bigint, params: TimingParams): Deadlines {
  const broadcast = prevTimestamp + BigInt(params.p2pTime)
  const confirmation = broadcast + BigInt(params.agreementTime)
  return { broadcast, confirmation, posting: confirmation + BigInt(params.chainFallbackTime) }
}

/** `T + p2pTime`. @example broadcastDeadline(100n, params) // 160n for p2pTime 60 */
export function broadcastDeadline(prevTimestamp: bigint, params: TimingParams): bigint {
  return deadlines(prevTimestamp, params).broadcast
}

/** `T + p2pTime + agreementTime`. @example confirmationDeadline(100n, params) */
export function confirmationDeadline(prevTimestamp: bigint, params: TimingParams): bigint {
  return deadlines(prevTimestamp, params).confirmation
}

/** `T + p2pTime + agreementTime + chainFallbackTime`. @example postingDeadline(100n, params) */
export function postingDeadline(prevTimestamp: bigint, params: TimingParams): bigint {
  return deadlines(prevTimestamp, params).posting
}

/**
 * The default skew tolerance: half the agreement time, at least 1 s.
 * @example defaultSkew(30) // 15n
 */
export function defaultSkew(agreementTime: number): bigint {
  const half = BigInt(Math.floor(agreementTime / 2))
  return half < 1n ? 1n : half
}

/**
 * The latest timestamp the contract accepts on any transaction in a block stamped `blockTime`:
 * the block's time plus the channel's skew, `defaultSkew(agreementTime)`. A client never lets
 * its own skew exceed this, so whatever it accepts from its clock, the chain accepts too.
 * @example latestTimestamp(1_000n, 30) // 1_015n
 */
export function latestTimestamp(blockTime: bigint, agreementTime: number): bigint {
  return blockTime + defaultSkew(agreementTime)
}

/** How long consents to open a channel stay valid by default (seconds): one day. */
export const CONSENT_VALIDITY = 86_400

/**
 * The `openDeadline` of channel params gathered at `now` (seconds, chain time): consents are
 * meant to be used soon, and one left unused must not open a channel its signers no longer
 * want, whenever someone gathers the rest.
 * @example const params = { ...rest, openDeadline: openDeadline(BigInt(await provider.getBlock('latest').then((b) => b!.timestamp))) }
 */
export function openDeadline(now: bigint, validFor: number = CONSENT_VALIDITY): bigint {
  return now + BigInt(validFor)
}

/** Why a transaction timestamp is not acceptable. */
export type TimestampProblem = 'BEFORE_PREVIOUS' | 'OUTSIDE_SKEW'

/**
 * The reason a timestamp is unacceptable, or undefined when it is fine: it must not be
 * earlier than the previous transaction's (`BEFORE_PREVIOUS`) and must be within `skew`
 * seconds of the local clock `now`, in either direction (`OUTSIDE_SKEW`).
 * @example timestampProblem(tx.timestamp, prev.timestamp, clock.now(), 15n) // undefined
 */
export function timestampProblem(txTimestamp: bigint, prevTimestamp: bigint, now: bigint, skew: bigint): TimestampProblem | undefined {
  if (txTimestamp < prevTimestamp) return 'BEFORE_PREVIOUS'
  const diff = txTimestamp > now ? txTimestamp - now : now - txTimestamp
  return diff > skew ? 'OUTSIDE_SKEW' : undefined
}

/**
 * `tx.timestamp ≥ T` and `|tx.timestamp − now| ≤ skew`.
 * @example acceptableTimestamp(105n, 100n, 110n, 15n) // true
 */
export function acceptableTimestamp(txTimestamp: bigint, prevTimestamp: bigint, now: bigint, skew: bigint): boolean {
  return timestampProblem(txTimestamp, prevTimestamp, now, skew) === undefined
}
