/**
 * Errors of the networking layer. All are {@link ParleyError}s with a stable `code`:
 *
 * | code | class | meaning |
 * |---|---|---|
 * | `MESSAGE_MALFORMED` | {@link DecodeError} | bytes from a peer are not a valid encoding |
 * | `MESSAGE_INVALID` | {@link EncodeError} | we were asked to send a message that cannot be encoded |
 * | `MESSAGE_TOO_LARGE` | ProtocolError | a peer's message exceeds `maxMessageSize` |
 * | `RATE_LIMITED` | ProtocolError | a peer exceeded its message or byte budget |
 * | `HANDSHAKE_INVALID` | ProtocolError | a peer's identity proof is malformed or for another key |
 * | `PEER_NOT_PARTICIPANT` | ProtocolError | the proof is valid but names no other participant |
 * | `PEER_DUPLICATE` | ProtocolError | a second link for a participant whose link answers a probe |
 * | `PEER_UNRESPONSIVE` | RuntimeError | a participant's link that did not answer a probe, replaced |
 * | `PEER_NOT_CONNECTED` | RuntimeError | no verified link to that participant right now |
 * | `NET_CLOSED` | RuntimeError | the manager or channel was closed |
 * | `NET_CONFIG_INVALID` | UsageError | a bad option |
 *
 * A peer's fault (ProtocolError) closes that peer's protomux channel and is logged; it never
 * throws out of an event handler, so a hostile peer cannot crash the process.
 */
import { ProtocolError, UsageError } from '../errors/ParleyError.js'

/** Bytes received from a peer that do not decode. Carries the codec name and the offset. */
export class DecodeError extends ProtocolError {
  override name = 'DecodeError'
  constructor(codec: string, reason: string, opts: { offset?: number; cause?: unknown } = {}) {
    super('MESSAGE_MALFORMED', `malformed ${codec} message: ${reason}`, {
      details: { codec, ...(opts.offset === undefined ? {} : { offset: opts.offset }) },
      cause: opts.cause,
    })
  }
}

/** A message we were asked to send does not fit its wire type (a caller bug, not a peer's). */
export class EncodeError extends UsageError {
  override name = 'EncodeError'
  constructor(codec: string, reason: string, opts: { cause?: unknown } = {}) {
    super('MESSAGE_INVALID', `cannot encode ${codec} message: ${reason}`, { details: { codec }, cause: opts.cause })
  }
}
