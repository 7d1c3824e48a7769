/**
 * The imperative shell behind a Channel: it owns the components (StateManager,
 * AgreementManager, CloseCoordinator), runs every input — peer messages, our proposals, chain
 * events — one at a time, and after each one sends what it produced (only after the store
 * transaction recording it committed) and emits its events in order (states before finals).
 *
 * One transaction, one straight line ({@link Engine.record}): the pipeline verifies it
 * (StateManager.receive, which hands each accepted one here in order), agreement decides what
 * to do with it without acting (AgreementManager.decide: confirm or not, the refusals it
 * reveals, the confirmations that waited for it), one store transaction stores all of it with
 * our signature, then the ledger grows, agreement says what now counts and became final
 * (AgreementManager.recorded), and what we signed leaves when the job ends.
 *
 * Durable commits: a peer's signature on its own waits for the next such commit (it counts for
 * finality only once stored), or — when a whole turn of the event loop brought this channel
 * nothing more — is stored by itself (./GroupCommit.ts). So a busy channel commits
 * about once per transaction and peer. A store whose commits cost no fsync (`store.durable`
 * unset: MemoryStore) has nothing to share: peers' signatures are stored at the end of the
 * input that brought them. With a turn handler (Channel.onTurn), a peer's transaction and our
 * answer to it are one commit (./turn.ts). What the chain says is applied by ./ChainSide.ts.
 * Internal: applications use {@link Channel}.
 */
import { crashPoint } from '../testing/crashPoint.js'
import type { SigningKey } from 'ethers'
import { ProtocolError, UsageError } from '../errors/ParleyError.js'
import { bitIndices, hasBit } from '../protocol/bitmap.js'
import { closePayouts } from '../protocol/close.js'
import { memberList } from '../protocol/members.js'
import type { ChannelParams, Hex, PackedSignedTransaction } from '../protocol/types.js'
import { AgreementManager, type Recorded } from '../agreement/AgreementManager.js'
import { SigningGuard, type ExternalAccount } from '../agreement/SigningGuard.js'
import type { ConsentSigner } from '../wallet/ConsentSigner.js'
import { Emitter } from '../observe/Emitter.js'
import { evidenceOf } from '../state/evidence.js'
import { Ledger, type Entry } from '../state/ledger.js'
import { StateManager, loadLedger } from '../state/StateManager.js'
import type { Timing, TxSource } from '../state/steps.js'
import type { Message, SyncResponseMessage, TxMessage } from '../transport/messages.js'
import { CloseCoordinator, type CloseResult } from './CloseCoordinator.js'
import type { CourtPort } from './courtPort.js'
import type { ChannelEvents } from './events.js'
import { checkSkew, type ChannelRuntimeOptions } from './options.js'
import { ChannelPhase, assertTransition, parsePhase } from './phase.js'
import { ChainSide } from './ChainSide.js'
import { GroupCommit } from './GroupCommit.js'
import { askTurn, heldCommit, type TurnAnswer, type TurnHandler } from './turn.js'
import { SerialQueue } from './SerialQueue.js'
import { SYNC_BATCH, announcement, syncResponse } from './sync.js'
import { ChannelRecords } from '../store/ChannelRecords.js'

export type { ChainPhaseView } from './ChainSide.js'
export { TURN_WAIT_MS, type TurnHandler } from './turn.js'

export class Engine {
  readonly events = new Emitter<ChannelEvents>()
  private readonly sm: StateManager
  private readonly agreement: AgreementManager
  private readonly closer: CloseCoordinator
  private readonly guard: SigningGuard
  private current = ChannelPhase.Open
  private stopped = false
  private readonly queue = new SerialQueue()
  private offTransport: (() => void) | undefined
  private offPeers: (() => void) | undefined
  private readonly timing: Timing
  private outbox: Message[] = []
  private buffered: { name: keyof ChannelEvents; payload: unknown }[] = []
  private finalMoved = false
  private syncAskedAt = -1n
  private port: CourtPort | undefined
  /** This channel's records in the store: every key, the record ↔ entry mapping. */
  private readonly records: ChannelRecords
  /** When peers' signatures that wait are stored by themselves (./GroupCommit.ts). */
  private readonly group: GroupCommit
  /** Our move answering a peer's transaction that made it our turn ({@link setTurnHandler}). */
  private turn: TurnHandler | undefined
  /** A turn handler is running (Channel.propose then refuses: the handler returns the move). */
  private inTurnHandler = false
  /** What the chain says, applied to this channel (./ChainSide.ts). */
  readonly chain: ChainSide

