/**
 * The one object an application uses for a channel: propose moves, read the state, observe
 * events, close cooperatively, feed chain events. Validation and the public API live here;
 * the work is done by the internal {@link Engine}, which serializes every input.
 */
import { UsageError } from '../errors/ParleyError.js'
import { fullBitmap, hasBit } from '../protocol/bitmap.js'
import { hashState } from '../protocol/eip712.js'
import type { ChannelParams, Hex, PackedSignedTransaction, SignedTransaction, Transaction } from '../protocol/types.js'
import type { ChannelClosedEvent, StateSetEvent } from '../chain/events.js'
import { iterate } from '../observe/iterate.js'
import type { CloseResult } from './CloseCoordinator.js'
import type { CourtPort } from './courtPort.js'
import { Engine, type ChainPhaseView } from './Engine.js'
import type { ChannelEvents, FinalEvent, StateEvent } from './events.js'
import { checkGenesis, checkParams, checkRuntime, checkSkew, indexOf, sessionKeyOf, type ChannelCreateOptions, type ChannelRestoreOptions } from './options.js'
import { ChannelPhase } from './phase.js'
import { ChannelRecords } from '../store/ChannelRecords.js'

/** A read-only snapshot of the channel as this peer sees it. */
export interface ChannelSnapshot {
  channelId: Hex
  me: number
  phase: ChannelPhase
  fork: bigint
  /** Active participants on this fork (bitmap). */
  active: bigint
  /** Latest accepted state. */
  seq: bigint
  state: Hex
  stateHash: Hex
  timestamp: bigint
  nextActor: number
  isMyTurn: boolean
  /** Latest final state. */
  finalSeq: bigint
  finalState: Hex
  finalStateHash: Hex
  /**
   * The latest transaction of this fork we signed (authored or confirmed), at least `finalSeq`:
   * everything up to it can become final without another move of ours. A later head we did not
   * sign (one we refused as late) becomes final only through our next move.
   */
  signedSeq: bigint
}

/** What `propose` returns: our signed tx, accepted locally and broadcast. */
export interface Proposal {
  transaction: Transaction
  digest: Hex
  seq: bigint
  state: Hex
}

/** Engines by facade, for in-package components that need the internals (the court). */
const engines = new WeakMap<Channel, Engine>()

/**
 * The channel as its court sees it (./courtPort.ts): what src/dispute uses, and nothing more.
 * @example const port = courtPortOf(channel)
 */
export function courtPortOf(channel: Channel): CourtPort {
  return engineOf(channel).courtPort()
}

/**
 * The engine behind a Channel. Internal: for tests that must look inside (the court uses
 * {@link courtPortOf}); not exported from the index.
 * @example const engine = engineOf(channel)
 */
export function engineOf(channel: Channel): Engine {
  const e = engines.get(channel)
  if (!e) throw new UsageError('CHANNEL_INVALID', 'not a Channel created by Channel.create or Channel.restore')
  return e
}

export class Channel {
  readonly channelId: Hex
  readonly params: ChannelParams
  readonly me: number

  private constructor(private readonly e: Engine) {
    this.channelId = e.channelId
    this.params = e.params
    this.me = e.me
    engines.set(this, e)
  }

