/**
 * The events a Channel emits. Names mirror the contract events where they report the same
 * fact (`fork` ↔ StateSet, `dispute` ↔ DisputeRaised, `removed` ↔ ParticipantRemoved,
 * `closed` ↔ ChannelClosed); `closed` comes only from the chain.
 */
import type { Hex, Transaction } from '../protocol/types.js'
import type { Evidence } from '../state/evidence.js'
import type { ChannelPhase } from './phase.js'

/** A new accepted state (ours or a peer's). */
export interface StateEvent {
  fork: bigint
  seq: bigint
  state: Hex
  stateHash: Hex
  transaction: Transaction
  digest: Hex
  /** Who authored it. */
  author: number
  /** Who moves next, and whether that is us. */
  nextActor: number
  isMyTurn: boolean
}

/** A state became final (every active participant supports it). */
export interface FinalEvent {
  fork: bigint
  seq: bigint
  state: Hex
  stateHash: Hex
  transaction: Transaction
  /** The active participants whose signatures of it this peer held when it became final. */
  signers: number[]
  /** Final without every active participant's signature: a later transaction's signers vouch for it (virtual voting). */
  byVirtualVoting: boolean
}

/** A participant's signature of a transaction was recorded: our own confirmation or a peer's (the author's comes with the `state` event). */
export interface SignatureEvent {
  fork: bigint
  seq: bigint
  signer: number
}

/** The chain set a new fork genesis (StateSet). */
export interface ForkEvent {
  fork: bigint
  state: Hex
  stateHash: Hex
  timestamp: bigint
  active: bigint
}

/** A dispute was raised on the current fork (DisputeRaised). */
export interface DisputeEvent {
  fork: bigint
  /** The transaction that raised it, when the chain event was given with it (the court gives it). */
  transactionHash?: Hex
}

/** A participant is no longer active on the new fork (ParticipantRemoved). */
export interface RemovedEvent {
  fork: bigint
  index: number
}

/** The chain settled the channel (ChannelClosed): by our cooperative close, a conclude or a resolution. */
export interface ClosedEvent {
  fork: bigint
  stateHash: Hex
  /** What each participant was paid (the event's `payouts`; empty when not given). */
  payouts: bigint[]
  /** The closing state and its CloseChannel signatures, when the chain settled on the close we signed. */
  state?: Hex
  signatures?: Map<number, Hex>
  /** The transaction that settled it, when the chain event was given with it (the court gives it). */
  transactionHash?: Hex
}

/** Every active participant signed the close (stored): it is submitted on-chain, the phase stays Closing until mined. */
export interface CloseSignedEvent {
  fork: bigint
  seq: bigint
  state: Hex
  stateHash: Hex
  /** The payouts the consents name (see closePayouts). */
  payouts: bigint[]
  signatures: Map<number, Hex>
}

/**
 * The close we signed lost to the chain: a dispute was raised on its fork first (the channel
 * goes through the dispute; if a timeout is cancelled, the close is submitted again), the chain
 * settled on another state, or a new fork voided it.
 */
export interface ClosePreemptedEvent {
  fork: bigint
  reason: 'dispute' | 'settled' | 'fork'
  /** The transaction that preempted it, when known. */
  transactionHash?: Hex
}

/** The phase changed. */
export interface PhaseEvent {
  from: ChannelPhase
  to: ChannelPhase
}

/** A peer broke a rule and we can prove it: hand `evidence` to the dispute handler. */
export interface FraudEvent {
  evidence: Evidence
  error: Error
  from?: number
}

/** Something went wrong that the application may want to log (peer misbehaviour, I/O). */
export interface ErrorEvent {
  error: unknown
  /** Participant whose message caused it, if any. */
  from?: number
  /** Set when a listener of that event threw. */
  listenerOf?: string
}

export type ChannelEvents = {
  state: StateEvent
  final: FinalEvent
  signature: SignatureEvent
  fork: ForkEvent
  dispute: DisputeEvent
  removed: RemovedEvent
  closed: ClosedEvent
  'close-signed': CloseSignedEvent
  'close-preempted': ClosePreemptedEvent
  phase: PhaseEvent
  fraud: FraudEvent
  error: ErrorEvent
  /** The instance was disposed (the channel itself may go on). */
  disposed: undefined
}
