/**
 * Parley's application API (`import … from 'parley'`): what an application needs to open a
 * channel, play it peer to peer, defend it in the on-chain court and settle it. Local chains,
 * DHTs and in-memory stand-ins for tests are in `parley/testing`; the pure protocol rules
 * (hashing, finality, deadlines, the verification pipeline, the court's decisions) in
 * `parley/protocol`; the wire format and handshake in `parley/net`; low-level chain tools
 * (event decoding, deployment, revert decoding) in `parley/chain`.
 */
/// <reference path="./net/types/hyperswarm.d.ts" preserve="true" />
/// <reference path="./net/types/hyperdht.d.ts" preserve="true" />
/// <reference path="./net/types/protomux.d.ts" preserve="true" />

// A complete peer (channel + network + chain listener + court), wired in one call
export { createPeer, type CreatePeerOptions, type Eip1193Account, type Peer } from './peer/createPeer.js'
export { loadMachine, type LoadMachineArgs } from './peer/loadMachine.js'

// Channel params with documented defaults, and opening with every consent
export { channelParams, defaultTimes, type ChannelTimes, type ChannelParamsInput } from './channel/params.js'
export { openChannel, orderConsents, shortfalls, type Consent, type Shortfall } from './peer/openChannel.js'

// Wallets and session keys: the consents a wallet signs (EIP-712 typed data), wallet adapters
export {
  openConsentTypedData, closeConsentTypedData, toEip712Json, consentSignerFromSigner, consentSignerFromEip1193, requestOpenConsent,
  requestCloseConsent, createSessionKey, type ConsentTypedData, type ConsentSigner, type Eip1193Provider,
} from './wallet/index.js'
export { membersOf, memberList } from './protocol/members.js'
export { closePayouts } from './protocol/close.js'
export { normalizeSignature } from './protocol/signatures.js'

// Channel facade
export { Channel, type ChannelSnapshot, type Proposal } from './channel/Channel.js'
export { ChannelPhase } from './channel/phase.js'
export type { ChannelCreateOptions, ChannelRestoreOptions, ChannelRuntimeOptions, CloseSubmitter } from './channel/options.js'
export type { CloseResult } from './channel/CloseCoordinator.js'
export type {
  ChannelEvents, StateEvent, FinalEvent, SignatureEvent, ForkEvent, DisputeEvent, RemovedEvent, ClosedEvent, PhaseEvent, FraudEvent, ErrorEvent,
} from './channel/events.js'

// Court client: the chain side of a channel
export { attachCourt, type Court, type CourtOptions } from './dispute/attachCourt.js'
export type { DisputePolicy } from './dispute/types.js'

// Errors
export { ParleyError, UsageError, ProtocolError, RuntimeError } from './errors/ParleyError.js'
export {
  USAGE_CODES, CLI_USAGE_CODES, PROTOCOL_CODES, RUNTIME_CODES, CONTRACT_ERROR_CODES,
  type ParleyCode, type UsageCode, type ProtocolCode, type RuntimeCode, type ContractErrorCode, type MachineFailureCode,
} from './errors/codes.js'
export { TX_REJECTIONS, type TxRejectionCode } from './state/evidence.js'

// Protocol data types and the hashes applications need
export {
  type Hex, type ChannelParams, type Transaction, type SignedTransaction, Phase, ETH, MAX_PARTICIPANTS, MAX_DATA_BYTES, MAX_STATE_BYTES,
} from './protocol/types.js'
export { ParleyHasher, hashState, type Domain } from './protocol/eip712.js'
export { openDeadline, CONSENT_VALIDITY } from './protocol/timing.js'

// Persistence
export { SqliteStore, type SqliteStoreOptions } from './store/SqliteStore.js'
export { MemoryStore } from './store/MemoryStore.js'
export type { Store } from './store/types.js'

// Transport and networking (hyperswarm / HyperDHT)
export type { Transport, MessageHandler } from './transport/Transport.js'
export { P2PManager, type P2PManagerOptions, type JoinOptions } from './net/P2PManager.js'
export { HyperswarmTransport, type HyperswarmTransportOptions } from './net/HyperswarmTransport.js'
export { defaultLogger, silentLogger, type Logger } from './net/logger.js'

// Observe: typed events with undoable subscriptions, async iterators
export { Emitter, type EventMap, type Listener } from './observe/Emitter.js'
export { iterate, type IterateOptions } from './observe/iterate.js'

// Clock
export type { Clock } from './clock/Clock.js'
export { LogicalClock, type LogicalClockOptions } from './clock/LogicalClock.js'

// Machines
export type { StateMachine } from './machine/StateMachine.js'
export { EvmStateMachine, type EvmStateMachineOptions, type FromChainArgs } from './machine/EvmStateMachine.js'
export { MachineEvmCache, sharedMachineEvms, type MachineEvmKey, type MachineEvmCacheStats } from './machine/evm/MachineEvmCache.js'
export { decodeMachineRevert, type MachineRevert } from './machine/revert.js'
export { MachineAbi, describeRevert, formatState, type StaticCaller, type StateField } from './machine/MachineAbi.js'

// Chain: the manager, its events, consents
export {
  ManagerClient, type TxResult, type OpenResult, type SettleResult, type CourtResult, type RaiseResult, type ResolveResult,
  type ChannelRecord as ChainChannelRecord, type OpenDispute,
} from './chain/ManagerClient.js'
export { ChainListener, type ChainListenerOptions } from './chain/ChainListener.js'
export { defaultConfirmations, PUBLIC_CONFIRMATIONS } from './chain/confirmations.js'
export { signOpenConsent, signCloseConsent } from './chain/consent.js'
export { findGenesis, type Genesis } from './chain/genesis.js'
export { detectHardfork, type Hardfork } from './chain/hardfork.js'
