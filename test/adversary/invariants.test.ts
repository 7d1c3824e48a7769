/**
 * The adversary search's checker, as pure functions: the entitlement of an honest participant
 * from its trace, the credit check, the per-dispute deadlines of §7.9 and the settlement bound
 * of §11.0.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { DisputeKind, type DisputeRecord } from '../../src/protocol/types.js'
import { checkCredit, checkDisputes, checkSettlement, entitlement, settleBound, type DisputeLogEntry, type TraceEvent } from './invariants.js'

const st = (seq: bigint, balance: bigint, fork = 0n): TraceEvent => ({ kind: 'state', fork, seq, balance })
const fin = (seq: bigint, balance: bigint, fork = 0n): TraceEvent => ({ kind: 'final', fork, seq, balance })
const fork = (f: bigint, balance: bigint): TraceEvent => ({ kind: 'fork', fork: f, balance })
const P = { challengeTime: 300, postingWindow: 210 }

describe('entitlement', () => {
  test('the deposit before anything happens', () => {
    assert.deepEqual(entitlement(5n, []), { amount: 5n, strict: 5n, violations: [] })
  })

  test('the latest final balance; later states others made only add to it', () => {
    const e = entitlement(5n, [st(1n, 4n), st(2n, 6n), fin(1n, 4n), st(3n, 7n), fin(2n, 6n)])
    assert.deepEqual([e.amount, e.strict], [6n, 6n])
  })

  test('our own unconfirmed payment after the final state lowers it (it is enforceable), the strict reading does not', () => {
    const e = entitlement(5n, [st(1n, 5n), fin(1n, 5n), st(2n, 3n), st(3n, 3n)])
    assert.deepEqual([e.amount, e.strict], [3n, 5n])
  })

  test('a new fork: its genesis must give at least the entitlement, then becomes it', () => {
    const ok = entitlement(5n, [fin(1n, 4n), fork(1n, 4n), st(1n, 9n, 1n)])
    assert.deepEqual([ok.amount, ok.violations], [4n, []])
    const bad = entitlement(5n, [fin(1n, 4n), fork(1n, 3n)])
    assert.equal(bad.amount, 3n)
    assert.match(bad.violations[0]!, /fork 1 starts from a genesis giving 3, below the entitlement 4/)
  })

  test('events of older forks are ignored; states of an unseen fork too', () => {
    const e = entitlement(5n, [fork(1n, 5n), fin(3n, 1n, 0n), st(1n, 1n, 2n)])
    assert.deepEqual([e.amount, e.violations], [5n, []])
  })

  test('a final state replaces the later states at or below it', () => {
    const e = entitlement(5n, [st(1n, 2n), st(2n, 8n), fin(2n, 8n)])
    assert.equal(e.amount, 8n)
  })
})

describe('checkCredit', () => {
  const base = { index: 0, deposit: 5n, bond: 1n, trace: [fin(1n, 4n)], slashed: false }
  test('credited entitlement + bond (or more) holds', () => {
    assert.deepEqual(checkCredit({ ...base, credited: 5n }), { violations: [], notes: [] })
    assert.deepEqual(checkCredit({ ...base, credited: 9n }).violations, [])
  })
  test('less than entitlement + bond, or slashed, is a violation', () => {
    assert.match(checkCredit({ ...base, credited: 4n }).violations[0]!, /P0 credited 4 < entitlement 4 \+ bond 1/)
    assert.match(checkCredit({ ...base, credited: 5n, slashed: true }).violations[0]!, /P0 was slashed/)
  })
  test('a bounty must not hide a loss: the own share alone must cover entitlement + bond', () => {
    assert.deepEqual(checkCredit({ ...base, credited: 9n, own: 5n }).violations, [])
    assert.match(checkCredit({ ...base, credited: 9n, own: 4n }).violations[0]!, /P0's own share 4 < entitlement 4 \+ bond 1 \(bounties made up for it\)/)
  })
  test('own payments enforced below the latest final state: a note, not a violation', () => {
    const r = checkCredit({ ...base, trace: [fin(1n, 4n), st(2n, 2n)], credited: 3n })
    assert.deepEqual(r.violations, [])
    assert.equal(r.notes.length, 1)
  })
})

const rec = (kind: DisputeKind, deadline: bigint): DisputeRecord => ({
  kind, disputer: 0, seq: 1n, timestamp: 0n, deadline, removals: 1n, stateHash: `0x${'00'.repeat(32)}`,
})
const raised = (time: bigint, kind: DisputeKind, deadline: bigint): DisputeLogEntry => ({ name: 'DisputeRaised', time, record: rec(kind, deadline) })
const answered = (time: bigint, kind: DisputeKind, deadline: bigint): DisputeLogEntry => ({ name: 'DisputeAnswered', time, record: rec(kind, deadline) })
const resolved = (time: bigint): DisputeLogEntry => ({ name: 'DisputeResolved', time })
const cancelled = (time: bigint): DisputeLogEntry => ({ name: 'DisputeCancelled', time })

describe('checkDisputes', () => {
  test('each kind with its own first deadline, resolved after it', () => {
    const log = [
      raised(100n, DisputeKind.Timeout, 400n), cancelled(150n),
      raised(200n, DisputeKind.Timeout, 710n), resolved(711n),
      raised(800n, DisputeKind.ForceClose, 1400n), resolved(1401n),
      raised(1500n, DisputeKind.Fraud, 1800n), resolved(1801n),
    ]
    const r = checkDisputes(log, P)
    assert.deepEqual(r.violations, [])
    assert.deepEqual(r.episodes.map((e) => e.end?.how), ['cancelled', 'resolved', 'resolved', 'resolved'])
  })

  test('one conversion into Fraud restarts the deadline at + C; a join keeps it', () => {
    const log = [
      raised(0n, DisputeKind.Exit, 600n), raised(590n, DisputeKind.Fraud, 890n), raised(880n, DisputeKind.Fraud, 890n), answered(885n, DisputeKind.Fraud, 890n), resolved(891n),
    ]
    const r = checkDisputes(log, P)
    assert.deepEqual(r.violations, [])
    assert.equal(r.episodes[0]!.restarts, 1)
  })

  test('a second restart, a wrong first deadline, an early resolution and a join that moves the deadline are violations', () => {
    assert.match(checkDisputes([raised(0n, DisputeKind.Timeout, 300n), answered(200n, DisputeKind.Fraud, 500n), raised(450n, DisputeKind.Fraud, 750n)], P).violations.join('\n'), /only a conversion into Fraud may/)
    assert.match(checkDisputes([raised(0n, DisputeKind.Exit, 300n)], P).violations[0]!, /Exit raised at 0 with deadline \+300 \(allowed: \+600\)/)
    assert.match(checkDisputes([raised(0n, DisputeKind.Fraud, 300n), resolved(300n)], P).violations[0]!, /resolved at 300, not after the deadline 300/)
    assert.match(checkDisputes([raised(0n, DisputeKind.Timeout, 300n), raised(10n, DisputeKind.Timeout, 310n)], P).violations[0]!, /Timeout raised at 10 while a Timeout was open/)
  })

  test('an exit replacing a timeout ends the timeout and starts its own dispute', () => {
    const r = checkDisputes([raised(0n, DisputeKind.Timeout, 510n), raised(500n, DisputeKind.ForceClose, 1100n), resolved(1101n)], P)
    assert.deepEqual(r.violations, [])
    assert.deepEqual(r.episodes.map((e) => [DisputeKind[e.kind], e.end?.how]), [['Timeout', 'replaced'], ['ForceClose', 'resolved']])
  })
})

describe('settlement', () => {
  test('settleBound is 3(n − 1)·C plus 2n inclusions', () => {
    assert.equal(settleBound(P, 2), 900n + 60n)
    assert.equal(settleBound(P, 5), 3600n + 150n)
  })

  const s = { n: 2, deposits: [1n, 2n], bond: 1n, credited: 5n, end: 1000n, params: P }
  test('closed in time with every deposit and bond credited holds', () => {
    assert.deepEqual(checkSettlement({ ...s, closedAt: 1000n + 960n }), [])
  })
  test('not closed, too late (from the end, or from the first dispute when later, or from a request to leave), or credits ≠ deposits + bonds', () => {
    assert.deepEqual(checkSettlement(s), ['the channel is not closed'])
    assert.match(checkSettlement({ ...s, closedAt: 1961n })[0]!, /settled 961 s after the end/)
    assert.deepEqual(checkSettlement({ ...s, closedAt: 2100n, firstDispute: 1200n }), [])
    assert.match(checkSettlement({ ...s, closedAt: 1900n, wantedOut: 900n })[0]!, /settled 1000 s after an honest force-close request/)
    assert.match(checkSettlement({ ...s, closedAt: 1100n, credited: 4n })[0]!, /credited 4, not Σ deposits \+ n·bond = 5/)
  })
})