  /**
   * Starts a channel that was just opened on-chain. Validates every option (UsageError with
   * a precise code), checks the genesis against the machine, persists the channel record and
   * starts listening on the transport.
   *
   * @example
   * const { channelId, genesis } = await manager.open(params, consents)
   * const channel = await Channel.create({
   *   params, genesis, signer: wallet, machine, store: new SqliteStore('alice.db'),
   *   transport: hub.connect(0), clock, hasher,
   * })
   */
  static async create(opts: ChannelCreateOptions): Promise<Channel> {
    const { key, address, wallet } = await checkRuntime(opts)
    checkParams(opts.params)
    checkSkew(opts.skew, opts.params)
    checkGenesis(opts.genesis)
    const me = indexOf(opts.params, address)
    if (opts.transport.me !== me) throw new UsageError('TRANSPORT_INDEX_MISMATCH', `the transport is participant ${opts.transport.me}'s, the signer is participant ${me}`)
    const sessionKey = sessionKeyOf(opts.sessionKey, opts.params, me, key)
    const channelId = opts.hasher.channelId(opts.params)
    if (opts.channelId !== undefined && opts.channelId.toLowerCase() !== channelId) {
      throw new UsageError('CHANNEL_ID_MISMATCH', 'channelId does not match the params on this manager and chain', { details: { given: opts.channelId, computed: channelId } })
    }
    if (opts.store.getChannel(channelId)) throw new UsageError('CHANNEL_EXISTS', 'this channel is already in the store: use Channel.restore', { details: { channelId } })
    const state = opts.genesis.state.toLowerCase() as Hex
    let expected: Hex
    try {
      expected = (await opts.machine.initialState(opts.params.deposits, opts.params.initData)).toLowerCase() as Hex
    } catch (cause) {
      throw new UsageError('GENESIS_MISMATCH', 'the machine rejects these params in initialState', { cause })
    }
    if (expected !== state) throw new UsageError('GENESIS_MISMATCH', 'genesis.state is not what the machine computes for these params (wrong machine or params?)')
    opts.store.transaction(() => {
      opts.store.putChannel({ channelId, params: opts.params, me })
      opts.store.putFork(channelId, { fork: 0n, state, stateHash: hashState(state), timestamp: opts.genesis.timestamp, active: fullBitmap(opts.params.participants.length), disputed: false })
      new ChannelRecords(opts.store, channelId).setPhase(ChannelPhase.Open)
    })
    const engine = new Engine(opts, channelId, opts.params, me, key ?? { address }, sessionKey, wallet)
    await engine.start(false)
    return new Channel(engine)
  }

  /**
   * Reopens a channel from its store after a restart: resumes exactly where it was, asks the
   * peers for what it missed and re-sends the signatures it gave since the last final state.
   *
   * @example const channel = await Channel.restore({ channelId, signer, machine, store: new SqliteStore('alice.db'), transport, clock, hasher })
   */
  static async restore(opts: ChannelRestoreOptions): Promise<Channel> {
    const { key, address, wallet } = await checkRuntime(opts)
    const rec = typeof opts.channelId === 'string' ? opts.store.getChannel(opts.channelId.toLowerCase() as Hex) : undefined
    if (!rec) throw new UsageError('CHANNEL_NOT_FOUND', `the store holds no channel ${String(opts.channelId)}`)
    if (rec.params.participants[rec.me]!.toLowerCase() !== address) {
      throw new UsageError('SIGNER_MISMATCH', `the store belongs to participant ${rec.me} (${rec.params.participants[rec.me]}), not to ${address}`)
    }
    if (opts.transport.me !== rec.me) throw new UsageError('TRANSPORT_INDEX_MISMATCH', `the transport is participant ${opts.transport.me}'s, the store is participant ${rec.me}'s`)
    checkSkew(opts.skew, rec.params)
    const engine = new Engine(opts, rec.channelId, rec.params, rec.me, key ?? { address }, sessionKeyOf(opts.sessionKey, rec.params, rec.me, key), wallet)
    await engine.start(true)
    return new Channel(engine)
  }

  /** Current phase. */
  get phase(): ChannelPhase {
    return this.e.phase
  }

  /**
   * The latest state, the latest final state, whose turn it is. Read from outside the input that
   * holds a commit open (a turn handler awaiting), the hold is committed first: a final state shown
   * here is on disk (docs/protocol.md §7.12); a failure of that commit throws RuntimeError
   * `STORE_IO` (the input that held it then stops the channel, nothing of it sent).
   */
  get state(): ChannelSnapshot {
    const l = this.e.committedLedger()
    return {
      channelId: this.channelId, me: this.me, phase: this.e.phase, fork: l.fork.fork, active: l.fork.active,
      seq: l.head.seq, state: l.head.state, stateHash: l.head.stateHash, timestamp: l.head.timestamp, nextActor: l.head.nextActor,
      isMyTurn: this.e.isMyTurn(), finalSeq: l.final.seq, finalState: l.final.state, finalStateHash: l.final.stateHash,
      signedSeq: l.pending().reduce((s, e) => (e.signatures.has(this.me) ? e.transaction.seq : s), l.final.seq),
    }
  }

  /**
   * Subscribes to an event; returns the unsubscribe function.
   * @example const off = channel.on('final', (f) => console.log('final', f.seq)); off()
   */
  on<K extends keyof ChannelEvents>(name: K, fn: (payload: ChannelEvents[K]) => void): () => void {
    return this.e.events.on(name, fn)
  }

