/**
 * `parley/protocol`: the pure rules of the protocol, for tools, tests and other clients — data
 * types, EIP-712 hashing, signatures, finality under virtual voting, the contract's admission
 * rules, timing and dispute deadlines, signer bitmaps, the transaction verification pipeline,
 * the confirmation rules and the court's decisions (`decide(view) → actions`). No I/O.
 */
export * from './types.js'
export { ParleyHasher, hashState, type Domain } from './eip712.js'
export { membersOf, memberList, hasSessionKeys } from './members.js'
export { signDigest, recoverSigner, packSignatures, packSignedTransaction } from './signatures.js'
export { checkFinalityProof, checkList, proofLength, latestFinal, type FinalityVerdict, type ProofEntry, type ListContext, type ListVerdict } from './finality.js'
export {
  admission, machineCalls, signaturesVerdict, ENTRY_POINTS, type AdmissionVerdict, type ChainFacts, type EntryArgs, type EntryCall, type EntryPoint,
  type MachineCalls, type MachineResult,
} from './admission/index.js'
export {
  deadlines, broadcastDeadline, confirmationDeadline, postingDeadline, defaultSkew, acceptableTimestamp, timestampProblem,
  latestTimestamp, openDeadline, CONSENT_VALIDITY, type TimingParams, type Deadlines, type TimestampProblem,
} from './timing.js'
export { fullBitmap, hasBit, withBit, bitCount, bitIndices, bitmapOf } from './bitmap.js'
export { shareOf, fundingBefore, fundingCoverage } from './funding.js'
export {
  timeoutDeadline, canRaiseTimeout, challengeDeadline, disputeCommitment, accusedOf, mustSettle, settlementCredits,
  removalCredits, type TimeParams, type GenesisFacts, type SettlementInput, type Credits,
} from './disputes.js'

// Verification pipeline and agreement rules
export { TX_REJECTIONS, evidenceOf, type Evidence, type AuthoredTransaction, type TxRejectionCode } from '../state/evidence.js'
export { verifyTransaction, type PipelineContext, type VerifiedTransaction } from '../state/pipeline.js'
export type { TxSource, Timing } from '../state/steps.js'
export { noConfirmReason, refusersOf, type NoConfirmReason } from '../agreement/rules.js'

// Channel phases
export { ChannelPhase, canTransition, assertTransition } from '../channel/phase.js'

// The court's pure core and its engine
export { decide } from '../dispute/decide.js'
export type { Action, ActionKind, ChainView, LocalView, DisputeView, DisputePolicy, PendingEvidence } from '../dispute/types.js'
export { DisputeHandler, type DisputeHandlerEvents, type DisputeHandlerOptions } from '../dispute/DisputeHandler.js'
