/**
 * A token bucket: `rate` tokens per second refill up to `burst`; each event spends some.
 * Used per peer link for messages and for bytes. Pure apart from the injectable clock.
 */
export interface TokenBucketOptions {
  /** Tokens added per second. `Infinity` disables the limit. */
  rate: number
  /** Bucket size (the largest burst); defaults to `rate`. */
  burst?: number
  /** Milliseconds clock (default `performance.now`). */
  now?: () => number
}

export class TokenBucket {
  private tokens: number
  private last: number
  private readonly rate: number
  private readonly burst: number
  private readonly now: () => number

  constructor(opts: TokenBucketOptions) {
    this.rate = opts.rate
    this.burst = opts.burst ?? opts.rate
    this.now = opts.now ?? (() => performance.now())
    this.tokens = this.burst
    this.last = this.now()
  }

  /**
   * Spends `cost` tokens if available; returns false (and spends nothing) otherwise.
   * @example if (!bucket.take(bytes.length)) closePeer('RATE_LIMITED')
   */
  take(cost = 1): boolean {
    if (this.rate === Infinity) return true
    const t = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate)
    this.last = t
    if (this.tokens < cost) return false
    this.tokens -= cost
    return true
  }
}
