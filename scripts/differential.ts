/**
 * Long differential runs (docs/differential.md): the contract's verdict against the admission
 * reference, and the client's verdict on what the contract accepts, on one anvil.
 *
 * Usage: npm run differential -- [--runs K] [--seed S] [--peer P] [--json file] [--recipe JSON]
 *   --runs    cases over every entry point (default 2000)
 *   --seed    fast-check seed (default 1): the same seed runs the same cases
 *   --peer    peer cases (the client's acceptance against a post at its clock; default runs / 10)
 *   --json    also write the report as JSON
 *   --recipe  judge one case recipe (as printed in a report) and print its verdicts
 * Prints the channels, the verdict counts per entry point, the client's outcomes and every
 * disagreement class with an example and its recipe; exits 1 if there is any disagreement other
 * than the by-design post classes (test/differential/known.ts).
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { judge, judgePeer } from '../test/differential/judge.js'
import type { CaseRecipe, PeerRecipe } from '../test/differential/recipes.js'
import { formatReport, runDifferential } from '../test/differential/run.js'
import { BY_DESIGN } from '../test/differential/known.js'
import { createWorld } from '../test/differential/world.js'

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '2000' }, seed: { type: 'string', default: '1' }, peer: { type: 'string' }, json: { type: 'string' }, recipe: { type: 'string' } },
})
if (values.recipe !== undefined) {
  const world = await createWorld()
  try {
    const recipe = JSON.parse(values.recipe) as CaseRecipe | PeerRecipe
    console.log('clock' in recipe ? await judgePeer(world, recipe) : await judge(world, recipe))
  } finally {
    await world.stop()
  }
  process.exit(0)
}
const runs = Number(values.runs)
const seed = Number(values.seed)
const peerRuns = values.peer === undefined ? Math.ceil(runs / 10) : Number(values.peer)
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed) || !Number.isInteger(peerRuns) || peerRuns < 0) {
  console.error('usage: npm run differential -- [--runs K] [--seed S] [--peer P] [--json file]')
  process.exit(2)
}

const t0 = performance.now()
const world = await createWorld()
console.log(`world ready in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${runs} cases + ${peerRuns} peer cases, seed ${seed}`)
let last = performance.now()
let current: unknown
let done = performance.now()
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void world.stop().finally(() => process.exit(130)))
// A case that takes a minute is a hang: name it and stop.
const watchdog = setInterval(() => {
  if (performance.now() - done < 60_000) return
  console.error(`a case has run for a minute: ${JSON.stringify(current)}`)
  void world.stop().finally(() => process.exit(3))
}, 5_000)
try {
  const report = await runDifferential(world, {
    runs, seed, peerRuns,
    onStart: (r) => {
      current = r
      done = performance.now()
      // Synchronously, so a case that never yields can still be named (tmp/ is not tracked).
      writeFileSync('tmp/differential-current.json', JSON.stringify(r))
    },
    onCase: (_, i) => {
      done = performance.now()
      if (performance.now() - last > 30_000) {
        last = performance.now()
        console.log(`  … ${i} cases`)
      }
    },
  })
  console.log(formatReport(world, report))
  if (values.json) {
    const disagreements = Object.fromEntries([...report.disagreements].map(([k, v]) => [k, v]))
    writeFileSync(values.json, JSON.stringify({ ...report, disagreements }, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2))
  }
  process.exitCode = [...report.disagreements.keys()].every((key) => BY_DESIGN.some((k) => k.match.test(key))) ? 0 : 1
} finally {
  clearInterval(watchdog)
  await world.stop()
}
