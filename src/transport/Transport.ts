/**
 * What a Channel talks through: messages to one participant or to all, a receive handler,
 * and close. One Transport per channel and participant. Implementations: the in-memory hub
 * (tests, benchmarks) and hyperswarm (networking issue), which encodes messages to bytes and
 * authenticates peers; the Channel never sees bytes and verifies every signature itself.
 */
import type { Message } from './messages.js'

/** Called for every message that arrives; `from` is the sender's participant index. */
export type MessageHandler = (from: number, message: Message) => void

export interface Transport {
  /** Our own participant index. */
  readonly me: number
  /**
   * Sends `message` to participant `to`. Resolves once handed to the network (not when
   * delivered); a peer that is offline simply does not receive it — catch-up sync covers it.
   * Rejects with RuntimeError `TRANSPORT_CLOSED` after {@link close}.
   */
  send(to: number, message: Message): Promise<void>
  /** Sends `message` to every other participant. */
  broadcast(message: Message): Promise<void>
  /** Subscribes to incoming messages; returns the unsubscribe function. */
  onMessage(handler: MessageHandler): () => void
  /**
   * Optional: subscribes to link changes — `up` each time a link to participant `index` opens
   * (first connect, reconnect, a restarted peer), `down` when none is left. A Channel asks the
   * peer for catch-up on every `up`, so moves it missed while the link was down arrive even
   * when they are too old to travel as live messages. Returns the unsubscribe function.
   */
  onPeer?(handler: (index: number, up: boolean) => void): () => void
  /** Stops sending and receiving. Idempotent. */
  close(): Promise<void>
}
