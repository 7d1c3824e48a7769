import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { UsageError } from '../errors/ParleyError.js'
import { LogicalClock } from './LogicalClock.js'
import { ManualClock } from './ManualClock.js'

test('LogicalClock: monotonic seconds under random blocks and a jittery local clock', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ tick: fc.integer({ min: -3_000, max: 20_000 }) }),
          fc.record({ block: fc.bigInt({ min: 1_600_000_000n, max: 1_800_000_000n }), late: fc.integer({ min: 0, max: 3_000 }) }),
        ),
        { maxLength: 150 },
      ),
      (ops) => {
        let local = 1_700_000_000_000
        const clock = new LogicalClock({ localTime: () => local })
        let last = clock.now()
        for (const o of ops) {
          if ('tick' in o) local += o.tick
          else clock.observeBlock(o.block, local - o.late)
          const now = clock.now()
          assert.ok(now >= last, `${now} < ${last}`)
          last = now
        }
      },
    ),
    { numRuns: 200 },
  )
})

test('LogicalClock: follows a consistent chain offset and rejects bad input', () => {
  let local = 1_000_000
  const clock = new LogicalClock({ localTime: () => local })
  assert.equal(clock.now(), 1_000n) // no block yet: local time
  for (let i = 0; i < 5; i++) {
    local += 12_000
    clock.observeBlock(BigInt(Math.floor(local / 1000)) + 3_600n) // chain is 1 h ahead
  }
  assert.equal(clock.offsetMs, 3_600_000)
  assert.equal(clock.sampleCount, 5)
  assert.equal(clock.now(), BigInt(Math.floor(local / 1000)) + 3_600n)
  assert.throws(() => clock.observeBlock(-1n), (e: unknown) => e instanceof UsageError && e.code === 'CLOCK_SAMPLE_INVALID')
  assert.throws(() => clock.observeBlock(5 as unknown as bigint), (e: unknown) => e instanceof UsageError && e.code === 'CLOCK_SAMPLE_INVALID')
  assert.throws(() => clock.observeBlock(1n, Number.NaN), (e: unknown) => e instanceof UsageError && e.code === 'CLOCK_SAMPLE_INVALID')
  assert.throws(() => new LogicalClock({ window: 0 }), (e: unknown) => e instanceof UsageError && e.code === 'CLOCK_CONFIG_INVALID')
  assert.throws(() => new LogicalClock({ slewRate: 0 }), (e: unknown) => e instanceof UsageError && e.code === 'CLOCK_CONFIG_INVALID')
  assert.throws(() => new LogicalClock({ skewSeconds: -1n }), (e: unknown) => e instanceof UsageError && e.code === 'CLOCK_CONFIG_INVALID')
})

test('LogicalClock.acceptable applies the skew rule at the current logical time', () => {
  const local = 100_000
  const clock = new LogicalClock({ localTime: () => local, skewSeconds: 5n })
  assert.equal(clock.acceptable(100n, 90n), true)
  assert.equal(clock.acceptable(105n, 90n), true)
  assert.equal(clock.acceptable(106n, 90n), false) // too far ahead
  assert.equal(clock.acceptable(94n, 90n), false) // too far behind
  assert.equal(clock.acceptable(100n, 101n), false) // before the previous transaction
  assert.equal(clock.acceptable(110n, 90n, 10n), true) // per-call skew
})

test('ManualClock behaves like a model of set/advance and never goes back', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: 1n << 40n }),
      fc.array(fc.oneof(fc.record({ set: fc.bigInt({ min: 0n, max: 1n << 41n }) }), fc.record({ advance: fc.bigInt({ min: -5n, max: 1000n }) })), { maxLength: 50 }),
      (start, ops) => {
        const clock = new ManualClock(start)
        let model = start
        for (const o of ops) {
          if ('set' in o) {
            if (o.set < model) assert.throws(() => clock.set(o.set), (e: unknown) => e instanceof UsageError && e.code === 'CLOCK_BACKWARDS')
            else {
              clock.set(o.set)
              model = o.set
            }
          } else if (o.advance < 0n) {
            assert.throws(() => clock.advance(o.advance), (e: unknown) => e instanceof UsageError && e.code === 'CLOCK_BACKWARDS')
          } else {
            clock.advance(o.advance)
            model += o.advance
          }
          assert.equal(clock.now(), model)
        }
      },
    ),
    { numRuns: 200 },
  )
})

test('ManualClock follows blocks forward only when asked to', () => {
  const still = new ManualClock(100n)
  still.observeBlock(500n)
  assert.equal(still.now(), 100n)
  assert.equal(still.lastBlock, 500n)
  const following = new ManualClock(100n, { followBlocks: true })
  following.observeBlock(500n)
  following.observeBlock(300n)
  assert.equal(following.now(), 500n)
  assert.equal(following.lastBlock, 300n)
})
