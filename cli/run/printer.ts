/**
 * What `parley run` prints while the peer runs: every channel, court and link event as one
 * line — readable text, or with `--json` one JSON object per line (`{"event":"final",…}`),
 * bigints as decimal strings, each with `at`, the local time it happened (ISO 8601). Chain-time
 * deadlines are shown in local time too. In text mode errors and warnings go to stderr; in JSON
 * mode everything is one stream on stdout. A court call lost to another honest court is not an
 * error: a `court` line (src/dispute/outcome.ts tells it from a failure).
 */
import { bitIndices } from '../../src/protocol/bitmap.js'
import { DisputeKind, type Hex } from '../../src/protocol/types.js'
import { ParleyError } from '../../src/errors/ParleyError.js'
import { formatAmount, type Asset } from '../lib/assets.js'
import { oneLine } from '../lib/errors.js'
import { classifyFailure, type FailedAction } from '../../src/dispute/outcome.js'
import type { MachineSpeaker } from '../lib/speaker.js'
import { out, short, toJson } from '../lib/output.js'
import type { Clock } from '../../src/clock/Clock.js'
import { describeDeadline, localDeadline } from './deadlines.js'
import type { Peer } from './peer.js'

export interface PrinterOptions {
  json: boolean
  /** How states and machine errors read (lib/speaker.ts). */
  speaker: MachineSpeaker
  asset: Asset
  participants: readonly Hex[]
  /** Print nothing: only {@link Printer.tap} readers get the events (the demo's live view). */
  silent?: boolean
}

export class Printer {
  /** The peer's clock (after {@link attach}): converts chain-time deadlines to local time. */
  private clock: Clock | undefined
  /** Lines go out in order, also those that wait for a state to be decoded (in the local EVM). */
  private queue: Promise<void> = Promise.resolve()
  /** Who else reads every event as the JSON object `--json` prints (the live view, cli/ui). */
  private readonly taps = new Set<(event: Record<string, unknown>) => void>()
  constructor(private readonly o: PrinterOptions) {}

  /** Runs `print` after every line before it. */
  private emit(print: () => void | Promise<void>): void {
    this.queue = this.queue.then(print).catch((e: unknown) => void process.stderr.write(`error INTERNAL: printing failed: ${String(e)}\n`))
  }

  /** Resolves once every line so far is printed. */
  flush(): Promise<void> {
    return this.queue
  }

  /**
   * Calls `fn` with every event, warning and error from now on, as the object `--json` prints
   * (in order, after it is printed); returns the unsubscribe.
   */
  tap(fn: (event: Record<string, unknown>) => void): () => void {
    this.taps.add(fn)
    return () => void this.taps.delete(fn)
  }

  private toTaps(event: Record<string, unknown>): void {
    for (const fn of this.taps) fn(event)
  }

  /** Prints an event whose text needs `state` decoded. */
  stateEvent(event: string, state: Hex, stateHash: Hex, line: (v: { text: string; data: Record<string, unknown> }) => [Record<string, unknown>, string]): void {
    this.emit(async () => {
      const [data, text] = line(await this.view(state, stateHash))
      this.write(event, data, text)
    })
  }

  /** A chain-time deadline for text (local time when the clock is known) and for JSON. */
  private deadline(deadline: bigint): { text: string; data: Record<string, unknown> } {
    if (!this.clock) return { text: `chain time ${deadline}`, data: { deadline } }
    const d = localDeadline(deadline, this.clock)
    return { text: describeDeadline(d), data: { deadline, deadlineLocal: d.local } }
  }

  /** Prints one event: `text` in text mode, `{ event, ...data }` in JSON mode. */
  event(event: string, data: Record<string, unknown>, text: string): void {
    this.emit(() => this.write(event, data, text))
  }

  private write(event: string, data: Record<string, unknown>, text: string): void {
    const e = { event, at: new Date().toISOString(), ...data }
    if (this.o.silent) void 0
    else if (this.o.json) out(toJson(e))
    else out(`${event.padEnd(12)} ${text}`)
    this.toTaps({ ...e, text })
  }

