/**
 * The admission reference: for every manager entry point a signed transaction enters through,
 * the verdict the contract reaches (`'ok'` or its custom error name), composed from the rules the
 * client applies (`checkList`, `latestTimestamp`, `recoverSigner`, strict machine decoding). The
 * differential test (test/differential) holds the contract to it on anvil.
 */
export { admission } from './entryPoints.js'
export { machineCalls } from './machineCalls.js'
export { signaturesVerdict } from './signatures.js'
export { ENTRY_POINTS } from './types.js'
export type {
  AdmissionVerdict, Caller, ChainFacts, EntryArgs, EntryCall, EntryPoint, MachineCalls, MachineError, MachineResult,
} from './types.js'
