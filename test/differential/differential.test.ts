/**
 * The differential test (issue 16, "one set of rules, two implementations, proven equal"): on
 * one anvil, fast-check cases over every entry point a signed transaction enters the manager
 * through — valid calls, calls one field-by-field mutation away, and anything — check that
 * (a) the contract's verdict equals the admission reference's (src/protocol/admission),
 * (b) what an accepted call publishes, the honest client accepts, already holds, or rejects with
 *     evidence whose proof the contract accepts,
 * (c) what the client accepts from a peer, the contract accepts as a post at the client's clock.
 * Fixed seed; the by-design and open disagreement classes (./known.ts) are tolerated here and
 * pinned in regressions.test.ts. Longer runs: `npm run differential`.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { ENTRY_POINTS } from '../../src/protocol/admission/index.js'
import { knownClass } from './known.js'
import { formatReport, runDifferential, type RunReport } from './run.js'
import { createWorld, type World } from './world.js'

const SEED = 16
const RUNS = 440
const PEER_RUNS = 80

let world: World
let report: RunReport

before(async () => {
  world = await createWorld()
  report = await runDifferential(world, { runs: RUNS, seed: SEED, peerRuns: PEER_RUNS })
})
after(() => world?.stop())

test(`differential run (seed ${SEED}, ${RUNS} + ${PEER_RUNS} peer cases): the report`, (t) => {
  t.diagnostic(formatReport(world, report))
  assert.equal(report.cases, RUNS + PEER_RUNS)
})

test('every entry point is exercised, accepted and refused', () => {
  for (const point of ENTRY_POINTS) {
    const v = report.verdicts[point] ?? {}
    const total = Object.values(v).reduce((a, b) => a + b, 0)
    assert.ok((v.ok ?? 0) > 0, `${point}: no accepted case`)
    assert.ok(total - (v.ok ?? 0) > 0, `${point}: no refused case`)
  }
  assert.ok((report.verdicts['peer→postTransaction']?.ok ?? 0) > 0, 'no peer transaction the contract accepts')
})

test('(a) the contract reaches the admission reference’s verdict on every case', () => {
  const diffs = [...report.disagreements].filter(([key]) => key.startsWith('a '))
  assert.deepEqual(diffs.map(([key, d]) => `${key} ×${d.count}: ${JSON.stringify(d.recipe)}`), [])
})

test('(b) what the contract accepts, the client accepts, holds, or proves (by-design post classes aside)', () => {
  const diffs = [...report.disagreements].filter(([key]) => key.startsWith('b ') && !knownClass(key))
  assert.deepEqual(diffs.map(([key, d]) => `${key} ×${d.count}: ${d.example.other}; ${JSON.stringify(d.recipe)}`), [])
})

test('(c) what the client accepts from a peer, the contract accepts as a post at the client’s clock', () => {
  const diffs = [...report.disagreements].filter(([key]) => key.startsWith('c '))
  assert.deepEqual(diffs.map(([key, d]) => `${key} ×${d.count}: ${JSON.stringify(d.recipe)}`), [])
})
