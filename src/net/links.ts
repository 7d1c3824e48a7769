/**
 * What the three objects of a connection know of each other, as interfaces below them: a
 * {@link LinkPeer} (one hyperswarm connection, ./Peer.ts) carries one {@link Link} per Parley
 * channel (./PeerLink.ts), and each link belongs to one {@link LinkChannel} (./NetChannel.ts).
 * They refer to each other both ways; through these interfaces none imports another.
 */
import type { SigningKey } from 'ethers'
import type Hyperswarm from 'hyperswarm'
import type Protomux from 'protomux'
import type { ParleyError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import type { Message } from '../transport/messages.js'
import type { Logger } from './logger.js'

/** Per-peer bounds. */
export interface Limits {
  /** Largest message accepted from a peer, in bytes. */
  maxMessageSize: number
  /** Messages per second a peer may send (token bucket; `Infinity` = unlimited). */
  messagesPerSecond: number
  /** Bytes per second a peer may send. */
  bytesPerSecond: number
  /** Bucket sizes as seconds of the rates (the burst a peer may send at once). */
  burstSeconds: number
}

/** One connection, as its links see it. */
export interface LinkPeer {
  readonly conn: Hyperswarm.Connection
  readonly mux: Protomux
  /** Links by channel id (lowercase hex). */
  readonly links: Map<string, Link>
  /** Spends the budget for one message of `size` bytes; false when the peer is over its rate. */
  admit(size: number): boolean
  /** A link on this connection closed for a fault. */
  onFault(): void
}

/** One Parley channel on one connection, as its peer and its channel see it. */
export interface Link {
  /** The peer's participant index, once its handshake verified. */
  readonly index: number | undefined
  readonly closed: boolean
  /** Why this link closed, if a fault closed it. */
  readonly error: ParleyError | undefined
  readonly peer: LinkPeer
  sendBytes(bytes: Uint8Array): boolean
  accept(): void
  probe(timeoutMs: number): Promise<boolean>
  close(error?: ParleyError): void
}

/** One Parley channel on the network, as its links see it. */
export interface LinkChannel {
  readonly channelId: Hex
  /** Lowercase channel id. */
  readonly key: string
  readonly idBytes: Buffer
  readonly participants: readonly Hex[]
  readonly me: number
  readonly signer: SigningKey
  readonly limits: Limits
  readonly log: Logger
  /** A link's handshake verified. */
  attach(link: Link): void
  /** A link closed (either side, or the connection went). */
  detach(link: Link, isRemote: boolean): void
  /** A verified, decoded message. */
  deliver(from: number, message: Message): void
  /** A link's handshake failed. */
  handshakeRefused(info: { remoteKey: Uint8Array; error: ParleyError }): void
}
