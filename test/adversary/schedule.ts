/**
 * A schedule: who is byzantine, then a sequence of steps — honest play, adversary actions,
 * message loss to and from the adversary, time travel, honest requests to leave — generated
 * by fast-check and printed as readable lines. Indices in steps are taken modulo the number of
 * byzantine (`b`) or honest (`h`) participants at run time, so every step of a shrunk schedule
 * still means something.
 */
import fc from 'fast-check'
import { mutationArb, TIMESTAMPS, type Mutation } from '../differential/recipes.js'
import { CLOSE_SKEWS, type CloseSkew } from './closeAttack.js'
import { FORGE_KINDS, type ForgeKind } from './forge.js'
import type { Via } from './Byzantine.js'

export const NET_MODES = ['ok', 'mute', 'deaf', 'silent', 'noConfirm', 'cut'] as const
export type NetMode = (typeof NET_MODES)[number]
/**
 * Candidate lists a byzantine participant can name: its head, an older state it signed, the
 * genesis, its head plus a forged entry, an old final state plus a forged entry at the next
 * height stamped at its parent's time (below the honest head: raisable at once, issue 10
 * attack 1), its head plus a valid move it kept, the latest transaction it forged earlier (a
 * split version, an equivocation, a kept move) on the state it extends, a new forged entry on
 * top of its forged ones (a chain of made-up states: a second extension after a first), and
 * entries stamped before their parent or with oversized data.
 */
export const CANDIDATES = ['head', 'stale', 'genesis', 'forged', 'conflict', 'withheld', 'lastForged', 'onForged', 'backdated', 'oversized'] as const
export type CandidateKind = (typeof CANDIDATES)[number]
/** Which final state a proof or checkpoint shows. */
export const FROMS = ['latest', 'old', 'genesis'] as const
export type From = (typeof FROMS)[number]

/**
 * When an adversary call goes out: `calm` (the honest clients react before the next step),
 * `hold` (the next step follows at once: back-to-back calls), `front` (while the honest courts'
 * reactions wait in the pool, with higher fees: mined first in the same block).
 */
export const TIMINGS = ['calm', 'hold', 'front'] as const
export type Timing = (typeof TIMINGS)[number]

/**
 * What a differential mutation (test/differential/recipes.ts `mutationArb`) is applied to: the
 * next honest move the byzantine participant can sign (its own valid move on its head; when it
 * is not its turn, as `own`), its latest own move, or the latest transaction its shadow holds
 * (anyone's, with every signature it holds). A response always starts from the accused's valid
 * move on the timeout's candidate, a list use from the latest finality proof (entry `entry`).
 */
export const MUTANT_BASES = ['next', 'own', 'latest'] as const
export type MutantBase = (typeof MUTANT_BASES)[number]
/**
 * Where the mutated transaction goes: posted, the last entry of a timeout candidate or of an
 * extension (after the anchored list up to its parent), a response when accused, or an entry of
 * the finality proof of an answer, an exit or a force-close.
 */
export const MUTANT_USES = ['post', 'timeout', 'extend', 'respond', 'answer', 'exit', 'forceClose'] as const
export type MutantUse = (typeof MUTANT_USES)[number]
/** A mutant step's parameters apart from its use (drawn with the differential's `mutationArb`). */
export interface MutantParams {
  base: MutantBase
  mutation: Mutation
  /** Which finality-proof entry an answer, exit or force-close edits (modulo the proof's length). */
  entry: number
  /** Timeouts only: wait until the candidate may be raised and act before the honest courts poll. */
  race: boolean
}

