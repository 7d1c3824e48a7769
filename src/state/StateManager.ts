/**
 * StateManager: runs incoming transactions through the verification pipeline, holds the ones
 * that arrive before their parent, and hands each accepted one, in order, to the caller's
 * `record` (the Engine stores it with what agreement decided, then {@link StateManager.append}s
 * it; by default it is stored alone). It also prepares our own moves.
 *
 * Calls must not overlap (the Channel serializes them): the pipeline reads the head, awaits
 * the machine, and the head must not move meanwhile.
 */
import { ProtocolError, UsageError } from '../errors/ParleyError.js'
import { hashState, type ParleyHasher } from '../protocol/eip712.js'
import { bitmapOf } from '../protocol/bitmap.js'
import { broadcastDeadline } from '../protocol/timing.js'
import { membersOf } from '../protocol/members.js'
import type { Clock } from '../clock/Clock.js'
import type { StateMachine } from '../machine/StateMachine.js'
import { MAX_DATA_BYTES, type ChannelParams, type Hex, type Transaction } from '../protocol/types.js'
import type { Store } from '../store/types.js'
import type { AuthoredTransaction } from './evidence.js'
import { Ledger, type Entry } from './ledger.js'
import { verifyTransaction, type PipelineContext } from './pipeline.js'
import { checkWellFormed, MAX_AHEAD, type Timing, type TxSource } from './steps.js'
import { isMachineFailure, nextActorOf } from '../machine/failure.js'
import { ChannelRecords } from '../store/ChannelRecords.js'

export interface StateManagerOptions {
  channelId: Hex
  params: ChannelParams
  me: number
  store: Store
  machine: StateMachine
  hasher: ParleyHasher
  clock: Clock
  timing: Timing
}

/** Stores an accepted entry and extends the ledger with it (see {@link StateManager.receive}). */
export type Recorder = (entry: Entry) => void

/**
 * How a received transaction ended — ordinary outcomes are results, not exceptions:
 * - `accepted`: it (and any held transactions it released, in order) extends the ledger;
 *   `rejected` holds the released ones the pipeline refused;
 * - `held`: it came before its parent and waits for it;
 * - `duplicate`: we hold it already;
 * - `ahead`: it belongs to a later fork than ours (the chain's events bring that fork);
 * - `rejected`: the pipeline refused it; `error` says why (with its evidence when it proves fraud).
 * Nothing is persisted or signed for the last four.
 */
export type ReceiveResult =
  | { kind: 'accepted'; accepted: Entry[]; rejected: ProtocolError[] }
  | { kind: 'held' }
  | { kind: 'duplicate' }
  | { kind: 'ahead'; fork: bigint }
  | { kind: 'rejected'; error: ProtocolError }

/** How many transactions may become final before the restore hint is rewritten. */
const HINT_EVERY = 32n

interface Held {
  input: AuthoredTransaction
  meta: ReceiveMeta
}

/** Where and when a transaction arrived. */
export interface ReceiveMeta {
  source: TxSource
  /** Our clock when it arrived (default: now). */
  receivedAt: bigint
  /** For a tx from the chain: its block's timestamp (the chain's clock judges it). */
  chainTime?: bigint
}

export class StateManager {
  ledger!: Ledger
  private held = new Map<bigint, Held[]>()
  private heldCount = 0
  /** The final seq last written as the fork's restore hint (-1: none by this instance). */
  private finalHint = -1n
  private readonly participants: Hex[]
  private readonly records: ChannelRecords

  constructor(private readonly o: StateManagerOptions) {
    // Transactions are signed by each participant's in-channel signer (session key or account).
    this.participants = membersOf(o.params)
    this.records = new ChannelRecords(o.store, o.channelId)
  }

  /** Replaces the current fork's view (new fork or restore); drops held txs. */
  setLedger(ledger: Ledger): void {
    this.ledger = ledger
    this.finalHint = -1n
    this.held.clear()
    this.heldCount = 0
  }

  /**
   * Verifies and, if valid, persists `input` (a tx with its author signature); see
   * {@link ReceiveResult}. Throws only when something around it failed (the store, the machine's
   * host), never for what a peer or the chain sent.
   * @example const r = await state.receive({ transaction, signature }, { source: 'peer' }); if (r.kind === 'rejected') report(r.error)
   */
  async receive(input: unknown, at: { source: TxSource; receivedAt?: bigint; chainTime?: bigint }, record: Recorder = (e) => this.commit(e)): Promise<ReceiveResult> {
    const meta: ReceiveMeta = { ...at, receivedAt: at.receivedAt ?? this.o.clock.now() }
    const result = { kind: 'accepted' as const, accepted: [] as Entry[], rejected: [] as ProtocolError[] }
    try {
      result.accepted.push(await this.accept(input, meta, record))
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e
      return this.notAccepted(e, input, meta)
    }
    await this.release(result, record)
    return result
  }

