/**
 * DisputeHandler: the imperative shell around ./decide.ts. It keeps the chain's view of one
 * channel (reduced from the events the ChainListener delivers), collects fraud evidence from
 * the channel, and on every tick reads our side of the channel, asks `decide` what to do and
 * performs it through the ManagerClient — each action at most once: its key is persisted
 * before the call and marked done or failed after it. A revert (someone else acted first, the
 * dispute moved on) is final; an RPC failure is retried on a later tick.
 */
import { crashPoint } from '../testing/crashPoint.js'
import type { ChainEvent, HeadBlock } from '../chain/ChainListener.js'
import type { ManagerClient, RaiseResult, TxResult } from '../chain/ManagerClient.js'
import type { ChannelClosedEvent, CreditedEvent, StateSetEvent } from '../chain/events.js'
import type { CourtPort } from '../channel/courtPort.js'
import { ParleyError, ProtocolError, UsageError } from '../errors/ParleyError.js'
import { Emitter } from '../observe/Emitter.js'
import { isMachineFailure } from '../machine/failure.js'
import { accusedOf } from '../protocol/disputes.js'
import { memberList } from '../protocol/members.js'
import { DisputeKind, type DisputeRecord, type Hex, type Transaction } from '../protocol/types.js'
import type { Evidence } from '../state/evidence.js'
import { applyChainEvent, initialChainView, isApplied } from './chainView.js'
import { decodeJson, encodeJson } from './codec.js'
import { decide, exitWanted, stampedAhead } from './decide.js'
import { readLocalView } from './localView.js'
import { perform, refusedForGood } from './perform.js'
import type { Action, ChainView, ChannelFacts, DisputePolicy, DisputeView, PendingEvidence } from './types.js'

/** What the handler reports. Chain facts use the contract's event names in lower camel case. */
export type DisputeHandlerEvents = {
  /** A dispute was raised on the channel (DisputeRaised; also a fraud proof replacing one). */
  dispute: { fork: bigint; record: DisputeRecord; state?: Hex }
  /** The open dispute's record changed (DisputeAnswered). */
  answered: { fork: bigint; record: DisputeRecord }
  /** The accused's move cancelled a timeout (DisputeCancelled). */
  cancelled: { fork: bigint; seq: bigint }
  /** A dispute was resolved (DisputeResolved); `fork` or `closed` follows. */
  resolved: { fork: bigint; record: DisputeRecord }
  /** A participant left the active set (ParticipantRemoved). */
  removed: { index: number }
  /** A participant was slashed (ParticipantSlashed). */
  slashed: { index: number; beneficiary: number }
  /** The chain set a new fork (StateSet). */
  fork: StateSetEvent
  /** The channel settled (ChannelClosed). */
  closed: ChannelClosedEvent
  /** The channel credited an account (Credited). */
  credited: CreditedEvent
  /** We submitted an action and it was mined. */
  submitted: { action: Action; hash: Hex; gasUsed: bigint }
  /**
   * Our action reverted (usually someone acted first) or failed; RPC failures are retried.
   * `open`: the dispute the chain holds open, read when a timeout or conclude we raised was
   * refused with DisputeAlreadyOpen (another court may have raised the same one first;
   * `classifyFailure` in ./outcome.ts tells a race lost from a failure).
   */
  failed: { action: Action; error: unknown; retried: boolean; open?: DisputeRecord }
  /** A timeout accuses us and it is our turn: call `move(data)` before `deadline` (chain time). */
  'move-needed': { fork: bigint; seq: bigint; state: Hex; deadline: bigint }
  error: { error: unknown }
}

export interface DisputeHandlerOptions {
  /** The manager, connected to our participant's signer. */
  manager: ManagerClient
  policy?: Partial<DisputePolicy>
  /**
   * Our move when a timeout accuses us and we have not moved; without it (or when it returns
   * undefined) the handler emits `move-needed` and waits for {@link DisputeHandler.move}.
   */
  autoMove?: (ctx: { state: Hex; seq: bigint }) => Hex | undefined | Promise<Hex | undefined>
}