export type Step =
  | { kind: 'play'; share: number; to: number }
  | { kind: 'travel'; seconds: number }
  | { kind: 'lastSecond'; of: 'answer' | 'deadline' }
  | { kind: 'net'; b: number; mode: NetMode; peer: number }
  | { kind: 'forge'; b: number; what: ForgeKind; to: number; variant: number }
  | { kind: 'post'; t: Timing; b: number; what: ForgeKind; via: Via }
  /** `race`: the adversary waits until its candidate may be raised and wins the race against the honest courts' own duties. */
  | { kind: 'timeout'; t: Timing; b: number; cand: CandidateKind; race: boolean; via: Via }
  | { kind: 'exit'; t: Timing; b: number; leave: boolean; from: From; via: Via }
  | { kind: 'answer'; t: Timing; b: number; from: From; via: Via }
  | { kind: 'extend'; t: Timing; b: number; cand: CandidateKind; via: Via }
  | { kind: 'refute'; t: Timing; b: number; from: From; via: Via }
  | { kind: 'respond'; t: Timing; b: number; what: 'valid' | 'late' | 'forged'; via: Via }
  | { kind: 'fraud'; t: Timing; b: number; target: number; equivocation: boolean; from: From; via: Via }
  | { kind: 'resolve'; t: Timing; b: number; via: Via }
  | { kind: 'collude'; b: number }
  /** Byzantine `b` uses a differential mutation of a transaction it legitimately has (./mutant.ts). */
  | ({ kind: 'mutant'; t: Timing; b: number; use: MutantUse; via: Via } & MutantParams)
  /** Byzantine `b` makes the `choice`-th move that applies now (./choices.ts); `choice` also seeds a mutant's parameters ({@link mutantOf}). */
  | { kind: 'act'; t: Timing; b: number; choice: number; via: Via }
  /** Byzantine `b` makes several applicable moves back to back (the last one `t`). */
  | { kind: 'burst'; t: Timing; b: number; choices: number[]; via: Via }
  | { kind: 'forceClose'; h: number }
  | { kind: 'exitHonest'; h: number }
  | { kind: 'coopClose'; h: number }
  /** Byzantine `b` asks the honest peers to close on terms they must refuse (./closeAttack.ts). */
  | { kind: 'skewedClose'; b: number; skew: CloseSkew }

export interface Schedule {
  n: number
  /** Byzantine participant indices (1 or 2 of them; at least one participant is honest). */
  byzantine: number[]
  steps: Step[]
}

/** Chain seconds a travel step may take: around the protocol's windows (p2p 60, posting 210, C 300). */
export const TRAVELS = [1, 15, 31, 61, 91, 121, 211, 301, 451, 601, 1201] as const

const b = fc.nat({ max: 1 })
const h = fc.nat({ max: 3 })
const via = fc.constantFrom<Via>('direct', 'direct', '7702')
const timing = fc.constantFrom<Timing>('calm', 'calm', 'calm', 'hold', 'front')
const from = fc.constantFrom(...FROMS)
const cand = fc.constantFrom(...CANDIDATES)
const forgeKind = fc.constantFrom(...FORGE_KINDS)

/** A mutant's parameters: the differential's own edit of one field or of the signatures, on a base. */
export const mutantParamsArb: fc.Arbitrary<MutantParams> = fc.record({
  base: fc.constantFrom(...MUTANT_BASES),
  mutation: mutationArb,
  entry: fc.nat({ max: 7 }),
  race: fc.boolean(),
})
/** Uses, weighted towards what lands on an open channel (a post, a timeout) and extensions. */
const mutantUse = fc.constantFrom<MutantUse>('post', 'post', 'timeout', 'timeout', 'timeout', 'extend', 'extend', 'respond', 'answer', 'exit', 'forceClose')

const drawn = new Map<number, MutantParams>()
/**
 * The mutant parameters an `act` or `burst` choice stands for: one draw of
 * {@link mutantParamsArb} seeded with the choice (the same on every run).
 */
export function mutantOf(choice: number): MutantParams {
  let p = drawn.get(choice)
  if (!p) drawn.set(choice, (p = fc.sample(mutantParamsArb, { seed: choice, numRuns: 1 })[0]!))
  return p
}

