/**
 * `npm run adversary -- --runs K --seed S [--n 2|3|5] [--max-steps M] [--shrink R] [--path P]
 * [--trace] [--out file.json] [--control]`: runs the randomized adversary search on one anvil and prints the
 * machine, the parameters, one line per schedule, every violation with its shrunk schedule, the
 * log of its run and the command that replays it, and the totals. Exits 1 on a violation.
 * `--control` detaches the honest courts: the search must then find thefts (a check of the
 * checker, the shrinking and the replay).
 */
import { cpus, totalmem } from 'node:os'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { settleBound } from './invariants.js'
import { startWorld } from './run.js'
import type { RunResult } from './run.js'
import { describeSchedule, type Schedule } from './schedule.js'
import { search, type Failure } from './search.js'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' }, seed: { type: 'string', default: String(Date.now() % 1_000_000) }, n: { type: 'string', default: '3' },
    'max-steps': { type: 'string', default: '24' }, shrink: { type: 'string', default: '60' }, path: { type: 'string' },
    trace: { type: 'boolean', default: false }, out: { type: 'string' }, control: { type: 'boolean', default: false },
  },
})
const runs = Number(values.runs)
const seed = Number(values.seed)
const n = Number(values.n)
const maxSteps = Number(values['max-steps'])
if (![2, 3, 4, 5].includes(n) || !(runs > 0) || !Number.isInteger(seed)) {
  console.error('usage: npm run adversary -- --runs K --seed S [--n 2|3|5] [--max-steps M] [--shrink R] [--path P] [--trace] [--out file.json]')
  process.exit(2)
}

const started = Date.now()
const world = await startWorld()
const client = (await world.anvil.provider.send('web3_clientVersion', [])) as string
const cpu = cpus()
const C = 300
const W = 60 + 30 + 120
console.log(`machine: ${cpu[0]?.model ?? 'cpu'} × ${cpu.length}, ${Math.round(totalmem() / 2 ** 30)} GB, node ${process.version}, ${client} (prague)`)
console.log(`parameters: n=${n}, Payments, deposits ${Array.from({ length: n }, (_, i) => i + 1).join('/')} ETH, bond 0.1 ETH, p2p 60 s, agreement 30 s, fallback 120 s (W = ${W} s), C = ${C} s; bound 3(n−1)C + 2n·15 s = ${settleBound({ challengeTime: C, postingWindow: W }, n)} s`)
console.log(`search: seed ${seed}, ${runs} runs, ≤ ${maxSteps} steps${values.path ? `, replaying path ${values.path}` : ''}${values.control ? ', CONTROL: honest courts detached' : ''}\n`)

const summary = (s: Schedule, r: RunResult) => {
  const calls = Object.values(r.calls).reduce((a, b) => a + b, 0)
  const settled = r.settleSeconds === undefined ? 'not settled' : r.settleSeconds < 0n ? 'closed during the schedule' : `settled +${r.settleSeconds} s`
  return `M${s.byzantine.join(',M').padEnd(5)} ${String(r.steps).padStart(2)} steps  ${r.disputes} disputes  ${r.slashes} slashed  ${r.forks} forks  ${calls} adversary calls (${r.calls.ok ?? 0} ok)  ${settled}  ${(r.wallMs / 1000).toFixed(1)} s  ${r.violations.length ? 'VIOLATION' : 'ok'}`
}
const report = await search(world, {
  runs, seed, n, maxSteps, shrinkRuns: Number(values.shrink), detachCourts: values.control, ...(values.path ? { path: values.path } : {}),
  onRun: (i, s, r) => {
    console.log(`run ${String(i).padStart(4)}  ${summary(s, r)}`)
    if (values.trace) for (const l of r.log) console.log(`        ${l}`)
  },
  onShrink: (s, r) => console.log(`  shrink: ${s.steps.length} steps → ${r.violations.length ? 'still fails' : 'passes'}`),
})
await world.anvil.stop()

const print = (f: Failure) => {
  console.log(`\nVIOLATION — seed ${f.seed}, path ${f.path} (shrunk from ${f.original.schedule.steps.length} to ${f.schedule.steps.length} steps in ${f.shrinkRuns} runs)`)
  for (const v of f.result.violations) console.log(`  ✗ ${v}`)
  console.log(describeSchedule(f.schedule).replace(/^/gm, '  '))
  console.log('  run log:')
  for (const l of f.result.log) console.log(`    ${l}`)
  console.log(`  replay: npm run adversary -- --n ${n} --max-steps ${maxSteps} --seed ${f.seed} --path ${f.path} --trace${values.control ? ' --control' : ''}`)
}
report.failures.forEach(print)

const rs = report.runs.map((r) => r.result)
const sum = (f: (r: RunResult) => number) => rs.reduce((a, r) => a + f(r), 0)
const calls: Record<string, number> = {}
for (const r of rs) for (const [k, v] of Object.entries(r.calls)) calls[k] = (calls[k] ?? 0) + v
const settle = rs.flatMap((r) => (r.settleSeconds === undefined || r.settleSeconds < 0n ? [] : [Number(r.settleSeconds)]))
const wall = rs.map((r) => r.wallMs / 1000)
const notes = rs.reduce((a, r) => a + r.notes.length, 0)
console.log(`\ntotals: ${rs.length} runs, ${sum((r) => r.steps)} steps, ${sum((r) => r.disputes)} disputes raised, ${sum((r) => r.slashes)} slashes, ${sum((r) => r.forks)} forks, ${sum((r) => r.honestActions)} honest court actions`)
console.log(`adversary calls: ${Object.entries(calls).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`)
const skewed: Record<string, number> = {}
for (const r of rs) for (const [k, v] of Object.entries(r.skewedCloses ?? {})) skewed[k] = (skewed[k] ?? 0) + v
console.log(`skewed close requests (each refused unless a violation says otherwise): ${Object.values(skewed).reduce((a, b) => a + b, 0)}${Object.keys(skewed).length ? ` — ${Object.entries(skewed).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}`)
const mutants: Record<string, number> = {}
for (const r of rs) for (const [k, v] of Object.entries(r.mutants ?? {})) mutants[k] = (mutants[k] ?? 0) + v
const mutantCalls = Object.entries(mutants).filter(([k]) => !k.endsWith(' skipped')).reduce((a, [, v]) => a + v, 0)
console.log(`mutant steps (differential mutations): ${mutantCalls} calls${Object.keys(mutants).length ? ` — ${Object.entries(mutants).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}`)
console.log(`settlement after the schedule: mean ${(settle.reduce((a, b) => a + b, 0) / Math.max(1, settle.length)).toFixed(0)} s, max ${Math.max(0, ...settle)} s (chain time)`)
console.log(`time per run: mean ${(wall.reduce((a, b) => a + b, 0) / Math.max(1, wall.length)).toFixed(1)} s, max ${Math.max(0, ...wall).toFixed(1)} s; total ${((Date.now() - started) / 1000).toFixed(0)} s`)
console.log(`notes (own unconfirmed payments enforced): ${notes}; violations: ${report.failures.length}`)
if (values.out) {
  const plain = JSON.stringify({ seed, runs, n, maxSteps, report }, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 1)
  writeFileSync(values.out, plain)
}
process.exit(report.failures.length > 0 ? 1 : 0)
