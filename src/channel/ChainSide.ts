/**
 * What the chain says, applied to a channel: a new fork (StateSet), a dispute raised or cancelled,
 * a reorganisation that took events back, the open taken away or back, the settlement, and the
 * transactions the chain published (posts, dispute calls). Each method runs inside the channel's
 * job (Channel.apply*), like every other input; what it changes is stored and reported through
 * the {@link ChainHost}, the Engine's side of it. Internal: applications use {@link Channel}.
 */
import { ProtocolError, RuntimeError } from '../errors/ParleyError.js'
import { bitIndices } from '../protocol/bitmap.js'
import { hashState, type ParleyHasher } from '../protocol/eip712.js'
import type { Hex, SignedTransaction, Transaction } from '../protocol/types.js'
import type { ChannelClosedEvent, StateSetEvent } from '../chain/events.js'
import type { AgreementManager } from '../agreement/AgreementManager.js'
import type { SigningGuard } from '../agreement/SigningGuard.js'
import type { StateMachine } from '../machine/StateMachine.js'
import { nextActorOf } from '../machine/failure.js'
import { fromChain } from '../state/fromChain.js'
import { Ledger, type Entry } from '../state/ledger.js'
import type { StateManager } from '../state/StateManager.js'
import type { ChannelRecords } from '../store/ChannelRecords.js'
import type { Store } from '../store/types.js'
import type { CloseCoordinator } from './CloseCoordinator.js'
import type { ChannelEvents } from './events.js'
import { ChannelPhase } from './phase.js'

/** The chain's phase of the channel on a fork (the court's chain view). */
export interface ChainPhaseView {
  fork: bigint
  phase: 'open' | 'disputed' | 'closed'
}

/** The Engine as the chain's side sees it. */
export interface ChainHost {
  readonly channelId: Hex
  readonly me: number
  readonly o: { readonly store: Store; readonly machine: StateMachine; readonly hasher: ParleyHasher }
  readonly sm: StateManager
  readonly agreement: AgreementManager
  readonly closer: CloseCoordinator
  readonly guard: SigningGuard
  readonly records: ChannelRecords
  readonly phase: ChannelPhase
  /** A transition of the phase (checked), stored and reported. */
  setPhase(to: ChannelPhase): void
  /** A phase a reorganisation went back to (not a forward transition), stored and reported. */
  undoPhase(to: ChannelPhase): void
  emitLater<K extends keyof ChannelEvents>(name: K, payload: ChannelEvents[K]): void
  report(error: unknown, from?: number): void
  useLedger(l: Ledger): void
  /** The moves not confirmed while the fork was disputed, judged again (Engine.reconsider). */
  reconsider(): void
  /** Stores and applies an accepted transaction (Engine.record). */
  record(entry: Entry): void
}

export class ChainSide {
  constructor(private readonly h: ChainHost) {}

  async stateSet(ev: StateSetEvent): Promise<void> {
    const old = this.h.sm.ledger.fork
    if (ev.fork === 0n) this.reopened(ev)
    if (ev.fork <= old.fork) return
    const state = ev.state.toLowerCase() as Hex
    if (hashState(state) !== ev.stateHash.toLowerCase()) throw new ProtocolError('STATE_HASH_MISMATCH', 'StateSet state does not hash to its stateHash')
    const fork = { fork: ev.fork, state, stateHash: hashState(state), timestamp: ev.timestamp, active: ev.active, disputed: false }
    this.h.records.putFork(fork)
    this.h.useLedger(new Ledger(fork, await nextActorOf(this.h.o.machine, state)))
    this.h.closer.reset() // a close signed on the old fork is void on the new one
    if (this.h.phase !== ChannelPhase.Open && this.h.phase !== ChannelPhase.Closed) this.h.setPhase(ChannelPhase.Open)
    this.h.emitLater('fork', { fork: ev.fork, state, stateHash: fork.stateHash, timestamp: ev.timestamp, active: ev.active })
    for (const index of bitIndices(old.active & ~ev.active)) this.h.emitLater('removed', { fork: ev.fork, index })
  }

