/**
 * The protocol's own pure rules (this folder, the ground floor of the client): data types,
 * EIP-712 hashing, signatures, finality under virtual voting, the contract's admission rules,
 * timing and dispute deadlines, signer bitmaps, funding. The package's `parley/protocol` face
 * (src/faces/protocol.ts) adds the rules that live with their component above. No I/O.
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
export { closePayouts, closeOthers } from './close.js'
export {
  timeoutDeadline, canRaiseTimeout, challengeDeadline, disputeCommitment, accusedOf, responseArgs, responseTransaction, mustSettle, settlementCredits,
  removalCredits, type TimeParams, type GenesisFacts, type SettlementInput, type Credits,
} from './disputes.js'
