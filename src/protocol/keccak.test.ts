import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { keccak256 as ethersKeccak, toUtf8Bytes } from 'ethers'
import { bytesToHex, hexToBytes, isHex } from './hex.js'
import { keccak256 } from './keccak.js'

const hash = (b: Uint8Array) => bytesToHex(keccak256(b))

test('keccak256: known vectors', () => {
  assert.equal(hash(new Uint8Array(0)), '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
  assert.equal(hash(toUtf8Bytes('abc')), '0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45')
})

test('keccak256 equals ethers’ at every length around the rate boundaries', () => {
  for (let len = 0; len <= 3 * 136 + 5; len++) {
    const b = Uint8Array.from({ length: len }, (_, i) => (i * 151 + len) & 0xff)
    assert.equal(hash(b), ethersKeccak(b), `length ${len}`)
  }
})

test('keccak256 equals ethers’ on random inputs, also on views into larger buffers', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1200 }), fc.nat({ max: 7 }), (b, skip) => {
      assert.equal(hash(b), ethersKeccak(b))
      const view = b.subarray(Math.min(skip, b.length))
      assert.equal(hash(view), ethersKeccak(view))
    }),
    { numRuns: 300 },
  )
})

test('hex helpers round-trip and refuse what is not whole-byte 0x-hex', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (b) => assert.deepEqual(new Uint8Array(hexToBytes(bytesToHex(b))), b)))
  assert.equal(bytesToHex(hexToBytes('0xABcd')), '0xabcd')
  for (const bad of ['0x1', '0xzz', '12', '0x12 ', '', 5]) {
    assert.equal(isHex(bad), false)
    assert.throws(() => hexToBytes(bad as `0x${string}`), TypeError)
  }
  assert.equal(isHex('0x' + '00'.repeat(32), 32), true)
  assert.equal(isHex('0x' + '00'.repeat(31), 32), false)
})