interface Saved {
  chain: ChainView
  done: Record<string, string>
  evidence: PendingEvidence[]
  leaving?: { leave: boolean }
}

/** How long a failed raise waits for the read of the dispute open on-chain (for the `failed` event's `open`). */
const OPEN_READ_MS = 5_000

/** How many applied events the handler can take back after a reorganisation without reading again from the open. */
const HISTORY = 512

export class DisputeHandler {
  readonly events = new Emitter<DisputeHandlerEvents>()
  private chain: ChainView
  private done: Record<string, string>
  private evidence: PendingEvidence[]
  private leaving: { leave: boolean } | undefined
  private readonly inflight = new Set<string>()
  /** Exits and force-closes this handler submitted, by action key (in memory): exit() returns one its evaluation loop raised meanwhile. */
  private readonly exits = new Map<string, Promise<TxResult>>()
  /** Why a raise of an exit failed, by action key (in memory). */
  private readonly exitFailures = new Map<string, unknown>()
  /** exit() calls waiting for a later head block. */
  private readonly heads: (() => void)[] = []
  /** What the handler knew before each applied event, newest last (in memory; for reorganisations). */
  private readonly history: Pick<Saved, 'chain' | 'evidence'>[] = []
  private readonly terminal = new Map<Hex, boolean | undefined>()
  private readonly facts: ChannelFacts
  private readonly policy: DisputePolicy
  private readonly account: Hex
  private running: Promise<void> | undefined
  private again = false
  private stopped = false

  constructor(private readonly e: CourtPort, private readonly o: DisputeHandlerOptions) {
    const p = e.params
    this.facts = { participants: memberList(p), p2pTime: p.p2pTime, agreementTime: p.agreementTime, chainFallbackTime: p.chainFallbackTime, challengeTime: p.challengeTime }
    this.policy = { post: true, timeout: true, autoWithdraw: false, ...o.policy }
    this.account = p.participants[e.me]!.toLowerCase() as Hex
    const saved = e.courtState()
    const s = saved ? decodeJson<Saved>(saved) : undefined
    this.chain = s?.chain ?? initialChainView(e.forks().at(-1)!)
    this.done = s?.done ?? {}
    this.evidence = s?.evidence ?? []
    if (s?.leaving) this.leaving = s.leaving
  }

  /** The chain's view of the channel (from its events). */
  get chainView(): ChainView {
    return this.chain
  }

  /** Applies an event (after the Channel did); returns false for one already applied. */
  onChainEvent(ev: ChainEvent): boolean {
    if (isApplied(this.chain, ev)) return false
    this.history.push({ chain: this.chain, evidence: this.evidence })
    if (this.history.length > HISTORY) this.history.shift()
    this.chain = applyChainEvent(this.chain, ev, this.account)
    if (ev.name === 'StateSet') this.evidence = this.evidence.filter((x) => x.fork >= ev.args.fork)
    if (ev.name === 'ParticipantSlashed') this.evidence = this.evidence.filter((x) => x.evidence.culprit !== ev.args.index)
    this.save()
    this.report(ev)
    return true
  }