  /** The one place a pipeline refusal's code decides what happens to the transaction (and release's duplicate rule). */
  private notAccepted(e: ProtocolError, input: unknown, meta: ReceiveMeta): ReceiveResult {
    if (e.code === 'TX_BAD_SEQ' && e.details?.holdable === true) {
      this.hold(checkWellFormed(input, this.participants.length), meta)
      return { kind: 'held' }
    }
    if (e.code === 'TX_DUPLICATE') return { kind: 'duplicate' }
    const got = e.details?.got
    if (e.code === 'TX_WRONG_FORK' && typeof got === 'bigint' && got > this.ledger.fork.fork) return { kind: 'ahead', fork: got }
    return { kind: 'rejected', error: e }
  }

  /**
   * Our own next move: checks the turn, runs the machine and returns an unsigned entry for
   * {@link commit}. Throws UsageError `NOT_YOUR_TURN`, `MOVE_INVALID` (machine revert, with
   * the decoded error), `DATA_INVALID`, or `BROADCAST_WINDOW_PASSED` — unless `late` (a move
   * published through the chain: a post or a timeout response, which have no broadcast window).
   */
  async prepare(data: Hex, opts: { late?: boolean } = {}): Promise<Entry> {
    if (typeof data !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(data)) {
      throw new UsageError('DATA_INVALID', 'move data must be 0x-prefixed hex with an even number of digits', { details: { data } })
    }
    if ((data.length - 2) / 2 > MAX_DATA_BYTES) throw new UsageError('DATA_TOO_LARGE', `move data exceeds ${MAX_DATA_BYTES} bytes`)
    const head = this.ledger.head
    const me = this.o.me
    if (head.nextActor !== me) {
      throw new UsageError('NOT_YOUR_TURN', `it is participant ${head.nextActor}'s turn, not yours (${me})`, { details: { nextActor: head.nextActor, me } })
    }
    const now = this.o.clock.now()
    const timestamp = now > head.timestamp ? now : head.timestamp
    const deadline = broadcastDeadline(head.timestamp, this.o.timing)
    if (timestamp > deadline && opts.late !== true) {
      throw new UsageError('BROADCAST_WINDOW_PASSED', 'the off-chain window for this move has passed; post it on-chain instead', {
        details: { deadline, now },
      })
    }
    let state: Hex
    try {
      state = await this.o.machine.transition(head.state, me, data.toLowerCase() as Hex, timestamp)
    } catch (cause) {
      if (isMachineFailure(cause)) {
        const d = cause.details ?? {}
        throw new UsageError('MOVE_INVALID', `the machine rejects this move: ${cause.message}`, {
          cause, details: { ...d, error: d.errorName ?? d.error },
        })
      }
      throw cause
    }
    const transaction: Transaction = {
      channelId: this.o.channelId, fork: this.ledger.fork.fork, seq: head.seq + 1n, timestamp, actor: me,
      previousStateHash: head.stateHash, data: data.toLowerCase() as Hex, stateHash: hashState(state),
    }
    const nextActor = await nextActorOf(this.o.machine, state)
    return { transaction, digest: this.o.hasher.transaction(transaction), state, nextActor, receivedAt: now, signatures: new Map(), signers: 0n }
  }

  /** The default {@link Recorder}: `entry` stored alone (its tx, state and signatures), then appended. */
  commit(entry: Entry): void {
    this.o.store.transaction(() => this.write(entry))
    entry.signers = bitmapOf(entry.signatures.keys())
    this.append(entry)
  }

  /**
   * Writes `entry` — its tx and state, the signatures it holds (ours, when we sign it, the
   * guard writes) and, now and then, the fork's restore hint. Call inside the store transaction
   * that stores it, then {@link append} it.
   */
  write(entry: Entry): void {
    this.records.putEntry(entry)
    // The restore hint (loadLedger starts there): a final seq, rewritten only every HINT_EVERY
    // finals — a restore then re-reads at most that many final transactions.
    const final = this.ledger.final.seq
    if (final >= this.finalHint + HINT_EVERY || (this.finalHint < 0n && final > 0n)) {
      this.records.setFinalHint(entry.transaction.fork, final)
      this.finalHint = final
    }
  }

