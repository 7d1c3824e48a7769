/** Which failed court actions are given up and which are decided again (perform.ts `refusedForGood`). */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ProtocolError, RuntimeError, UsageError } from '../errors/ParleyError.js'
import { refusedForGood } from './perform.js'

test('a record changed first is decided again; a refusal of the action itself, or our own bad input, is given up; node failures are retried', () => {
  assert.equal(refusedForGood(new ProtocolError('CHANNEL_RECORD_MISMATCH', 'the channel record changed first')), false)
  assert.equal(refusedForGood(new ProtocolError('DISPUTE_RECORD_MISMATCH', 'another prover joined first')), false)
  assert.equal(refusedForGood(new ProtocolError('CANDIDATE_NOT_LATER', 'the chain holds a later state')), true)
  assert.equal(refusedForGood(new ProtocolError('CONTRACT_REVERTED', 'reverted')), true)
  assert.equal(refusedForGood(new UsageError('CHANNEL_NOT_OPEN', 'not open')), true)
  assert.equal(refusedForGood(new RuntimeError('RPC_FAILED', 'the node is down')), false)
  assert.equal(refusedForGood(new Error('socket hang up')), false)
})
