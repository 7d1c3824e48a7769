/**
 * The logical clock every client keeps: local time corrected by an offset learned from block
 * timestamps (seconds, like `block.timestamp`). It is subjective; the chain decides when it
 * matters. Implementations: `LogicalClock` (smoothed, monotonic) and a manual clock for tests.
 */
export interface Clock {
  /** Current logical time in whole seconds. Never decreases. */
  now(): bigint
  /** Feeds one observed block timestamp (seconds) and the local time it was seen at (ms). */
  observeBlock(blockTimestamp: bigint, seenAtMs?: number): void
}
