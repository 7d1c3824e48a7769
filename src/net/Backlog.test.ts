import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Backlog } from './Backlog.js'

const b = (n: number, size = 1) => new Uint8Array(size).fill(n)

describe('net Backlog', () => {
  it('replays kept messages in order on every link; one-shot ones only until written once', () => {
    const log = new Backlog({ messages: 10, bytes: 100 })
    log.push(b(1), { replay: true, sent: true })
    log.push(b(2), { replay: false, sent: true }) // written already: not kept
    log.push(b(3), { replay: false, sent: false }) // queued while offline
    log.push(b(4), { replay: true, sent: false })
    const first: number[] = []
    assert.equal(log.replay((x) => (first.push(x[0]!), true)), 3)
    assert.deepEqual(first, [1, 3, 4])
    const second: number[] = []
    log.replay((x) => (second.push(x[0]!), true))
    assert.deepEqual(second, [1, 4], 'the one-shot message went out once')
    // a failed write keeps a one-shot message for the next link
    log.push(b(5), { replay: false, sent: false })
    log.replay(() => false)
    const third: number[] = []
    log.replay((x) => (third.push(x[0]!), true))
    assert.deepEqual(third, [1, 4, 5])
  })

  it('drops oldest beyond the count and byte bounds, and counts them', () => {
    const log = new Backlog({ messages: 3, bytes: 10 })
    for (let i = 0; i < 5; i++) log.push(b(i), { replay: true, sent: true })
    assert.equal(log.length, 3)
    assert.equal(log.dropped, 2)
    assert.equal(log.push(b(9, 9), { replay: true, sent: true }), 2, 'bytes bound')
    const kept: number[] = []
    log.replay((x) => (kept.push(x[0]!), true))
    assert.deepEqual(kept, [4, 9])
  })
})
