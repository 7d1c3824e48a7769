/**
 * The commands a running peer reads, one per line (stdin or a file): moves (`pay 1 0.5`,
 * `pass`, `cell 4`, `inc 2`, `0x…`), `close`, `leave`, `force-close`, `status`, `help`,
 * `quit`. Moves and closes run in order, each waiting for what it needs (our turn; what we
 * signed final before a close, never a move of ours); `status`, `help` and `quit` act at once.
 */
import { ChannelPhase } from '../../src/channel/phase.js'
import { UsageError } from '../../src/errors/ParleyError.js'
import { bitIndices } from '../../src/protocol/bitmap.js'
import type { Hex } from '../../src/protocol/types.js'
import type { MachineSpeaker } from '../lib/speaker.js'
import type { Peer } from './peer.js'
import type { Printer } from './printer.js'

export const COMMAND_HELP = `commands: <move> · close · leave · force-close · status · help · quit
  close        cooperative close on the latest final state (after what we signed is final)
  leave        leave through the chain from our latest final state (paid our share)
  force-close  ask the chain to settle from our latest final state
  status       print the current state
  quit         stop this peer (restart it with the same --store to resume)`

export class Driver {
  private queue: Promise<void> = Promise.resolve()
  private readonly aborter = new AbortController()

  constructor(
    private readonly peer: Peer,
    private readonly printer: Printer,
    private readonly speaker: MachineSpeaker,
    private readonly quit: () => void,
  ) {}

  /** Handles one input line. */
  line(raw: string): void {
    const text = raw.trim()
    if (text === '' || text.startsWith('#')) return
    const verb = text.split(/\s+/)[0]!
    switch (verb) {
      case 'quit':
      case 'exit':
        return this.quit()
      case 'status':
        return this.status()
      case 'help':
        return this.printer.event('help', { help: COMMAND_HELP }, `${COMMAND_HELP}\nmoves: ${moveHelp(this.speaker)}`)
      case 'close':
        return this.enqueue(text, () => this.close())
      case 'leave':
        return this.enqueue(text, async () => void (await this.peer.court.exit()))
      case 'force-close':
        return this.enqueue(text, async () => void (await this.peer.court.forceClose()))
      default: {
        const { encodeSync } = this.speaker
        // A machine whose moves encode in its local EVM (its ABI): in order with the other lines.
        if (!encodeSync) return this.enqueue(text, async () => this.move(await this.speaker.encode(text)))
        let data: Hex
        try {
          data = encodeSync(text)
        } catch (e) {
          return this.printer.error(e) // the message quotes the line
        }
        return this.enqueue(text, () => this.move(data))
      }
    }
  }

  /** Stops waiting: queued commands are dropped. */
  stop(): void {
    this.aborter.abort(new UsageError('PEER_STOPPING', 'the peer is stopping'))
  }

  /** Resolves when every queued command has run. */
  idle(): Promise<void> {
    return this.queue
  }

  private enqueue(text: string, job: () => Promise<void>): void {
    this.queue = this.queue.then(async () => {
      if (this.aborter.signal.aborted) return
      try {
        await job()
      } catch (e) {
        if (!this.aborter.signal.aborted) this.printer.error(e, text)
      }
    })
  }

  /**
   * Our move by the court's road: to the peers in our broadcast window, posted on-chain after
   * it, or as our answer when a timeout accuses us.
   */
  private async move(data: Hex): Promise<void> {
    const { channel, court } = this.peer
    await this.until(() => channel.state.isMyTurn || court.handler.accused, () => `waiting for #${channel.state.nextActor} to move`)
    const r = await court.propose(data)
    if (r.via === 'chain') this.printer.event('posted', { seq: r.transaction.seq, digest: r.digest }, `seq ${r.transaction.seq} was late for the peers: posted on-chain`)
    if (r.via === 'response') this.printer.event('responded', { seq: r.transaction.seq, digest: r.digest }, `seq ${r.transaction.seq} answers the timeout against us; the court submits it`)
  }

  /**
   * Closes once everything we signed is final — which needs no move of ours. A later head we did
   * not sign (a move we took late from the chain) would need our own next move: the close does
   * not wait for it and closes on the latest final state. The command queue goes on as soon as
   * the close is signed: later lines never wait for the chain (moves are refused at once).
   */
  private async close(): Promise<void> {
    const { channel } = this.peer
    await this.until(() => channel.state.finalSeq >= channel.state.signedSeq, () => `waiting for seq ${channel.state.signedSeq} to become final before closing`)
    channel.close({ signal: this.aborter.signal }).then(
      (r) => this.printer.event('close-mined', { fork: r.fork, seq: r.seq, transactionHash: r.transactionHash }, `the close on seq ${r.seq} was mined in ${r.transactionHash}`),
      (e) => this.aborter.signal.aborted || this.printer.error(e, 'close'),
    )
  }

  /** Waits until `ready()` holds (re-checked on every state and phase change). */
  private async until(ready: () => boolean, waiting: () => string): Promise<void> {
    const { channel } = this.peer
    const usable = () => channel.phase === ChannelPhase.Open || channel.phase === ChannelPhase.Disputed
    if (ready()) return
    if (!usable()) throw new UsageError('CHANNEL_NOT_OPEN', `the channel is ${channel.phase}`)
    this.printer.event('waiting', {}, waiting())
    const signal = this.aborter.signal
    await new Promise<void>((resolve, reject) => {
      const offs: (() => void)[] = []
      const done = (f: () => void) => (offs.forEach((off) => off()), signal.removeEventListener('abort', abort), f())
      const check = () => {
        if (ready()) done(resolve)
        else if (!usable()) done(() => reject(new UsageError('CHANNEL_NOT_OPEN', `the channel is ${channel.phase}`)))
      }
      const abort = () => done(() => reject(signal.reason))
      offs.push(channel.on('state', check), channel.on('final', check), channel.on('phase', check), channel.on('fork', check), this.peer.court.on('move-needed', check))
      signal.addEventListener('abort', abort, { once: true })
    })
  }

  private status(): void {
    const s = this.peer.channel.state
    void this.printStatus(s, this.peer.transport.connected)
  }

  private async printStatus(s: Peer['channel']['state'], connected: readonly number[]): Promise<void> {
    const [head, final] = await Promise.all([this.printer.view(s.state, s.stateHash), this.printer.view(s.finalState, s.finalStateHash)])
    this.printer.event('status', {
      phase: s.phase, fork: s.fork, active: bitIndices(s.active), seq: s.seq, nextActor: s.nextActor, isMyTurn: s.isMyTurn,
      finalSeq: s.finalSeq, connected, ...head.data,
    }, `${s.phase}, fork ${s.fork}, seq ${s.seq} (final ${s.finalSeq}): ${head.text}; final: ${final.text}; next #${s.nextActor}${s.isMyTurn ? ' (you)' : ''}; connected: ${connected.map((i) => `#${i}`).join(' ') || 'nobody'}`)
  }
}

/** The move syntax line: the machine's moves, then raw data. */
export function moveHelp(speaker: MachineSpeaker): string {
  return `${speaker.moves ? `${speaker.moves} · ` : ''}0x<data>`
}
