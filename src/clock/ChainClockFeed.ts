/**
 * Feeds a {@link Clock} from an ethers provider: every new block's timestamp becomes a sample,
 * stamped with the local time its number was announced (before fetching the block, so the
 * fetch round trip does not count as delay).
 */
import type { Provider } from 'ethers'
import type { Clock } from './Clock.js'

/** Options of {@link startChainClockFeed}. */
export interface ChainClockFeedOptions {
  /** Local time source in ms; must match the clock's (default `Date.now`). */
  localTime?: () => number
  /** Called when a block could not be fetched (that sample is skipped). */
  onError?: (error: unknown) => void
  /** Called after each sample is fed (block number, timestamp); handy for tests and logs. */
  onSample?: (blockNumber: number, timestamp: bigint) => void
}

/**
 * Subscribes to new blocks and feeds their timestamps to `clock`. Blocks announced while a
 * fetch is running are coalesced into the newest one; older or repeated numbers are skipped.
 * Returns the function that unsubscribes.
 * @example
 * const clock = new LogicalClock()
 * const stop = startChainClockFeed(clock, provider)
 * // … later
 * stop()
 */
export function startChainClockFeed(clock: Clock, provider: Provider, opts: ChainClockFeedOptions = {}): () => void {
  const localTime = opts.localTime ?? Date.now
  let stopped = false
  let highest = -1
  let pending: { number: number; seenAt: number } | undefined
  let fetching = false

  const drain = async (): Promise<void> => {
    fetching = true
    while (pending && !stopped) {
      const { number, seenAt } = pending
      pending = undefined
      try {
        const block = await provider.getBlock(number)
        if (stopped) break
        if (!block) throw new Error(`block ${number} not found`)
        const timestamp = BigInt(block.timestamp)
        clock.observeBlock(timestamp, seenAt)
        opts.onSample?.(number, timestamp)
      } catch (e) {
        if (!stopped) opts.onError?.(e)
      }
    }
    fetching = false
  }

  const onBlock = (blockNumber: number): void => {
    if (stopped || blockNumber <= highest) return
    highest = blockNumber
    pending = { number: blockNumber, seenAt: localTime() }
    if (!fetching) void drain()
  }

  const report = (e: unknown): void => opts.onError?.(e)
  provider.on('block', onBlock).catch(report)
  return () => {
    if (stopped) return
    stopped = true
    provider.off('block', onBlock).catch(report)
  }
}
