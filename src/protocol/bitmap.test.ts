import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { bitCount, bitIndices, bitmapOf, fullBitmap, hasBit } from './bitmap.js'

test('bitCount, bitIndices and bitmapOf agree on random 64-bit bitmaps', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (m) => {
      const indices = bitIndices(m)
      assert.equal(bitCount(m), [...m.toString(2)].filter((c) => c === '1').length)
      assert.equal(bitCount(m), indices.length)
      assert.equal(bitmapOf(indices), m)
      for (const i of indices) assert.equal(hasBit(m, i), true)
    }),
  )
  assert.equal(bitCount(0n), 0)
  assert.equal(bitCount(fullBitmap(64)), 64)
})