  /** The channel's local phase (./phase.ts); it changes only through {@link setPhase} and the chain's side. */
  get phase(): ChannelPhase {
    return this.current
  }

  /** Stopped (disposed, or its store lost a held commit): it takes no more input. */
  get disposed(): boolean {
    return this.stopped
  }

  /** A turn handler is deciding our move (Channel.propose then refuses: the handler returns the move). */
  get answering(): boolean {
    return this.inTurnHandler
  }

  constructor(
    private readonly o: ChannelRuntimeOptions,
    readonly channelId: Hex,
    readonly params: ChannelParams,
    readonly me: number,
    /** Our account: its key, or the address of an external wallet (then `wallet` signs its consents). */
    key: SigningKey | ExternalAccount,
    /** Signs our transactions and confirmations: our session key, or `key` without one. */
    sessionKey: SigningKey = key as SigningKey,
    /** Our account's external wallet: it signs our close consents, asynchronously. */
    wallet?: ConsentSigner,
  ) {
    const p = params
    const timing = { p2pTime: p.p2pTime, agreementTime: p.agreementTime, chainFallbackTime: p.chainFallbackTime, skew: checkSkew(o.skew, p) }
    this.timing = timing
    this.records = new ChannelRecords(o.store, channelId)
    const guard = new SigningGuard(o.store, channelId, sessionKey, me, key)
    this.guard = guard
    this.agreement = new AgreementManager({ channelId, params: p, me, store: o.store, clock: o.clock, timing, guard })
    this.sm = new StateManager({ channelId, params: p, me, store: o.store, machine: o.machine, hasher: o.hasher, clock: o.clock, timing })
    this.group = new GroupCommit({
      waiting: () => this.agreement.unsaved,
      save: () => void this.job(async () => this.saveUnsaved()).catch((e) => this.report(e)),
      stopped: () => this.stopped,
    })
    this.closer = new CloseCoordinator({
      channelId, participants: p.participants.map((a) => a.toLowerCase() as Hex), members: memberList(p), me, hasher: o.hasher, guard, store: o.store,
      autoAccept: o.autoAcceptClose ?? true, ...(o.chain ? { chain: o.chain } : {}), ...(wallet ? { wallet } : {}),
      ledger: () => this.sm.ledger,
      finalStateAt: (seq) => this.finalStateAt(seq),
      payoutsOf: async (state) => closePayouts(await o.machine.outcome(state), this.sm.ledger.fork.active),
      now: () => o.clock.now(),
      broadcast: (m) => this.outbox.push(m),
      closing: () => this.setPhase(ChannelPhase.Closing),
      signed: (e) => this.emitLater('close-signed', e),
      preempted: (e) => this.emitLater('close-preempted', e),
      run: (fn) => {
        if (!this.stopped) this.job(async () => fn()).catch((e) => this.report(e)) // after dispose, a restored instance may own the store
      },
    })
    const engine = this
    this.chain = new ChainSide({
      channelId, me, o, sm: this.sm, agreement: this.agreement, closer: this.closer, guard, records: this.records,
      get phase() {
        return engine.phase
      },
      setPhase: (to) => this.setPhase(to),
      undoPhase: (to) => {
        this.records.setPhase(to)
        this.emitLater('phase', { from: this.current, to })
        this.current = to
      },
      emitLater: (name, payload) => this.emitLater(name, payload),
      report: (e, from) => this.report(e, from),
      useLedger: (l) => this.useLedger(l),
      reconsider: () => this.reconsider(),
      record: (e) => this.record(e),
    })
  }

