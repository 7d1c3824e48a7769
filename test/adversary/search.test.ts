/**
 * The adversary search in the test suite: a small fixed-seed set of schedules for n = 2 and 3
 * (the long runs are `npm run adversary`, docs/adversary.md), scripted schedules showing the
 * byzantine client's reach (a forged candidate through an EIP-7702 account; colluders restarting
 * a force-close with a fraud proof from an old checkpoint; a differential mutation as a timeout
 * candidate), and a control: with the honest
 * courts detached, the checker must see the theft.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { World } from './context.js'
import { runSchedule, startWorld } from './run.js'
import { describeSchedule, describeStep, type Schedule } from './schedule.js'
import { search } from './search.js'

let world: World
before(async () => (world = await startWorld()))
after(() => world.anvil.stop())

const plays = (k: number): Schedule['steps'] => Array.from({ length: k }, (_, i) => ({ kind: 'play' as const, share: 1 + (i % 3), to: i }))

describe('adversary search (fixed seeds)', () => {
  for (const [n, seed, runs] of [[2, 1, 10], [3, 2, 12]] as const) {
    test(`n = ${n}, seed ${seed}: ${runs} schedules, every invariant holds for every honest participant`, { timeout: 120_000 }, async () => {
      const report = await search(world, { runs, seed, n, maxSteps: 16, shrinkRuns: 10 })
      assert.equal(report.runs.length, runs)
      const found = report.failures.map((f) => `seed ${f.seed} path ${f.path}\n${f.result.violations.join('\n')}\n${describeSchedule(f.schedule)}`)
      assert.deepEqual(found, [])
    })
  }
})

test('a mutant step prints as one readable line, its parameters drawn by the differential\'s arbitraries', () => {
  const line = describeStep({ kind: 'mutant', t: 'front', b: 1, use: 'extend', via: '7702', base: 'latest', entry: 2, race: false, mutation: { kind: 'field', field: 'timestamp', variant: 5, keepSignatures: true, recompute: false } })
  assert.equal(line, 'mutant t=front b=1 use=extend via=7702 base=latest entry=2 race=false mutation=[timestamp=latestPlus1 kept signatures]')
  assert.equal(describeStep({ kind: 'mutant', t: 'calm', b: 0, use: 'post', via: 'direct', base: 'next', entry: 0, race: true, mutation: { kind: 'sig', edit: 'malleable', who: 3 } }),
    'mutant t=calm b=0 use=post via=direct base=next entry=0 race=true mutation=[signatures: malleable who=3]')
})

describe("the byzantine client's reach", () => {
  test('a timeout on a forged entry below the honest head, raised through an EIP-7702 account, is proven: the adversary is slashed, the honest are whole', { timeout: 60_000 }, async () => {
    const r = await runSchedule(world, {
      n: 3, byzantine: [2], steps: [
        ...plays(3), { kind: 'travel', seconds: 151 }, ...plays(2), { kind: 'travel', seconds: 61 }, { kind: 'timeout', t: 'calm', b: 0, cand: 'conflict', race: false, via: '7702' },
      ],
    })
    assert.deepEqual(r.violations, [])
    assert.ok(r.log.some((l) => /timeout on conflict candidate .* via 7702: ok/.test(l)), r.log.join('\n'))
    assert.equal(r.slashes, 1)
  })

  test('colluders turn an honest force-close into a fraud dispute from the genesis: the honest answer, the channel settles within the bound', { timeout: 60_000 }, async () => {
    const r = await runSchedule(world, {
      n: 3, byzantine: [1, 2], steps: [
        ...plays(6), { kind: 'forceClose', h: 0 }, { kind: 'lastSecond', of: 'deadline' },
        { kind: 'fraud', t: 'calm', b: 0, target: 1, equivocation: false, from: 'genesis', via: 'direct' },
      ],
    })
    assert.deepEqual(r.violations, [])
    assert.ok(r.log.some((l) => /proves M2's invalid .* checkpoint genesis seq 0: ok/.test(l)), r.log.join('\n'))
    assert.equal(r.slashes, 1)
  })

  test('two extensions back to back, the second on the first one\'s made-up state (found by test/court/attacks-found): proven, the adversary slashed, nothing stolen', { timeout: 60_000 }, async () => {
    const r = await runSchedule(world, {
      n: 3, byzantine: [2], steps: [
        ...plays(2), { kind: 'exit', t: 'calm', b: 0, leave: false, from: 'latest', via: 'direct' },
        { kind: 'extend', t: 'hold', b: 0, cand: 'forged', via: 'direct' }, { kind: 'extend', t: 'calm', b: 0, cand: 'onForged', via: '7702' },
      ],
    })
    assert.deepEqual(r.violations, [])
    assert.ok(r.log.some((l) => /extends with onForged list to seq 4 via 7702: ok/.test(l)), r.log.join('\n'))
    assert.equal(r.slashes, 1)
  })

  test('a timeout whose last entry is a differential mutation of the adversary\'s own honest move (stateHash set to an invented theft, re-signed) is proven: the adversary is slashed, the honest are whole', { timeout: 60_000 }, async () => {
    const r = await runSchedule(world, {
      n: 3, byzantine: [2], steps: [
        ...plays(3), { kind: 'travel', seconds: 151 }, ...plays(2), { kind: 'travel', seconds: 61 },
        { kind: 'mutant', t: 'calm', b: 0, use: 'timeout', base: 'own', mutation: { kind: 'field', field: 'stateHash', variant: 4, keepSignatures: false, recompute: false }, entry: 0, race: false, via: 'direct' },
      ],
    })
    assert.deepEqual(r.violations, [])
    const line = r.log.find((l) => /M2 timeout on its move at seq 3 mutated \(stateHash#4 re-signed: stateHash 0x\S+→0x\S+\) as the last of \d entries: /.test(l))
    assert.ok(line, r.log.join('\n'))
    assert.ok(line.endsWith(': ok'), line)
    assert.deepEqual(r.mutants, { 'timeout ok': 1 })
    assert.equal(r.slashes, 1)
  })

  test('close requests on terms an honest peer must refuse — an older final state, the genesis, a share taken, payouts above the deposits: none is signed, nothing reaches the chain', { timeout: 60_000 }, async () => {
    const r = await runSchedule(world, {
      n: 3, byzantine: [2], steps: [
        ...plays(5),
        ...(['older', 'genesis', 'take', 'overLocked'] as const).map((skew) => ({ kind: 'skewedClose' as const, b: 0, skew })),
        ...plays(2),
      ],
    })
    assert.deepEqual(r.violations, [])
    const asked = r.log.filter((l) => /M2 asks to close \((older|genesis|take|overLocked), seq \d+\): 0 honest consent\(s\), none on-chain/.test(l))
    assert.equal(asked.length, 4, r.log.join('\n'))
    assert.deepEqual(r.skewedCloses, { older: 1, genesis: 1, take: 1, overLocked: 1 })
  })

  test('control: with the honest courts detached, the checker reports the theft', { timeout: 60_000 }, async () => {
    const r = await runSchedule(world, {
      n: 2, byzantine: [1], steps: [...plays(2), { kind: 'travel', seconds: 211 }, { kind: 'timeout', t: 'calm', b: 0, cand: 'forged', race: false, via: 'direct' }, { kind: 'travel', seconds: 601 }, { kind: 'resolve', t: 'calm', b: 0, via: 'direct' }],
    }, { detachCourts: true })
    assert.ok(r.violations.some((v) => /P0 credited .* < entitlement/.test(v)), r.violations.join('\n') + '\n' + r.log.join('\n'))
  })
})
