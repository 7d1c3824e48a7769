/**
 * GroupCommit: peers' signatures that wait are stored by themselves only once the channel is
 * quiet — a whole turn of the event loop without an input — or when too many wait; while inputs
 * keep coming, the next transaction's commit takes them along.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setImmediate as turn } from 'node:timers/promises'
import { GroupCommit, MAX_WAITING } from './GroupCommit.js'

function setup() {
  let waiting = 0
  let saves = 0
  let stopped = false
  const group = new GroupCommit({ waiting: () => waiting, save: () => ((saves++), (waiting = 0)), stopped: () => stopped })
  return { group, set: (n: number) => (waiting = n), saves: () => saves, stop: () => (stopped = true) }
}

describe('GroupCommit', () => {
  test('a quiet channel stores what waits after a whole turn of the loop', async () => {
    const g = setup()
    g.set(1)
    g.group.schedule()
    g.group.schedule() // idempotent
    await turn()
    assert.equal(g.saves(), 0, 'one tick is not a whole quiet turn')
    await turn()
    await turn()
    assert.equal(g.saves(), 1)
  })

  test('while inputs keep coming it waits (their commits take the signatures along)', async () => {
    const g = setup()
    g.set(1)
    g.group.schedule()
    for (let i = 0; i < 10; i++) {
      g.group.input()
      await turn()
    }
    assert.equal(g.saves(), 0)
    g.set(0) // a transaction's commit stored them
    await turn()
    await turn()
    await turn()
    assert.equal(g.saves(), 0, 'nothing left to store')
  })

  test('at MAX_WAITING it stores at the next tick, busy or not; a stopped channel never', async () => {
    const g = setup()
    g.set(MAX_WAITING)
    g.group.schedule()
    g.group.input()
    await turn()
    assert.equal(g.saves(), 1)
    const s = setup()
    s.set(1)
    s.group.schedule()
    s.stop()
    for (let i = 0; i < 4; i++) await turn()
    assert.equal(s.saves(), 0)
  })
})