  /**
   * The next `name` event (optionally the next one matching `filter`).
   * @example const closed = await channel.next('closed')
   */
  next<K extends keyof ChannelEvents>(name: K, opts: { signal?: AbortSignal; filter?: (p: ChannelEvents[K]) => boolean } = {}): Promise<ChannelEvents[K]> {
    return this.e.events.next(name, opts)
  }

  /**
   * Every new state, as an async iterator that ends when the channel closes or is disposed.
   * @example for await (const s of channel.states()) if (s.isMyTurn) await channel.propose(move(s.state))
   */
  states(): AsyncIterableIterator<StateEvent> {
    return iterate(this.e.events, 'state', { endOn: ['closed', 'disposed'], ended: () => this.e.disposed || this.e.phase === ChannelPhase.Closed })
  }

  /** Every newly final state, as an async iterator (ends like {@link states}). */
  finals(): AsyncIterableIterator<FinalEvent> {
    return iterate(this.e.events, 'final', { endOn: ['closed', 'disposed'], ended: () => this.e.disposed || this.e.phase === ChannelPhase.Closed })
  }

  /**
   * Authors the next transaction and sends it to the peers — the off-chain road only. Only when
   * it is our turn (UsageError `NOT_YOUR_TURN`), the channel is open (`CHANNEL_NOT_OPEN`) and our
   * broadcast window has not passed (`BROADCAST_WINDOW_PASSED`); an invalid move is UsageError
   * `MOVE_INVALID` with the machine's decoded error. Resolves once the tx is stored and sent.
   * With a court attached, use `court.propose` (or `peer.propose` from `createPeer`): it takes
   * this road in the window and posts the move on-chain after it.
   *
   * @example
   * const { seq } = await channel.propose(abi.encode(['uint8'], [4]))
   * await channel.waitFinal(seq)
   */
  propose(data: Hex): Promise<Proposal> {
    this.usable()
    if (this.e.answering) {
      throw new UsageError('PROPOSE_IN_TURN_HANDLER', 'the onTurn handler is deciding our move: return the move from it instead of proposing it (the channel waits for the handler)')
    }
    return this.e.job(async () => {
      this.usable()
      if (this.e.phase !== ChannelPhase.Open) throw new UsageError('CHANNEL_NOT_OPEN', `cannot propose while the channel is ${this.e.phase}`, { details: { phase: this.e.phase } })
      if (!hasBit(this.e.ledger().fork.active, this.me)) throw new UsageError('NOT_ACTIVE', 'we were removed from this channel')
      const entry = await this.e.propose(data)
      return { transaction: entry.transaction, digest: entry.digest, seq: entry.transaction.seq, state: entry.state }
    })
  }

  /**
   * Makes our move whenever a peer's transaction makes it our turn: `fn` gets the channel's
   * state with that transaction applied and returns our move's data (or undefined for none). It
   * runs inside the input that brought the transaction, so with a durable store (SqliteStore) the
   * transaction, our confirmation of it and our move are stored in **one commit** — one fsync
   * instead of two — and leave together after it. `fn` sees that state before it is on disk: if
   * the process dies before the commit, the state and the move are both lost and nothing of them
   * left the process (the peer sends the transaction again) — its `finalSeq` too: act outside the
   * channel (deliver what a payment bought) on the `final` event, not from `fn`. The `state` and
   * `final` events come after the commit, as always. A move the machine refuses (or a handler that throws) goes to the
   * `error` event and no move is made. Inside `fn`, return the move instead of calling `propose`
   * (UsageError `PROPOSE_IN_TURN_HANDLER`: the channel waits for `fn`). The channel's other inputs
   * (its court's too) wait while `fn` decides, so it is waited for 250 ms at most (TURN_WAIT_MS):
   * a slower answer is proposed on its own when it comes, in a commit of its own — unless the head
   * moved on meanwhile (we moved by hand, a peer answered): an answer to a state that is gone is
   * not made (`error` event, UsageError `TURN_ANSWER_STALE`). The first move of
   * a channel, and a move after our own, are still `propose`d; moves through the chain (a post
   * after our window, a response to a timeout) are the court's (`court.propose`). One handler at
   * a time; returns its removal.
   * @example
   * const off = channel.onTurn((s) => nextMove(s.state)) // a bot: every answer in the commit of what it answers
   */
  onTurn(fn: (state: ChannelSnapshot) => Hex | undefined | Promise<Hex | undefined>): () => void {
    this.usable()
    if (typeof fn !== 'function') throw new UsageError('TURN_HANDLER_INVALID', 'onTurn takes a function returning the move data (or undefined)')
    const handler = () => fn(this.state)
    this.e.setTurnHandler(handler)
    return () => {
      if (this.e.turnHandler() === handler) this.e.setTurnHandler(undefined)
    }
  }

