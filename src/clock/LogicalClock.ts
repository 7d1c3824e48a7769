/**
 * The client's logical clock: local time plus an offset learned from block timestamps,
 * smoothed, outlier-tolerant and monotonic. A thin shell over the pure rules in `offset.ts`
 * (read there why a median and how the clock catches up without going back).
 */
import { UsageError } from '../errors/ParleyError.js'
import { acceptableTimestamp } from '../protocol/timing.js'
import type { Clock } from './Clock.js'
import {
  DEFAULT_OFFSET_CONFIG,
  initialOffsetState,
  observeSample,
  readLogical,
  type OffsetConfig,
  type OffsetState,
} from './offset.js'

/** Options of {@link LogicalClock}. */
export interface LogicalClockOptions {
  /** Local time source in ms (default `Date.now`); inject one in tests. */
  localTime?: () => number
  /** Samples in the median (default 5). */
  window?: number
  /** Catch-up speed when the estimate falls, in (0, 1] (default 0.5: half speed). */
  slewRate?: number
  /**
   * Default tolerance (seconds) of {@link LogicalClock.acceptable}: how far a transaction's
   * timestamp may be from our clock. Channels pass their own (`defaultSkew(agreementTime)`).
   * Default 1 s, the protocol's minimum.
   */
  skewSeconds?: bigint
}

/** Largest block timestamp (s) whose millisecond value is still an exact JS number. */
const MAX_TIMESTAMP_S = BigInt(Math.floor(Number.MAX_SAFE_INTEGER / 1000))

/**
 * @example
 * const clock = new LogicalClock()
 * const stop = startChainClockFeed(clock, provider)
 * if (!clock.acceptable(tx.timestamp, prev.timestamp, defaultSkew(params.agreementTime))) reject()
 */
export class LogicalClock implements Clock {
  /** Default skew tolerance of {@link acceptable}, seconds. */
  readonly skew: bigint
  private readonly localTime: () => number
  private readonly config: OffsetConfig
  private state: OffsetState

  constructor(opts: LogicalClockOptions = {}) {
    const window = opts.window ?? DEFAULT_OFFSET_CONFIG.window
    const slewRate = opts.slewRate ?? DEFAULT_OFFSET_CONFIG.slewRate
    if (!Number.isInteger(window) || window < 1) {
      throw new UsageError('CLOCK_CONFIG_INVALID', `window must be a positive integer, got ${window}`)
    }
    if (!(slewRate > 0 && slewRate <= 1)) {
      throw new UsageError('CLOCK_CONFIG_INVALID', `slewRate must be in (0, 1], got ${slewRate}`)
    }
    this.skew = opts.skewSeconds ?? 1n
    if (typeof this.skew !== 'bigint' || this.skew < 0n) {
      throw new UsageError('CLOCK_CONFIG_INVALID', `skewSeconds must be a non-negative bigint, got ${String(this.skew)}`)
    }
    this.localTime = opts.localTime ?? Date.now
    this.config = { window, slewRate }
    this.state = initialOffsetState(this.localTime())
  }

  /** Logical time in whole seconds (like `block.timestamp`). Never decreases. */
  now(): bigint {
    return BigInt(Math.floor(this.nowMs() / 1000))
  }

  /** Logical time in milliseconds. Never decreases. */
  nowMs(): number {
    const { state, logicalMs } = readLogical(this.state, this.localTime(), this.config)
    this.state = state
    return logicalMs
  }

  /**
   * Feeds a block timestamp (seconds) seen at local time `seenAtMs` (default: now).
   * Throws UsageError `CLOCK_SAMPLE_INVALID` for a negative or absurd timestamp.
   */
  observeBlock(blockTimestamp: bigint, seenAtMs?: number): void {
    if (typeof blockTimestamp !== 'bigint' || blockTimestamp < 0n || blockTimestamp > MAX_TIMESTAMP_S) {
      throw new UsageError('CLOCK_SAMPLE_INVALID', `block timestamp must be a bigint in [0, ${MAX_TIMESTAMP_S}], got ${String(blockTimestamp)}`)
    }
    const local = this.localTime()
    const seen = seenAtMs ?? local
    if (!Number.isFinite(seen)) {
      throw new UsageError('CLOCK_SAMPLE_INVALID', `seenAtMs must be a finite number, got ${String(seenAtMs)}`)
    }
    this.state = observeSample(this.state, Number(blockTimestamp), seen, local, this.config)
  }

  /** Current offset estimate (chain − local, ms); the applied offset converges to it. */
  get offsetMs(): number {
    return this.state.target
  }

  /** Number of samples in the filter window. */
  get sampleCount(): number {
    return this.state.samples.length
  }

  /**
   * Whether a transaction timestamp is acceptable after a previous one at `prevTimestamp`:
   * not before it and within `skew` seconds of this clock (see `acceptableTimestamp`).
   */
  acceptable(txTimestamp: bigint, prevTimestamp: bigint, skew: bigint = this.skew): boolean {
    return acceptableTimestamp(txTimestamp, prevTimestamp, this.now(), skew)
  }
}
