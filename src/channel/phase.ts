/**
 * The lifecycle of a channel as one peer sees it, with the moves allowed between phases.
 * Anything else is a bug or a misuse and throws UsageError `PHASE_TRANSITION_INVALID`.
 *
 * ```
 * Open ─close() / a peer's close─▶ Closing ─ChannelClosed─▶ Closed
 * Open / Closing ─DisputeRaised─▶ Disputed ─ChannelClosed─▶ Closed
 * Disputed ─DisputeCancelled─▶ Open, or Closing when we signed a close on the fork
 * Closing / Disputed ─StateSet─▶ Open        Open ─ChannelClosed─▶ Closed (conclude)
 * Open / Closing / Disputed ─the open reorganised away─▶ Unopened ─the same open back─▶ Open (or Closing)
 * ```
 * Closed comes only from the chain (ChannelClosed), never from collecting signatures: a close
 * every participant signed stays Closing until the chain settles it. A StateSet (new fork)
 * voids a close signed on the old fork; a cancelled timeout leaves it valid.
 */
import { UsageError } from '../errors/ParleyError.js'

export enum ChannelPhase {
  /** Transactions flow. */
  Open = 'open',
  /** We signed CloseChannel: no more transactions on this fork; collecting signatures, then until the chain settles it. */
  Closing = 'closing',
  /** A dispute is open on-chain on the current fork: nothing is signed until a new fork. */
  Disputed = 'disputed',
  /** The chain settled the channel (ChannelClosed): final. */
  Closed = 'closed',
  /**
   * A reorganisation took the open away: the chain holds no such channel (its deposits are free
   * again), so nothing is signed or confirmed until the same open (same genesis) is back.
   */
  Unopened = 'unopened',
}

const ALLOWED: Record<ChannelPhase, readonly ChannelPhase[]> = {
  [ChannelPhase.Open]: [ChannelPhase.Closing, ChannelPhase.Disputed, ChannelPhase.Closed, ChannelPhase.Unopened],
  [ChannelPhase.Closing]: [ChannelPhase.Closed, ChannelPhase.Disputed, ChannelPhase.Open, ChannelPhase.Unopened],
  [ChannelPhase.Disputed]: [ChannelPhase.Open, ChannelPhase.Closing, ChannelPhase.Closed, ChannelPhase.Unopened],
  [ChannelPhase.Closed]: [],
  [ChannelPhase.Unopened]: [ChannelPhase.Open, ChannelPhase.Closing],
}

/** Whether `from → to` is a legal move. */
export function canTransition(from: ChannelPhase, to: ChannelPhase): boolean {
  return ALLOWED[from].includes(to)
}

/**
 * Throws UsageError `PHASE_TRANSITION_INVALID` unless `from → to` is legal.
 * @example assertTransition(ChannelPhase.Open, ChannelPhase.Closing)
 */
export function assertTransition(from: ChannelPhase, to: ChannelPhase): void {
  if (!canTransition(from, to)) {
    throw new UsageError('PHASE_TRANSITION_INVALID', `a channel cannot go from ${from} to ${to}`, { details: { from, to } })
  }
}

/** Parses a stored phase name. */
export function parsePhase(value: string | undefined): ChannelPhase {
  const p = Object.values(ChannelPhase).find((v) => v === value)
  return p ?? ChannelPhase.Open
}