  /**
   * Resolves when the state at `seq` (of the current fork) is final; rejects with UsageError
   * `CHANNEL_DISPOSED` on dispose and UsageError `FORK_CHANGED` if the chain set a new fork first.
   * @example await channel.waitFinal((await channel.propose(move)).seq)
   */
  waitFinal(seq: bigint, opts: { signal?: AbortSignal } = {}): Promise<{ fork: bigint; seq: bigint }> {
    this.usable()
    const ledger = this.e.committedLedger()
    const fork = ledger.fork.fork
    if (seq <= ledger.final.seq) return Promise.resolve({ fork, seq: ledger.final.seq })
    return new Promise((resolve, reject) => {
      const offs: (() => void)[] = []
      const done = () => offs.forEach((f) => f())
      offs.push(this.on('final', (f) => f.fork === fork && f.seq >= seq && (done(), resolve({ fork, seq: f.seq }))))
      offs.push(this.on('fork', () => (done(), reject(new UsageError('FORK_CHANGED', `fork ${fork} was replaced before seq ${seq} became final`)))))
      offs.push(this.on('disposed', () => (done(), reject(new UsageError('CHANNEL_DISPOSED', 'the channel was disposed')))))
      if (opts.signal) {
        const abort = () => (done(), reject(opts.signal!.reason))
        opts.signal.addEventListener('abort', abort, { once: true })
        offs.push(() => opts.signal!.removeEventListener('abort', abort))
      }
    })
  }

  /**
   * A finality proof (packed for the contract) of the tx at `seq`, default the latest final.
   * @example await manager.conclude(channel.channelId, params.participants, channel.finalityProof(), channel.state.finalState)
   */
  finalityProof(seq?: bigint): PackedSignedTransaction[] {
    this.usable()
    return this.e.finalityProof(seq)
  }

