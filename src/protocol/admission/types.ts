/**
 * Types of the admission reference (./index.ts): what the chain knows about a channel when a
 * call arrives, the arguments of each entry point, the machine's answers, and the verdict —
 * `'ok'` or the name of the custom error the manager reverts with.
 */
import type { DisputeRecord, Hex, PackedSignedTransaction, Phase, Transaction } from '../types.js'

/** `'ok'`, or the name of the contract's custom error (e.g. `'ProofNotLinked'`). */
export type AdmissionVerdict = 'ok' | (string & {})

/**
 * The channel's on-chain facts at the block that judges the call (`getChannel` plus the open
 * dispute's record from its latest event, and the block's time).
 */
export interface ChainFacts {
  channelId: Hex
  /**
   * The channel's member list (what `participantsHash` commits to): participants ‖ signers with
   * session keys, else the participants (see `memberList`).
   */
  participants: readonly Hex[]
  /** The number of participants (`getChannel().n`); default `participants.length` (no session keys). */
  n?: number
  phase: Phase
  fork: bigint
  active: bigint
  slashed: bigint
  genesisStateHash: Hex
  genesisTimestamp: bigint
  /** The latest move the chain saw outside a list (a response). */
  latestSeq: bigint
  agreementTime: number
  challengeTime: bigint
  /** p2pTime + agreementTime + chainFallbackTime. */
  postingWindow: bigint
  /** Deposits still locked in the channel. */
  locked: bigint
  /** The open dispute's record (phase Disputed). */
  record?: DisputeRecord
  /** The judging block's timestamp. */
  blockTime: bigint
  /** The EIP-712 digest of a transaction (`ParleyHasher.transaction`). */
  digest(t: Transaction): Hex
}

/** `msg.sender` and the index it claims. */
export interface Caller {
  index: number
  address: Hex
}

/** Why a machine call failed, by the manager's error name. */
export type MachineError = 'MachineCallFailed' | 'MachineResultInvalid'

/** A machine call's result as the manager decodes it (strictly; see src/machine/codec.ts). */
export type MachineResult<T> = { ok: true; value: T } | { ok: false; error: MachineError }

/**
 * The machine as the manager calls it. Deterministic: the same bytecode gives the same answers
 * on the chain and in the client's EVM ({@link machineCalls} adapts a client StateMachine).
 */
export interface MachineCalls {
  nextActor(state: Hex): Promise<MachineResult<number>>
  isTerminal(state: Hex): Promise<MachineResult<boolean>>
  transition(state: Hex, actor: number, data: Hex, timestamp: bigint): Promise<MachineResult<Hex>>
  onRemove(state: Hex, index: number): Promise<MachineResult<Hex>>
  /** The decoded `uint256[]` (any length: the entry points check it against n). */
  outcome(state: Hex): Promise<MachineResult<bigint[]>>
}

type List = readonly PackedSignedTransaction[]
type Participants = readonly Hex[]

/** Arguments of each entry point, named as in IDisputeManager / IStateChannelManager. */
export interface EntryArgs {
  postTransaction: { participants: Participants; transaction: Transaction; signature: Hex }
  disputeTimeout: { caller: Caller; participants: Participants; txs: List; state: Hex }
  exit: { caller: Caller; participants: Participants; record: DisputeRecord; proof: List; leave: boolean; state: Hex }
  respond: { caller: Caller; participants: Participants; record: DisputeRecord; transaction: Transaction; signature: Hex }
  answer: { caller: Caller; participants: Participants; record: DisputeRecord; proof: List; state: Hex }
  extend: { caller: Caller; participants: Participants; record: DisputeRecord; txs: List; state: Hex }
  refute: {
    caller: Caller; participants: Participants; record: DisputeRecord; transaction: Transaction; signature: Hex; checkpoint: List; state: Hex
  }
  proveInvalidTransition: {
    caller: Caller; participants: Participants; record: DisputeRecord; fraud: PackedSignedTransaction; previousState: Hex; checkpoint: List; state: Hex
  }
  proveEquivocation: {
    caller: Caller; participants: Participants; record: DisputeRecord; first: PackedSignedTransaction; second: PackedSignedTransaction; checkpoint: List; state: Hex
  }
  conclude: { participants: Participants; proof: List; state: Hex }
  verifyFinalityProof: { participants: Participants; proof: List }
}

/** The entry points a signed transaction can enter the manager through. */
export type EntryPoint = keyof EntryArgs

/** One call: an entry point and its arguments. */
export type EntryCall = { [K in EntryPoint]: { point: K; args: EntryArgs[K] } }[EntryPoint]

/** Every entry point, in the order docs/differential.md lists them. */
export const ENTRY_POINTS: readonly EntryPoint[] = [
  'postTransaction', 'respond', 'refute', 'proveInvalidTransition', 'proveEquivocation', 'conclude', 'verifyFinalityProof',
  'answer', 'exit', 'disputeTimeout', 'extend',
]