/** One step; weights favour play and time so that adversary actions land on live channels. */
export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 20, arbitrary: fc.record({ kind: fc.constant('play' as const), share: fc.nat({ max: 4 }), to: fc.nat({ max: 3 }) }) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('travel' as const), seconds: fc.constantFrom(...TRAVELS) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('lastSecond' as const), of: fc.constantFrom('answer' as const, 'deadline' as const) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('net' as const), b, mode: fc.constantFrom(...NET_MODES), peer: h }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('forge' as const), b, what: forgeKind, to: fc.nat({ max: 15 }), variant: fc.nat({ max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('post' as const), t: timing, b, what: forgeKind, via }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('timeout' as const), t: timing, b, cand, race: fc.boolean(), via }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('exit' as const), t: timing, b, leave: fc.boolean(), from, via }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('answer' as const), t: timing, b, from, via }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('extend' as const), t: timing, b, cand, via }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('refute' as const), t: timing, b, from, via }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('respond' as const), t: timing, b, what: fc.constantFrom('valid' as const, 'late' as const, 'forged' as const), via }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('fraud' as const), t: timing, b, target: fc.nat({ max: 3 }), equivocation: fc.boolean(), from, via }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('resolve' as const), t: timing, b, via }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('collude' as const), b }) },
  { weight: 5, arbitrary: fc.tuple(fc.record({ kind: fc.constant('mutant' as const), t: timing, b, use: mutantUse, via }), mutantParamsArb).map(([s, p]) => ({ ...s, ...p })) },
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('act' as const), t: timing, b, choice: fc.nat({ max: 1023 }), via }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('burst' as const), t: fc.constantFrom<Timing>('calm', 'front'), b, choices: fc.array(fc.nat({ max: 1023 }), { minLength: 2, maxLength: 3 }), via }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('forceClose' as const), h }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('exitHonest' as const), h }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('coopClose' as const), h }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('skewedClose' as const), b, skew: fc.constantFrom(...CLOSE_SKEWS) }) },
)

const playArb = fc.record({ kind: fc.constant('play' as const), share: fc.nat({ max: 4 }), to: fc.nat({ max: 3 }) })

/**
 * Schedules for `n` participants: 1 byzantine for n = 2, else 1 or 2; a warm-up of up to 2n
 * plays (so stale states and old final ones exist), then up to `maxSteps` steps.
 */
export function scheduleArb(n: number, maxSteps = 24): fc.Arbitrary<Schedule> {
  const byz = n === 2 ? fc.constant(1) : fc.integer({ min: 1, max: 2 })
  return fc.record({
    byzantine: byz.chain((k) => fc.uniqueArray(fc.nat({ max: n - 1 }), { minLength: k, maxLength: k })).map((a) => [...a].sort((x, y) => x - y)),
    warmup: fc.array(playArb, { maxLength: 2 * n, size: 'max' }),
    steps: fc.array(stepArb, { minLength: 1, maxLength: maxSteps, size: 'max' }),
  }).map(({ byzantine, warmup, steps }) => ({ n, byzantine, steps: [...warmup, ...steps] }))
}

/** A differential mutation as a short phrase: `timestamp=latestPlus1 re-signed`, `stateHash#4 kept signatures`, `signatures: malleable who=1`. */
export function describeMutation(m: Mutation): string {
  if (m.kind === 'sig') return `signatures: ${m.edit} who=${m.who}`
  const value = m.field === 'timestamp' ? `=${TIMESTAMPS[m.variant % TIMESTAMPS.length]}` : `#${m.variant}`
  return `${m.field}${value} ${m.keepSignatures ? 'kept signatures' : m.recompute ? 're-signed, state recomputed' : 're-signed'}`
}

/** A step as one readable line (indices as written; the run log names the participants). */
export function describeStep(s: Step): string {
  if (s.kind === 'mutant') {
    const { kind, mutation, ...rest } = s
    return `${kind} ${Object.entries(rest).map(([k, v]) => `${k}=${String(v)}`).join(' ')} mutation=[${describeMutation(mutation)}]`
  }
  const { kind, ...rest } = s
  const args = Object.entries(rest).map(([k, v]) => `${k}=${String(v)}`).join(' ')
  return args ? `${kind} ${args}` : kind
}

/** The schedule as lines, for a violation report. */
export function describeSchedule(s: Schedule): string {
  return [`n=${s.n} byzantine=[${s.byzantine.join(', ')}]`, ...s.steps.map((x, i) => `  ${String(i + 1).padStart(2)}. ${describeStep(x)}`)].join('\n')
}
