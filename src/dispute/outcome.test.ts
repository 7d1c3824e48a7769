/** Which failed court actions are races lost to another honest court and which are failures (outcome.ts `classifyFailure`). */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ProtocolError, RuntimeError, UsageError } from '../errors/ParleyError.js'
import { hashState } from '../protocol/eip712.js'
import { DisputeKind, type DisputeRecord, type Hex } from '../protocol/types.js'
import { classifyFailure, type FailedAction } from './outcome.js'
import { refusedForGood } from './perform.js'
import type { Action } from './types.js'

const STATE = '0x1234' as Hex
const OTHER = '0x5678' as Hex
const record = (o: Partial<DisputeRecord> = {}): DisputeRecord => ({
  kind: DisputeKind.Timeout, disputer: 0, seq: 4n, timestamp: 100n, deadline: 200n, removals: 1n << 1n, stateHash: hashState(STATE), ...o,
})
const base = { key: 'k', why: 'why' }
const timeout: Action = { ...base, kind: 'timeout', txs: [], state: STATE, accused: 1 }
const concludeDispute: Action = { ...base, kind: 'concludeDispute', txs: [], state: STATE }
const resolve: Action = { ...base, kind: 'resolve', record: record(), state: STATE }
const answer: Action = { ...base, kind: 'answer', record: record(), proof: [], state: STATE }
const refute: Action = { ...base, kind: 'refute', record: record(), transaction: {} as never, signature: '0x', checkpoint: [], state: STATE }
const extend: Action = { ...base, kind: 'extend', record: record({ kind: DisputeKind.Exit }), txs: [], state: STATE }
const exit: Action = { ...base, kind: 'exit', leave: true, proof: [], state: STATE }
const prove: Action = { ...base, kind: 'proveInvalidTransition', evidence: 'e', fraud: {} as never, previousState: STATE, checkpoint: [], state: STATE, culprit: 2 }
const respond: Action = { ...base, kind: 'respond', record: record(), transaction: {} as never, signature: '0x' }

/** The event the handler emits for `action` failing with `error` (`retried` as the handler decides it). */
function failed(action: Action, error: unknown, open?: DisputeRecord): FailedAction {
  return { action, error, retried: !refusedForGood(error), ...(open ? { open } : {}) }
}
const revert = (code: ConstructorParameters<typeof ProtocolError>[0]) => new ProtocolError(code, `${code} reverted`)

describe('classifyFailure', () => {
  it('a record changed first (retried): record-changed, for any action', () => {
    for (const a of [answer, prove, timeout, resolve, respond]) {
      assert.equal(classifyFailure(failed(a, revert('DISPUTE_RECORD_MISMATCH'))), 'record-changed', a.kind)
      assert.equal(classifyFailure(failed(a, revert('CHANNEL_RECORD_MISMATCH'))), 'record-changed', a.kind)
    }
  })

  it('a resolve refused with DisputeNotOpen: done by another court (after the deadline only a resolution ends a dispute)', () => {
    assert.equal(classifyFailure(failed(resolve, revert('DISPUTE_NOT_OPEN'))), 'done-by-another')
  })

  it('an answer refused with CandidateNotLater: done by another court (the chain holds a state as late)', () => {
    assert.equal(classifyFailure(failed(answer, revert('CANDIDATE_NOT_LATER'))), 'done-by-another')
  })

  it('a timeout or conclude refused with DisputeAlreadyOpen: done by another only when the open dispute is the same raise', () => {
    const already = revert('DISPUTE_ALREADY_OPEN')
    assert.equal(classifyFailure(failed(timeout, already, record())), 'done-by-another', 'the same timeout, same candidate, same accused')
    assert.equal(classifyFailure(failed(concludeDispute, already, record({ kind: DisputeKind.Conclude, removals: 0n }))), 'done-by-another', 'the same conclude')
    assert.equal(classifyFailure(failed(timeout, already)), 'error', 'the open dispute unknown (its read failed)')
    assert.equal(classifyFailure(failed(timeout, already, record({ kind: DisputeKind.Exit }))), 'error', 'an exit is open, not our timeout')
    assert.equal(classifyFailure(failed(timeout, already, record({ kind: DisputeKind.Conclude }))), 'error', 'a conclude is open, not our timeout')
    assert.equal(classifyFailure(failed(timeout, already, record({ stateHash: hashState(OTHER) }))), 'error', 'a timeout on another candidate')
    assert.equal(classifyFailure(failed(timeout, already, record({ removals: 1n << 2n }))), 'error', 'a timeout accusing someone else')
    assert.equal(classifyFailure(failed(concludeDispute, already, record())), 'error', 'a timeout is open, not our conclude')
    assert.equal(classifyFailure(failed(exit, already, record({ kind: DisputeKind.Fraud }))), 'error', 'our exit over another dispute is no race')
  })

  it('a real failure stays an error', () => {
    assert.equal(classifyFailure(failed(refute, revert('CANDIDATE_NOT_LATER'))), 'error', 'a refute refused: the disputer is not convicted')
    assert.equal(classifyFailure(failed(extend, revert('CANDIDATE_NOT_LATER'))), 'error', 'only an answer is classified on CandidateNotLater')
    assert.equal(classifyFailure(failed(answer, revert('DISPUTE_NOT_OPEN'))), 'error', 'an answer to a dispute no longer open: our defence did not land')
    assert.equal(classifyFailure(failed(respond, revert('DISPUTE_NOT_OPEN'))), 'error', 'a response that did not land')
    assert.equal(classifyFailure(failed(resolve, revert('DISPUTE_TOO_EARLY'))), 'error')
    assert.equal(classifyFailure(failed(prove, revert('FRAUD_NOT_PROVEN'))), 'error')
    assert.equal(classifyFailure(failed(timeout, revert('ACCUSED_INVALID'), record())), 'error')
    assert.equal(classifyFailure(failed(resolve, new RuntimeError('RPC_FAILED', 'the node is down'))), 'error', 'a node failure, retried, is still reported')
    assert.equal(classifyFailure(failed(resolve, new Error('socket hang up'))), 'error')
    assert.equal(classifyFailure(failed(resolve, new UsageError('CHANNEL_NOT_OPEN', 'not open'))), 'error')
    // A mismatch the handler gave up (it never does: refusedForGood retries them) would not be a race.
    assert.equal(classifyFailure({ action: answer, error: revert('DISPUTE_RECORD_MISMATCH'), retried: false }), 'error')
    assert.equal(classifyFailure({ action: resolve, error: revert('DISPUTE_NOT_OPEN'), retried: true }), 'error')
  })
})
