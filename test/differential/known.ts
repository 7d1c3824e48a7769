/**
 * Disagreements the differential run has found and that are not fixed yet (docs/differential.md,
 * "Results"): each one a class of disagreement keys and a recipe that reproduces it in the
 * default world. The fuzz test tolerates exactly these classes; the regression test runs each
 * recipe as a `todo` test until the product is fixed (then the class goes away from here).
 */
import type { CaseRecipe, Mutation, TxRecipe } from './recipes.js'

export interface KnownDisagreement {
  name: string
  /** The disagreement keys of this class. */
  match: RegExp
  /** Scenario index in SCENARIOS and the rest of the case. */
  recipe: CaseRecipe
}

const VALID: Omit<CaseRecipe, 'scenario' | 'point'> = {
  situation: { kind: 'open', pick: 0 }, delay: 1, caller: 'default',
  list: { shape: 'proof', at: 0, len: 0, sigs: 'all', edits: [], ops: [] },
  tx: { base: 'default', at: 0, edits: [] }, second: { base: 'default', at: 0, edits: [] }, state: 'candidate', record: 'same', leave: true,
}
const field = (f: Extract<Mutation, { kind: 'field' }>['field'], variant: number): Mutation => ({ kind: 'field', field: f, variant, keepSignatures: false, recompute: false })
const post = (scenario: number, tx: TxRecipe): CaseRecipe => ({ ...VALID, scenario, point: 'postTransaction', tx })

/** Posts: the contract checks channel, fork, author, size, time and signature, but not the history (it has none). */
const POST = /^b postTransaction: contract ok, client /

export const KNOWN: KnownDisagreement[] = [
  {
    name: 'a posted transaction on a parent the client does not know is accepted by postTransaction and ignored by the client without evidence (TX_PREVIOUS_HASH_MISMATCH)',
    match: new RegExp(`${POST.source}rejected without evidence TX_PREVIOUS_HASH_MISMATCH`),
    recipe: post(5, { base: 'default', at: 0, edits: [field('previousStateHash', 0)] }),
  },
  {
    name: 'a posted transaction stamped before its parent (but not before the fork genesis) is accepted by postTransaction and ignored by the client without evidence (TX_TIMESTAMP_REGRESSED)',
    match: new RegExp(`${POST.source}rejected without evidence TX_TIMESTAMP_REGRESSED`),
    recipe: post(3, { base: 'default', at: 0, edits: [field('timestamp', 0)] }),
  },
  {
    name: 'a posted transaction at seq 0 or far ahead of the head is accepted by postTransaction and ignored by the client without evidence (TX_BAD_SEQ)',
    match: new RegExp(`${POST.source}rejected without evidence TX_BAD_SEQ`),
    recipe: post(4, { base: 'default', at: 0, edits: [field('seq', 0)] }),
  },
  {
    name: 'a posted transaction at a height the client holds, by another author than the one there, on a parent it does not know (a valid move relabelled to the next height), is accepted by postTransaction and ignored without evidence (NOT_YOUR_TURN)',
    match: new RegExp(`${POST.source}rejected without evidence NOT_YOUR_TURN`),
    recipe: post(4, { base: 'move', at: 1, edits: [field('seq', 1)] }),
  },
  {
    name: 'a posted transaction two or more heights ahead (its parent never published) is accepted by postTransaction and only held by the client',
    match: new RegExp(`${POST.source}held`),
    recipe: post(4, { base: 'move', at: 8, edits: [] }),
  },
  {
    name: "a finality proof whose first entry is another author's transaction at a height the client holds, on an unknown parent but with the client's resulting state, is accepted; the client rejects it NOT_YOUR_TURN without the equivocation evidence it could build (that author also signed the client's transaction there)",
    match: /^b (exit|verifyFinalityProof|conclude|answer|disputeTimeout|extend|refute|proveInvalidTransition|proveEquivocation): contract ok, client rejected without evidence NOT_YOUR_TURN/,
    recipe: {
      ...VALID, scenario: 0, point: 'exit',
      list: { shape: 'range', at: 1, len: 2, sigs: 'all', edits: [{ index: 0, mutation: field('actor', 5), relink: false }], ops: [] },
    },
  },
]

/** The known class of a disagreement key, if any. */
export function knownClass(key: string): KnownDisagreement | undefined {
  return KNOWN.find((k) => k.match.test(key))
}
