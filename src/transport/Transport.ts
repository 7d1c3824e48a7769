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
  /** Stops sending and receiving. Idempotent. */
  close(): Promise<void>
}
