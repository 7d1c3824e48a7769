/**
 * The adversary's moves that apply to the channel as it is now: with no dispute open, timeouts
 * on every kind of candidate (racing or not), exits and force-closes from any final state, posts
 * and fraud proofs against a colluder; during an exit or force-close, extensions with every
 * kind of list while the answer window is open, answers, conversions by a colluder's fraud proof;
 * during a timeout, responses when accused, else refutations, answers, exits replacing it,
 * conversions; during a fraud dispute, answers and joins; past any deadline, resolution; and in
 * each phase the differential mutations that fit it (posts, timeouts, exits and force-closes on
 * an open channel, extensions while the answer window is open, responses when accused, answers
 * in any dispute, exits over a timeout). An
 * `act` step picks one of them by index, a `burst` sends several back to back — so a generated
 * schedule spends its steps on attacks that can land, and on sequences (two extensions in a row,
 * an extension and a conversion) that random steps would rarely line up.
 */
import { hasBit } from '../../src/protocol/bitmap.js'
import { DisputeKind } from '../../src/protocol/types.js'
import type { Byzantine } from './Byzantine.js'
import type { Game } from './Game.js'
import { CANDIDATES, FROMS, mutantOf, type MutantUse, type Step } from './schedule.js'

/**
 * Every adversary step of `b` that applies now (timing 'calm', sent directly unless `via7702`);
 * mutant steps (a differential mutation of a transaction it has, ./mutant.ts) take their
 * parameters from `choice` ({@link mutantOf}).
 * @example const options = await choices(game, mallory, 0, false, 17)
 */
export async function choices(g: Game, b: Byzantine, bIndex: number, via7702: boolean, choice = 0): Promise<Step[]> {
  const via = via7702 ? ('7702' as const) : ('direct' as const)
  const base = { t: 'calm' as const, b: bIndex, via }
  const mutants = (...uses: MutantUse[]): Step[] => uses.map((use) => ({ kind: 'mutant' as const, ...base, use, ...mutantOf(choice) }))
  const kind = b.disputeKind
  const r = b.record
  const now = await g.now()
  const C = BigInt(g.ctx.params.challengeTime)
  const usable = (i: number) => hasBit(b.view.active, i) && !hasBit(b.view.slashed, i)
  const colluder = b.colluders.map((c) => c.me).find(usable)
  const others = Array.from({ length: g.ctx.n }, (_, i) => i).filter((i) => i !== b.me)
  const target = colluder === undefined ? 0 : others.indexOf(colluder)
  const frauds = colluder === undefined ? [] : FROMS.flatMap((from) => [false, true].map((equivocation) => ({ kind: 'fraud' as const, ...base, target, equivocation, from })))
  if (kind === DisputeKind.None) {
    return [
      ...CANDIDATES.flatMap((cand) => [false, true].map((race) => ({ kind: 'timeout' as const, ...base, cand, race }))),
      ...FROMS.flatMap((from) => [true, false].map((leave) => ({ kind: 'exit' as const, ...base, leave, from }))),
      ...(['badHash', 'withheld', 'split'] as const).map((what) => ({ kind: 'post' as const, ...base, what })),
      ...frauds,
      ...mutants('post', 'timeout', 'exit', 'forceClose'),
    ]
  }
  if (now > r.deadline) return [{ kind: 'resolve', ...base }]
  const answers = FROMS.map((from) => ({ kind: 'answer' as const, ...base, from }))
  if (kind === DisputeKind.Exit || kind === DisputeKind.ForceClose) {
    // Made-up entries, and made-up entries on made-up entries, weigh more: each must be proven in time.
    const open = now <= r.deadline - C
    const cands = [...CANDIDATES, 'forged', 'forged', 'forged', 'onForged', 'onForged', 'onForged'] as const
    const extensions = open ? [...cands.map((cand) => ({ kind: 'extend' as const, ...base, cand })), ...mutants('extend', 'extend')] : []
    return [...extensions, ...answers, ...frauds, ...mutants('answer')]
  }
  if (kind === DisputeKind.Timeout && hasBit(r.removals, b.me)) {
    return [...(['valid', 'late', 'forged'] as const).map((what) => ({ kind: 'respond' as const, ...base, what })), ...mutants('respond')]
  }
  if (kind === DisputeKind.Timeout || kind === DisputeKind.Conclude) {
    return [
      ...FROMS.map((from) => ({ kind: 'refute' as const, ...base, from })), ...answers, ...frauds,
      ...FROMS.map((from) => ({ kind: 'exit' as const, ...base, leave: false, from })),
      ...mutants('answer', 'exit'),
    ]
  }
  return [...answers, ...frauds, ...mutants('answer')]
}
