/**
 * NetChannel: one Parley channel as seen by the network — the verified links to its other
 * participants, by index. It sends and broadcasts protocol messages and emits what arrives.
 *
 * One link per participant. A second verified link for a participant who has one (it
 * reconnected or restarted under a new Noise key — or something else holds its key: a leaked
 * key, a zombie second instance) replaces it only if the old link is dead: the old one is
 * probed (a link-level ping, `probeTimeoutMs`), and kept if it answers, the newcomer refused
 * (`PEER_DUPLICATE`, its connection dropped when nothing else rides it, so it pays a new
 * handshake per attempt). Nothing a newcomer sends is delivered, nor anything sent to it,
 * until it won. Newcomers that arrive meanwhile queue (at most {@link MAX_CONTENDERS}); each
 * winner is probed in turn for the next, so a key holder that gets in and goes silent is
 * replaced by the next connection of the participant.
 *
 * Events:
 * - `peer-open (index)`: a verified link to participant `index` is up. Emitted again when a
 *   newer connection replaces a dead link (the peer reconnected or restarted): time to sync.
 * - `peer-close (index, error?)`: no link to `index` is left (`error` if its fault closed it).
 * - `message (from, message)`: a decoded message from verified participant `from`.
 * - `refused ({ remoteKey, error })`: a peer was refused and its channel closed — its handshake
 *   failed, or it is a second link for a participant whose link is alive (`PEER_DUPLICATE`).
 * - `close ()`: the channel left the network.
 */
import { EventEmitter } from 'node:events'
import type { SigningKey } from 'ethers'
import { type ParleyError, ProtocolError, RuntimeError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import type { Message } from '../transport/messages.js'
import type { Logger } from './logger.js'
import { short } from './logger.js'
import type { Limits, Link, LinkChannel } from './links.js'
import { encodeMessage } from './wire.js'

export interface NetChannelEvents {
  'peer-open': [index: number]
  'peer-close': [index: number, error: ParleyError | undefined]
  message: [from: number, message: Message]
  refused: [info: { remoteKey: Uint8Array; error: ParleyError }]
  close: []
}

/** Most links that may wait, per participant, for the liveness check of its current link. */
export const MAX_CONTENDERS = 4

export class NetChannel extends EventEmitter<NetChannelEvents> implements LinkChannel {
  readonly idBytes: Buffer
  /** Lowercase channel id, the key of this channel in maps. */
  readonly key: string
  readonly participants: readonly Hex[]
  closed = false
  private readonly links = new Map<number, Link>()
  /** Newer links per participant, waiting while its current link is probed. */
  private readonly contenders = new Map<number, Link[]>()

  constructor(
    readonly channelId: Hex,
    participants: readonly Hex[],
    readonly me: number,
    readonly signer: SigningKey,
    readonly limits: Limits,
    readonly log: Logger,
    private readonly onClose: (net: NetChannel) => Promise<void>,
    /** How long a link has to answer a probe before a newer one for its participant replaces it. */
    readonly probeTimeoutMs = 5_000,
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
    for (const link of [...this.links.values(), ...[...this.contenders.values()].flat()]) link.close()
    this.links.clear()
    this.contenders.clear()
    await this.onClose(this)
    this.emit('close')
  }

  /**
   * A link's handshake verified: it becomes the link to that participant if it has none, else
   * it waits for the current one's probe (see the class comment).
   */
  attach(link: Link): void {
    const index = link.index!
    if (this.closed) return link.close()
    if (!this.links.has(index)) return this.adopt(link)
    const queue = this.contenders.get(index) ?? []
    if (queue.length >= MAX_CONTENDERS) return this.refuse(link, `${MAX_CONTENDERS} newer links already wait`)
    queue.push(link)
    this.contenders.set(index, queue)
    if (queue.length === 1) void this.contest(index)
  }

  /**
   * Probes participant `index`'s link while newer ones wait for it: alive, they are refused;
   * dead (no answer in time, or closed), the oldest waiting one takes its place — and is probed
   * in turn while others still wait.
   */
  private async contest(index: number): Promise<void> {
    for (;;) {
      const queue = (this.contenders.get(index) ?? []).filter((l) => !l.closed)
      if (this.closed || queue.length === 0) return void this.contenders.delete(index)
      this.contenders.set(index, queue)
      const current = this.links.get(index)
      const alive = current !== undefined && (await current.probe(this.probeTimeoutMs))
      if (this.closed) return
      if (this.links.get(index) !== current) continue // it closed, and a link was adopted meanwhile: judge that one
      const waiting = this.contenders.get(index) ?? []
      if (alive) {
        for (const l of waiting.splice(0)) this.refuse(l, 'its current link answers')
        return void this.contenders.delete(index)
      }
      const next = waiting.findIndex((l) => !l.closed)
      if (next < 0) continue
      const [winner] = waiting.splice(next, 1)
      if (current) this.log.warn('replaced a dead peer link', { channel: short(this.channelId), index, old: short(current.peer.conn.remotePublicKey), peer: short(winner!.peer.conn.remotePublicKey) })
      this.adopt(winner!)
      if (current) {
        current.close(new RuntimeError('PEER_UNRESPONSIVE', `participant ${index}'s link did not answer a probe within ${this.probeTimeoutMs} ms`))
        current.peer.onFault() // its connection goes too, unless another live link rides it
      }
    }
  }

  /** `link` becomes participant `index`'s link (any link it replaces was closed or is closed after). */
  private adopt(link: Link): void {
    const index = link.index!
    this.links.set(index, link)
    this.log.info('peer link open', { channel: short(this.channelId), index, peer: short(link.peer.conn.remotePublicKey) })
    link.accept()
    this.emit('peer-open', index)
  }

  /** Refuses a second link for a participant whose link is alive; its connection goes if nothing else rides it. */
  private refuse(link: Link, why: string): void {
    const index = link.index!
    const remoteKey = link.peer.conn.remotePublicKey
    const error = new ProtocolError('PEER_DUPLICATE', `a second link for participant ${index}, refused: ${why}`, { details: { index } })
    this.log.warn('refused peer: duplicate link', { channel: short(this.channelId), index, peer: short(remoteKey), code: error.code, reason: why })
    link.close(error)
    this.emit('refused', { remoteKey, error })
    link.peer.onFault()
  }

  /** A link closed (either side, or the connection went). */
  detach(link: Link, isRemote: boolean): void {
    const index = link.index
    if (index === undefined || this.links.get(index) !== link) return
    this.links.delete(index)
    this.log.info('peer link closed', { channel: short(this.channelId), index, by: isRemote ? 'remote' : 'local', code: link.error?.code })
    this.emit('peer-close', index, link.error)
  }

  /** A link's identity handshake failed (it is closed): reported as a `refused` event. */
  handshakeRefused(info: { remoteKey: Uint8Array; error: ParleyError }): void {
    this.emit('refused', info)
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
