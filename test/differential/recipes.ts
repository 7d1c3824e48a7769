/**
 * Generators of the differential run (fast-check). A case is a small plain *recipe* — which
 * channel, which situation, which entry point, which base transaction or list, and which
 * field-by-field edits — turned into concrete calls by ./materialize.ts against the world. Recipes
 * shrink well and mean the same on every run, so a seed reproduces a case.
 *
 * For other searches (test/adversary): {@link mutationArb} draws one edit of a transaction and
 * ./mutate.ts `mutateTransaction` / `mutateSignatures` apply it to any transaction given its
 * {@link Bounds}; {@link caseArb} and {@link peerCaseArb} draw whole cases.
 */
import fc from 'fast-check'
import { ENTRY_POINTS, type EntryPoint } from '../../src/protocol/admission/index.js'
import { SITUATIONS, type Situation, type SituationKind } from './situations.js'

/** Transaction fields an edit can change. */
export const TX_FIELDS = ['channelId', 'fork', 'seq', 'timestamp', 'actor', 'previousStateHash', 'data', 'stateHash'] as const
export type TxField = (typeof TX_FIELDS)[number]

/**
 * Timestamps around every bound (./mutate.ts `timestampOf`): one before the parent, the parent,
 * one before the fork genesis, the genesis, block time + skew and one past it, 2^64 − 1, 0, the
 * block time, one after the current value.
 */
export const TIMESTAMPS = ['parentMinus1', 'parent', 'genesisMinus1', 'genesis', 'latest', 'latestPlus1', 'max', 'zero', 'blockTime', 'plus1'] as const

/** Signature edits: the author's missing, an extra (adversary) signer, an inactive or out-of-range signer, a wrong or foreign key, a malleable s, a bad v, a truncated blob, none at all. */
export const SIG_EDITS = ['dropAuthor', 'addSigner', 'addInactive', 'wrongKey', 'foreignKey', 'malleable', 'badV', 'truncate', 'dropAll'] as const
export type SigEdit = (typeof SIG_EDITS)[number]

/**
 * One edit. `field`: set `field` to its `variant`-th special value, re-signed by the same signers
 * (minus me: the honest client signs nothing it did not check) unless `keepSignatures`;
 * `recompute` recomputes stateHash with the machine when the result is a valid move (a valid
 * equivocating twin). `sig`: edit the signature set (`who` picks the participant).
 */
export type Mutation =
  | { kind: 'field'; field: TxField; variant: number; keepSignatures: boolean; recompute: boolean }
  | { kind: 'sig'; edit: SigEdit; who: number }

/**
 * Edits of a whole list: drop, duplicate or swap entries, add the next or previous move, reverse,
 * grow past |A|, or `forge` a new last entry by the next actor signed by the adversaries — the
 * attacks of issue 16: an invented state (a theft of every payout, payouts above the deposits,
 * bytes no machine decodes), a valid withheld move, data over MAX_DATA_BYTES, stamped before its
 * parent or past block time + skew (`index` picks which).
 */
export const LIST_OPS = ['drop', 'dup', 'swap', 'append', 'prepend', 'reverse', 'overlong', 'forge'] as const
/** What a forged last entry is (LIST_OPS `forge`, by index). */
export const FORGES = ['theft', 'excess', 'garbage', 'valid', 'oversized', 'backdated', 'future'] as const
export type ListOp = (typeof LIST_OPS)[number]

/**
 * A list: `proof` = the shortest finality proof of move `at`, `anchored` = the court's candidate
 * list ending at move `at`, `genesis` = empty, `range` = `len` moves from `at` with `sigs`
 * signatures; `at` 0 = the entry point's usual choice. Then entry edits (with `relink`: later
 * entries re-linked and re-signed, an adversary's consistent branch) and list operations.
 */
export interface ListRecipe {
  shape: 'proof' | 'anchored' | 'genesis' | 'range'
  at: number
  len: number
  sigs: 'all' | 'author' | 'noMe'
  edits: { index: number; mutation: Mutation; relink: boolean }[]
  ops: { op: ListOp; index: number }[]
}

/** A single transaction: the entry point's usual one (`default`), move `at` of the history, or a fresh valid move on move `at`'s state; then edits. */
export interface TxRecipe {
  base: 'default' | 'move' | 'fresh'
  at: number
  edits: Mutation[]
}

/** Seconds after the situation's last block that the judged block is stamped. */
export const DELAYS = [1, 2, 5, 20, 61, 180, 211, 240, 301, 420, 601, 1000] as const

