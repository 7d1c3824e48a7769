/**
 * A deterministic chain clock for gas figures. The contracts check every transaction's
 * timestamp against the fork's genesis time and the block time, so the benchmark stamps its
 * moves with chain time; gas depends on those bytes (calldata, signatures over them), so the
 * chain's time must not follow the wall clock. anvil starts at {@link CHAIN_START} and every
 * block is one second after the one before; waiting means jumping to an exact timestamp.
 */
import type { Anvil } from '../../src/chain/anvil.js'

/** The first block's timestamp (2027-01-15 08:00 UTC). */
export const CHAIN_START = 1_800_000_000

/** Seconds of chain time reserved for each measured section (one part at one N). */
const SECTION = 1_000_000n

/**
 * Where a section of the benchmark starts on the chain clock: part 0 (channels) or 1 (court) at
 * channel size `n`. Each section starts at its own fixed time, whatever ran before it, so a run
 * of some sizes (`--n 2,8`) gives exactly the figures of the full run (timestamps are calldata).
 */
export function sectionStart(part: 0 | 1, n: number): bigint {
  return BigInt(CHAIN_START) + SECTION * BigInt(1 + part * 100 + n)
}

/** anvil flags that start the chain at {@link CHAIN_START}. */
export const CLOCK_ARGS: readonly string[] = ['--timestamp', String(CHAIN_START)]

/** From now on each block is one second after the previous one, whatever the wall clock says. */
export async function fixClock(anvil: Anvil): Promise<void> {
  await anvil.provider.send('anvil_setBlockTimestampInterval', [1])
}

/**
 * Mines a block stamped `time` (seconds). With the fixed interval, evm_increaseTime has no
 * effect; this is how the benchmark lets a window pass.
 */
export async function mineAt(anvil: Anvil, time: bigint): Promise<void> {
  await anvil.provider.send('evm_setNextBlockTimestamp', [Number(time)])
  await anvil.provider.send('evm_mine', [])
}