  /** Prints a warning: something that works but is likely not what the user wants (one line; stderr in text mode). */
  warning(code: string, message: string, data: Record<string, unknown> = {}): void {
    this.emit(() => this.writeWarning(code, message, data))
  }

  private writeWarning(code: string, message: string, data: Record<string, unknown>): void {
    const e = { event: 'warning', at: new Date().toISOString(), code, message, ...data }
    if (this.o.silent) void 0
    else if (this.o.json) out(toJson(e))
    else process.stderr.write(`warning ${code}: ${message}\n`)
    this.toTaps({ ...e, text: `warning ${code}: ${message}` })
  }

  /** Prints an error (one line; stderr in text mode). */
  error(e: unknown, context?: string): void {
    this.emit(() => this.writeError(e, context))
  }

  /** A machine's revert reads by its error name and arguments (`MOVE_INVALID: … NotYourTurn(player=1)`). */
  private writeError(e: unknown, context?: string): void {
    const code = e instanceof ParleyError ? e.code : 'INTERNAL'
    const named = e instanceof ParleyError && (code === 'MOVE_INVALID' || code === 'MACHINE_REVERTED') ? this.o.speaker.explain(e) : undefined
    const message = oneLine(named ? `the machine rejects this move: ${named}` : e instanceof Error ? e.message : String(e))
    const line = `error ${code}: ${context ? `${context}: ` : ''}${message}`
    if (this.o.silent) void 0
    else if (this.o.json) out(toJson({ event: 'error', at: new Date().toISOString(), code, message, ...(context ? { context } : {}) }))
    else process.stderr.write(`${line}\n`)
    this.toTaps({ event: 'error', at: new Date().toISOString(), code, message, ...(context ? { context } : {}), text: line })
  }

  /**
   * A court action that failed: a race lost to another honest court (docs/protocol.md §7.11) is
   * an ordinary `court` line — `outcome` says which (`record-changed`: decided again on the new
   * record; `done-by-another`: the chain already holds what it was for); anything else an error.
   */
  failed(f: FailedAction): void {
    const outcome = classifyFailure(f)
    if (outcome === 'error') return this.error(f.error, `court ${f.action.kind}${f.retried ? ' (will retry)' : ''}`)
    const code = (f.error as ParleyError).code
    const what = f.action.kind
    const text = outcome === 'record-changed'
      ? `${what}: the ${code === 'CHANNEL_RECORD_MISMATCH' ? 'channel' : 'dispute'}'s record changed first (${code}); the court decides again`
      : `${what}: done by another court first (${code})`
    this.event('court', { action: what, outcome, code, message: oneLine(f.error instanceof Error ? f.error.message : String(f.error)) }, text)
  }

  /** A state as text (decoded by the machine's speaker, else its hash) and as data. */
  async view(state: Hex, stateHash: Hex): Promise<{ text: string; data: Record<string, unknown> }> {
    const v = await this.o.speaker.describe(state).catch(() => undefined)
    return v ? { text: v.text, data: { stateHash, view: v.data } } : { text: `state ${short(stateHash)}`, data: { stateHash } }
  }

  amounts(values: readonly bigint[]): string {
    return values.map((v, i) => `#${i} ${formatAmount(v, this.o.asset)}`).join(' · ')
  }