  /**
   * A reorganisation dropped the blocks after `ancestor`: the handler goes back to the chain's
   * view before their events, keeping the evidence it gathered since, and forgets the actions
   * mined after `ancestor` and every refused one (each was judged against a chain that is gone:
   * it is due again if the new chain still calls for it, and an action that survived shows in the
   * events read again or is refused harmlessly). Returns the chain view before and after, and, when its memory does not reach
   * back that far (after a restart), the block to read the channel's events again from
   * (`fromBlock`: everything is re-read from the first fork's view).
   * @example listener.watch(id, onEvent, { onReorg: ({ ancestor }) => handler.rewind(ancestor, openBlock).from })
   */
  rewind(ancestor: number, fromBlock: number): { before: ChainView; after: ChainView; from?: number } {
    const before = this.chain
    const after = (v: ChainView) => v.position !== undefined && v.position.block > ancestor
    let from: number | undefined
    let back: Pick<Saved, 'chain' | 'evidence'> | undefined
    const undone = (v: string) => v.startsWith('failed:') || (v.startsWith('done:') && Number(v.split('@')[1] ?? Infinity) > ancestor)
    const kept = Object.fromEntries(Object.entries(this.done).filter(([, v]) => !undone(v)))
    if (Object.keys(kept).length !== Object.keys(this.done).length) {
      this.done = kept
      this.save()
    }
    if (after(this.chain)) {
      while (this.history.length > 0 && after(this.history.at(-1)!.chain)) this.history.pop()
      back = this.history.pop()
      if (!back || after(back.chain)) {
        // Not remembered (a restart, or older than the memory): read everything again.
        back = { chain: { ...initialChainView(this.e.forks()[0]!), phase: 'open' }, evidence: [] }
        this.history.length = 0
        from = fromBlock
      }
      const keys = new Set(back.evidence.map((x) => x.key))
      this.chain = { ...back.chain, now: before.now }
      this.evidence = [...back.evidence, ...this.evidence.filter((x) => !keys.has(x.key))]
      this.save()
    }
    return { before, after: this.chain, ...(from !== undefined ? { from } : {}) }
  }

  /** A new head block: the chain's time moved. */
  onHead(head: HeadBlock): void {
    if (head.timestamp > this.chain.now) this.chain = { ...this.chain, now: head.timestamp }
    this.wakeHeads()
  }

  private wakeHeads(): void {
    for (const wake of this.heads.splice(0)) wake()
  }

  /**
   * Fraud evidence from the channel's pipeline (the `fraud` event): proven on the next tick.
   * @example channel.on('fraud', ({ evidence }) => handler.addEvidence(evidence))
   */
  addEvidence(evidence: Evidence): void {
    const digest = (t: Transaction) => this.e.digest(t)
    const key = evidence.kind === 'InvalidTransition' ? digest(evidence.signed.transaction) : [digest(evidence.a.transaction), digest(evidence.b.transaction)].sort().join(':')
    if (this.evidence.some((x) => x.key === key) || this.proven(key)) return
    const fork = evidence.kind === 'InvalidTransition' ? evidence.signed.transaction.fork : evidence.a.transaction.fork
    this.evidence = [...this.evidence, { key, fork, evidence }]
    this.save()
  }

  /** Looks at the channel and the chain and performs what is due (coalesces overlapping calls). */
  evaluate(): Promise<void> {
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = (async () => {
      do {
        this.again = false
        try {
          await this.round()
        } catch (error) {
          this.events.emit('error', { error })
        }
      } while (this.again && !this.stopped)
      this.running = undefined
    })()
    return this.running
  }

  /**
   * Our move when a timeout accuses us (after `move-needed`): signed on the disputed fork,
   * stored, and sent to the chain as the response.
   * @example court.on('move-needed', async ({ state }) => court.move(chooseMove(state)))
   */
  async move(data: Hex): Promise<{ transaction: Transaction; digest: Hex }> {
    const r = this.chain.dispute?.record
    if (!r || r.kind !== DisputeKind.Timeout || accusedOf(r) !== this.e.me) throw new UsageError('NOT_ACCUSED', 'no open timeout accuses us')
    const entry = await this.e.job(async () => {
      const head = this.e.ledger().head
      if (head.seq !== r.seq || head.stateHash !== r.stateHash) throw new UsageError('CANDIDATE_UNKNOWN', `our head ${head.seq} is not the disputed state ${r.seq}`)
      return this.e.lateMove(data, { response: true })
    })
    void this.evaluate()
    return { transaction: entry.transaction, digest: entry.digest }
  }

  /** Whether an open timeout accuses us (our move must go to the chain as its response). */
  get accused(): boolean {
    const r = this.chain.dispute?.record
    return this.chain.phase === 'disputed' && r?.kind === DisputeKind.Timeout && accusedOf(r) === this.e.me
  }

