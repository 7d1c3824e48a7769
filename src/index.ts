/**
 * Parley's public API. Applications start from {@link Channel}; everything else is here for
 * wiring (stores, transports, clocks, machines, the chain binding) and for tools.
 */

// Channel facade
export { Channel, type ChannelSnapshot, type Proposal } from './channel/Channel.js'
export { ChannelPhase, canTransition, assertTransition } from './channel/phase.js'
export type { ChannelCreateOptions, ChannelRestoreOptions, ChannelRuntimeOptions, CloseSubmitter } from './channel/options.js'
export type { CloseResult } from './channel/CloseCoordinator.js'
export type {
  ChannelEvents, StateEvent, FinalEvent, ForkEvent, DisputeEvent, RemovedEvent, ClosedEvent, PhaseEvent, FraudEvent, ErrorEvent,
} from './channel/events.js'

// A complete peer (channel + network + chain listener + court), wired in one call
export { createPeer, type CreatePeerOptions, type Peer } from './peer/createPeer.js'
export { loadMachine, type LoadMachineArgs } from './peer/loadMachine.js'

// Court client: the chain side of a channel
export { attachCourt, type Court, type CourtOptions } from './dispute/attachCourt.js'
export { DisputeHandler, type DisputeHandlerEvents, type DisputeHandlerOptions } from './dispute/DisputeHandler.js'
export { decide } from './dispute/decide.js'
export type { Action, ActionKind, ChainView, LocalView, DisputeView, DisputePolicy, PendingEvidence } from './dispute/types.js'

// Errors
export { ParleyError, UsageError, ProtocolError, RuntimeError } from './errors/ParleyError.js'

// Protocol (pure)
export * from './protocol/types.js'
export { ParleyHasher, hashState, type Domain } from './protocol/eip712.js'
export { signDigest, recoverSigner, packSignatures, packSignedTransaction } from './protocol/signatures.js'
export { checkFinalityProof, checkList, proofLength, latestFinal, type FinalityVerdict, type ProofEntry, type ListContext, type ListVerdict } from './protocol/finality.js'
export {
  admission, machineCalls, signaturesVerdict, ENTRY_POINTS, type AdmissionVerdict, type ChainFacts, type EntryArgs, type EntryCall, type EntryPoint,
  type MachineCalls, type MachineResult,
} from './protocol/admission/index.js'
export {
  deadlines, broadcastDeadline, confirmationDeadline, postingDeadline, defaultSkew, acceptableTimestamp, timestampProblem,
  latestTimestamp, openDeadline, CONSENT_VALIDITY, type TimingParams, type Deadlines, type TimestampProblem,
} from './protocol/timing.js'
export { fullBitmap, hasBit, withBit, bitCount, bitIndices, bitmapOf } from './protocol/bitmap.js'
export {
  timeoutDeadline, canRaiseTimeout, challengeDeadline, disputeCommitment, accusedOf, mustSettle, settlementCredits,
  removalCredits, type TimeParams, type GenesisFacts, type SettlementInput, type Credits,
} from './protocol/disputes.js'

// Verification pipeline, agreement (for tools and dispute handling)
export { TX_REJECTIONS, evidenceOf, type Evidence, type AuthoredTransaction, type TxRejectionCode } from './state/evidence.js'
export { verifyTransaction, type PipelineContext, type VerifiedTransaction } from './state/pipeline.js'
export type { TxSource, Timing } from './state/steps.js'
export { noConfirmReason, refusersOf, type NoConfirmReason } from './agreement/rules.js'

// Persistence
export { SqliteStore, type SqliteStoreOptions } from './store/SqliteStore.js'
export { MemoryStore } from './store/MemoryStore.js'
export type { Store, ChannelRecord, ForkRecord, TxRecord, OwnSignatureRecord } from './store/types.js'

