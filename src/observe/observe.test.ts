import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Emitter } from './Emitter.js'
import { iterate } from './iterate.js'

type Events = { state: number; closed: undefined; error: { error: unknown; listenerOf?: string } }

describe('Emitter', () => {
  test('on() returns an unsubscribe; next() awaits one matching event', async () => {
    const e = new Emitter<Events>()
    const seen: number[] = []
    const off = e.on('state', (s) => seen.push(s))
    e.emit('state', 1)
    off()
    e.emit('state', 2)
    assert.deepEqual(seen, [1])
    assert.equal(e.listenerCount('state'), 0)
    const p = e.next('state', { filter: (s) => s > 5 })
    e.emit('state', 3)
    e.emit('state', 7)
    assert.equal(await p, 7)
    assert.equal(e.listenerCount('state'), 0, 'next() unsubscribes')
  })

  test('next() rejects on abort and leaves no listener behind', async () => {
    const e = new Emitter<Events>()
    const ac = new AbortController()
    const p = e.next('state', { signal: ac.signal })
    ac.abort(new Error('stop'))
    await assert.rejects(p, /stop/)
    assert.equal(e.listenerCount('state'), 0)
  })

  test('a throwing listener does not stop the others; its error goes to error listeners', () => {
    const e = new Emitter<Events>()
    const errors: unknown[] = []
    const seen: number[] = []
    e.on('error', (x) => errors.push(x.error))
    e.on('state', () => {
      throw new Error('boom')
    })
    e.on('state', (s) => seen.push(s))
    e.emit('state', 1)
    assert.deepEqual(seen, [1])
    assert.equal((errors[0] as Error).message, 'boom')
  })
})

describe('iterate', () => {
  test('buffers events, drains them and ends on an end event', async () => {
    const e = new Emitter<Events>()
    const it = iterate(e, 'state', { endOn: ['closed'] })
    e.emit('state', 1)
    e.emit('state', 2)
    setImmediate(() => {
      e.emit('state', 3)
      e.emit('closed', undefined)
      e.emit('state', 4)
    })
    const got: number[] = []
    for await (const s of it) got.push(s)
    assert.deepEqual(got, [1, 2, 3])
    assert.equal(e.listenerCount('state'), 0)
    assert.equal(e.listenerCount('closed'), 0)
  })

  test('breaking out of the loop unsubscribes', async () => {
    const e = new Emitter<Events>()
    const it = iterate(e, 'state', { endOn: ['closed'] })
    setImmediate(() => [1, 2, 3].forEach((s) => e.emit('state', s)))
    for await (const s of it) if (s === 2) break
    assert.equal(e.listenerCount('state'), 0)
    assert.equal(e.listenerCount('closed'), 0)
  })

  test('an iterator over an ended source is empty', async () => {
    const e = new Emitter<Events>()
    const got: number[] = []
    for await (const s of iterate(e, 'state', { ended: () => true })) got.push(s)
    assert.deepEqual(got, [])
    assert.equal(e.listenerCount('state'), 0)
  })
})
