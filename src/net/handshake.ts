/**
 * Identity binding: proves that the Noise key at the other end of a connection belongs to a
 * channel participant's Ethereum account. Pure functions; P2PManager sends the proof in the
 * protomux channel-open message and checks the peer's before it lets any message through.
 *
 * The proof is an EIP-191 (`personal_sign`, version 0x45) signature by the participant's
 * account over
 *
 *     keccak256("parley/net/handshake/v1" ‖ channelId ‖ signerNoiseKey ‖ verifierNoiseKey ‖ handshakeHash)
 *
 * where `handshakeHash` is the Noise transcript hash of this very connection (equal on both
 * ends, different for every connection). It therefore cannot be replayed on another channel,
 * towards another peer, or on a later connection between the same two keys. EIP-191 rather than
 * EIP-712: the proof is not a protocol statement the chain ever verifies, and the channel id
 * already commits to the chain id and manager address.
 */
import { concat, hashMessage, keccak256, toUtf8Bytes, type SigningKey } from 'ethers'
import { ProtocolError } from '../errors/ParleyError.js'
import { recoverSigner, signDigest } from '../protocol/signatures.js'
import type { Hex } from '../protocol/types.js'
import { decode, encode, sig65, u16, u8, type Codec } from './codec.js'

/** Domain tag of the signed handshake payload. */
export const HANDSHAKE_TAG = 'parley/net/handshake/v1'
/** Wire version of the handshake; a peer sending another one is refused. */
export const HANDSHAKE_VERSION = 1

/** What a peer sends when it opens the protomux channel of a Parley channel. */
export interface Handshake {
  version: number
  /** The sender's participant index. */
  index: number
  /** EIP-191 signature (65 bytes) over {@link handshakeDigest}. */
  signature: Hex
}

/** Connection facts both ends know; keys are as seen by the signer. */
export interface HandshakeContext {
  channelId: Hex
  signerKey: Uint8Array
  verifierKey: Uint8Array
  handshakeHash: Uint8Array
}

export const handshakeCodec: Codec<Handshake> = {
  preencode(s) {
    s.end += 1 + 2 + 65
  },
  encode(s, h) {
    u8.encode(s, h.version)
    u16.encode(s, h.index)
    sig65.encode(s, h.signature)
  },
  decode: (s) => ({ version: u8.decode(s), index: u16.decode(s), signature: sig65.decode(s) }),
}

/** The digest a participant signs to bind its Noise key to this connection and channel. */
export function handshakeDigest(ctx: HandshakeContext): Hex {
  const inner = keccak256(concat([toUtf8Bytes(HANDSHAKE_TAG), ctx.channelId, ctx.signerKey, ctx.verifierKey, ctx.handshakeHash]))
  return hashMessage(Buffer.from(inner.slice(2), 'hex')) as Hex
}

/**
 * Our handshake for one connection, encoded for the protomux open message.
 * @example channel.open(createHandshake(wallet.signingKey, 0, { channelId, signerKey: conn.publicKey, verifierKey: conn.remotePublicKey, handshakeHash: conn.handshakeHash }))
 */
export function createHandshake(key: SigningKey, index: number, ctx: HandshakeContext): Uint8Array {
  return encode(handshakeCodec, { version: HANDSHAKE_VERSION, index, signature: signDigest(key, handshakeDigest(ctx)) }, 'handshake')
}

/**
 * Checks a peer's handshake and returns its participant index. Throws DecodeError
 * `MESSAGE_MALFORMED` for bad bytes, ProtocolError `HANDSHAKE_INVALID` (wrong version, our own
 * index, a signature by another participant or not over this connection) or
 * `PEER_NOT_PARTICIPANT` (the index is out of range or the signer is not a participant).
 * @example const index = verifyHandshake(bytes, { channelId, participants, me, signerKey: conn.remotePublicKey, verifierKey: conn.publicKey, handshakeHash: conn.handshakeHash })
 */
export function verifyHandshake(bytes: Uint8Array, ctx: HandshakeContext & { participants: readonly Hex[]; me: number }): number {
  const h = decode(handshakeCodec, bytes, 'handshake')
  if (h.version !== HANDSHAKE_VERSION) throw new ProtocolError('HANDSHAKE_INVALID', `unsupported handshake version ${h.version}`, { details: { version: h.version } })
  if (h.index >= ctx.participants.length) {
    throw new ProtocolError('PEER_NOT_PARTICIPANT', `claims index ${h.index} of a ${ctx.participants.length}-party channel`, { details: { index: h.index } })
  }
  if (h.index === ctx.me) throw new ProtocolError('HANDSHAKE_INVALID', `claims our own index ${h.index}`, { details: { index: h.index } })
  let recovered: Hex
  try {
    recovered = recoverSigner(handshakeDigest(ctx), h.signature)
  } catch (cause) {
    throw new ProtocolError('HANDSHAKE_INVALID', 'handshake signature is malformed', { cause, details: { index: h.index } })
  }
  const expected = ctx.participants[h.index]!.toLowerCase()
  if (recovered === expected) return h.index
  const other = ctx.participants.findIndex((p) => p.toLowerCase() === recovered)
  if (other === -1) {
    throw new ProtocolError('PEER_NOT_PARTICIPANT', `handshake for index ${h.index} is signed by ${recovered}, no participant of this channel (or not over this connection)`, {
      details: { index: h.index, recovered },
    })
  }
  throw new ProtocolError('HANDSHAKE_INVALID', `participant ${other} claims to be participant ${h.index}`, { details: { index: h.index, recovered, signer: other } })
}
