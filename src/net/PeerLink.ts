/**
 * PeerLink: one Parley channel on one connection — a protomux channel (protocol `parley/1`,
 * id = channel id bytes) whose first act is the identity handshake. Until the peer's proof
 * verifies nothing it sends is delivered; after that every message passes the bounds (size,
 * rate), the strict decoder, and reaches the NetChannel tagged with the peer's verified index —
 * once the NetChannel accepted the link as that participant's (until then, while it checks
 * that an older link to the same participant is dead, they are held). Link probes (./probe.ts)
 * are answered here, below the Channel. Any fault closes this link only (never the process,
 * never the other channels on the connection) with a typed error and a log line.
 */
import { randomInt } from 'node:crypto'
import c from 'compact-encoding'
import type Protomux from 'protomux'
import { ParleyError, ProtocolError } from '../errors/ParleyError.js'
import type { Message } from '../transport/messages.js'
import { createHandshake, verifyHandshake } from './handshake.js'
import { short } from './logger.js'
import type { Link, LinkChannel, LinkPeer } from './links.js'
import { decodeProbe, encodeProbe, type Probe } from './probe.js'
import { decodeMessage, encodeMessage } from './wire.js'

/** Most messages held from a link that is not accepted yet (a replayed backlog fits). */
export const MAX_HELD_MESSAGES = 4096

/** Protomux protocol name of a Parley channel (wire version 1). */
export const PROTOCOL = 'parley/1'

export class PeerLink implements Link {
  /** The peer's participant index, once its handshake verified. */
  index: number | undefined
  closed = false
  /** Why this link closed, if a fault closed it. */
  error: ParleyError | undefined
  /** Whether the NetChannel made it the link of participant {@link index}: only then it carries messages. */
  accepted = false
  private readonly channel: Protomux.Channel | null
  private data!: Protomux.Message<Uint8Array>
  private probes!: Protomux.Message<Uint8Array>
  private held: Message[] = []
  private readonly waiting = new Map<number, (alive: boolean) => void>()

  /** Opens the link; returns undefined when protomux already has one for this channel. */
  static open(peer: LinkPeer, net: LinkChannel): PeerLink | undefined {
    const link = new PeerLink(peer, net)
    if (!link.channel) return undefined
    peer.links.set(net.key, link)
    return link
  }

  private constructor(readonly peer: LinkPeer, readonly net: LinkChannel) {
    const ch = peer.mux.createChannel({
      protocol: PROTOCOL,
      id: net.idBytes,
      unique: true,
      handshake: c.raw,
      onopen: (hs: Uint8Array) => this.onopen(hs),
      onclose: (isRemote: boolean) => this.onclose(isRemote),
    })
    this.channel = ch
    if (!ch) return
    this.data = ch.addMessage({ encoding: c.raw, onmessage: (b: Uint8Array) => this.onmessage(b) })
    this.probes = ch.addMessage({ encoding: c.raw, onmessage: (b: Uint8Array) => this.onprobe(b) })
    const conn = peer.conn
    ch.open(createHandshake(net.signer, net.me, { channelId: net.channelId, signerKey: conn.publicKey, verifierKey: conn.remotePublicKey, handshakeHash: conn.handshakeHash }))
  }

  /** Sends one message; false if the link is not (or no longer) open. */
  send(message: Message): boolean {
    return this.sendBytes(encodeMessage(message))
  }

  /** Sends pre-encoded bytes (broadcast encodes once); false unless the link is accepted and open. */
  sendBytes(bytes: Uint8Array): boolean {
    if (this.closed || !this.accepted) return false
    this.data.send(bytes)
    return true
  }

  /**
   * The NetChannel made this the participant's link: it carries messages from now on, and what
   * arrived while it was being checked is delivered, in order.
   */
  accept(): void {
    if (this.closed || this.accepted || this.index === undefined) return
    this.accepted = true
    const held = this.held
    this.held = []
    for (const m of held) this.net.deliver(this.index, m)
  }