/** A whole case. */
export interface CaseRecipe {
  scenario: number
  point: EntryPoint
  situation: Situation
  delay: number
  caller: 'default' | 'me' | 'other' | 'wrongIndex'
  list: ListRecipe
  tx: TxRecipe
  /** The second transaction of an equivocation. */
  second: TxRecipe
  state: 'candidate' | 'other' | 'garbage' | 'oversized'
  record: 'same' | 'altered'
  leave: boolean
}

/** A transaction sent by a peer: the client at clock `clock` seconds after the base, with skew `skew` (1 … the channel's). */
export interface PeerRecipe {
  scenario: number
  tx: TxRecipe
  clock: number
  skew: number
}

const few = <T>(arb: fc.Arbitrary<T>, max: number) => fc.array(arb, { maxLength: max })

/** One edit of a transaction or its signatures. */
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('field' as const), field: fc.constantFrom(...TX_FIELDS), variant: fc.nat({ max: 11 }), keepSignatures: fc.constant(false), recompute: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('field' as const), field: fc.constantFrom(...TX_FIELDS), variant: fc.nat({ max: 11 }), keepSignatures: fc.constant(true), recompute: fc.constant(false) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sig' as const), edit: fc.constantFrom(...SIG_EDITS), who: fc.nat({ max: 7 }) }) },
)

export const listArb: fc.Arbitrary<ListRecipe> = fc.record({
  shape: fc.constantFrom('proof', 'proof', 'anchored', 'anchored', 'genesis', 'range'),
  at: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat({ max: 12 }) }),
  len: fc.nat({ max: 5 }),
  sigs: fc.constantFrom('all', 'all', 'author', 'noMe'),
  edits: few(fc.record({ index: fc.nat({ max: 5 }), mutation: mutationArb, relink: fc.boolean() }), 2),
  ops: few(fc.record({ op: fc.constantFrom(...LIST_OPS, 'forge', 'forge'), index: fc.nat({ max: 6 }) }), 1),
})

export const txArb: fc.Arbitrary<TxRecipe> = fc.record({
  base: fc.constantFrom('default', 'default', 'default', 'move', 'fresh'),
  at: fc.nat({ max: 12 }),
  edits: few(mutationArb, 2),
})

/** Situations each entry point mostly acts in (others are drawn now and then, for the phase errors). */
const USUAL: Record<EntryPoint, SituationKind[]> = {
  postTransaction: ['open'],
  disputeTimeout: ['open'],
  conclude: ['open'],
  verifyFinalityProof: ['open'],
  exit: ['open', 'timeout', 'timeoutGenesis'],
  respond: ['timeout', 'timeoutGenesis'],
  refute: ['timeout', 'timeoutGenesis'],
  answer: ['timeout', 'timeoutGenesis', 'exit', 'forceClose', 'fraud'],
  extend: ['exit', 'forceClose'],
  proveInvalidTransition: ['open', 'timeout', 'exit', 'fraud'],
  proveEquivocation: ['open', 'timeout', 'forceClose', 'fraud'],
}

const situationArb = (point: EntryPoint): fc.Arbitrary<Situation> =>
  fc.record({
    kind: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...USUAL[point]) }, { weight: 1, arbitrary: fc.constantFrom(...SITUATIONS) }),
    pick: fc.nat({ max: 15 }),
  })

/** Delays at which an entry point's usual call is in time (timeouts: after the posting window; challenges: before the deadline). */
const IN_TIME: Partial<Record<EntryPoint, number[]>> = {
  disputeTimeout: [7, 8, 9, 10, 11],
  respond: [0, 1, 2, 3, 4, 5, 6, 7],
  answer: [0, 1, 2, 3, 4, 5, 6, 7],
  refute: [0, 1, 2, 3, 4, 5, 6, 7],
  extend: [0, 1, 2, 3, 4, 5, 6, 7],
}

const VALID_LIST: ListRecipe = { shape: 'proof', at: 0, len: 0, sigs: 'all', edits: [], ops: [] }
const VALID_TX: TxRecipe = { base: 'default', at: 0, edits: [] }

/** The usual call of `point`: the court's own lists and transactions, in time, by the usual caller. */
function validArb(point: EntryPoint, scenarios: number): fc.Arbitrary<CaseRecipe> {
  const delays = IN_TIME[point] ?? DELAYS.map((_, i) => i)
  return fc.record({
    scenario: fc.nat({ max: scenarios - 1 }),
    point: fc.constant(point),
    situation: fc.record({ kind: fc.constantFrom(...USUAL[point]), pick: fc.nat({ max: 15 }) }),
    delay: fc.constantFrom(...delays),
    caller: fc.constant('default' as const),
    list: fc.record({ ...VALID_LIST_ARB, at: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat({ max: 12 }) }) }),
    tx: fc.record({ ...VALID_TX_ARB, at: fc.nat({ max: 12 }) }),
    second: fc.constant(VALID_TX),
    state: fc.constant('candidate' as const),
    record: fc.constant('same' as const),
    leave: fc.boolean(),
  })
}

