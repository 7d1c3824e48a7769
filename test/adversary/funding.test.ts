/**
 * The adversary before the open (./funding.ts): fixed-seed random schedules of a byzantine
 * participant's fundings, front-runs, deposits and early reclaims against honest clients, each
 * checked for "every honest participant is whole, the manager solvent"; scripted schedules for
 * the attacks worth naming; and the control — honest fundings that ignore the funding order —
 * which the checker must catch. PARLEY_FUNDING_RUNS / PARLEY_FUNDING_SEED widen or replay it.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { World } from './context.js'
import { startWorld } from './run.js'
import { describeFunding, fundingScheduleArb, runFunding, type FundingSchedule } from './funding.js'

const RUNS = Number(process.env.PARLEY_FUNDING_RUNS ?? 16)
const SEED = Number(process.env.PARLEY_FUNDING_SEED ?? 12)

let world: World
before(async () => (world = await startWorld()))
after(() => world.anvil.stop())

describe('the adversary before the open', () => {
  test(`${RUNS} random schedules (seed ${SEED}): every honest participant is whole, the manager solvent`, { timeout: 600_000 }, async () => {
    const schedules = fc.sample(fundingScheduleArb(), { seed: SEED, numRuns: RUNS })
    const found: string[] = []
    const ends = { opened: 0, reclaimed: 0 }
    for (const [i, s] of schedules.entries()) {
      const r = await runFunding(world, s, { label: `run-${i}` })
      ends[r.opened ? 'opened' : 'reclaimed']++
      if (r.violations.length > 0) found.push(`#${i}\n${describeFunding(s)}\n${r.log.join('\n')}\n${r.violations.join('\n')}`)
    }
    assert.deepEqual(found, [])
    assert.ok(ends.opened > 0 && ends.reclaimed > 0, `both endings reached: ${JSON.stringify(ends)}`)
  })

  const named: [string, FundingSchedule, RegExp][] = [
    ['the byzantine first participant front-runs Alice\'s funding with one wei: hers reverts, she funds the rest later, the channel opens', { n: 3, byz: 0, consents: true, steps: [{ kind: 'byz', amount: 'share', expected: 'held', junk: false }, { kind: 'front', h: 0, amount: 'wei' }] }, /front-runs honest #1 with wei: byz ok, honest FUNDING_MOVED/],
    ['a junk-token funding first: the honest cannot fund, deposit instead, the open sets the junk aside and an honest reclaims it', { n: 2, byz: 1, consents: true, steps: [{ kind: 'byz', amount: 'share', expected: 'held', junk: true }, { kind: 'honest', h: 0 }, { kind: 'byzDeposit', shares: 1 }] }, /honest #0 funds: FUNDING_ASSET_MISMATCH[\s\S]*opened[\s\S]*reclaims the junk set aside: ok/],
    ['the byzantine middle participant never funds nor consents: Alice\'s funding comes back after the deadline, Bob\'s deposit stays his', { n: 3, byz: 1, consents: false, steps: [{ kind: 'honest', h: 0 }, { kind: 'honest', h: 1 }, { kind: 'byzReclaim' }] }, /honest #2 funds: FUNDING_ORDER[\s\S]*byz reclaims: FUNDS_IN_USE[\s\S]*honest reclaims: ok/],
  ]
  for (const [name, s, shows] of named) {
    test(name, { timeout: 60_000 }, async () => {
      const r = await runFunding(world, s, { label: name })
      assert.deepEqual(r.violations, [], r.log.join('\n'))
      assert.match(r.log.join('\n'), shows)
    })
  }

  test('control: honest fundings that ignore the funding order pay a byzantine participant\'s share, and the checker sees it', { timeout: 60_000 }, async () => {
    const s: FundingSchedule = { n: 3, byz: 0, consents: false, steps: [{ kind: 'honest', h: 0 }] }
    const r = await runFunding(world, s, { brokenClient: true, label: 'control' })
    assert.ok(r.violations.some((v) => /honest #1 put in \d+ and holds \d+/.test(v)), `${r.log.join('\n')}\n${r.violations.join('\n')}`)
    const fixed = await runFunding(world, s, { label: 'control-fixed' })
    assert.deepEqual(fixed.violations, [], 'the same schedule with the real client: nothing lost')
  })
})
