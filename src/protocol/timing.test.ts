import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  acceptableTimestamp,
  broadcastDeadline,
  confirmationDeadline,
  deadlines,
  defaultSkew,
  postingDeadline,
  timestampProblem,
} from './timing.js'

const params = { p2pTime: 60, agreementTime: 30, chainFallbackTime: 120 }

test('deadlines follow T + p2p, + agreement, + fallback', () => {
  assert.deepEqual(deadlines(1_000n, params), { broadcast: 1_060n, confirmation: 1_090n, posting: 1_210n })
  assert.equal(broadcastDeadline(1_000n, params), 1_060n)
  assert.equal(confirmationDeadline(1_000n, params), 1_090n)
  assert.equal(postingDeadline(1_000n, params), 1_210n)
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.record({ p2pTime: fc.integer({ min: 1, max: 2_592_000 }), agreementTime: fc.integer({ min: 1, max: 2_592_000 }), chainFallbackTime: fc.integer({ min: 1, max: 2_592_000 }) }),
      (t, p) => {
        const d = deadlines(t, p)
        assert.ok(t < d.broadcast && d.broadcast < d.confirmation && d.confirmation < d.posting)
        assert.equal(d.posting - t, BigInt(p.p2pTime + p.agreementTime + p.chainFallbackTime))
      },
    ),
  )
})

test('defaultSkew is half the agreement time, at least 1 s', () => {
  assert.equal(defaultSkew(30), 15n)
  assert.equal(defaultSkew(31), 15n)
  assert.equal(defaultSkew(2), 1n)
  assert.equal(defaultSkew(1), 1n)
})

test('timestampProblem names the broken rule; acceptable iff none', () => {
  assert.equal(timestampProblem(100n, 100n, 100n, 0n), undefined)
  assert.equal(timestampProblem(99n, 100n, 99n, 10n), 'BEFORE_PREVIOUS')
  assert.equal(timestampProblem(111n, 100n, 100n, 10n), 'OUTSIDE_SKEW')
  assert.equal(timestampProblem(110n, 100n, 100n, 10n), undefined)
  assert.equal(timestampProblem(100n, 100n, 111n, 10n), 'OUTSIDE_SKEW')
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: 1n << 40n }), fc.bigInt({ min: 0n, max: 1n << 40n }), fc.bigInt({ min: 0n, max: 1n << 40n }), fc.bigInt({ min: 0n, max: 100n }), (tx, prev, now, skew) => {
      const expected = tx >= prev && tx - now <= skew && now - tx <= skew
      assert.equal(acceptableTimestamp(tx, prev, now, skew), expected)
    }),
  )
})
