/**
 * `parley/chain`: low-level chain tools under `ManagerClient` and `ChainListener` — event
 * decoding, deployment from the shipped artifacts, revert decoding, hardfork detection, the
 * chain-backed machine, and the clock feed from block timestamps.
 */
export {
  ManagerClient, NO_DISPUTE, type TxResult, type OpenResult, type SettleResult, type CourtResult, type RaiseResult, type ResolveResult,
  type ChannelRecord as ChainChannelRecord, type OpenDispute,
} from './ManagerClient.js'
export {
  ChainListener, type ChainEvent, type ChainEventHandler, type ChainListenerEvents, type ChainListenerOptions, type HeadBlock, type WatchOptions,
  type Reorg,
} from './ChainListener.js'
export { defaultConfirmations, PUBLIC_CONFIRMATIONS } from './confirmations.js'
export { decodeManagerLog, MANAGER_EVENTS, type ManagerEvent, type ManagerEventArgs, type ManagerEventName, type ChannelOpenedEvent } from './decode.js'
export type { StateSetEvent, ChannelClosedEvent, ChannelPaidOutEvent, ClaimsRecordedEvent, PayoutsClaimedEvent, CreditedEvent } from './events.js'
export { channelStruct, channelWordOf, hashChannelRecord, NO_CHANNEL, type ChannelTrack } from './records.js'
export { applyRecordEvent } from './recordEvents.js'
export { channelTrack, RECORD_EVENTS } from './recordLog.js'
export { signOpenConsent, signCloseConsent } from './consent.js'
export { findGenesis, type Genesis } from './genesis.js'
export { deploy } from './deploy.js'
export { loadArtifact, contractInterface, type Artifact, type ContractName } from '../contracts/artifacts.js'
export { decodeRevert, toParleyError, errorCode, type DecodedRevert } from './errors.js'
export {
  detectHardfork, resolveHardfork, isHardfork, HARDFORKS, DEFAULT_HARDFORK, type Hardfork, type ResolveHardforkArgs,
} from './hardfork.js'
export { RpcStateMachine, MACHINE_GAS } from './RpcStateMachine.js'
export { SOLC_SETTINGS, EVM_VERSION, MAX_CODE_SIZE } from '../contracts/compiler.js'
export { MACHINE_INTERFACE, type MachineMethod } from '../machine/abi.js'
export { startChainClockFeed, type ChainClockFeedOptions } from '../clock/ChainClockFeed.js'