  /**
   * Our move after our broadcast window passed: signed, stored and posted on-chain, where peers
   * take it (docs/protocol.md §6.3).
   * @example await handler.postMove(data) // after channel.propose threw BROADCAST_WINDOW_PASSED
   */
  async postMove(data: Hex): Promise<{ transaction: Transaction; digest: Hex; hash: Hex }> {
    if (this.chain.phase !== 'open') throw new UsageError('CHANNEL_NOT_OPEN', `the channel is ${this.chain.phase} on-chain: nothing can be posted`)
    const entry = await this.e.job(() => this.e.lateMove(data))
    const key = `post:${entry.transaction.fork}:${entry.transaction.seq}`
    this.inflight.add(key)
    this.mark(key, 'pending')
    const signature = entry.signatures.get(this.e.me)!
    try {
      crashPoint('court.post') // our late move stored, not posted yet
      const r = await this.o.manager.postTransaction(this.e.channelId, this.facts.participants, entry.transaction, signature)
      crashPoint('court.post.mined')
      this.mark(key, `done:${r.hash}@${r.blockNumber}`)
      return { transaction: entry.transaction, digest: entry.digest, hash: r.hash }
    } catch (e) {
      delete this.done[key] // the move is stored and ours: the post policy retries it on a later tick
      this.save()
      throw e
    } finally {
      this.inflight.delete(key)
    }
  }

  /**
   * Leaves the channel (`leave`) or forces a settlement from our latest final state, replacing
   * an open timeout. The intent is remembered (in the store): whenever a raise fails or a
   * dispute of others ends on a new fork, the handler raises it again by itself, until we are
   * out or the channel settled. Throws UsageError `LEAVE_DEFERRED` when another dispute is open
   * now (we leave once it is resolved), the chain's refusal when it refused this raise, and
   * `COURT_STOPPED` when the court stops first. When our final state is stamped later than the
   * chain's latest block admits (our clock saw a block this court has not processed yet, or runs
   * ahead of the chain), it waits for the head block that lets it in.
   * @example await court.exit(false) // force-close
   */
  async exit(leave: boolean): Promise<RaiseResult> {
    // The intent is kept: if this raise fails, or a dispute of others ends on a new fork, the
    // handler raises it again by itself until we are out or the channel settled.
    this.leaving = { leave }
    this.save()
    for (;;) {
      if (this.stopped) throw new UsageError('COURT_STOPPED', 'the court was stopped; the exit is remembered and raised by the next court on this store')
      const view = await this.view()
      const wanted = exitWanted(view)
      // The evaluation loop may have raised it meanwhile (the intent was saved above): that raise is ours.
      const raised = (wanted && this.exits.get(wanted.key)) || this.latestExit(leave, !wanted)
      if (raised) return (await raised) as RaiseResult
      if (!wanted) {
        void this.evaluate()
        const open = this.chain.dispute ? `a ${DisputeKind[this.chain.dispute.record.kind]} dispute is open` : `the channel is ${this.chain.phase} on-chain`
        throw new UsageError('LEAVE_DEFERRED', `${open}: we ${leave ? 'leave' : 'force-close'} as soon as the chain lets us`, { details: { phase: this.chain.phase } })
      }
      const refused = this.done[wanted.key]
      if (refused?.startsWith('failed:')) throw this.exitFailures.get(wanted.key) ?? new ProtocolError('CONTRACT_REVERTED', `the chain refused our ${leave ? 'exit' : 'force-close'} (${refused})`)
      if (!view.done.has(wanted.key) && !stampedAhead(view, wanted)) return (await this.submit(wanted)) as RaiseResult
      // Our final state is stamped past what the chain's latest block admits (our clock saw a
      // block this handler has not been told of yet, or runs ahead of the chain): a later head lets it in.
      await this.nextHead()
    }
  }

