/**
 * Peer: one hyperswarm connection (one per remote Noise key — hyperswarm drops duplicates) with
 * its protomux instance and the rate budget every Parley channel on it shares. All shared
 * channels ride this one connection, one PeerLink each.
 */
import type Hyperswarm from 'hyperswarm'
import Protomux from 'protomux'
import { TokenBucket } from './TokenBucket.js'
import type { Limits, Link, LinkPeer } from './links.js'

export class Peer implements LinkPeer {
  readonly mux: Protomux
  /** Links by channel id (lowercase hex). */
  readonly links = new Map<string, Link>()
  private readonly messages: TokenBucket
  private readonly bytes: TokenBucket

  constructor(readonly conn: Hyperswarm.Connection, limits: Limits, private readonly onIdleFault: (peer: Peer) => void) {
    this.mux = Protomux.from(conn)
    const m = limits.messagesPerSecond
    const b = limits.bytesPerSecond
    this.messages = new TokenBucket({ rate: m, burst: m * limits.burstSeconds })
    this.bytes = new TokenBucket({ rate: b, burst: Math.max(b * limits.burstSeconds, limits.maxMessageSize) })
  }

  /** Spends the budget for one message of `size` bytes; false when the peer is over its rate. */
  admit(size: number): boolean {
    return this.messages.take(1) && this.bytes.take(size)
  }

  /**
   * A link on this connection closed for a fault. When no verified link is left, the
   * connection itself goes: hyperswarm reconnects with its back-off, so an honest peer recovers
   * and a hostile one pays a new Noise handshake per attempt.
   */
  onFault(): void {
    queueMicrotask(() => {
      for (const l of this.links.values()) if (!l.closed && l.index !== undefined) return
      this.onIdleFault(this)
    })
  }
}
