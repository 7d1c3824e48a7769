/**
 * Backlog: what one peer should (still) receive from us, encoded, bounded by count and bytes.
 *
 * Why: a message written to a connection that dies before delivering it is lost, and a peer
 * that is offline when we broadcast gets nothing. Every protocol message is self-authenticating
 * and idempotent at the receiver (a duplicate tx or confirmation is recognised and ignored), so
 * the transport keeps the recent txs, confirmations and close signatures it sent to a peer and
 * replays them, in order, each time a verified link to that peer opens. Requests and answers
 * (sync, ping) are kept only until they were written once: a sync request queued while the peer
 * was away (a restarted Channel's re-announcement) goes out on connect, but is not repeated.
 * What overflows the bounds is dropped oldest-first and counted; the Channel's own catch-up
 * (a held tx triggers a sync request) covers it.
 */
export interface BacklogLimits {
  /** Most messages kept per peer (default 512: the last ~256 txs with our confirmations). */
  messages: number
  /** Most bytes kept per peer (default 2 MiB; bounds memory at N = 64 to ~126 MiB). */
  bytes: number
}

export const DEFAULT_BACKLOG: BacklogLimits = { messages: 512, bytes: 2 * 1024 * 1024 }

interface Item {
  bytes: Uint8Array
  /** Replay on every new link (else: drop after the first write). */
  replay: boolean
}

export class Backlog {
  private items: Item[] = []
  private size = 0
  /** Messages dropped to stay within the bounds. */
  dropped = 0

  constructor(private readonly limits: BacklogLimits = DEFAULT_BACKLOG) {}

  /**
   * Records a message for the peer. `sent`: it was just written to an open link (a one-shot
   * message then needs no keeping). Returns how many old messages were dropped for room.
   */
  push(bytes: Uint8Array, o: { replay: boolean; sent: boolean }): number {
    if (o.sent && !o.replay) return 0
    this.items.push({ bytes, replay: o.replay })
    this.size += bytes.byteLength
    let dropped = 0
    while (this.items.length > this.limits.messages || (this.size > this.limits.bytes && this.items.length > 1)) {
      this.size -= this.items.shift()!.bytes.byteLength
      dropped++
    }
    this.dropped += dropped
    return dropped
  }

  /** Writes every kept message, oldest first, through `write`; one-shot ones are then forgotten. */
  replay(write: (bytes: Uint8Array) => boolean): number {
    let n = 0
    const keep: Item[] = []
    for (const item of this.items) {
      const ok = write(item.bytes)
      if (ok) n++
      if (item.replay || !ok) keep.push(item)
      else this.size -= item.bytes.byteLength
    }
    this.items = keep
    return n
  }

  get length(): number {
    return this.items.length
  }
}
