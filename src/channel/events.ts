/**
 * The events a Channel emits. Names mirror the contract events where they report the same
 * fact (`fork` ↔ StateSet, `dispute` ↔ DisputeRaised, `removed` ↔ ParticipantRemoved,
 * `closed` ↔ ChannelClosed).
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
}

/** A participant is no longer active on the new fork (ParticipantRemoved). */
export interface RemovedEvent {
  fork: bigint
  index: number
}

/** The channel closed: every active participant signed CloseChannel, or the chain settled. */
export interface ClosedEvent {
  fork: bigint
  stateHash: Hex
  /** The closing state (undefined when only the chain event was seen). */
  state?: Hex
  /** The CloseChannel signatures (cooperative close). */
  signatures?: Map<number, Hex>
  /** Our on-chain `close` transaction, if we submitted it. */
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
  fork: ForkEvent
  dispute: DisputeEvent
  removed: RemovedEvent
  closed: ClosedEvent
  phase: PhaseEvent
  fraud: FraudEvent
  error: ErrorEvent
  /** The instance was disposed (the channel itself may go on). */
  disposed: undefined
}
