/** channelParams: documented defaults, overrides, and every bad input refused with PARAMS_INVALID. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ParleyError } from '../errors/ParleyError.js'
import { CONSENT_VALIDITY } from '../protocol/timing.js'
import { ETH } from '../protocol/types.js'
import { channelParams, defaultTimes, type ChannelParamsInput } from './params.js'

const A = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const B = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'
const M = '0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0'
const base: ChannelParamsInput = { participants: [A, B], machine: M, deposits: [1n, 2n] }

describe('channelParams', () => {
  it('fills in the documented defaults', () => {
    const p = channelParams({ ...base, now: 1_000n })
    assert.deepEqual(
      { p2pTime: p.p2pTime, agreementTime: p.agreementTime, chainFallbackTime: p.chainFallbackTime, challengeTime: p.challengeTime },
      { p2pTime: 60, agreementTime: 30, chainFallbackTime: 120, challengeTime: 300 },
    )
    assert.deepEqual(p.participants, [A.toLowerCase(), B.toLowerCase()])
    assert.equal(p.asset, ETH)
    assert.equal(p.bond, 0n)
    assert.equal(p.initData, '0x')
    assert.match(p.salt, /^0x[0-9a-f]{64}$/)
    assert.equal(p.openDeadline, 1_000n + BigInt(CONSENT_VALIDITY))
    assert.notEqual(channelParams(base).salt, p.salt, 'a random salt each time')
    assert.ok(Object.isFrozen(defaultTimes))
  })

  it('takes overrides, one time parameter at a time', () => {
    const p = channelParams({ ...base, bond: 5n, times: { challengeTime: 3600 }, salt: `0x${'ab'.repeat(32)}`, initData: '0x01', openDeadline: 7n })
    assert.equal(p.challengeTime, 3600)
    assert.equal(p.p2pTime, defaultTimes.p2pTime)
    assert.equal(p.bond, 5n)
    assert.equal(p.openDeadline, 7n)
    assert.equal(p.initData, '0x01')
  })

  const bad: [string, Partial<ChannelParamsInput>][] = [
    ['one participant', { participants: [A], deposits: [1n] }],
    ['a duplicate participant', { participants: [A, A.toLowerCase()] }],
    ['a participant that is not an address', { participants: [A, 'bob'] }],
    ['a deposit missing', { deposits: [1n] }],
    ['a negative deposit', { deposits: [1n, -1n] }],
    ['a number deposit', { deposits: [1n, 2 as unknown as bigint] }],
    ['a negative bond', { bond: -1n }],
    ['a zero time', { times: { p2pTime: 0 } }],
    ['a fractional time', { times: { agreementTime: 1.5 } }],
    ['a short salt', { salt: '0x01' }],
    ['initData not hex', { initData: 'zz' }],
    ['a machine that is not an address', { machine: '0x1234' }],
  ]
  for (const [name, over] of bad) {
    it(`refuses ${name}`, () => {
      assert.throws(() => channelParams({ ...base, ...over }), (e: unknown) => e instanceof ParleyError && e.code === 'PARAMS_INVALID')
    })
  }
  it('refuses no input at all', () => {
    assert.throws(() => channelParams(undefined as never), (e: unknown) => e instanceof ParleyError && e.code === 'PARAMS_INVALID')
  })
})
