/**
 * The randomized search: fast-check generates schedules for `n` participants, each is run on
 * the world's anvil and checked; a schedule that breaks an invariant is shrunk (within a
 * budget of runs) and reported with the seed and path that replay it. The search goes on after
 * a violation with the next seed until `runs` schedules ran.
 */
import fc from 'fast-check'
import type { World } from './context.js'
import { runSchedule, type RunResult } from './run.js'
import { scheduleArb, type Schedule } from './schedule.js'

export interface SearchOptions {
  runs: number
  seed: number
  n: number
  /** Longest schedule (default 24 steps). */
  maxSteps?: number
  /** Shrinking stops after this many extra runs (default 60). */
  shrinkRuns?: number
  /** Replays the run at this fast-check path (with the same seed, n and maxSteps), no shrinking. */
  path?: string
  /** Called after every run of the search (not for shrinking runs). */
  onRun?: (i: number, schedule: Schedule, result: RunResult) => void
  /** Control: the honest courts are detached, so the search must find violations. */
  detachCourts?: boolean
  /** Called after every shrinking run. */
  onShrink?: (schedule: Schedule, result: RunResult) => void
}

/** A violation, shrunk. */
export interface Failure {
  seed: number
  path: string
  schedule: Schedule
  result: RunResult
  /** The run that first failed, before shrinking. */
  original: { schedule: Schedule; result: RunResult }
  shrinkRuns: number
}

export interface SearchReport {
  runs: { schedule: Schedule; result: RunResult }[]
  failures: Failure[]
}

/**
 * Runs the search; resolves with every run (shrinking runs excluded) and every failure.
 * @example const report = await search(world, { runs: 20, seed: 42, n: 3 })
 */
export async function search(world: World, o: SearchOptions): Promise<SearchReport> {
  const report: SearchReport = { runs: [], failures: [] }
  const arb = scheduleArb(o.n, o.maxSteps ?? 24)
  let seed = o.seed
  while (report.runs.length < o.runs) {
    const results = new WeakMap<Schedule, RunResult>()
    let first: { schedule: Schedule; result: RunResult } | undefined
    let shrinks = 0
    const property = fc.asyncProperty(arb, async (schedule) => {
      if (first && shrinks >= (o.shrinkRuns ?? 60)) return true // budget spent: keep the smallest so far
      const result = await runSchedule(world, schedule, { detachCourts: o.detachCourts === true })
      results.set(schedule, result)
      if (first) {
        shrinks++
        o.onShrink?.(schedule, result)
      } else {
        report.runs.push({ schedule, result })
        o.onRun?.(report.runs.length, schedule, result)
        if (result.violations.length > 0) first = { schedule, result }
      }
      return result.violations.length === 0
    })
    const left = o.runs - report.runs.length
    const details = await fc.check(property, {
      seed, numRuns: o.path ? 1 : left, ...(o.path ? { path: o.path, endOnFailure: true } : {}),
    })
    if (details.failed && details.counterexample && first) {
      const schedule = details.counterexample[0]
      report.failures.push({
        seed, path: details.counterexamplePath ?? '', schedule, result: results.get(schedule) ?? first.result, original: first, shrinkRuns: shrinks,
      })
    }
    if (o.path) break
    seed++
  }
  return report
}
