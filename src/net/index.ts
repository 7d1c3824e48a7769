/**
 * `parley/net`: the networking layer under `HyperswarmTransport`, for tools and other clients —
 * the wire codec of protocol messages, the handshake binding a Noise key to a participant's
 * address, channel topics, link probes, limits, and the transport's message types.
 */
/// <reference path="./types/hyperswarm.d.ts" preserve="true" />
/// <reference path="./types/hyperdht.d.ts" preserve="true" />
/// <reference path="./types/protomux.d.ts" preserve="true" />
export { P2PManager, DEFAULT_LIMITS, type P2PManagerOptions, type JoinOptions } from './P2PManager.js'
export { HyperswarmTransport, type HyperswarmTransportOptions, type PeerHandler, type TransportStats } from './HyperswarmTransport.js'
export { NetChannel, type NetChannelEvents } from './NetChannel.js'
export type { Limits } from './links.js'
export { DEFAULT_BACKLOG, type BacklogLimits } from './Backlog.js'
export { DecodeError, EncodeError } from './errors.js'
export { encodeMessage, decodeMessage, TAGS as MESSAGE_TAGS, MAX_SYNC_ENTRIES } from './wire.js'
export { channelTopic, TOPIC_TAG } from './topic.js'
export { createHandshake, verifyHandshake, handshakeDigest, HANDSHAKE_TAG, type Handshake, type HandshakeContext } from './handshake.js'
export { encodeProbe, decodeProbe, type Probe } from './probe.js'
export { defaultLogger, silentLogger, type Logger } from './logger.js'
export type { Transport, MessageHandler } from '../transport/Transport.js'
export type { Message, MessageType, TxMessage, ConfirmMessage, SyncRequestMessage, SyncResponseMessage, CloseMessage, PingMessage } from '../transport/messages.js'