  /**
   * Cooperative close on the latest final state. A later transaction we signed (ours, or a
   * peer's we confirmed) may still become final, and a close before it would undo it (peers it
   * pays refuse such a close): close() first waits for every such transaction to be final
   * (`signal` bounds the wait; a dispute resolved into a new fork meanwhile rejects it with
   * UsageError `FORK_CHANGED`, nothing signed), then closes on the latest; a state only our own
   * next move could make final stays out. Signs CloseChannel, collects every active
   * participant's signature over the transport and, with a chain client, submits `close`
   * on-chain as soon as they are in; the attached court submits it too (staggered) if ours does
   * not get through. No transaction is signed on this fork afterwards, and the phase stays
   * Closing until the chain settles the channel (`closed`). Resolves with the transaction that
   * closed it: ours once mined, or another participant's as the court's listener reports it.
   * Rejects with ProtocolError `CLOSE_PREEMPTED` when a dispute, a settlement on another state or
   * a new fork came first (the court then follows the dispute), with the submission's error if
   * it reverted or failed (RuntimeError: the close stays signed and the court retries it), and
   * with UsageError `CHANNEL_DISPOSED` on dispose; with an external wallet as our account (its
   * consent asked asynchronously, the close reserved in the store first), with RuntimeError
   * `WALLET_REJECTED` when it refuses or UsageError `SIGNER_MISMATCH` when another account signed
   * (calling close() again asks it again for the same state); throws UsageError `CHANNEL_NOT_OPEN` while a dispute
   * is open or the open was reorganised away (Unopened). `signal` stops waiting (the signature stays
   * given: the channel remains Closing).
   * @example const { transactionHash } = await channel.close({ signal: AbortSignal.timeout(30_000) })
   */
  async close(opts: { signal?: AbortSignal } = {}): Promise<CloseResult> {
    this.usable()
    // A later transaction we signed may still become final. A close of the state before it would undo it — for us when it
    // gives us more, and for a peer it pays, who would then refuse our close (CLOSE_STALE) — so wait until it is final.
    // (Synchronous when there is none, so that the close enters the queue at once, ahead of what follows it.)
    const pending = this.e.signedPending()
    if (pending !== undefined) await this.waitFinal(pending, opts)
    const started = await this.e.job(async () => {
      if (this.e.phase === ChannelPhase.Disputed || this.e.phase === ChannelPhase.Unopened) {
        throw new UsageError('CHANNEL_NOT_OPEN', `cannot close while the channel is ${this.e.phase}`, { details: { phase: this.e.phase } })
      }
      const done = this.e.closeCompleted()
      if (this.e.phase === ChannelPhase.Closed && !done) throw new UsageError('CHANNEL_CLOSED', 'the channel was settled on-chain')
      if (done) return { result: Promise.resolve(done) }
      await this.e.prepareClose()
      return { result: this.e.beginClose() }
    })
    const { signal } = opts
    if (!signal) return started.result
    signal.throwIfAborted()
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      started.result.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  /** A reorganisation took the open away (the court found no channel on-chain): see Engine.openRetracted. */
  applyOpenRetracted(): Promise<void> {
    return this.e.job(async () => this.e.chain.openRetracted())
  }

  /** The chain set a new fork (StateSet): drop the old one, build on the new genesis. */
  applyStateSet(ev: StateSetEvent): Promise<void> {
    return this.e.job(() => this.e.chain.stateSet(ev))
  }


  /**
   * A dispute was raised on-chain (DisputeRaised, in transaction `at.transactionHash`): sign
   * nothing more on this fork; a close signed on it is preempted.
   */
  applyDispute(ev: { fork: bigint }, at: { transactionHash?: Hex } = {}): Promise<void> {
    return this.e.job(async () => this.e.chain.dispute(ev, at.transactionHash))
  }


  /** The accused's move cancelled the dispute (DisputeCancelled): signing resumes on this fork. */
  applyDisputeCancelled(ev: { fork: bigint }): Promise<void> {
    return this.e.job(async () => this.e.chain.disputeCancelled(ev))
  }

  /**
   * A reorganisation took back chain events: the chain's view of the channel was `before` and is
   * now `after` (see Engine.reorganised). The court calls it; the listener then delivers the new blocks.
   */
  applyReorg(before: ChainPhaseView, after: ChainPhaseView): Promise<void> {
    return this.e.job(async () => this.e.chain.reorganised(before, after))
  }

  /**
   * The chain settled the channel (ChannelClosed, in transaction `at.transactionHash`): the
   * phase becomes Closed — only this does it. Give the hash: a pending `close()` resolves with it.
   */
  applyClosed(ev: ChannelClosedEvent, at: { transactionHash?: Hex } = {}): Promise<void> {
    return this.e.job(async () => this.e.chain.settled(ev, at.transactionHash))
  }


  /**
   * A tx posted on-chain as calldata (TransactionPosted) in a block stamped `chainTime`: treated
   * as if broadcast, its timestamp judged by the chain's clock.
   */
  applyPostedTransaction(tx: Transaction, signature: Hex, chainTime?: bigint): Promise<void> {
    return this.e.job(() => this.e.chain.posted(tx, signature, chainTime))
  }

  /**
   * The signed transactions a dispute call published (DisputeRaised / DisputeAnswered `txs`, in
   * a block stamped `chainTime`): each goes through the verification pipeline whatever its
   * height, so one that conflicts with what we hold becomes fraud evidence (the `fraud` event).
   */
  applyChainTransactions(entries: readonly SignedTransaction[], chainTime?: bigint): Promise<void> {
    return this.e.job(() => this.e.chain.chainList(entries, chainTime))
  }


  /** Resolves when every message and call received so far has been processed. */
  idle(): Promise<void> {
    return this.e.idle()
  }


  /** Stops this instance (the channel itself goes on; restore it later from the store). */
  async dispose(): Promise<void> {
    if (this.e.disposed) return
    await this.e.stop()
    await this.e.closeTransport()
    this.e.events.emit('disposed', undefined)
  }



  private usable(): void {
    if (this.e.disposed) throw new UsageError('CHANNEL_DISPOSED', 'this channel instance was disposed; restore it from the store')
  }
}
