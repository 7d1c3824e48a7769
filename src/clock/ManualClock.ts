/**
 * A clock that only moves when told to: for tests and simulations.
 */
import { UsageError } from '../errors/ParleyError.js'
import type { Clock } from './Clock.js'

/** Options of {@link ManualClock}. */
export interface ManualClockOptions {
  /** When true, `observeBlock` advances the clock to the block's timestamp if it is later. */
  followBlocks?: boolean
}

/**
 * @example
 * const clock = new ManualClock(1_700_000_000n)
 * clock.advance(61n) // past the broadcast deadline
 */
export class ManualClock implements Clock {
  /** The last block timestamp observed (undefined before any). */
  lastBlock: bigint | undefined
  private time: bigint
  private readonly followBlocks: boolean

  constructor(start: bigint = 0n, opts: ManualClockOptions = {}) {
    if (typeof start !== 'bigint' || start < 0n) throw new UsageError('CLOCK_TIME_INVALID', `start must be a non-negative bigint, got ${String(start)}`)
    this.time = start
    this.followBlocks = opts.followBlocks ?? false
  }

  now(): bigint {
    return this.time
  }

  /** Sets the time; throws UsageError `CLOCK_BACKWARDS` if that would move it back. */
  set(time: bigint): void {
    if (typeof time !== 'bigint' || time < this.time) {
      throw new UsageError('CLOCK_BACKWARDS', `a clock never goes back: ${String(time)} < ${this.time}`)
    }
    this.time = time
  }

  /** Moves the time forward by `seconds` (≥ 0). */
  advance(seconds: bigint): void {
    if (typeof seconds !== 'bigint' || seconds < 0n) {
      throw new UsageError('CLOCK_BACKWARDS', `advance needs a non-negative bigint, got ${String(seconds)}`)
    }
    this.time += seconds
  }

  observeBlock(blockTimestamp: bigint): void {
    this.lastBlock = blockTimestamp
    if (this.followBlocks && blockTimestamp > this.time) this.time = blockTimestamp
  }
}