  /**
   * The latest exit of this kind raised on the current fork: still in flight, or (`settled`) mined
   * too — exit() returns it rather than raise a second one.
   */
  private latestExit(leave: boolean, settled: boolean): Promise<TxResult> | undefined {
    const prefix = `exit:${this.chain.fork}:${leave ? 'leave' : 'close'}:`
    return [...this.exits].reverse().find(([key]) => key.startsWith(prefix) && (settled || this.inflight.has(key)))?.[1]
  }

  /** Resolves at the next head block (or when the handler stops). */
  private nextHead(): Promise<void> {
    return new Promise((resolve) => this.heads.push(resolve))
  }

  /** Resolves when no evaluation is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }

  /** Stops acting (the state stays in the store for the next handler). */
  async stop(): Promise<void> {
    this.stopped = true
    this.wakeHeads()
    await this.idle()
  }

  /** The actions due now (decide over the chain's view and our own, read in the channel's queue). */
  private async due(): Promise<Action[]> {
    return decide(await this.view())
  }

  /** What `decide` looks at: the chain's view and our own (read in the channel's queue). */
  private async view(): Promise<DisputeView> {
    const local = await this.e.job(() => readLocalView(this.e, this.chain, (s) => this.isTerminal(s)))
    const done = new Set([...Object.entries(this.done).filter(([, v]) => v !== 'pending').map(([k]) => k), ...this.inflight])
    return { chain: this.chain, local, channel: this.facts, evidence: this.evidence, policy: this.policy, done, ...(this.leaving ? { leaving: this.leaving } : {}) }
  }

  private async round(): Promise<void> {
    if (this.stopped || this.e.disposed()) return
    const actions = await this.due()
    for (const a of actions) {
      if (this.stopped) return
      if (this.inflight.has(a.key) || (this.done[a.key] !== undefined && this.done[a.key] !== 'pending')) continue
      await this.run(a)
    }
  }

  private async run(a: Action): Promise<void> {
    if (a.kind === 'moveNeeded') return this.askMove(a)
    await this.submit(a).catch(() => undefined) // reported as `failed`
    // Evidence stays until a proof of it is mined: a reverted one was usually built against a
    // dispute that changed meanwhile, and is rebuilt against the new record (its key differs).
    if ((a.kind === 'proveInvalidTransition' || a.kind === 'proveEquivocation') && this.proven(a.evidence)) {
      this.evidence = this.evidence.filter((x) => x.key !== a.evidence)
      this.save()
    }
  }

  /** Performs one chain action once: its key is stored before the call and marked after it. */
  private submit(a: Action): Promise<TxResult> {
    const p = this.send(a)
    if (a.kind === 'exit') {
      this.exits.set(a.key, p)
      p.catch((error) => {
        this.exits.delete(a.key) // a failed raise is not one exit() may return…
        this.exitFailures.set(a.key, error) // …but exit() throws why the chain refused it
      })
    }
    return p
  }

  private async send(a: Action): Promise<TxResult> {
    this.inflight.add(a.key)
    this.mark(a.key, 'pending')
    try {
      crashPoint(`court.${a.kind}`) // the action's key stored as pending, nothing sent (docs/protocol.md §7.12)
      const r = await perform(this.o.manager, this.e.channelId, this.facts.participants, a)
      crashPoint(`court.${a.kind}.mined`) // mined, not recorded, its events not handled yet
      this.mark(a.key, `done:${r.hash}@${r.blockNumber}`)
      this.events.emit('submitted', { action: a, hash: r.hash, gasUsed: r.gasUsed })
      return r
    } catch (error) {
      // A record changed first (refusedForGood) is decided again on a later tick, not given up.
      const retried = !refusedForGood(error)
      if (retried) delete this.done[a.key]
      else this.mark(a.key, `failed:${error instanceof ParleyError ? error.code : 'ERROR'}`)
      this.save()
      const open = retried ? undefined : await this.openAfterRefusal(a, error)
      this.events.emit('failed', { action: a, error, retried, ...(open ? { open } : {}) })
      throw error
    } finally {
      this.inflight.delete(a.key)
    }
  }