// Transport
export type { Transport, MessageHandler } from './transport/Transport.js'
export type { Message, MessageType, TxMessage, ConfirmMessage, SyncRequestMessage, SyncResponseMessage, CloseMessage, PingMessage } from './transport/messages.js'
export { MemoryHub, type MemoryHubOptions, type HubStats } from './transport/MemoryHub.js'

// Networking (hyperswarm / HyperDHT)
export { P2PManager, DEFAULT_LIMITS, type P2PManagerOptions, type JoinOptions } from './net/P2PManager.js'
export { HyperswarmTransport, type HyperswarmTransportOptions, type PeerHandler, type TransportStats } from './net/HyperswarmTransport.js'
export { NetChannel, type NetChannelEvents } from './net/NetChannel.js'
export type { Limits } from './net/Peer.js'
export { DEFAULT_BACKLOG, type BacklogLimits } from './net/Backlog.js'
export { DecodeError, EncodeError } from './net/errors.js'
export { encodeMessage, decodeMessage, TAGS as MESSAGE_TAGS, MAX_SYNC_ENTRIES } from './net/wire.js'
export { channelTopic, TOPIC_TAG } from './net/topic.js'
export { createHandshake, verifyHandshake, handshakeDigest, HANDSHAKE_TAG, type Handshake, type HandshakeContext } from './net/handshake.js'
export { encodeProbe, decodeProbe, type Probe } from './net/probe.js'
export { defaultLogger, silentLogger, type Logger } from './net/logger.js'

// Observe
export { Emitter, type EventMap, type Listener } from './observe/Emitter.js'
export { iterate, type IterateOptions } from './observe/iterate.js'

// Clock
export type { Clock } from './clock/Clock.js'
export { LogicalClock, type LogicalClockOptions } from './clock/LogicalClock.js'
export { ManualClock, type ManualClockOptions } from './clock/ManualClock.js'
export { startChainClockFeed, type ChainClockFeedOptions } from './clock/ChainClockFeed.js'

// Machines
export type { StateMachine } from './machine/StateMachine.js'
export { EvmStateMachine, type EvmStateMachineOptions, type FromChainArgs } from './machine/EvmStateMachine.js'
export { MACHINE_INTERFACE, type MachineMethod } from './machine/abi.js'
export { decodeMachineRevert, type MachineRevert } from './machine/revert.js'
export { RpcStateMachine, MACHINE_GAS } from './chain/RpcStateMachine.js'

// Chain
export {
  ManagerClient, NO_DISPUTE, type TxResult, type OpenResult, type SettleResult, type CourtResult, type RaiseResult, type ResolveResult,
  type ChannelRecord as ChainChannelRecord, type OpenDispute,
} from './chain/ManagerClient.js'
export {
  ChainListener, type ChainEvent, type ChainEventHandler, type ChainListenerEvents, type ChainListenerOptions, type HeadBlock, type WatchOptions,
  type Reorg,
} from './chain/ChainListener.js'
export { defaultConfirmations, PUBLIC_CONFIRMATIONS } from './chain/confirmations.js'
export { decodeManagerLog, MANAGER_EVENTS, type ManagerEvent, type ManagerEventArgs, type ManagerEventName, type ChannelOpenedEvent } from './chain/decode.js'
export { signOpenConsent, signCloseConsent } from './chain/consent.js'
export { findGenesis, type Genesis } from './chain/genesis.js'
export { deployLocalStack, type LocalStack, type ExampleMachines } from './chain/stack.js'
export { startAnvil, type Anvil, type AnvilOptions } from './chain/anvil.js'
export {
  detectHardfork, resolveHardfork, isHardfork, HARDFORKS, DEFAULT_HARDFORK, type Hardfork, type ResolveHardforkArgs,
} from './chain/hardfork.js'
export type { StateSetEvent, ChannelClosedEvent, ChannelPaidOutEvent, ClaimsRecordedEvent, PayoutsClaimedEvent, CreditedEvent } from './chain/events.js'