  /**
   * Whether the other end answers a ping on this link within `timeoutMs` (false as soon as the
   * link closes). Answered by the peer's network layer, so a busy Channel does not look dead.
   * @example if (!(await old.probe(5_000))) old.close()
   */
  probe(timeoutMs: number): Promise<boolean> {
    if (this.closed || this.index === undefined) return Promise.resolve(false)
    const nonce = randomInt(2 ** 32)
    return new Promise((resolve) => {
      const done = (alive: boolean) => {
        clearTimeout(timer)
        this.waiting.delete(nonce)
        resolve(alive)
      }
      const timer = setTimeout(() => done(false), timeoutMs)
      this.waiting.set(nonce, done)
      this.probes.send(encodeProbe({ kind: 'ping', nonce }))
    })
  }

  /** Closes the link; `error` marks it as the peer's fault. */
  close(error?: ParleyError): void {
    if (error && !this.error) this.error = error
    this.channel?.close()
  }

  private onopen(handshake: Uint8Array): void {
    const conn = this.peer.conn
    const net = this.net
    try {
      this.index = verifyHandshake(handshake, {
        channelId: net.channelId, participants: net.participants, me: net.me,
        signerKey: conn.remotePublicKey, verifierKey: conn.publicKey, handshakeHash: conn.handshakeHash,
      })
    } catch (e) {
      const error = e instanceof ParleyError ? e : new ProtocolError('HANDSHAKE_INVALID', String(e), { cause: e })
      net.log.warn('refused peer: identity handshake failed', { channel: short(net.channelId), peer: short(conn.remotePublicKey), code: error.code, reason: error.message })
      this.error = error
      net.handshakeRefused({ remoteKey: conn.remotePublicKey, error })
      this.channel?.close()
      this.peer.onFault()
      return
    }
    net.attach(this)
  }

  private onmessage(bytes: Uint8Array): void {
    // protomux may still drain messages queued before a close; they are not delivered
    if (this.closed || this.index === undefined || !this.bounded(bytes)) return
    let message: Message
    try {
      message = decodeMessage(bytes)
    } catch (e) {
      return this.fault(e as ParleyError)
    }
    if (this.accepted) return this.net.deliver(this.index, message)
    if (this.held.length >= MAX_HELD_MESSAGES) {
      return this.fault(new ProtocolError('RATE_LIMITED', `peer sent more than ${MAX_HELD_MESSAGES} messages before its link was accepted`, { details: { held: this.held.length } }))
    }
    this.held.push(message)
  }

  /** A link probe: a ping is answered at once on this link, a pong settles our probe. */
  private onprobe(bytes: Uint8Array): void {
    if (this.closed || this.index === undefined || !this.bounded(bytes)) return
    let probe: Probe
    try {
      probe = decodeProbe(bytes)
    } catch (e) {
      return this.fault(e as ParleyError)
    }
    if (probe.kind === 'ping') this.probes.send(encodeProbe({ kind: 'pong', nonce: probe.nonce }))
    else this.waiting.get(probe.nonce)?.(true)
  }

  /** Size and rate bounds of every message from the peer; a violation closes the link. */
  private bounded(bytes: Uint8Array): boolean {
    const max = this.net.limits.maxMessageSize
    if (bytes.byteLength > max) {
      this.fault(new ProtocolError('MESSAGE_TOO_LARGE', `message of ${bytes.byteLength} bytes exceeds the limit of ${max}`, { details: { size: bytes.byteLength, max } }))
      return false
    }
    if (!this.peer.admit(bytes.byteLength)) {
      this.fault(new ProtocolError('RATE_LIMITED', 'peer exceeded its message rate', { details: { size: bytes.byteLength } }))
      return false
    }
    return true
  }

  private fault(error: ParleyError): void {
    this.net.log.warn('closed peer link: protocol violation', { channel: short(this.net.channelId), peer: short(this.peer.conn.remotePublicKey), index: this.index, code: error.code, reason: error.message })
    this.close(error)
    this.peer.onFault()
  }

  private onclose(isRemote: boolean): void {
    if (this.closed) return
    this.closed = true
    this.held = []
    for (const done of [...this.waiting.values()]) done(false) // a closed link is dead
    if (this.peer.links.get(this.net.key) === this) this.peer.links.delete(this.net.key)
    this.net.detach(this, isRemote)
  }
}
