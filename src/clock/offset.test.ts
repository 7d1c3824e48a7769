import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { DEFAULT_OFFSET_CONFIG, appliedOffset, initialOffsetState, lowerMedian, observeSample, readLogical, type OffsetConfig } from './offset.js'

const START = 1_700_000_000_000 // local ms at the start of every run

/** One step of a run: local time moves (possibly backwards), a block arrives, or we read. */
type Op =
  | { kind: 'tick'; dt: number }
  | { kind: 'block'; chainS: number; seenBackMs: number }
  | { kind: 'read' }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('tick' as const), dt: fc.integer({ min: -10_000, max: 30_000 }) }),
  fc.record({
    kind: fc.constant('block' as const),
    chainS: fc.integer({ min: 1_600_000_000, max: 1_800_000_000 }),
    seenBackMs: fc.integer({ min: 0, max: 5_000 }),
  }),
  fc.record({ kind: fc.constant('read' as const) }),
)

const config: fc.Arbitrary<OffsetConfig> = fc.record({
  window: fc.integer({ min: 1, max: 9 }),
  slewRate: fc.double({ min: 0.01, max: 1, noNaN: true }),
})

test('logical time never decreases under random block timestamps and local-time jitter', () => {
  fc.assert(
    fc.property(config, fc.array(op, { maxLength: 200 }), (cfg, ops) => {
      let local = START
      let s = initialOffsetState(local)
      let last = -Infinity
      for (const o of ops) {
        if (o.kind === 'tick') local += o.dt
        else if (o.kind === 'block') s = observeSample(s, o.chainS, local - o.seenBackMs, local, cfg)
        // Read after every step, not only on 'read': monotonic means at every instant.
        const r = readLogical(s, local, cfg)
        s = r.state
        assert.ok(r.logicalMs >= last, `went back from ${last} to ${r.logicalMs}`)
        last = r.logicalMs
      }
    }),
    { numRuns: 300 },
  )
})

test('catches up gradually: while local time runs forward, logical time runs at ≥ 1 − slewRate', () => {
  fc.assert(
    fc.property(config, fc.array(op, { maxLength: 200 }), (cfg, ops) => {
      let local = START
      let s = initialOffsetState(local)
      let last = readLogical(s, local, cfg)
      s = last.state
      for (const o of ops) {
        const before = local
        if (o.kind === 'tick') local += Math.abs(o.dt) // this property assumes a local clock that never steps back
        else if (o.kind === 'block') s = observeSample(s, o.chainS, local - o.seenBackMs, local, cfg)
        const r = readLogical(s, local, cfg)
        s = r.state
        const minimum = (local - before) * (1 - cfg.slewRate)
        // 0.01 ms of slack: doubles near 1.7e12 ms carry ~1e-4 ms of rounding.
        assert.ok(r.logicalMs - last.logicalMs >= minimum - 0.01, `advanced ${r.logicalMs - last.logicalMs} < ${minimum}`)
        last = r
      }
    }),
    { numRuns: 300 },
  )
})

test('converges to the chain offset when samples are consistent', () => {
  fc.assert(
    fc.property(
      config,
      fc.integer({ min: -3_600_000, max: 3_600_000 }), // true offset chain − local, ms
      fc.array(fc.record({ gap: fc.integer({ min: 1_000, max: 15_000 }), delay: fc.integer({ min: 0, max: 2_000 }) }), { minLength: 9, maxLength: 30 }),
      (cfg, offset, blocks) => {
        let local = START
        let s = initialOffsetState(local)
        for (const b of blocks) {
          local += b.gap
          const seenAt = local
          const blockS = Math.floor((seenAt - b.delay + offset) / 1000) // made `delay` ms before we saw it
          s = observeSample(s, blockS, seenAt, local, cfg)
          s = readLogical(s, local, cfg).state
        }
        // Every sample lies in [offset − 1000 − 2000, offset]: truncation plus delay.
        assert.ok(s.target <= offset && s.target >= offset - 3_000, `target ${s.target} vs ${offset}`)
        // Give the slew time to finish, then logical time tracks local + offset in that band.
        local += Math.ceil(Math.abs(offset) / cfg.slewRate) + 10_000
        const { logicalMs } = readLogical(s, local, cfg)
        assert.ok(logicalMs <= local + offset && logicalMs >= local + offset - 3_000, `${logicalMs - local} vs ${offset}`)
      },
    ),
    { numRuns: 300 },
  )
})

test('a single outlier moves the estimate no further than the consistent samples spread', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }).map((k) => 2 * k + 1), // odd windows 3..11
      fc.integer({ min: -1_000_000, max: 1_000_000 }),
      fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 11, maxLength: 11 }),
      fc.integer({ min: 0, max: 10 }),
      fc.integer({ min: -1e9, max: 1e9 }),
      (window, offset, delays, where, outlierMs) => {
        const cfg = { ...DEFAULT_OFFSET_CONFIG, window }
        let local = START
        let s = initialOffsetState(local)
        const consistent: number[] = []
        for (let i = 0; i < window; i++) {
          local += 12_000
          const isOutlier = i === where % window
          const seenAt = local
          const blockS = isOutlier
            ? Math.max(0, Math.floor((seenAt + offset + outlierMs) / 1000))
            : Math.floor((seenAt + offset - delays[i]!) / 1000)
          if (!isOutlier) consistent.push(blockS * 1000 - seenAt)
          s = observeSample(s, blockS, seenAt, local, cfg)
        }
        assert.ok(s.target >= Math.min(...consistent) && s.target <= Math.max(...consistent))
      },
    ),
    { numRuns: 300 },
  )
})

test('a higher estimate applies at once; a lower one is approached at the slew rate', () => {
  const cfg = { window: 1, slewRate: 0.5 }
  let s = initialOffsetState(START)
  s = observeSample(s, (START + 10_000) / 1000, START, START, cfg)
  assert.equal(appliedOffset(s, START, cfg), 10_000)
  assert.equal(readLogical(s, START, cfg).logicalMs, START + 10_000)
  s = observeSample(s, (START + 1_000) / 1000, START + 1_000, START + 1_000, cfg) // offset now 0
  assert.equal(s.target, 0)
  assert.equal(appliedOffset(s, START + 1_000, cfg), 10_000)
  assert.equal(appliedOffset(s, START + 5_000, cfg), 8_000) // 4 s at half speed
  assert.equal(appliedOffset(s, START + 21_000, cfg), 0)
  assert.equal(appliedOffset(s, START + 100_000, cfg), 0)
  // A local clock stepping back counts as no time elapsed.
  assert.equal(appliedOffset(s, START, cfg), 10_000)
})

test('lowerMedian picks the lower middle', () => {
  assert.equal(lowerMedian([5]), 5)
  assert.equal(lowerMedian([9, 1]), 1)
  assert.equal(lowerMedian([3, 1, 2]), 2)
  assert.equal(lowerMedian([4, 1, 3, 2]), 2)
})
