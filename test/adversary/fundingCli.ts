/**
 * `npm run adversary:funding -- --runs K --seed S [--trace]`: the adversary before the open
 * (./funding.ts) over K random schedules on one anvil; prints the machine, the parameters, one
 * line per schedule, every violation with its schedule and log, and the totals (how each kind of
 * step ended). Exits 1 on a violation.
 */
import { cpus, totalmem } from 'node:os'
import { parseArgs } from 'node:util'
import fc from 'fast-check'
import { startWorld } from './run.js'
import { describeFunding, fundingScheduleArb, runFunding } from './funding.js'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '50' }, seed: { type: 'string', default: String(Date.now() % 1_000_000) }, trace: { type: 'boolean', default: false } } })
const runs = Number(values.runs)
const seed = Number(values.seed)
if (!(runs > 0) || !Number.isInteger(seed)) {
  console.error('usage: npm run adversary:funding -- --runs K --seed S [--trace]')
  process.exit(2)
}
const started = Date.now()
const world = await startWorld()
const cpu = cpus()
console.log(`machine: ${cpu[0]?.model ?? 'cpu'} × ${cpu.length}, ${Math.round(totalmem() / 2 ** 30)} GB, node ${process.version}, ${(await world.anvil.provider.send('web3_clientVersion', [])) as string} (prague)`)
console.log('parameters: n = 2 or 3, the byzantine participant anywhere, Payments, ETH, deposits 3/6/9 finney, bond 1 finney, open deadline 2 h; ≤ 8 steps (honest fundShare, byzantine fund right/wrong/partial/double/one wei/junk token, front-run of an honest funding, byzantine deposit, early reclaim, 1 min / 1 h passing); then every honest participant funds or deposits, the open if consented, reclaim otherwise')
console.log(`search: seed ${seed}, ${runs} schedules\n`)
const outcomes = new Map<string, number>()
const ends = { opened: 0, reclaimed: 0 }
let steps = 0
let violations = 0
for (const [i, s] of fc.sample(fundingScheduleArb(), { seed, numRuns: runs }).entries()) {
  const t = Date.now()
  const r = await runFunding(world, s, { label: `cli-${seed}-${i}` })
  steps += s.steps.length
  ends[r.opened ? 'opened' : 'reclaimed']++
  for (const line of r.log) {
    const key = line.replace(/\d{6,}/g, 'x').replace(/#\d/g, '#i')
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
  }
  console.log(`run ${String(i).padStart(4)}  n=${s.n} byz=#${s.byz} ${String(s.steps.length).padStart(2)} steps  ${r.opened ? 'opened   ' : 'reclaimed'}  ${((Date.now() - t) / 1000).toFixed(1)} s  ${r.violations.length ? 'VIOLATION' : 'ok'}`)
  if (values.trace) for (const l of r.log) console.log(`        ${l}`)
  if (r.violations.length) {
    violations++
    console.log(`\nVIOLATION (seed ${seed}, schedule ${i})\n${describeFunding(s)}\n${r.log.join('\n')}\n${r.violations.join('\n')}\n`)
  }
}
await world.anvil.stop()
console.log(`\n${runs} schedules, ${steps} steps, ${ends.opened} opened, ${ends.reclaimed} not opened (funding reclaimed); ${violations} with a violation; ${((Date.now() - started) / 1000).toFixed(0)} s`)
console.log('\nwhat happened (line kinds, by count):')
for (const [k, v] of [...outcomes].sort((a, b) => b[1] - a[1])) console.log(`${String(v).padStart(6)}  ${k}`)
process.exit(violations > 0 ? 1 : 0)