  /** Extends the ledger with `entry`, stored by now ({@link write}). */
  append(entry: Entry): void {
    this.ledger.append(entry)
  }

  /** The stored tx at `seq` of the current fork with its author's signature. */
  signedAt(seq: bigint): { signed: AuthoredTransaction; digest: Hex; state: Hex } | undefined {
    const e = this.ledger.get(seq)
    if (e) return { signed: { transaction: e.transaction, signature: e.signatures.get(e.transaction.actor)! }, digest: e.digest, state: e.state }
    const r = this.records.entry(this.ledger.fork.fork, seq)
    if (!r) return undefined
    return { signed: { transaction: r.transaction, signature: r.signatures.get(r.transaction.actor)! }, digest: r.digest, state: r.state }
  }

  /** Number of txs waiting for their parent. */
  get heldSize(): number {
    return this.heldCount
  }

  private async accept(input: unknown, meta: ReceiveMeta, record: Recorder): Promise<Entry> {
    const v = await verifyTransaction(this.context(meta), input)
    const entry: Entry = {
      transaction: v.transaction, digest: v.digest, state: v.state, nextActor: v.nextActor, receivedAt: meta.receivedAt,
      signatures: new Map([[v.transaction.actor, v.signature]]), signers: 0n,
    }
    record(entry)
    return entry
  }

  private context({ source, receivedAt, chainTime }: ReceiveMeta): PipelineContext {
    const l = this.ledger
    return {
      channelId: this.o.channelId, participants: this.participants, fork: l.fork.fork, active: l.fork.active, head: l.head,
      historic: (seq) => this.signedAt(seq),
      stateAt: (seq) => (seq === 0n ? l.fork.state : seq === l.head.seq ? l.head.state : this.signedAt(seq)?.state),
      hasher: this.o.hasher, machine: this.o.machine, timing: this.o.timing, now: this.o.clock.now(), receivedAt, source,
      ...(chainTime === undefined ? {} : { chainTime }),
    }
  }

  private hold(input: AuthoredTransaction, meta: ReceiveMeta): void {
    if (this.heldCount >= Number(MAX_AHEAD) * 2) return // bounded: a flood of future txs is dropped
    const seq = input.transaction.seq
    const list = this.held.get(seq) ?? []
    list.push({ input, meta })
    this.held.set(seq, list)
    this.heldCount++
  }

  /** Feeds held txs whose parent is now the head, until none fits. */
  private async release(result: { accepted: Entry[]; rejected: ProtocolError[] }, record: Recorder): Promise<void> {
    for (;;) {
      const next = this.ledger.head.seq + 1n
      const list = this.held.get(next)
      for (const s of [...this.held.keys()]) if (s <= this.ledger.head.seq) this.forget(s)
      if (!list) return
      this.forget(next)
      let progressed = false
      for (const h of list) {
        try {
          result.accepted.push(await this.accept(h.input, h.meta, record))
          progressed = true
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e
          // A held copy of what is already in the ledger is no refusal (the same rule as receive).
          if (e.code !== 'TX_DUPLICATE') result.rejected.push(e)
        }
      }
      if (!progressed) return
    }
  }

  private forget(seq: bigint): void {
    this.heldCount -= this.held.get(seq)?.length ?? 0
    this.held.delete(seq)
  }
}

/** Builds the view of a fork from its stored genesis and txs (restore, or a new fork). */
export async function loadLedger(o: { channelId: Hex; store: Store; machine: StateMachine; forkIndex?: number }): Promise<Ledger> {
  const records = new ChannelRecords(o.store, o.channelId)
  const forks = records.forks()
  const fork = forks[o.forkIndex ?? forks.length - 1]
  if (!fork) throw new UsageError('CHANNEL_NOT_FOUND', `the store has no fork for channel ${o.channelId}`)
  const ledger = new Ledger(fork, await nextActorOf(o.machine, fork.state))
  const hint = records.finalHint(fork.fork)
  const entries: Entry[] = records.entries(fork.fork, hint > 0n ? hint : 1n)
  if (hint > 0n && entries[0]) ledger.restoreFinal(entries.shift()!)
  for (const e of entries) ledger.append(e)
  return ledger
}