  /**
   * The dispute open on-chain when a raise of ours was refused with DisputeAlreadyOpen: raised
   * after the last event we applied (our view had the channel open), so read from that block.
   * Undefined when the read fails or takes longer than {@link OPEN_READ_MS} (it must not hold the
   * court's loop up) — the refusal is then reported without it, as a failure.
   */
  private async openAfterRefusal(a: Action, error: unknown): Promise<DisputeRecord | undefined> {
    if ((a.kind !== 'timeout' && a.kind !== 'concludeDispute') || !(error instanceof ProtocolError) || error.code !== 'DISPUTE_ALREADY_OPEN') return undefined
    if (typeof this.o.manager.currentDispute !== 'function') return undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), OPEN_READ_MS)))
    const read = this.o.manager.currentDispute(this.e.channelId, { fromBlock: this.chain.position?.block ?? 0 }).catch(() => undefined)
    try {
      return (await Promise.race([read, late]))?.record
    } finally {
      clearTimeout(timer)
    }
  }

  private async askMove(a: Extract<Action, { kind: 'moveNeeded' }>): Promise<void> {
    this.mark(a.key, 'asked')
    const state = await this.e.job(async () => this.e.ledger().head.state)
    const ctx = { fork: this.chain.fork, seq: a.seq, state, deadline: a.record.deadline }
    this.events.emit('move-needed', ctx)
    if (!this.o.autoMove) return
    try {
      const data = await this.o.autoMove({ state, seq: a.seq })
      if (data !== undefined) await this.move(data)
    } catch (error) {
      this.events.emit('error', { error })
    }
  }

  /** isTerminal(state), undefined when the machine's call fails (the chain then refuses a timeout or conclude on it). */
  private async isTerminal(state: Hex): Promise<boolean | undefined> {
    if (this.terminal.has(state)) return this.terminal.get(state)
    let t: boolean | undefined
    try {
      t = await this.e.isTerminal(state)
    } catch (e) {
      if (!isMachineFailure(e)) throw e
    }
    if (this.terminal.size > 64) this.terminal.clear()
    this.terminal.set(state, t)
    return t
  }

  /** Whether a proof of evidence `key` was mined (against any record). */
  private proven(key: string): boolean {
    const prefix = `fraud:${key}@`
    return Object.entries(this.done).some(([k, v]) => k.startsWith(prefix) && v.startsWith('done:'))
  }

  private mark(key: string, status: string): void {
    this.done[key] = status
    this.save()
  }

  private save(): void {
    this.e.saveCourtState(encodeJson({ chain: this.chain, done: this.done, evidence: this.evidence, ...(this.leaving ? { leaving: this.leaving } : {}) } satisfies Saved))
  }

  private report(ev: ChainEvent): void {
    const emit = this.events
    switch (ev.name) {
      case 'DisputeRaised':
        return emit.emit('dispute', { fork: ev.args.fork, record: ev.args.dispute, ...(ev.args.state !== '0x' ? { state: ev.args.state } : {}) })
      case 'DisputeAnswered':
        return emit.emit('answered', { fork: ev.args.fork, record: ev.args.dispute })
      case 'DisputeCancelled':
        return emit.emit('cancelled', { fork: ev.args.fork, seq: ev.args.seq })
      case 'DisputeResolved':
        return emit.emit('resolved', { fork: ev.args.fork, record: ev.args.dispute })
      case 'ParticipantRemoved':
        return emit.emit('removed', { index: ev.args.index })
      case 'ParticipantSlashed':
        return emit.emit('slashed', { index: ev.args.index, beneficiary: ev.args.beneficiary })
      case 'StateSet':
        return emit.emit('fork', ev.args)
      case 'ChannelClosed':
        return emit.emit('closed', ev.args)
      case 'Credited':
        return emit.emit('credited', ev.args)
      default:
        return
    }
  }
}

