/**
 * Agreement rules as pure functions: when to confirm, who refused us, how far finality moved.
 * Finality itself is src/protocol/finality.ts (the contract's rule); this file only applies it.
 */
import { bitCount, hasBit } from '../protocol/bitmap.js'
import { latestFinal, proofLength } from '../protocol/finality.js'
import { broadcastDeadline, confirmationDeadline } from '../protocol/timing.js'
import type { Entry } from '../state/ledger.js'
import type { Timing } from '../state/steps.js'

/** Why we do not confirm a transaction (or `undefined`: confirm it). */
export type NoConfirmReason = 'own' | 'late' | 'refuser' | 'disputed' | 'closing' | 'inactive'


/**
 * The refusal rules: never confirm our own tx (we authored it), a tx that reached us after
 * its confirmation deadline, a tx by a peer that refused ours, or anything on a disputed or
 * closing fork, or when we are no longer active.
 *
 * @example if (!noConfirmReason({ ... })) sign(entry)
 */
export function noConfirmReason(x: {
  author: number
  me: number
  active: bigint
  receivedAt: bigint
  parentTimestamp: bigint
  timing: Timing
  refusers: bigint
  disputed: boolean
  closing: boolean
}): NoConfirmReason | undefined {
  if (x.author === x.me) return 'own'
  if (x.disputed) return 'disputed'
  if (x.closing) return 'closing'
  if (!hasBit(x.active, x.me)) return 'inactive'
  if (x.receivedAt > confirmationDeadline(x.parentTimestamp, x.timing)) return 'late'
  if (hasBit(x.refusers, x.author)) return 'refuser'
  return undefined
}

/**
 * Participants who refused one of our txs (docs/protocol.md §6.5): for each tx we authored
 * whose confirmation deadline passed at `now`, every active participant whose signature on
 * that very tx we do not hold. `window[i].parentTimestamp` is the timestamp its deadline
 * counts from. (A later tx by the peer does not count: an honest client confirms first.)
 * A tx whose `timestamp` is past its broadcast window (`parentTimestamp + p2pTime`) was
 * published through the chain — a late post or a timeout response — and no peer was allowed to
 * confirm it: it makes no refusers. Nor does an `excused` one: a tx of ours whose confirmation
 * deadline passed while we were stopped (we cannot know that it ever reached anyone in time).
 *
 * @example refusersOf([{ author: 0, signers: 0b011n, parentTimestamp: 100n }], { me: 0, active: 0b111n, now: 191n, timing }) // 0b100n
 */
export function refusersOf(
  window: readonly { author: number; signers: bigint; parentTimestamp: bigint; timestamp?: bigint; excused?: boolean }[],
  x: { me: number; active: bigint; now: bigint; timing: Timing },
): bigint {
  let refusers = 0n
  for (const w of window) {
    if (w.excused === true) continue
    if (w.timestamp !== undefined && w.timestamp > broadcastDeadline(w.parentTimestamp, x.timing)) continue
    if (w.author === x.me && x.now > confirmationDeadline(w.parentTimestamp, x.timing)) refusers |= x.active & ~w.signers
  }
  return refusers & ~(1n << BigInt(x.me))
}

/**
 * How many entries of the finality window became final: the window holds the entries after
 * the current final one, ascending. Returns 0 when none did.
 */
export function newlyFinal(window: readonly Entry[], active: bigint): number {
  return latestFinal(window.map((e) => e.signers), active) + 1
}

/**
 * Length of the contract-bounded proof for `entries[0]` (entries linked, ascending), or 0 if
 * none fits in A = |active| transactions.
 */
export function proofSpan(entries: readonly { signers: bigint }[], active: bigint): number {
  return proofLength(entries.slice(0, bitCount(active)).map((e) => e.signers), 0, active)
}