  /** A dispute was raised on the fork (DisputeRaised, in transaction `transactionHash`): a close signed on it is preempted. */
  dispute(ev: { fork: bigint }, transactionHash?: Hex): void {
    const fork = this.h.sm.ledger.fork
    if (ev.fork !== fork.fork || fork.disputed) return
    this.h.records.setForkDisputed(fork.fork)
    fork.disputed = true
    if (this.h.phase !== ChannelPhase.Closed) this.h.setPhase(ChannelPhase.Disputed)
    this.h.emitLater('dispute', { fork: fork.fork, ...(transactionHash ? { transactionHash } : {}) })
    this.h.closer.onDispute(fork.fork, transactionHash)
  }

  /** The accused's move cancelled the dispute (DisputeCancelled): the fork goes on — still closing if we signed a close on it. */
  disputeCancelled(ev: { fork: bigint }): void {
    const fork = this.h.sm.ledger.fork
    if (ev.fork !== fork.fork || !fork.disputed) return
    this.h.records.setForkDisputed(fork.fork, false)
    fork.disputed = false
    this.h.reconsider()
    if (this.h.phase !== ChannelPhase.Disputed) return
    const closing = this.h.guard.closeSigned(fork.fork) !== undefined
    this.h.setPhase(closing ? ChannelPhase.Closing : ChannelPhase.Open)
    if (closing) this.h.closer.onDisputeCancelled()
  }

  /**
   * A reorganisation took back chain events (docs/protocol.md §7.11): `before` and `after` are the
   * chain's view of the channel then and now. A dispute or a settlement that the dropped blocks
   * had set is undone here (blocks that replaced them set it again as their events arrive). A
   * fork they had set is not: reported as RuntimeError `REORG_FORK_RETRACTED` (deeper than the
   * confirmation depth, which is there to make this not happen).
   */
  reorganised(before: ChainPhaseView, after: ChainPhaseView): void {
    const fork = this.h.sm.ledger.fork
    if (after.fork < before.fork) {
      this.h.report(new RuntimeError('REORG_FORK_RETRACTED', `a reorganisation took back fork ${before.fork}; the channel stays on it`, { details: { fork: before.fork, chainFork: after.fork } }))
      return
    }
    if (after.fork !== fork.fork) return
    if (after.phase === 'open' && fork.disputed) {
      this.h.records.setForkDisputed(fork.fork, false)
      fork.disputed = false
      this.h.reconsider()
    }
    // A close we signed stays signed: nothing more is signed on this fork, and the courts submit it again.
    const closing = this.h.guard.closeSigned(fork.fork) !== undefined
    let to: ChannelPhase | undefined
    if (this.h.phase === ChannelPhase.Closed && before.phase === 'closed' && after.phase !== 'closed') {
      to = after.phase === 'disputed' ? ChannelPhase.Disputed : closing ? ChannelPhase.Closing : ChannelPhase.Open
    } else if (this.h.phase === ChannelPhase.Disputed && after.phase === 'open') {
      to = closing ? ChannelPhase.Closing : ChannelPhase.Open
    }
    if (to === undefined || to === this.h.phase) return
    this.h.undoPhase(to)
    if (before.phase === 'closed') this.h.closer.onSettlementRetracted()
    if (to === ChannelPhase.Closing) this.h.closer.onDisputeCancelled()
  }

  /**
   * A reorganisation took the open away (the chain holds no such channel): nothing is signed or
   * confirmed until the same open is back ({@link reopened}). Reported as RuntimeError `OPEN_RETRACTED`.
   */
  openRetracted(): void {
    if (this.h.phase === ChannelPhase.Closed || this.h.phase === ChannelPhase.Unopened) return
    this.h.setPhase(ChannelPhase.Unopened)
    this.h.report(new RuntimeError('OPEN_RETRACTED', 'a reorganisation took the channel\'s open away: nothing is signed until it is back', { details: { channelId: this.h.channelId } }))
  }

