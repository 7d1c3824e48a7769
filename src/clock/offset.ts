/**
 * The pure core of {@link LogicalClock}: how block-timestamp samples become a clock offset and
 * how the offset becomes a monotonic logical time. No I/O, no hidden time source: every
 * function takes the local time it should use, so property tests can drive it.
 *
 * Why a **median of the last few samples** rather than an exponential moving average: each
 * sample (`blockTimestamp − seenAt`) is the chain clock minus our clock, blurred by block
 * propagation and polling delay and by the whole-second truncation of `block.timestamp`.
 * Occasionally one is far off (a block seen long after it was made, a node with a skewed
 * clock, a reorg to an older block). An EMA moves by α·error for every bad sample, however
 * large the error; a median over `window` samples does not move past its neighbours for a
 * single bad sample, yet follows a genuine level shift (for example `evm_increaseTime` on a
 * test chain) once it holds for more than half the window.
 *
 * Monotonicity: a higher estimate is applied at once (the chain is ahead of us, so deadlines
 * are nearer than we thought); a lower one is approached by *slewing*: the applied offset
 * falls by at most `slewRate` ms per ms of local time, so logical time keeps moving forward at
 * `1 − slewRate` of real speed until it meets the estimate. A floor (the highest logical time
 * ever returned) also absorbs local clocks that step backwards (NTP corrections).
 *
 * Known bias: samples measure when we *saw* a block, which is after it was made, so the
 * estimate trails the chain by the typical propagation delay (plus up to 1 s of truncation).
 * Callers that act on chain deadlines should keep a margin.
 */

/** Tuning of the offset filter. */
export interface OffsetConfig {
  /** Number of recent samples whose median is the estimate (odd is best; default 5). */
  window: number
  /** Maximum fall of the applied offset per ms of local time, in (0, 1] (default 0.5). */
  slewRate: number
}

/** Default filter: median of 5 blocks, logical time runs at half speed while catching up. */
export const DEFAULT_OFFSET_CONFIG: OffsetConfig = { window: 5, slewRate: 0.5 }

/** Everything the clock remembers; all times in milliseconds. */
export interface OffsetState {
  /** Recent sample offsets (chain ms − local ms), oldest first, at most `window`. */
  readonly samples: readonly number[]
  /** The estimate: median of `samples` (the lower middle for an even count); 0 with none. */
  readonly target: number
  /** The offset in force at local time `appliedAt` (slews down toward `target`). */
  readonly applied: number
  /** Local time at which `applied` was last brought up to date. */
  readonly appliedAt: number
  /** Highest logical time ever returned; logical time never goes below it. */
  readonly floor: number
}

/**
 * The state before any block was seen: offset 0, so logical time starts as local time.
 * @example let s = initialOffsetState(Date.now())
 */
export function initialOffsetState(localMs: number): OffsetState {
  return { samples: [], target: 0, applied: 0, appliedAt: localMs, floor: -Infinity }
}

/** Median of a non-empty list; the lower middle element for an even length (conservative). */
export function lowerMedian(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[(sorted.length - 1) >> 1]!
}

/**
 * The offset actually in force at `localMs`: `applied`, slewed down toward `target` for the
 * local time elapsed since `appliedAt` (never up: upward moves happen when a sample arrives).
 * A local clock that stepped back counts as no time elapsed.
 */
export function appliedOffset(state: OffsetState, localMs: number, config: OffsetConfig = DEFAULT_OFFSET_CONFIG): number {
  if (state.applied <= state.target) return state.applied
  const elapsed = Math.max(0, localMs - state.appliedAt)
  return Math.max(state.target, state.applied - elapsed * config.slewRate)
}

/**
 * Adds one sample: a block with timestamp `blockTimestampS` (seconds) seen at local time
 * `seenAtMs`, processed at local time `localMs`. Returns the new state.
 * @example s = observeSample(s, 1_700_000_000, Date.now(), Date.now())
 */
export function observeSample(
  state: OffsetState,
  blockTimestampS: number,
  seenAtMs: number,
  localMs: number,
  config: OffsetConfig = DEFAULT_OFFSET_CONFIG,
): OffsetState {
  const sample = blockTimestampS * 1000 - seenAtMs
  const samples = [...state.samples, sample].slice(-config.window)
  const target = lowerMedian(samples)
  // Bring the applied offset up to `localMs` under the old target first, so the slew
  // already performed is kept; then jump up if the new estimate is higher.
  const applied = Math.max(appliedOffset(state, localMs, config), target)
  const appliedAt = Math.max(localMs, state.appliedAt)
  return { samples, target, applied, appliedAt, floor: state.floor }
}

/**
 * Logical time (ms) at local time `localMs`, and the state with its floor raised to it.
 * Never returns less than any earlier result on the same state lineage.
 * @example const { state, logicalMs } = readLogical(s, Date.now())
 */
export function readLogical(
  state: OffsetState,
  localMs: number,
  config: OffsetConfig = DEFAULT_OFFSET_CONFIG,
): { state: OffsetState; logicalMs: number } {
  const logicalMs = Math.max(state.floor, localMs + appliedOffset(state, localMs, config))
  if (logicalMs === state.floor) return { state, logicalMs }
  return { state: { ...state, floor: logicalMs }, logicalMs }
}