  /**
   * Loads the current fork from the store, subscribes to the transport (messages, and link
   * changes where the transport reports them: each new link asks that peer for catch-up); after
   * a restore, announces itself (./sync.ts).
   */
  async start(restored: boolean): Promise<void> {
    this.useLedger(await loadLedger({ channelId: this.channelId, store: this.o.store, machine: this.o.machine }))
    this.announce(this.agreement.refresh())
    this.current = parsePhase(this.records.phase())
    this.closer.load()
    this.buffered = []
    this.offTransport = this.o.transport.onMessage((from, m) => {
      if (!this.stopped) this.job(() => this.handle(from, m)).catch((error) => this.report(error, from))
    })
    this.offPeers = this.o.transport.onPeer?.((index, up) => {
      if (up && !this.stopped) this.job(async () => this.askCatchUp(index)).catch((error) => this.report(error, index))
    })
    if (restored) {
      const now = this.o.clock.now()
      this.agreement.excuseMissed(now)
      this.outbox.push(...announcement(this.sm.ledger, this.records, this.me, { now, skew: this.timing.skew }))
      this.closer.resend()
      this.flush()
    }
  }

  /** Stops listening and waits for the work in progress (not for a close transaction in flight). */
  async stop(): Promise<void> {
    this.stopped = true
    this.offTransport?.()
    this.offPeers?.()
    this.closer.dispose()
    await this.queue.idle()
    this.saveNow() // peers' signatures still in memory: stored, no longer announced
  }

  /**
   * Runs `fn` in the queue, then sends what it produced and emits its events in order — apart
   * from any store hold it is called from (Store.apart: a turn handler of another channel on the
   * same store moving here commits its hold first, never writes into it and sends before it).
   */
  job<T>(fn: () => Promise<T>): Promise<T> {
    const store = this.o.store
    return store.apart ? store.apart(() => this.queued(fn)) : this.queued(fn)
  }