  /**
   * The chain set fork 0 (StateSet of an open). After {@link openRetracted}: the same genesis
   * (state and timestamp) brings the channel back; another one (a new open of the same params in
   * a later block) voids everything signed on the old one — reported as RuntimeError
   * `OPEN_CHANGED`, the channel stays Unopened (create it anew).
   */
  reopened(ev: { fork: bigint; stateHash: Hex; timestamp: bigint }): void {
    if (ev.fork !== 0n || this.h.phase === ChannelPhase.Closed) return
    const genesis = this.h.records.forks()[0]!
    if (genesis.stateHash !== ev.stateHash.toLowerCase() || genesis.timestamp !== ev.timestamp) {
      // The open landed again in another block (a reorganisation re-included it later): its
      // genesis time differs, so the moves signed on the old one cannot be proven on this one.
      if (this.h.phase !== ChannelPhase.Unopened) this.h.setPhase(ChannelPhase.Unopened)
      this.h.report(new RuntimeError('OPEN_CHANGED', 'the channel was opened again with another genesis: what was signed on the old one is void', { details: { channelId: this.h.channelId } }))
      return
    }
    if (this.h.phase !== ChannelPhase.Unopened) return
    this.h.setPhase(this.h.guard.closeSigned(this.h.sm.ledger.fork.fork) !== undefined ? ChannelPhase.Closing : ChannelPhase.Open)
  }

  /** The chain settled the channel (ChannelClosed, in transaction `transactionHash`): the only way to Closed. */
  settled(ev: ChannelClosedEvent, transactionHash?: Hex): void {
    if (this.h.phase === ChannelPhase.Closed) return
    const ours = this.h.closer.onSettled(ev, transactionHash)
    const hash = transactionHash ?? this.h.closer.completed?.transactionHash
    this.h.setPhase(ChannelPhase.Closed)
    this.h.emitLater('closed', {
      fork: ev.fork, stateHash: ev.stateHash.toLowerCase() as Hex, payouts: [...(ev.payouts ?? [])], ...(ours ?? {}), ...(hash ? { transactionHash: hash } : {}),
    })
  }

  /** A transaction the chain published (TransactionPosted) in a block stamped `chainTime`. */
  async posted(tx: Transaction, signature: Hex, chainTime?: bigint): Promise<void> {
    await this.chainList([{ transaction: tx, signatures: new Map([[tx.actor, signature]]) }], chainTime)
  }

  /**
   * Signed transactions a dispute call carried (DisputeRaised / DisputeAnswered), published in
   * a block stamped `chainTime`: every one goes through the pipeline whatever its height, so a
   * conflict with what we hold becomes evidence — a second transaction at a height we hold is
   * equivocation (every participant that signed both), one by the wrong actor an invalid
   * transition (every signer). A transaction we accept or already hold takes its other
   * signatures as confirmations.
   */
  async chainList(entries: readonly SignedTransaction[], chainTime?: bigint): Promise<void> {
    for (const e of entries) {
      const out = await fromChain(this.h.sm, this.h.records, e, chainTime, (x) => this.h.record(x))
      if (out.kind === 'rejected') this.h.report(out.error)
      if (out.kind === 'accepted') for (const r of out.result.rejected) this.h.report(r) // held ones it released
      if (out.kind === 'accepted' || out.kind === 'held' || out.kind === 'duplicate') this.confirmFromChain(e)
    }
  }

  /** The non-author signatures of a published transaction we hold: confirmations. */
  private confirmFromChain(e: SignedTransaction): void {
    const t = e.transaction
    if (t.fork !== this.h.sm.ledger.fork.fork) return
    const digest = this.h.o.hasher.transaction(t)
    for (const [signer, signature] of e.signatures) {
      if (signer === t.actor || signer === this.h.me) continue
      try {
        this.h.agreement.receiveConfirmation({ type: 'confirm', fork: t.fork, seq: t.seq, digest, signer, signature })
      } catch (error) {
        this.h.report(error)
      }
    }
  }
}
