/**
 * Runs many differential cases with fast-check (fixed seed: the same cases every time) and
 * aggregates: verdict counts per entry point, the client's outcomes, and every disagreement by
 * class with its first example. Used by test/differential/*.test.ts and scripts/differential.ts.
 */
import fc from 'fast-check'
import { ENTRY_POINTS, type EntryPoint } from '../../src/protocol/admission/index.js'
import { judge, judgePeer, type CaseResult, type Disagreement } from './judge.js'
import { caseArb, peerCaseArb } from './recipes.js'
import { BY_DESIGN } from './known.js'
import type { World } from './world.js'

export interface RunOptions {
  runs: number
  seed: number
  /** Peer cases (check c), in addition to `runs`. */
  peerRuns?: number
  points?: readonly EntryPoint[]
  /** Called after each case (progress). */
  onCase?: (r: CaseResult, i: number) => void
  /** Called before each case with its recipe (a watchdog can name a case that hangs). */
  onStart?: (recipe: unknown) => void
}

export interface RunReport {
  seed: number
  cases: number
  ms: number
  /** Per entry point: contract verdict → count. */
  verdicts: Record<string, Record<string, number>>
  /** Per entry point: how the client took what an accepted call published → count. */
  client: Record<string, Record<string, number>>
  /** Disagreement classes: key → count and the first example. */
  disagreements: Map<string, { count: number; example: Disagreement; recipe: unknown }>
}

const bump = (m: Record<string, Record<string, number>>, a: string, b: string) => {
  m[a] ??= {}
  m[a]![b] = (m[a]![b] ?? 0) + 1
}

/** A short class of the client's outcome (the sequence number and details dropped). */
function clientClass(what: string): string {
  return what.split('; ').map((x) => x.replace(/^seq \d+: /, '').replace(/\(moot: .*\)/, '(moot)')).join('; ')
}

/**
 * Runs `runs` cases (and `peerRuns` peer cases) on `w`; never throws on a disagreement (the
 * report lists them).
 * @example const report = await runDifferential(world, { runs: 300, seed: 1 })
 */
export async function runDifferential(w: World, o: RunOptions): Promise<RunReport> {
  const t0 = performance.now()
  const report: RunReport = { seed: o.seed, cases: 0, ms: 0, verdicts: {}, client: {}, disagreements: new Map() }
  const record = (res: CaseResult, recipe: unknown) => {
    report.cases++
    bump(report.verdicts, res.point, res.contract)
    if (res.client !== undefined) bump(report.client, res.point, clientClass(res.client))
    for (const d of res.disagreements) {
      const seen = report.disagreements.get(d.key)
      if (seen) seen.count++
      else report.disagreements.set(d.key, { count: 1, example: d, recipe })
    }
    o.onCase?.(res, report.cases)
  }
  const scenarios = w.scenarios.length
  const points = o.points ?? ENTRY_POINTS
  await fc.assert(
    fc.asyncProperty(caseArb(scenarios, points), async (r) => {
      o.onStart?.(r)
      record(await judge(w, r), r)
    }),
    { seed: o.seed, numRuns: o.runs, endOnFailure: true },
  )
  if (o.peerRuns) {
    await fc.assert(
      fc.asyncProperty(peerCaseArb(scenarios), async (r) => {
        o.onStart?.(r)
        record(await judgePeer(w, r), r)
      }),
      { seed: o.seed + 1, numRuns: o.peerRuns, endOnFailure: true },
    )
  }
  report.ms = performance.now() - t0
  return report
}

/** The report as text: parameters, verdicts per entry point, client outcomes, disagreements. */
export function formatReport(w: World, r: RunReport): string {
  const lines: string[] = []
  lines.push(`seed ${r.seed}, ${r.cases} cases in ${(r.ms / 1000).toFixed(1)} s`)
  lines.push(`channels: ${w.scenarios.map((s) => `${s.name} (${s.machine}, N=${s.n}, fork ${s.fork}, me=${s.me}, |H|=${s.moves.filter((m) => !m.withheld).length}, |E|=${s.moves.filter((m) => m.withheld).length})`).join('; ')}`)
  lines.push('', 'contract verdicts per entry point:')
  for (const [point, v] of Object.entries(r.verdicts)) {
    const total = Object.values(v).reduce((a, b) => a + b, 0)
    lines.push(`  ${point} (${total}): ${Object.entries(v).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`)
  }
  lines.push('', 'client, on what accepted calls published:')
  for (const [point, v] of Object.entries(r.client)) {
    lines.push(`  ${point}: ${Object.entries(v).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join('; ')}`)
  }
  lines.push('', `disagreements: ${r.disagreements.size === 0 ? 'none' : ''}`)
  for (const [key, { count, example, recipe }] of [...r.disagreements].sort((a, b) => b[1].count - a[1].count)) {
    lines.push(`  [${count}] ${key}${BY_DESIGN.some((k) => k.match.test(key)) ? ' (by design: posts are data availability only)' : ''}`)
    lines.push(`      e.g. ${example.scenario}, ${example.situation}: contract ${example.contract}; ${example.other}`)
    lines.push(`      recipe ${JSON.stringify(recipe)}`)
  }
  return lines.join('\n')
}
