import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ParleyError } from '../errors/ParleyError.js'
import { MemoryHub } from './MemoryHub.js'
import type { Message } from './messages.js'

const ping = (nonce: number): Message => ({ type: 'ping', nonce })

function collect(hub: MemoryHub, index: number) {
  const got: [number, number][] = []
  const t = hub.connect(index)
  t.onMessage((from, m) => got.push([from, (m as { nonce: number }).nonce]))
  return { t, got }
}

describe('MemoryHub', () => {
  test('delivers in order per link, to one peer or to all others, asynchronously', async () => {
    const hub = new MemoryHub()
    const a = collect(hub, 0)
    const b = collect(hub, 1)
    const c = collect(hub, 2)
    for (let i = 0; i < 5; i++) await a.t.send(1, ping(i))
    await a.t.broadcast(ping(9))
    assert.equal(b.got.length, 0, 'nothing is delivered synchronously')
    await hub.idle()
    assert.deepEqual(b.got.map(([, n]) => n), [0, 1, 2, 3, 4, 9])
    assert.deepEqual(c.got, [[0, 9]])
    assert.deepEqual(a.got, [])
    assert.deepEqual(hub.stats, { sent: 7, delivered: 7, dropped: 0 })
  })

  test('reordering lets messages overtake each other, losing none', async () => {
    const run = async (seed: number) => {
      const hub = new MemoryHub({ reorderMs: 5, seed })
      const a = collect(hub, 0)
      const b = collect(hub, 1)
      for (let i = 0; i < 20; i++) await a.t.send(1, ping(i))
      await hub.idle()
      return b.got.map(([, n]) => n)
    }
    const first = await run(7)
    assert.notDeepEqual(first, [...first].sort((x, y) => x - y))
    assert.deepEqual([...first].sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i), 'nothing lost')
  })

  test('drops by rate and by filter (partition)', async () => {
    const hub = new MemoryHub({ dropRate: 0.5, seed: 3 })
    const a = collect(hub, 0)
    const b = collect(hub, 1)
    for (let i = 0; i < 100; i++) await a.t.send(1, ping(i))
    await hub.idle()
    assert.ok(b.got.length > 20 && b.got.length < 80, `${b.got.length} of 100 arrived`)
    const hub2 = new MemoryHub()
    const x = collect(hub2, 0)
    const y = collect(hub2, 1)
    hub2.filter = (from) => from !== 0
    await x.t.send(1, ping(1))
    await y.t.send(0, ping(2))
    await hub2.idle()
    assert.deepEqual([x.got, y.got], [[[1, 2]], []])
  })

  test('messages are copies; a closed transport refuses to send and receives nothing', async () => {
    const hub = new MemoryHub()
    const a = hub.connect(0)
    const got: Message[] = []
    const b = hub.connect(1)
    b.onMessage((_, m) => got.push(m))
    const sent = { type: 'sync-request' as const, fork: 0n, fromSeq: 3n }
    await a.send(1, sent)
    await hub.idle()
    assert.deepEqual(got[0], sent)
    assert.notEqual(got[0], sent)
    await b.close()
    await a.send(1, ping(1))
    await hub.idle()
    assert.equal(got.length, 1)
    await a.close()
    await assert.rejects(a.send(1, ping(2)), (e) => e instanceof ParleyError && e.code === 'TRANSPORT_CLOSED')
    await assert.rejects(hub.connect(1).send(1, ping(3)), (e) => e instanceof ParleyError && e.code === 'TRANSPORT_SELF')
    const again = hub.connect(0) // a restarted peer reconnects under its index
    assert.equal(again.me, 0)
  })
})
