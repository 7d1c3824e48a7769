/**
 * `parley/protocol`: the pure rules of the protocol, for tools, tests and other clients — data
 * types, EIP-712 hashing, signatures, finality under virtual voting, the contract's admission
 * rules, timing and dispute deadlines, signer bitmaps, the transaction verification pipeline,
 * the confirmation rules and the court's decisions (`decide(view) → actions`). No I/O.
 *
 * A face above every component it gathers from (src/protocol at the ground, the pipeline in
 * src/state, the confirmation rules in src/agreement, phases in src/channel, the court's core in
 * src/dispute), so no lower folder imports a higher one.
 */
export * from '../protocol/index.js'

// Verification pipeline and agreement rules
export { TX_REJECTIONS, evidenceOf, type Evidence, type AuthoredTransaction, type TxRejectionCode } from '../state/evidence.js'
export { verifyTransaction, type PipelineContext, type VerifiedTransaction } from '../state/pipeline.js'
export type { TxSource, Timing } from '../state/steps.js'
export { noConfirmReason, refusersOf, type NoConfirmReason } from '../agreement/rules.js'

// Channel phases
export { ChannelPhase, canTransition, assertTransition } from '../channel/phase.js'

// The court's pure core and its engine
export { decide } from '../dispute/decide.js'
export { classifyFailure, type FailureOutcome, type FailedAction } from '../dispute/outcome.js'
export type { Action, ActionKind, ChainView, LocalView, DisputeView, DisputePolicy, PendingEvidence } from '../dispute/types.js'
export { DisputeHandler, type DisputeHandlerEvents, type DisputeHandlerOptions } from '../dispute/DisputeHandler.js'