const VALID_LIST_ARB = Object.fromEntries(Object.entries(VALID_LIST).map(([k, v]) => [k, fc.constant(v)])) as { [K in keyof ListRecipe]: fc.Arbitrary<ListRecipe[K]> }
const VALID_TX_ARB = Object.fromEntries(Object.entries(VALID_TX).map(([k, v]) => [k, fc.constant(v)])) as { [K in keyof TxRecipe]: fc.Arbitrary<TxRecipe[K]> }

/** The usual call with exactly one thing changed: one edit of one transaction or list entry, one list operation, or one argument. */
function oneArb(point: EntryPoint, scenarios: number): fc.Arbitrary<CaseRecipe> {
  // Entry 0 is a finality proof's candidate: edited as often as all the others together.
  const index = fc.oneof(fc.constant(0), fc.nat({ max: 5 }))
  return fc.tuple(validArb(point, scenarios), fc.nat({ max: 99 }), mutationArb, index, fc.boolean(), fc.constantFrom(...LIST_OPS, 'forge', 'forge', 'forge', 'forge', 'forge'), fc.nat({ max: DELAYS.length - 1 }))
    .map(([c, which, mutation, index, relink, op, delay]) => {
      const w = which % 10
      if (w < 4) return { ...c, list: { ...c.list, edits: [{ index, mutation, relink }] } }
      if (w < 7) return { ...c, tx: { ...c.tx, edits: [mutation] } }
      if (w === 7) return point === 'proveEquivocation' && which % 2 === 0 ? { ...c, second: { ...c.second, edits: [mutation] } } : { ...c, list: { ...c.list, ops: [{ op, index: which % 7 }] } }
      if (w === 8) return { ...c, delay }
      const knob = which % 7
      if (knob === 0) return { ...c, state: 'other' as const }
      if (knob === 1) return { ...c, state: 'garbage' as const }
      if (knob === 2) return { ...c, record: 'altered' as const }
      if (knob === 3) return { ...c, caller: 'me' as const }
      if (knob === 4) return { ...c, caller: 'wrongIndex' as const }
      if (knob === 5) return { ...c, list: { ...c.list, sigs: 'author' as const } }
      return { ...c, list: { ...c.list, shape: 'anchored' as const } }
    })
}

/** Anything: every knob drawn independently (several edits at once, other situations, any delay). */
function wildArb(point: EntryPoint, scenarios: number): fc.Arbitrary<CaseRecipe> {
  return fc.record({
    scenario: fc.nat({ max: scenarios - 1 }),
    point: fc.constant(point),
    situation: situationArb(point),
    delay: fc.nat({ max: DELAYS.length - 1 }),
    caller: fc.constantFrom('default', 'default', 'default', 'default', 'me', 'other', 'wrongIndex'),
    list: listArb,
    tx: txArb,
    second: txArb,
    state: fc.constantFrom('candidate', 'candidate', 'candidate', 'candidate', 'candidate', 'other', 'garbage', 'oversized'),
    record: fc.constantFrom('same', 'same', 'same', 'same', 'same', 'same', 'same', 'same', 'same', 'altered'),
    leave: fc.boolean(),
  })
}

/**
 * Cases on `scenarios` channels at `points` (default: every entry point): a quarter the usual
 * valid call, half of them one change away from it, a quarter anything.
 * @example fc.assert(fc.asyncProperty(caseArb(6), (r) => judge(world, r)), { seed: 1, numRuns: 200 })
 */
export function caseArb(scenarios: number, points: readonly EntryPoint[] = ENTRY_POINTS): fc.Arbitrary<CaseRecipe> {
  return fc.constantFrom(...points).chain((point) =>
    fc.oneof({ weight: 1, arbitrary: validArb(point, scenarios) }, { weight: 2, arbitrary: oneArb(point, scenarios) }, { weight: 1, arbitrary: wildArb(point, scenarios) }),
  )
}

/** Transactions from a peer, to hold the client's acceptance to the contract's (a post at the client's clock). */
export function peerCaseArb(scenarios: number): fc.Arbitrary<PeerRecipe> {
  const tx = fc.oneof(
    { weight: 2, arbitrary: fc.constant<TxRecipe>(VALID_TX) },
    { weight: 2, arbitrary: mutationArb.map((m): TxRecipe => ({ ...VALID_TX, edits: [m] })) },
    { weight: 1, arbitrary: txArb },
  )
  return fc.record({ scenario: fc.nat({ max: scenarios - 1 }), tx, clock: fc.nat({ max: 40 }), skew: fc.nat({ max: 20 }) })
}
