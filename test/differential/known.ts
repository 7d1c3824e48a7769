/**
 * Where the contract and the client disagree on purpose, and the disagreements found and not yet
 * closed (docs/differential.md, "Results"): each a class of disagreement keys and a recipe that
 * reproduces it in the default world. The fuzz test tolerates exactly these classes;
 * regressions.test.ts pins each by-design class to its exact outcome (so a change in either side
 * shows) and runs each open one as a `todo` test until the product is fixed.
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

/**
 * By design (docs/protocol.md §10, decision 36): a post is data availability only. The contract
 * checks what it can without a history and only emits the transaction; no storage changes and no
 * court rule reads a post. Moves are enforced through disputes, whose candidate lists the contract
 * checks link by link. The client applies a post that extends what it holds, holds one ahead of
 * it, proves fraud where it can, and drops the rest: dropping an unlinkable post loses nothing.
 */
export const BY_DESIGN: KnownDisagreement[] = [
  {
    name: 'a posted transaction on a parent the client does not know is accepted by postTransaction and ignored by the client without evidence (TX_PREVIOUS_HASH_MISMATCH)',
    match: new RegExp(`${POST.source}rejected without evidence TX_PREVIOUS_HASH_MISMATCH`),
    recipe: post(5, { base: 'default', at: 0, edits: [field('previousStateHash', 0)] }),
  },
  {
    name: 'a posted transaction at the next height by an author whose turn it is not, on a parent the client does not know, is accepted by postTransaction and ignored by the client without evidence (TX_PREVIOUS_HASH_MISMATCH: the turn rule is judged on the parent; found by the 20,000-case run, was NOT_YOUR_TURN)',
    match: new RegExp(`${POST.source}rejected without evidence TX_PREVIOUS_HASH_MISMATCH`),
    recipe: { ...post(4, { base: 'default', at: 0, edits: [field('actor', 5)] }), situation: { kind: 'open', pick: 6 }, delay: 5, leave: false },
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
    name: 'a posted transaction two or more heights ahead (its parent never published) is accepted by postTransaction and only held by the client',
    match: new RegExp(`${POST.source}held`),
    recipe: post(4, { base: 'move', at: 8, edits: [] }),
  },
]

/** Found by the differential run and fixed since (src/state/fromChain.ts): kept as regression cases that must agree. */
export const FIXED: KnownDisagreement[] = [
  {
    name: 'a posted transaction at a height the client holds, by another author than the one there, on a parent it does not know (a valid move relabelled to the next height): accepted by postTransaction, and the client proves the equivocation of the author, who also signed its transaction there (was NOT_YOUR_TURN without evidence)',
    match: new RegExp(`${POST.source}rejected without evidence NOT_YOUR_TURN`),
    recipe: post(4, { base: 'move', at: 1, edits: [field('seq', 1)] }),
  },
  {
    name: "a finality proof whose first entry is another author's transaction at a height the client holds, on an unknown parent but with the client's resulting state: accepted by exit, and the client proves the equivocation of that author, who also signed its transaction there (was NOT_YOUR_TURN without evidence)",
    match: /^b (exit|verifyFinalityProof|conclude|answer|disputeTimeout|extend|refute|proveInvalidTransition|proveEquivocation): contract ok, client rejected without evidence NOT_YOUR_TURN/,
    recipe: {
      ...VALID, scenario: 0, point: 'exit',
      list: { shape: 'range', at: 1, len: 2, sigs: 'all', edits: [{ index: 0, mutation: field('actor', 5), relink: false }], ops: [] },
    },
  },
]

/** Open disagreements: none. A new class found by a run goes here as a todo until it is fixed or declared by design. */
export const KNOWN: KnownDisagreement[] = []

/** The by-design or open class of a disagreement key, if any (a fixed class is never tolerated). */
export function knownClass(key: string): KnownDisagreement | undefined {
  return [...BY_DESIGN, ...KNOWN].find((k) => k.match.test(key))
}
