import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { TokenBucket } from './TokenBucket.js'

describe('net TokenBucket', () => {
  it('allows a burst, refills at the rate, never above the burst', () => {
    let t = 0
    const b = new TokenBucket({ rate: 10, burst: 3, now: () => t })
    assert.deepEqual([b.take(), b.take(), b.take(), b.take()], [true, true, true, false])
    t = 100 // +1 token
    assert.deepEqual([b.take(), b.take()], [true, false])
    t = 100_000
    assert.equal(b.take(3), true)
    assert.equal(b.take(1), false)
    assert.equal(b.take(4), false, 'a cost above the burst never passes')
  })

  it('is unlimited at rate Infinity', () => {
    const b = new TokenBucket({ rate: Infinity })
    for (let i = 0; i < 1000; i++) assert.equal(b.take(1e9), true)
  })
})
