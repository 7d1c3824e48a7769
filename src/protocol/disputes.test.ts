import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  accusedOf, canRaiseTimeout, challengeDeadline, disputeCommitment, mustSettle, removalCredits,
  settlementCredits, timeoutDeadline, type SettlementInput,
} from './disputes.js'
import { bitCount, fullBitmap, hasBit } from './bitmap.js'
import { DisputeKind, type Hex } from './types.js'

const params = { p2pTime: 60, agreementTime: 30, chainFallbackTime: 120 }
const sum = (m: Map<number, bigint>) => [...m.values()].reduce((a, b) => a + b, 0n)

test('timeoutDeadline is T + p2p + agreement + fallback; a timeout needs a later block', () => {
  assert.equal(timeoutDeadline(1_000n, params), 1_210n)
  assert.equal(canRaiseTimeout(1_210n, 1_000n, params), false)
  assert.equal(canRaiseTimeout(1_211n, 1_000n, params), true)
  assert.equal(challengeDeadline(5n, 300), 305n)
})

test('disputeCommitment changes with every record field and with the participants', () => {
  const ps: Hex[] = ['0x00000000000000000000000000000000000000aa', '0x00000000000000000000000000000000000000bb']
  const r = { kind: DisputeKind.Timeout, disputer: 1, seq: 3n, timestamp: 7n, deadline: 5n, removals: 4n, stateHash: `0x${'ab'.repeat(32)}` as const }
  const h = disputeCommitment(ps, r)
  for (const [k, v] of Object.entries({ kind: DisputeKind.Exit, disputer: 0, seq: 4n, timestamp: 8n, deadline: 6n, removals: 2n, stateHash: `0x${'cd'.repeat(32)}` })) {
    assert.notEqual(disputeCommitment(ps, { ...r, [k]: v }), h, k)
  }
  assert.notEqual(disputeCommitment([...ps].reverse(), r), h)
})

test('accusedOf: the single removal of a timeout record', () => {
  const r = { kind: DisputeKind.Timeout, disputer: 0, seq: 1n, timestamp: 0n, deadline: 2n, removals: 0b100n, stateHash: `0x${'00'.repeat(32)}` as const }
  assert.equal(accusedOf(r), 2)
  assert.throws(() => accusedOf({ ...r, kind: DisputeKind.Exit }), { code: 'DISPUTE_NOT_TIMEOUT' })
})

test('mustSettle: fewer than two left, terminal, next actor removed, or a machine error', () => {
  assert.equal(mustSettle(0b001n, { terminal: false, nextActor: 0 }), true)
  assert.equal(mustSettle(0b011n, { terminal: true, nextActor: 0 }), true)
  assert.equal(mustSettle(0b011n, { terminal: false, nextActor: 2 }), true)
  assert.equal(mustSettle(0b011n, { terminal: undefined, nextActor: 0 }), true)
  assert.equal(mustSettle(0b011n, { terminal: false, nextActor: undefined }), true)
  assert.equal(mustSettle(0b011n, { terminal: false, nextActor: 1 }), false)
})

test('settlementCredits: a worked example with a slashed participant and dust', () => {
  const { credits, payouts } = settlementCredits({
    outcome: [5n, 1n, 2n], locked: 10n, bond: 100n, active: 0b011n, unpaid: 0b111n, slashed: 0b100n,
    beneficiary: new Map([[2, 0]]),
  })
  // remainder 2 split among {0, 1}: 1 each; participant 2's share (2) and bond go to 0.
  assert.deepEqual(payouts, [6n, 2n, 2n])
  assert.deepEqual(credits, new Map([[0, 6n + 100n + 2n + 100n], [1, 2n + 100n]]))
})

/** Random channels: n participants, an outcome within the locked total, some removed and slashed. */
const channel: fc.Arbitrary<Channel> = fc.integer({ min: 2, max: 12 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    outcome: fc.array(fc.bigInt({ min: 0n, max: 10n ** 20n }), { minLength: n, maxLength: n }),
    extra: fc.bigInt({ min: 0n, max: 10n ** 20n }),
    bond: fc.bigInt({ min: 0n, max: 10n ** 18n }),
    active: fc.bigInt({ min: 1n, max: fullBitmap(n) }),
    removedNow: fc.bigInt({ min: 0n, max: fullBitmap(n) }),
    slashed: fc.bigInt({ min: 0n, max: fullBitmap(n) }),
    beneficiary: fc.nat(),
  }),
)

interface Channel { n: number; outcome: bigint[]; extra: bigint; bond: bigint; active: bigint; removedNow: bigint; slashed: bigint; beneficiary: number }

function input(c: Channel) {
  const removals = c.removedNow & ~c.active
  const unpaid = c.active | removals
  const slashed = c.slashed & removals // only removed participants are ever slashed
  const activeIdx = [...Array(c.n).keys()].filter((i) => hasBit(c.active, i))
  const to = activeIdx[c.beneficiary % activeIdx.length]!
  const beneficiary = new Map([...Array(c.n).keys()].filter((i) => hasBit(slashed, i)).map((i) => [i, to]))
  const owed = c.outcome.reduce((a, p, i) => (hasBit(unpaid, i) ? a + p : a), 0n)
  const s: SettlementInput = { outcome: c.outcome, locked: owed + c.extra, bond: c.bond, active: c.active, unpaid, slashed, beneficiary }
  return { s, removals }
}

test('property: a settlement pays exactly the locked deposits plus one bond per unpaid participant', () => {
  fc.assert(
    fc.property(channel, (c) => {
      const { s } = input(c)
      const { credits } = settlementCredits(s)
      assert.equal(sum(credits), s.locked + BigInt(bitCount(s.unpaid)) * s.bond)
      for (const i of credits.keys()) assert.ok(hasBit(s.active, i) || (hasBit(s.unpaid, i) && !hasBit(s.slashed, i)), `credit to ${i}`)
    }),
  )
})

test('property: removal then settlement pays the same total as settling at once', () => {
  fc.assert(
    fc.property(channel, (c) => {
      const { s, removals } = input(c)
      const { credits, paid } = removalCredits(s, removals)
      // After the removal, only the active remain unpaid and the locked total shrinks.
      const later = settlementCredits({ ...s, unpaid: s.active, locked: s.locked - paid })
      const atOnce = settlementCredits(s)
      assert.equal(sum(credits) + sum(later.credits), sum(atOnce.credits))
    }),
  )
})

test('an outcome above the locked deposits is refused, as the contract reverts', () => {
  assert.throws(() => settlementCredits({ outcome: [3n, 3n], locked: 5n, bond: 0n, active: 3n, unpaid: 3n, slashed: 0n, beneficiary: new Map() }), /OutcomeExceedsLocked/)
})
