/**
 * NetChannel: one Parley channel as seen by the network — the verified links to its other
 * participants, by index. It sends and broadcasts protocol messages and emits what arrives.
 *
 * Events:
 * - `peer-open (index)`: a verified link to participant `index` is up. Emitted again when a
 *   newer connection replaces the link (the peer reconnected or restarted): time to sync.
 * - `peer-close (index, error?)`: no link to `index` is left (`error` if its fault closed it).
 * - `message (from, message)`: a decoded message from verified participant `from`.
 * - `refused ({ remoteKey, error })`: a peer's handshake failed; its channel was closed.
 * - `close ()`: the channel left the network.
 */
import { EventEmitter } from 'node:events'
import type { SigningKey } from 'ethers'
import { type ParleyError, RuntimeError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import type { Message } from '../transport/messages.js'
import type { Logger } from './logger.js'
import { short } from './logger.js'
import type { Limits } from './Peer.js'
import type { PeerLink } from './PeerLink.js'
import { encodeMessage } from './wire.js'

export interface NetChannelEvents {
  'peer-open': [index: number]
  'peer-close': [index: number, error: ParleyError | undefined]
  message: [from: number, message: Message]
  refused: [info: { remoteKey: Uint8Array; error: ParleyError }]
  close: []
}

export class NetChannel extends EventEmitter<NetChannelEvents> {
  readonly idBytes: Buffer
  /** Lowercase channel id, the key of this channel in maps. */
  readonly key: string
  readonly participants: readonly Hex[]
  closed = false
  private readonly links = new Map<number, PeerLink>()

  constructor(
    readonly channelId: Hex,
    participants: readonly Hex[],
    readonly me: number,
    readonly signer: SigningKey,
    readonly limits: Limits,
    readonly log: Logger,
    private readonly onClose: (net: NetChannel) => Promise<void>,
  ) {
    super()
    this.idBytes = Buffer.from(channelId.slice(2), 'hex')
    this.key = channelId.toLowerCase()
    this.participants = participants.map((p) => p.toLowerCase() as Hex)
  }

  /** Indices of participants with a verified link now, ascending. */
  connected(): number[] {
    return [...this.links.keys()].sort((a, b) => a - b)
  }

  /** Whether participant `index` has a verified link now. */
  isConnected(index: number): boolean {
    return this.links.has(index)
  }

  /**
   * Sends `message` to participant `to`. Returns false when there is no link to it now (the
   * message is not queued: catch-up on reconnect delivers what was missed). Throws EncodeError
   * `MESSAGE_INVALID` for a message that does not fit the wire format.
   * @example net.send(1, { type: 'ping', nonce: 7 })
   */
  send(to: number, message: Message): boolean {
    return this.sendBytes(to, encodeMessage(message))
  }

  /** Sends an already encoded message to participant `to` (false: no link now). */
  sendBytes(to: number, bytes: Uint8Array): boolean {
    return this.links.get(to)?.sendBytes(bytes) ?? false
  }

  /**
   * Sends `message` to every connected participant (encoded once); returns how many links took it.
   * @example net.broadcast({ type: 'tx', transaction, signature })
   */
  broadcast(message: Message): number {
    const bytes = encodeMessage(message)
    let n = 0
    for (const link of this.links.values()) if (link.sendBytes(bytes)) n++
    return n
  }

  /**
   * Resolves once every participant in `indices` (default: all others) has a verified link.
   * Rejects with RuntimeError `NET_TIMEOUT` after `timeoutMs`, `NET_CLOSED` if the channel closes.
   * @example await net.waitForPeers([1, 2], 10_000)
   */
  waitForPeers(indices?: number[], timeoutMs = 30_000): Promise<void> {
    const want = indices ?? this.participants.map((_, i) => i).filter((i) => i !== this.me)
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.closed) return done(new RuntimeError('NET_CLOSED', 'channel closed while waiting for peers'))
        if (want.every((i) => this.links.has(i))) done()
      }
      const timer = setTimeout(() => done(new RuntimeError('NET_TIMEOUT', `peers ${want.filter((i) => !this.links.has(i)).join(',')} not connected after ${timeoutMs} ms`)), timeoutMs)
      const done = (err?: Error) => {
        clearTimeout(timer)
        this.off('peer-open', check)
        this.off('close', check)
        if (err) reject(err)
        else resolve()
      }
      this.on('peer-open', check)
      this.on('close', check)
      check()
    })
  }

  /** Leaves the network for this channel: closes every link and stops announcing the topic. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const link of [...this.links.values()]) link.close()
    this.links.clear()
    await this.onClose(this)
    this.emit('close')
  }

  /** A link's handshake verified: it becomes the link to that participant. */
  attach(link: PeerLink): void {
    const index = link.index!
    if (this.closed) return link.close()
    const old = this.links.get(index)
    this.links.set(index, link)
    if (old && old !== link) {
      this.log.info('replaced peer link', { channel: short(this.channelId), index, peer: short(link.peer.conn.remotePublicKey) })
      old.close()
    } else {
      this.log.info('peer link open', { channel: short(this.channelId), index, peer: short(link.peer.conn.remotePublicKey) })
    }
    this.emit('peer-open', index)
  }

  /** A link closed (either side, or the connection went). */
  detach(link: PeerLink, isRemote: boolean): void {
    const index = link.index
    if (index === undefined || this.links.get(index) !== link) return
    this.links.delete(index)
    this.log.info('peer link closed', { channel: short(this.channelId), index, by: isRemote ? 'remote' : 'local', code: link.error?.code })
    this.emit('peer-close', index, link.error)
  }

  /** A verified, decoded message. A throwing listener is logged, never propagated to the socket. */
  deliver(from: number, message: Message): void {
    try {
      this.emit('message', from, message)
    } catch (e) {
      this.log.warn('message handler threw', { channel: short(this.channelId), from, type: message.type, error: String(e) })
    }
  }
}
