/**
 * What `parley run` prints for a court call that failed (printer.ts, src/dispute/outcome.ts): a
 * race lost to another honest court — the record changed first, or the chain already holds
 * what the call was for — is an ordinary `court` line on stdout (in JSON, `outcome` says which);
 * a real failure stays an `error` line on stderr; the live view's tap sees the same events.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ETH_ASSET } from '../lib/assets.js'
import { exampleSpeaker } from '../lib/speaker.js'
import { Emitter } from '../../src/observe/Emitter.js'
import { ProtocolError } from '../../src/errors/ParleyError.js'
import { hashState } from '../../src/protocol/eip712.js'
import { DisputeKind, type DisputeRecord, type Hex } from '../../src/protocol/types.js'
import type { Action } from '../../src/dispute/types.js'
import { Printer } from './printer.js'

const participants = ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'] as Hex[]
const STATE = '0x1234' as Hex
const record: DisputeRecord = { kind: DisputeKind.Fraud, disputer: 1, seq: 2n, timestamp: 100n, deadline: 200n, removals: 0n, stateHash: hashState(STATE) }
const resolve: Action = { kind: 'resolve', key: 'resolve:0', why: 'the deadline passed', record, state: STATE }
const prove: Action = { kind: 'proveInvalidTransition', key: 'fraud:0', why: 'participant 2 signed an invalid transition', evidence: 'e', fraud: {} as never, previousState: STATE, checkpoint: [], state: STATE, culprit: 2 }
const timeout: Action = { kind: 'timeout', key: 'timeout:0', why: 'participant 1 did not move', txs: [], state: STATE, accused: 1 }

/** A printer attached to a peer whose court the test drives; what it wrote to stdout and stderr, and what its tap saw. */
async function run(json: boolean, drive: (court: Emitter<Record<string, unknown>>) => void) {
  const court = new Emitter<Record<string, unknown>>()
  const quiet = new Emitter<Record<string, unknown>>()
  const peer = { channel: Object.assign(new Emitter<Record<string, unknown>>(), { me: 0 }), court, listener: quiet, clock: { now: () => 0n }, transport: { onPeer: () => () => undefined } }
  const printer = new Printer({ json, speaker: exampleSpeaker('payments', { participants, asset: ETH_ASSET }), asset: ETH_ASSET, participants })
  const tapped: Record<string, unknown>[] = []
  printer.tap((e) => void tapped.push(e))
  const stdout: string[] = []
  const stderr: string[] = []
  const [write, writeErr] = [process.stdout.write, process.stderr.write]
  process.stdout.write = ((s: string) => (stdout.push(s), true)) as typeof process.stdout.write
  process.stderr.write = ((s: string) => (stderr.push(s), true)) as typeof process.stderr.write
  try {
    const detach = printer.attach(peer as never)
    drive(court)
    await printer.flush()
    detach()
  } finally {
    process.stdout.write = write
    process.stderr.write = writeErr
  }
  return { stdout: stdout.join(''), stderr: stderr.join(''), tapped }
}

const races = (court: Emitter<Record<string, unknown>>) => {
  court.emit('failed', { action: prove, error: new ProtocolError('DISPUTE_RECORD_MISMATCH', 'proveInvalidTransition reverted: DisputeRecordMismatch(channelId=0x01)'), retried: true })
  court.emit('failed', { action: resolve, error: new ProtocolError('DISPUTE_NOT_OPEN', 'resolve reverted: DisputeNotOpen(channelId=0x01)'), retried: false })
  court.emit('failed', { action: timeout, error: new ProtocolError('DISPUTE_ALREADY_OPEN', 'disputeTimeout reverted: DisputeAlreadyOpen(channelId=0x01)'), retried: false, open: { ...record, kind: DisputeKind.Timeout, removals: 1n << 1n } })
}
const failures = (court: Emitter<Record<string, unknown>>) => {
  court.emit('failed', { action: resolve, error: new ProtocolError('DISPUTE_TOO_EARLY', 'resolve reverted: DisputeTooEarly()'), retried: false })
  court.emit('failed', { action: timeout, error: new ProtocolError('DISPUTE_ALREADY_OPEN', 'disputeTimeout reverted: DisputeAlreadyOpen(channelId=0x01)'), retried: false, open: { ...record, kind: DisputeKind.Exit } })
}

describe('the printer: a court call lost to another honest court', () => {
  it('text: races are court lines on stdout, nothing on stderr', async () => {
    const r = await run(false, races)
    assert.equal(r.stderr, '', 'no error line')
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [
      "court        proveInvalidTransition: the dispute's record changed first (DISPUTE_RECORD_MISMATCH); the court decides again",
      'court        resolve: done by another court first (DISPUTE_NOT_OPEN)',
      'court        timeout: done by another court first (DISPUTE_ALREADY_OPEN)',
    ])
  })

  it('text: a real failure stays an error line on stderr', async () => {
    const r = await run(false, failures)
    assert.equal(r.stdout, '')
    assert.deepEqual(r.stderr.trimEnd().split('\n'), [
      'error DISPUTE_TOO_EARLY: court resolve: resolve reverted: DisputeTooEarly()',
      'error DISPUTE_ALREADY_OPEN: court timeout: disputeTimeout reverted: DisputeAlreadyOpen(channelId=0x01)',
    ])
  })

  it('JSON: a court event with the action, the code, the message and which case; the tap (the live view) sees the same', async () => {
    const r = await run(true, (court) => (races(court), failures(court)))
    assert.equal(r.stderr, '')
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.deepEqual(lines.map((l) => [l.event, l.action ?? null, l.code, l.outcome ?? null]), [
      ['court', 'proveInvalidTransition', 'DISPUTE_RECORD_MISMATCH', 'record-changed'],
      ['court', 'resolve', 'DISPUTE_NOT_OPEN', 'done-by-another'],
      ['court', 'timeout', 'DISPUTE_ALREADY_OPEN', 'done-by-another'],
      ['error', null, 'DISPUTE_TOO_EARLY', null],
      ['error', null, 'DISPUTE_ALREADY_OPEN', null],
    ])
    assert.equal(lines[1]!.message, 'resolve reverted: DisputeNotOpen(channelId=0x01)')
    assert.deepEqual(r.tapped.map((e) => [e.event, e.outcome ?? null]), lines.map((l) => [l.event, l.outcome ?? null]))
    assert.equal(r.tapped[1]!.text, 'resolve: done by another court first (DISPUTE_NOT_OPEN)', 'the live view shows the text line')
  })
})