  private queued<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      this.group.input()
      try {
        return await fn()
      } finally {
        if (this.agreement.unsaved > 0 && this.o.store.durable !== true) this.saveNow()
        this.flush()
        while (this.finalMoved && !this.stopped) {
          this.finalMoved = false
          await this.closer.onFinal().catch((e) => this.report(e))
          this.flush()
        }
        if (this.agreement.unsaved > 0) this.group.schedule()
      }
    })
  }

  /** Resolves when every input so far is processed and every peer signature it brought is stored. */
  async idle(): Promise<void> {
    await this.queue.idle()
    while (this.agreement.unsaved > 0 && !this.stopped) await this.job(async () => this.saveUnsaved())
  }

  /** The current fork's ledger for a reader outside our inputs (application, court): an open hold it does not run inside is committed first (Store.outside), so what it reads as final is on disk. */
  committedLedger(): Ledger {
    this.o.store.outside?.()
    return this.sm.ledger
  }

  /** The current fork's ledger, to read (inside a job for a consistent view). */
  ledger(): Ledger {
    return this.sm.ledger
  }

  /** Our move `data` on the head: prepared, signed and stored; broadcast when the job ends. */
  async propose(data: Hex): Promise<Entry> {
    const entry = await this.sm.prepare(data)
    this.record(entry, { late: false, response: false })
    return entry
  }

  /**
   * A finality proof of the final transaction at `seq` (default: the latest). A held commit
   * still open is committed first: the proof may carry our signature, which leaves with it.
   */
  finalityProof(seq?: bigint): PackedSignedTransaction[] {
    this.o.store.settle?.()
    return this.agreement.finalityProof(seq)
  }

  /** The cooperative close's result once it settled on-chain. */
  closeCompleted(): CloseResult | undefined {
    return this.closer.completed
  }

  /** The highest transaction above the final state that we signed (it may still become final), if any: close() waits for it. */
  signedPending(): bigint | undefined {
    return this.closer.signedAbove(this.sm.ledger.final.seq)[0]?.transaction.seq
  }

  /** Adopts (signs) the close we start, in the channel's queue (./CloseCoordinator.ts). */
  prepareClose(): Promise<void> {
    return this.closer.prepare()
  }

  /** Starts (or joins) the cooperative close after {@link prepareClose} (./CloseCoordinator.ts). */
  beginClose(): Promise<CloseResult> {
    return this.closer.begin()
  }

  /** Closes the channel's transport. */
  closeTransport(): Promise<void> {
    return this.o.transport.close()
  }

  /**
   * The components, for white-box tests only (the court uses {@link courtPort}, the Channel the
   * methods above): nothing in src/ calls this.
   */
  internals(): { sm: StateManager; agreement: AgreementManager; closer: CloseCoordinator; guard: SigningGuard } {
    return { sm: this.sm, agreement: this.agreement, closer: this.closer, guard: this.guard }
  }

  /** The narrow view the court gets of this channel (./courtPort.ts); built once. */
  courtPort(): CourtPort {
    if (this.port) return this.port
    const { store, clock, machine, hasher } = this.o
    const id = this.channelId
    this.port = {
      channelId: id, params: this.params, me: this.me, cursorStore: store,
      phase: () => this.current,
      disposed: () => this.stopped,
      job: (fn) => this.job(fn),
      ledger: () => this.committedLedger(),
      now: () => clock.now(),
      digest: (t) => hasher.transaction(t),
      closeReady: () => this.closer.ready(),
      finalityProof: () => this.finalityProof(),
      lateMove: (data, opts) => this.lateMove(data, opts),
      isTerminal: (state) => machine.isTerminal(state),
      courtState: () => this.records.courtState(),
      saveCourtState: (json) => this.records.setCourtState(json),
      txAt: (fork, seq) => this.records.tx(fork, seq),
      txsFrom: (fork, fromSeq, limit) => this.records.txs(fork, fromSeq, limit),
      signaturesOf: (digest) => this.records.signatures(digest),
      ownSignaturesFrom: (fork, fromSeq) => this.records.ownSignatures(fork, fromSeq),
      forks: () => this.records.forks(),
    }
    return this.port
  }

  isMyTurn(): boolean {
    const l = this.sm.ledger
    return l.head.nextActor === this.me && this.current === ChannelPhase.Open && hasBit(l.fork.active, this.me)
  }

  /**
   * Our move on the head when it goes through the chain: after our broadcast window (a post,
   * docs/protocol.md §6.3) or, with `response`, during a timeout against us (§7.3, signed on the
   * disputed fork). Prepared without the window, signed, stored; not broadcast — peers would
   * reject it as late, and the chain publishes it.
   */
  async lateMove(data: Hex, opts: { response?: boolean } = {}): Promise<Entry> {
    const entry = await this.sm.prepare(data, { late: true })
    this.record(entry, { late: true, response: opts.response === true })
    return entry
  }

  // ─── peer messages ─────────────────────────────────────────────────────────────────────

  private async handle(from: number, m: Message): Promise<void> {
    // Unopened: the chain holds no channel; peers send it again by catch-up once it is back.
    if (this.current === ChannelPhase.Closed || this.current === ChannelPhase.Unopened) return
    switch (m?.type) {
      case 'tx':
        if (this.turn === undefined) {
          await this.onTx(from, m, 'peer')
          return
        }
        return heldCommit(this.o.store, async () => void ((await this.onTx(from, m, 'peer')) && (await this.answer())), () => {
          this.outbox = [] // not on disk: nothing of it leaves, and the channel stops
          this.buffered = []
          this.stopped = true
        })
      case 'confirm':
        this.agreement.receiveConfirmation(m)
        return
      case 'sync-request':
        if (m.fork === this.sm.ledger.fork.fork && typeof m.fromSeq === 'bigint') {
          this.send(from, syncResponse(this.sm.ledger, this.records, m.fromSeq))
          this.closer.resend()
        }
        return
      case 'sync-response':
        return this.onSyncResponse(from, m)
      case 'close':
        return this.closer.receive(m)
      case 'ping':
        this.send(from, { type: 'pong', nonce: m.nonce })
        return
      case 'pong':
        return
      default:
        throw new ProtocolError('MESSAGE_UNKNOWN', `unknown message type ${String((m as { type?: unknown })?.type)}`)
    }
  }

  /** Runs a tx through the pipeline; rejections are reported. Returns whether it was not rejected. */
  private async onTx(from: number, m: TxMessage, source: TxSource): Promise<boolean> {
    const r = await this.sm.receive({ transaction: m.transaction, signature: m.signature }, { source }, (e) => this.record(e))
    switch (r.kind) {
      case 'accepted':
        for (const e of r.rejected) this.report(e, from)
        return true
      case 'held':
        if (from >= 0 && this.syncAskedAt !== this.sm.ledger.head.seq) {
          this.syncAskedAt = this.sm.ledger.head.seq // ask the sender for the gap, once per height
          this.send(from, { type: 'sync-request', fork: this.sm.ledger.fork.fork, fromSeq: this.sm.ledger.head.seq + 1n })
        }
        return true
      case 'duplicate':
        return true
      case 'ahead':
        return false // a fork the chain has not shown us yet: its StateSet brings it
      case 'rejected':
        this.report(r.error, from)
        return false
    }
  }

  /**
   * A link to `peer` came up (it connected, reconnected or restarted): ask it for what it holds
   * after our final state. Its own moves that we missed while the link was down may be too old
   * for a live message by now (§6.4); as catch-up we take them by the sync rules.
   */
  private askCatchUp(peer: number): void {
    if (this.current === ChannelPhase.Closed) return
    this.send(peer, { type: 'sync-request', fork: this.sm.ledger.fork.fork, fromSeq: this.sm.ledger.final.seq + 1n })
  }

  private async onSyncResponse(from: number, m: SyncResponseMessage): Promise<void> {
    if (m.fork !== this.sm.ledger.fork.fork || !Array.isArray(m.entries)) return
    for (const e of m.entries) {
      const t = e?.transaction
      const sigs = new Map(Array.isArray(e?.signatures) ? e.signatures : [])
      if (typeof t?.seq !== 'bigint') return this.report(new ProtocolError('SYNC_MALFORMED', 'malformed sync entry'), from)
      if (t.seq > this.sm.ledger.head.seq && !(await this.onTx(from, { type: 'tx', transaction: t, signature: sigs.get(t.actor)! }, 'sync'))) return
      const digest = this.sm.ledger.get(t.seq)?.digest ?? this.records.tx(this.sm.ledger.fork.fork, t.seq)?.digest
      for (const [signer, signature] of sigs) {
        if (signer === this.me || digest === undefined) continue
        try {
          this.agreement.receiveConfirmation({ type: 'confirm', fork: m.fork, seq: t.seq, digest, signer, signature })
        } catch (err) {
          this.report(err, from)
        }
      }
    }
    if (m.entries.length === SYNC_BATCH) this.send(from, { type: 'sync-request', fork: m.fork, fromSeq: this.sm.ledger.head.seq + 1n })
  }

  // ─── our turn, answered in the same commit ────────────────────────────────────────────

  /**
   * Sets (or, with undefined, removes) the handler that makes our move when a peer's transaction
   * makes it our turn: it runs inside that input, so its move is stored in the same durable
   * commit as the transaction it answers and our confirmation of it (one fsync for both), and
   * both leave together when the job ends (Channel.onTurn).
   */
  setTurnHandler(fn: TurnHandler | undefined): void {
    this.turn = fn
  }

  /** The turn handler set, if any. */
  turnHandler(): TurnHandler | undefined {
    return this.turn
  }

  /**
   * Asks the turn handler for our move (./turn.ts: waited for TURN_WAIT_MS at most) and makes it
   * (prepared, signed, stored); its failures are reported. A late answer is proposed on its own while the head is the one it answers.
   */
  private async answer(): Promise<void> {
    const turn = this.turn
    if (turn === undefined || this.stopped || !this.isMyTurn()) return
    let answer: TurnAnswer
    this.inTurnHandler = true
    try {
      answer = await askTurn(turn)
    } catch (error) {
      return this.report(error)
    } finally {
      this.inTurnHandler = false
    }
    if (answer.late) {
      // An answer to a head that has moved on (we moved by hand, a peer answered) is not made.
      const ledger = this.sm.ledger
      const asked = ledger.head
      const later = async (data: Hex | undefined) => {
        if (data === undefined || this.stopped || !this.isMyTurn()) return
        if (this.sm.ledger !== ledger || ledger.head !== asked) {
          const head = this.sm.ledger.head.seq
          throw new UsageError('TURN_ANSWER_STALE', `the turn handler's late answer to seq ${asked.seq} came when the head is seq ${head}: not made`, { details: { asked: asked.seq, head } })
        }
        await this.propose(data)
      }
      answer.late.then((data) => void (this.stopped || this.job(() => later(data)).catch((e) => this.report(e))), (e) => this.report(e))
      return
    }
    if (answer.data === undefined || this.stopped || !this.isMyTurn()) return
    await this.propose(answer.data).catch((e) => this.report(e))
  }

  // ─── durable commits ───────────────────────────────────────────────────────────────────

  /** {@link saveUnsaved}, its failure reported (a job's result stays its own). */
  private saveNow(): void {
    try {
      this.saveUnsaved()
    } catch (e) {
      this.report(e)
    }
  }

  /** One durable commit of the peers' signatures that wait; then they count (finality may move). */
  private saveUnsaved(): void {
    if (this.agreement.unsaved === 0) return
    this.o.store.transaction(() => this.agreement.writeUnsaved())
    this.announce(this.agreement.saved())
  }

  // ─── the transaction path ──────────────────────────────────────────────────────────────

  /**
   * Stores a transaction — our move (`own`: proposed, or `late` through the chain) or a peer's
   * that passed the pipeline (StateManager.receive hands each one here, in order) — and applies it:
   * 1. agreement decides, changing nothing: do we confirm it, which refusals its arrival reveals,
   *    which confirmations waited for it (verified);
   * 2. one store transaction: the tx with its state and signatures, our signature (the guard
   *    logs it: on disk before it can leave), the confirmations that waited for it and every
   *    peer signature verified since the last commit, the refusals, the restore hint;
   * 3. the ledger grows; every stored signature counts; finality moves;
   * 4. what we signed goes to the outbox (our move, unless it goes through the chain; our
   *    confirmation) and the events are buffered — both leave when the job ends, after the commit.
   */
  private record(entry: Entry, own?: { late: boolean; response: boolean }): void {
    const t = entry.transaction
    const d = this.agreement.decide(entry)
    const sign = own !== undefined || d.noConfirm === undefined
    const { store } = this.o
    store.transaction(() => {
      this.sm.write(entry)
      if (sign) entry.signatures.set(this.me, this.guard.signTransaction(this.sm.ledger.fork, t.seq, entry.digest, { response: own?.response === true }))
      for (const [signer, signature] of d.confirmations) this.records.putSignature(entry.digest, signer, signature)
      this.agreement.writeUnsaved()
      if (d.refusers !== undefined) this.records.setRefusers(t.fork, d.refusers)
    })
    this.sm.append(entry)
    const ours = entry.signatures.get(this.me)
    if (own === undefined && sign) {
      this.outbox.push({ type: 'confirm', fork: t.fork, seq: t.seq, digest: entry.digest, signer: this.me, signature: ours! })
      this.emitLater('signature', { fork: t.fork, seq: t.seq, signer: this.me })
    } else if (own?.late === false) this.outbox.push({ type: 'tx', transaction: t, signature: ours! })
    const recorded = this.agreement.recorded(entry, d)
    this.emitLater('state', {
      fork: t.fork, seq: t.seq, state: entry.state, stateHash: t.stateHash, transaction: t, digest: entry.digest,
      author: t.actor, nextActor: entry.nextActor, isMyTurn: this.isMyTurn(),
    })
    this.announce(recorded)
    for (const err of d.errors) this.report(err)
  }

  /**
   * The fork goes on after a dispute: the moves we did not confirm because it was disputed are
   * judged again now (AgreementManager.reconsider); those we confirm are signed and stored in one
   * commit, then sent.
   */
  private reconsider(): void {
    const entries = this.agreement.reconsider(this.o.clock.now())
    const fork = this.sm.ledger.fork
    if (entries.length > 0) {
      this.o.store.transaction(() => {
        for (const e of entries) e.signatures.set(this.me, this.guard.signTransaction(fork, e.transaction.seq, e.digest))
      })
    }
    for (const e of entries) {
      this.outbox.push({ type: 'confirm', fork: fork.fork, seq: e.transaction.seq, digest: e.digest, signer: this.me, signature: e.signatures.get(this.me)! })
    }
    this.announce(this.agreement.confirmed(entries))
  }

  /** Buffers the events of what agreement recorded: each signature that counts now, then the newly final entries. */
  private announce(x: Recorded | Entry[]): void {
    const { signed, finals } = Array.isArray(x) ? { signed: [], finals: x } : x
    for (const { entry, signer } of signed) this.emitLater('signature', { fork: entry.transaction.fork, seq: entry.transaction.seq, signer })
    if (finals.length === 0) return
    this.finalMoved = true
    const active = this.sm.ledger.fork.active
    for (const e of finals) {
      const signed = e.signers & active
      this.emitLater('final', {
        fork: e.transaction.fork, seq: e.transaction.seq, state: e.state, stateHash: e.transaction.stateHash, transaction: e.transaction,
        signers: bitIndices(signed), byVirtualVoting: signed !== active,
      })
    }
  }

  private finalStateAt(seq: bigint): Hex | undefined {
    const l = this.sm.ledger
    if (seq > l.final.seq) return undefined
    if (seq === 0n) return l.fork.state
    return l.get(seq)?.state ?? this.records.tx(l.fork.fork, seq)?.state
  }

  private useLedger(l: Ledger): void {
    if (this.sm.ledger) this.saveUnsaved() // signatures of the fork we leave
    this.sm.setLedger(l)
    this.agreement.setLedger(l)
    this.syncAskedAt = -1n
  }

  /** Broadcasts the outbox (it only holds what committed), then emits buffered events. */
  private flush(): void {
    const out = this.outbox.splice(0)
    if (out.length > 0) crashBeforeBroadcast(out)
    for (const m of out) this.o.transport.broadcast(m).catch((e) => this.report(e))
    for (const { name, payload } of this.buffered.splice(0)) this.events.emit(name, payload as never)
  }

  private send(to: number, m: Message): void {
    this.o.transport.send(to, m).catch((e) => this.report(e, to))
  }

  private emitLater<K extends keyof ChannelEvents>(name: K, payload: ChannelEvents[K]): void {
    this.buffered.push({ name, payload })
  }

  setPhase(to: ChannelPhase): void {
    if (to === this.current) return
    assertTransition(this.current, to)
    this.records.setPhase(to)
    this.emitLater('phase', { from: this.current, to })
    this.current = to
  }

  /** Peer misbehaviour and failures go to `error` listeners; provable ones also to `fraud`. */
  report(error: unknown, from?: number): void {
    const who = from !== undefined && from >= 0 ? { from } : {}
    const evidence = evidenceOf(error)
    if (evidence) this.events.emit('fraud', { evidence, error: error as Error, ...who })
    this.events.emit('error', { error, ...who })
  }
}

/** Crash points (docs/protocol.md §7.12): what we signed is in the store, none of it sent yet. */
function crashBeforeBroadcast(out: readonly Message[]): void {
  for (const m of out) {
    if (m.type === 'tx') crashPoint('tx.persisted')
    else if (m.type === 'confirm') crashPoint('confirm.persisted')
    else if (m.type === 'close') crashPoint('close.persisted')
  }
}