  /** Subscribes to everything the peer reports; returns the unsubscribe. */
  attach(peer: Peer): () => void {
    const { channel, court, transport, listener } = peer
    this.clock = peer.clock
    const me = channel.me
    const who = (i: number) => (i === me ? `#${i} (you)` : `#${i}`)
    const offs = [
      transport.onPeer((index, up) => this.event('peer', { index, up }, `#${index} ${up ? 'connected' : 'disconnected'}`)),
      channel.on('state', (s) => this.stateEvent('state', s.state, s.stateHash, (v) => [
        { fork: s.fork, seq: s.seq, author: s.author, nextActor: s.nextActor, isMyTurn: s.isMyTurn, ...v.data },
        `seq ${s.seq} by ${who(s.author)}: ${v.text} — next ${who(s.nextActor)}`,
      ])),
      channel.on('final', (f) => this.event('final', { fork: f.fork, seq: f.seq, stateHash: f.stateHash, signers: f.signers, byVirtualVoting: f.byVirtualVoting }, `seq ${f.seq} is final`)),
      channel.on('phase', (p) => this.event('phase', { from: p.from, to: p.to }, `${p.from} → ${p.to}`)),
      channel.on('fork', (f) => this.stateEvent('fork', f.state, f.stateHash, (v) => [
        { fork: f.fork, active: bitIndices(f.active), ...v.data }, `the chain set fork ${f.fork}: active ${bitIndices(f.active).map((i) => `#${i}`).join(' ')}; ${v.text}`,
      ])),
      channel.on('close-signed', (c) => this.event('close-signed', { fork: c.fork, seq: c.seq, stateHash: c.stateHash },
        `every participant signed the close on seq ${c.seq}; it goes on-chain`)),
      channel.on('close-preempted', (c) => this.event('close-preempted', { fork: c.fork, reason: c.reason, ...(c.transactionHash ? { transactionHash: c.transactionHash } : {}) },
        `the close was not mined: ${c.reason === 'dispute' ? 'a dispute came first; the court follows it' : c.reason === 'settled' ? 'the chain settled on another state' : 'a new fork voided it'}${c.transactionHash ? ` (${c.transactionHash})` : ''}`)),
      channel.on('fraud', (f) => this.event('fraud', { kind: f.evidence.kind, from: f.from }, `${f.evidence.kind} by a peer${f.from !== undefined ? ` (from #${f.from})` : ''}: the court proves it`)),
      channel.on('error', (e) => this.error(e.error, e.from !== undefined ? `from #${e.from}` : 'channel')),
      court.on('dispute', (d) => {
        const when = this.deadline(d.record.deadline)
        this.event('dispute', { fork: d.fork, kind: DisputeKind[d.record.kind], disputer: d.record.disputer, seq: d.record.seq, ...when.data, removals: bitIndices(d.record.removals) },
          `${DisputeKind[d.record.kind]} raised by ${who(d.record.disputer)} on seq ${d.record.seq}; deadline ${when.text}`)
      }),
      court.on('answered', (d) => this.event('answered', { fork: d.fork, seq: d.record.seq }, `the dispute was answered: candidate seq ${d.record.seq}`)),
      court.on('cancelled', (d) => this.event('cancelled', { fork: d.fork, seq: d.seq }, `the timeout was answered with seq ${d.seq}; the channel goes on`)),
      court.on('resolved', (d) => this.event('resolved', { fork: d.fork, kind: DisputeKind[d.record.kind] }, `the ${DisputeKind[d.record.kind]} dispute was resolved`)),
      court.on('removed', (r) => this.event('removed', { index: r.index }, `${who(r.index)} was removed from the channel`)),
      court.on('slashed', (s) => this.event('slashed', { index: s.index, beneficiary: s.beneficiary }, `${who(s.index)} was slashed; its share goes to ${who(s.beneficiary)}`)),
      court.on('credited', (c) => c.account === this.o.participants[me] &&
        this.event('credited', { account: c.account, asset: c.asset, amount: c.amount }, `${formatAmount(c.amount, this.o.asset)} credited to your manager balance`)),
      court.on('closed', (c) => this.event('closed', { fork: c.fork, stateHash: c.stateHash, payouts: c.payouts },
        `settled on-chain: ${this.amounts(c.payouts)} — \`parley withdraw\` moves yours to your wallet`)),
      court.on('submitted', (s) => this.event('submitted', { action: s.action.kind, why: s.action.why, transactionHash: s.hash, gasUsed: s.gasUsed }, `${s.action.kind} (${s.action.why}): ${s.hash}`)),
      court.on('failed', (f) => this.failed(f)),
      court.on('move-needed', (m) => {
        const when = this.deadline(m.deadline)
        this.event('move-needed', { fork: m.fork, seq: m.seq, ...when.data }, `a timeout accuses you: type your move before ${when.text} or be removed`)
      }),
      court.on('error', (e) => this.error(e.error, 'court')),
      listener.on('error', (e) => this.error(e.error, 'chain')),
    ]
    return () => offs.forEach((off) => off())
  }
}
