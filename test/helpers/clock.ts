/**
 * A hand-driven {@link Clock} for tests (time moves only when the test says so).
 * Replaced by src/clock's ManualClock once it lands.
 */
import type { Clock } from '../../src/clock/Clock.js'

export class TestClock implements Clock {
  constructor(public t: bigint) {}
  now(): bigint {
    return this.t
  }
  observeBlock(): void {}
  advance(seconds: number | bigint): void {
    this.t += BigInt(seconds)
  }
}
