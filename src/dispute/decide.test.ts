/**
 * The dispute handler's functional core, table-driven: each policy of docs/protocol.md §7 as
 * the view that triggers it, and the near misses that must not.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ChannelPhase } from '../channel/phase.js'
import { DisputeKind, type DisputeRecord, type Hex, type Transaction } from '../protocol/types.js'
import { decide, exitWanted, stampedAhead } from './decide.js'
import type { Action, DisputeView } from './types.js'
import { defaultTimes } from '../channel/params.js'

const h = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as Hex
const sig = `0x${'11'.repeat(65)}` as Hex
const T = 1_000n
const tx = (seq: bigint, actor: number, prev = h(Number(seq) - 1)): Transaction => ({
  channelId: h(99), fork: 0n, seq, timestamp: T, actor, previousStateHash: prev, data: '0x', stateHash: h(Number(seq)),
})
const record = (over: Partial<DisputeRecord> = {}): DisputeRecord => ({
  kind: DisputeKind.Timeout, disputer: 2, seq: 5n, timestamp: T, deadline: 2_000n, removals: 0b001n, stateHash: h(5), ...over,
})
const proof = [{ transaction: tx(6n, 1), signers: 0b111n, signatures: sig }]

/** Alice (0) of Alice, Bob, Mallory, on an open channel at seq 5 (final 5), Mallory to move. */
function view(over: { chain?: Partial<DisputeView['chain']>; local?: Partial<DisputeView['local']>; policy?: Partial<DisputeView['policy']> } & Partial<Omit<DisputeView, 'chain' | 'local' | 'policy'>> = {}): DisputeView {
  return {
    chain: {
      fork: 0n, active: 0b111n, slashed: 0n, phase: 'open', genesis: { state: '0x', stateHash: h(0), timestamp: 900n },
      latestSeq: 0n, now: T + 100n, posted: [], credits: [], ...over.chain,
    },
    local: {
      me: 0, phase: ChannelPhase.Open, fork: 0n, active: 0b111n, clock: T + 100n,
      head: { seq: 5n, stateHash: h(5), timestamp: T, nextActor: 2 }, final: { seq: 5n, stateHash: h(5) }, finalProof: proof, finalState: '0x05',
      own: [], canMove: false,
      timeout: { txs: proof, seq: 5n, state: '0x05', stateHash: h(5), timestamp: T, accused: 2, terminal: false },
      ...over.local,
    },
    channel: { participants: [h(1), h(2), h(3)], ...defaultTimes },
    evidence: over.evidence ?? [],
    policy: { post: true, timeout: true, autoWithdraw: false, ...over.policy },
    done: over.done ?? new Set(),
    ...(over.leaving ? { leaving: over.leaving } : {}),
  }
}

const kinds = (actions: Action[]) => actions.map((a) => a.kind)
const POSTING = T + 210n // T + p2p + agreement + fallback

describe('decide: an open channel', () => {
  test('nothing to do while the next actor still has time', () => {
    assert.deepEqual(kinds(decide(view())), [])
    assert.deepEqual(kinds(decide(view({ chain: { now: POSTING } }))), [], 'the deadline itself is still in time')
  })

  test('timeout against a silent next actor, once the chain is past its posting deadline', () => {
    const [a] = decide(view({ chain: { now: POSTING + 1n } }))
    assert.equal(a?.kind, 'timeout')
    assert.ok(a?.kind === 'timeout' && a.accused === 2 && a.txs === proof && a.key === 'timeout:0:5')
  })

  for (const [name, over] of [
    ['it is our turn', { local: { timeout: { txs: [], seq: 5n, state: '0x', stateHash: h(5), timestamp: T, accused: 0, terminal: false } } }],
    ['the machine cannot say whether the head is terminal', { local: { timeout: { txs: [], seq: 5n, state: '0x', stateHash: h(5), timestamp: T, accused: 2, terminal: undefined } } }],
    ['nobody may move on the head (nextActor fails)', { local: { timeout: { txs: [], seq: 5n, state: '0x', stateHash: h(5), timestamp: T, accused: -1, terminal: false } } }],
    ['we did not sign the head', { local: { timeout: undefined } }],
    ['we signed CloseChannel', { local: { phase: ChannelPhase.Closing } }],
    ['the chain saw a later move', { chain: { latestSeq: 6n } }],
    ['the accused was removed', { chain: { active: 0b011n } }],
    ['we are slashed', { chain: { slashed: 0b001n } }],
    ['our ledger is behind the chain fork', { chain: { fork: 1n } }],
    ['the policy is off', { policy: { timeout: false } }],
    ['it was already done', { done: new Set(['timeout:0:5']) }],
  ] as const) {
    test(`no timeout when ${name}`, () => {
      const v = view(over as never)
      v.chain.now = POSTING + 1n
      assert.deepEqual(kinds(decide(v)), [])
    })
  }

  test('a terminal head: concluded once its confirmation window passed — directly when final, by a Conclude dispute when not', () => {
    const terminal = (final: bigint) => ({ local: { final: { seq: final, stateHash: h(Number(final)) }, timeout: { txs: proof, seq: 5n, state: '0x05' as Hex, stateHash: h(5), timestamp: T, accused: 2, terminal: true } } })
    const at = (now: bigint, final: bigint) => view({ ...terminal(final), chain: { now } })
    assert.deepEqual(kinds(decide(at(T + 90n, 5n))), [], 'a cooperative close may still come')
    const [a] = decide(at(T + 91n, 5n))
    assert.ok(a?.kind === 'conclude' && a.proof === proof && a.state === '0x05' && a.key === 'conclude:0:5')
    const [b] = decide(at(T + 91n, 4n))
    assert.ok(b?.kind === 'concludeDispute' && b.txs === proof && b.state === '0x05', 'the loser withholds its signature')
    assert.deepEqual(kinds(decide(view({ ...terminal(4n), chain: { now: T + 91n, latestSeq: 6n } }))), [], 'stale')
  })

  test('no action whose transactions the chain would find in its future', () => {
    const future = { ...proof[0]!, transaction: { ...proof[0]!.transaction, timestamp: POSTING + 1n + 16n } }
    const v = view({ chain: { now: POSTING + 1n }, local: { timeout: { txs: [future], seq: 5n, state: '0x05', stateHash: h(5), timestamp: T, accused: 2, terminal: false } } })
    assert.deepEqual(kinds(decide(v)), [], 'stamped beyond block time + skew (15 s)')
    v.chain.now += 1n
    assert.deepEqual(kinds(decide(v)), ['timeout'])
  })

  test('stagger: the k-th honest client waits k · stagger seconds past the deadline', () => {
    const bob = (now: bigint) => view({ chain: { now }, local: { me: 1 }, policy: { stagger: 12 } })
    assert.deepEqual(kinds(decide(view({ chain: { now: POSTING + 1n }, policy: { stagger: 12 } }))), ['timeout'], 'Alice is first')
    assert.deepEqual(kinds(decide(bob(POSTING + 12n))), [], 'Bob, second, waits 12 s more')
    assert.deepEqual(kinds(decide(bob(POSTING + 13n))), ['timeout'])
  })

  test('post our move when someone has not confirmed it by its confirmation deadline', () => {
    const own = [{ signed: { transaction: tx(6n, 0), signature: sig }, digest: h(600), supporters: 0b011n, parentTimestamp: T }]
    assert.deepEqual(kinds(decide(view({ local: { own, clock: T + 90n } }))), [], 'still time to confirm')
    const [a] = decide(view({ local: { own, clock: T + 91n } }))
    assert.ok(a?.kind === 'post' && a.transaction.seq === 6n && a.key === 'post:0:6')
    assert.deepEqual(kinds(decide(view({ local: { own: [{ ...own[0]!, supporters: 0b111n }], clock: T + 91n } }))), [], 'supported by all')
    assert.deepEqual(kinds(decide(view({ local: { own, clock: T + 91n }, chain: { posted: [h(600)] } }))), [], 'already on chain')
  })
})

describe('decide: a signed cooperative close', () => {
  const all = new Map([[0, sig], [1, sig], [2, sig]])
  const payouts = [3n, 0n, 2n]
  const signed = { fork: 0n, state: '0x05' as Hex, stateHash: h(5), payouts, signatures: all, readyAt: T, submitting: false }
  const closing = (now: bigint, over: { local?: Partial<DisputeView['local']>; chain?: Partial<DisputeView['chain']>; policy?: Partial<DisputeView['policy']> } = {}) =>
    view({ ...over, chain: { now, ...over.chain }, local: { phase: ChannelPhase.Closing, close: signed, ...over.local } })
  const DUE = T + 60n + 1n // readyAt + p2pTime

  test('every court submits it once the close had p2pTime to arrive (its initiator sent it at once), before anything else', () => {
    assert.deepEqual(kinds(decide(closing(DUE - 1n))), [], 'the initiator sends it at once; the others give it p2pTime')
    const own = [{ signed: { transaction: tx(6n, 0), signature: sig }, digest: h(600), supporters: 0b011n, parentTimestamp: T }]
    const [a, ...rest] = decide(closing(DUE, { local: { own, clock: T + 91n } }))
    assert.ok(a?.kind === 'close' && a.state === '0x05' && a.signatures === all && a.key === `close:0:${h(5)}:0`)
    assert.deepEqual(a.payouts, payouts, 'submitted with the payouts the consents name')
    assert.deepEqual(rest, [], 'no post while a close can settle everything')
  })

  test('staggered by rank, as timeouts are', () => {
    const bob = (now: bigint) => closing(now, { local: { me: 1 }, policy: { stagger: 12 } })
    assert.deepEqual(kinds(decide(closing(DUE, { policy: { stagger: 12 } }))), ['close'], 'Alice first')
    assert.deepEqual(kinds(decide(bob(DUE + 11n))), [])
    assert.deepEqual(kinds(decide(bob(DUE + 12n))), ['close'])
  })

  for (const [name, over] of [
    ['our own submission is in flight', { local: { close: { ...signed, submitting: true } } }],
    ['a signature of an active participant is missing', { local: { close: { ...signed, signatures: new Map([[0, sig], [1, sig]]) } } }],
    ['a dispute is open', { chain: { phase: 'disputed', dispute: { record: record() } } }],
    ['the chain settled', { chain: { phase: 'closed' } }],
    ['the close is of another fork', { local: { close: { ...signed, fork: 1n } } }],
    ['it was sent already', { done: new Set([`close:0:${h(5)}:0`]) }],
  ] as const) {
    test(`no close when ${name}`, () => {
      const v = closing(DUE + 100n, over as never)
      if ('done' in over) v.done = over.done
      assert.deepEqual(kinds(decide(v)).filter((k) => k === 'close'), [])
    })
  }

  test('a close that lost to a timeout later cancelled is sent again (the key names the chain\'s latest move)', () => {
    const [a] = decide(closing(DUE, { chain: { latestSeq: 6n } }))
    assert.ok(a?.kind === 'close' && a.key === `close:0:${h(5)}:6`)
  })
})

describe('decide: an open timeout', () => {
  const disputed = (r: DisputeRecord, local: Partial<DisputeView['local']> = {}, now = 1_500n) =>
    view({ chain: { phase: 'disputed', dispute: { record: r }, now }, local: { final: { seq: 5n, stateHash: h(5) }, ...local } })

  test('accused with our move at seq + 1: respond at once', () => {
    const move = { transaction: tx(6n, 0), signature: sig }
    const [a] = decide(disputed(record(), { move }))
    assert.ok(a?.kind === 'respond' && a.transaction.seq === 6n)
  })

  test('accused without a move, our turn: ask for one', () => {
    assert.deepEqual(kinds(decide(disputed(record(), { canMove: true }))), ['moveNeeded'])
    assert.deepEqual(kinds(decide(disputed(record(), { canMove: false }))), [])
  })

  test("another's move we hold: relay it only after half the challenge time", () => {
    const r = record({ removals: 0b010n }) // Bob accused, raised at 1_700
    const move = { transaction: tx(6n, 1), signature: sig }
    assert.deepEqual(kinds(decide(disputed(r, { move }, 1_849n))), [])
    assert.deepEqual(kinds(decide(disputed(r, { move }, 1_850n))), ['respond'])
  })

  test('a later final state convicts the disputer: answer, before responding', () => {
    const move = { transaction: tx(6n, 0), signature: sig }
    const [a] = decide(disputed(record(), { move, final: { seq: 6n, stateHash: h(6) } }))
    assert.ok(a?.kind === 'answer' && a.proof === proof)
  })

  test("the disputer's signature on a later transaction: refute", () => {
    const later = { transaction: tx(7n, 2), signature: sig }
    const [a] = decide(disputed(record(), { disputerLater: later }))
    assert.ok(a?.kind === 'refute' && a.transaction.seq === 7n)
  })

  test('our own timeout: nothing to answer', () => {
    assert.deepEqual(kinds(decide(disputed(record({ disputer: 0, removals: 0b100n }), { final: { seq: 6n, stateHash: h(6) } }))), [])
  })

  test('after the deadline: resolve from the candidate, if we know its bytes', () => {
    assert.deepEqual(kinds(decide(disputed(record(), {}, 2_001n))), [])
    const [a] = decide(disputed(record(), { candidateState: '0x05' }, 2_001n))
    assert.ok(a?.kind === 'resolve' && a.state === '0x05')
    assert.deepEqual(kinds(decide(disputed(record(), { candidateState: '0x05' }, 2_000n))), [], 'the deadline itself is still open')
    const removed = disputed(record(), { candidateState: '0x05' }, 2_001n)
    removed.chain.active = 0b110n
    assert.deepEqual(kinds(decide(removed)), ['resolve'], 'anyone may resolve')
  })
})

describe('decide: exits and fraud', () => {
  test('an exit or force-close during its answer window: extend with our head; after it, answer with our final state', () => {
    const extension = { txs: proof, seq: 7n, state: '0x07' as Hex, stateHash: h(7), timestamp: T }
    for (const kind of [DisputeKind.Exit, DisputeKind.ForceClose]) {
      const r = record({ kind, seq: 4n, deadline: 2_000n })
      const at = (now: bigint) => view({ chain: { phase: 'disputed', dispute: { record: r }, now }, local: { extension } })
      const [a] = decide(at(1_700n))
      assert.ok(a?.kind === 'extend' && a.txs === proof && a.state === '0x07' && a.key === `extend:0:${kind}:4:2000:7`, DisputeKind[kind])
      assert.deepEqual(kinds(decide(at(1_701n))), ['answer'], 'the answer window closed at deadline − challengeTime')
    }
    const fraud = view({ chain: { phase: 'disputed', dispute: { record: record({ kind: DisputeKind.Fraud, seq: 4n }) }, now: 1_500n }, local: { extension } })
    assert.deepEqual(kinds(decide(fraud)), ['answer'], 'a fraud dispute takes final states only')
  })

  test("a conclude by another from a stale state: answer (convicts); the disputer's later signature: refute from our checkpoint", () => {
    const r = record({ kind: DisputeKind.Conclude, removals: 0n, seq: 4n })
    assert.deepEqual(kinds(decide(view({ chain: { phase: 'disputed', dispute: { record: r }, now: 1_500n } }))), ['answer'])
    const later = { transaction: tx(7n, 2), signature: sig }
    const [a] = decide(view({ chain: { phase: 'disputed', dispute: { record: { ...r, seq: 5n } }, now: 1_500n }, local: { disputerLater: later } }))
    assert.ok(a?.kind === 'refute' && a.checkpoint === proof && a.state === '0x05')
  })

  test('an exit or force-close from an older state: answer with our later final state', () => {
    for (const kind of [DisputeKind.Exit, DisputeKind.ForceClose, DisputeKind.Fraud]) {
      const v = view({ chain: { phase: 'disputed', dispute: { record: record({ kind, seq: 4n }) }, now: 1_500n } })
      assert.deepEqual(kinds(decide(v)), ['answer'], DisputeKind[kind])
      v.chain.dispute!.record.seq = 5n
      assert.deepEqual(kinds(decide(v)), [], `${DisputeKind[kind]} from our final state`)
    }
  })

  test('fraud evidence: proven with our checkpoint, the open record re-supplied; not twice, not for a slashed culprit', () => {
    const evidence = [{ key: 'k', fork: 0n, evidence: { kind: 'InvalidTransition' as const, reason: 'stateHash' as const, culprit: 2, signed: { transaction: tx(6n, 2), signature: sig }, previousState: '0x05' as Hex } }]
    const [a] = decide(view({ evidence }))
    assert.ok(a?.kind === 'proveInvalidTransition' && a.fraud.signers === 0b100n && a.checkpoint === proof && a.record === undefined)
    const r = record({ kind: DisputeKind.Exit, disputer: 1, removals: 0b010n })
    const [b] = decide(view({ evidence, chain: { phase: 'disputed', dispute: { record: r }, now: 1_500n } }))
    assert.ok(b?.kind === 'proveInvalidTransition' && b.record === r, 'fraud proofs take precedence and carry the record')
    assert.deepEqual(kinds(decide(view({ evidence, done: new Set([a!.key]) }))), [], 'not twice against the same record')
    assert.ok(a!.key.startsWith('fraud:k@') && b!.key.startsWith('fraud:k@') && a!.key !== b!.key, 'a changed dispute gives a new key: a proof that reverted against the old record is built again')
    assert.deepEqual(kinds(decide(view({ evidence, chain: { slashed: 0b100n } }))), [])
    assert.deepEqual(kinds(decide(view({ evidence: [{ ...evidence[0]!, fork: 1n }] }))), [], 'evidence of another fork')
    const eq = [{ key: 'e', fork: 0n, evidence: { kind: 'Equivocation' as const, culprit: 2, a: { transaction: tx(6n, 2), signature: sig }, b: { transaction: { ...tx(6n, 2), data: '0x01' as Hex }, signature: sig } } }]
    const [c] = decide(view({ evidence: eq }))
    assert.ok(c?.kind === 'proveEquivocation' && c.first.signers === 0b100n && c.second.transaction.data === '0x01')
    const joining = view({ evidence, chain: { phase: 'disputed', dispute: { record: record({ kind: DisputeKind.Fraud, seq: 7n }), state: '0x07' }, now: 1_500n } })
    const [d] = decide(joining)
    assert.ok(d?.kind === 'proveInvalidTransition' && d.state === '0x07', 'joining a fraud dispute with a later candidate names its bytes')
    const withAll = [{ ...evidence[0]!, evidence: { ...evidence[0]!.evidence, signatures: new Map([[1, sig], [2, sig]]) } }]
    const [e] = decide(view({ evidence: withAll }))
    assert.ok(e?.kind === 'proveInvalidTransition' && e.fraud.signers === 0b110n, 'every signature we saw: every signer is a culprit')
  })

  test('we asked to leave: an exit on every fork while the chain lets us raise one (open, or over an unexpired timeout)', () => {
    const [a] = decide(view({ leaving: { leave: false } }))
    assert.ok(a?.kind === 'exit' && !a.leave && a.proof === proof && a.state === '0x05' && a.record === undefined && a.key === 'exit:0:close:open:0')
    const timeout = record({ kind: DisputeKind.Timeout, deadline: 2_000n })
    const [b] = decide(view({ leaving: { leave: true }, chain: { phase: 'disputed', dispute: { record: timeout }, now: 1_500n } }))
    assert.ok(b?.kind === 'exit' && b.leave && b.record === timeout, 'replaces an open timeout')
    assert.deepEqual(kinds(decide(view({ leaving: { leave: true }, chain: { phase: 'disputed', dispute: { record: timeout }, now: 2_001n } }))).filter((k) => k === 'exit'), [], 'not an expired one: it is resolved')
    for (const kind of [DisputeKind.Exit, DisputeKind.Fraud, DisputeKind.Conclude]) {
      const v = view({ leaving: { leave: true }, chain: { phase: 'disputed', dispute: { record: record({ kind }) }, now: 1_500n } })
      assert.ok(!kinds(decide(v)).includes('exit'), `waits for the ${DisputeKind[kind]} dispute`)
    }
    assert.deepEqual(kinds(decide(view({ leaving: { leave: true }, chain: { active: 0b110n } }))), [], 'out already')
    assert.deepEqual(kinds(decide(view({ leaving: { leave: true }, chain: { fork: 1n, latestSeq: 0n }, local: { fork: 1n } }))), ['exit'], 'again on the next fork')
  })

  test('an exit whose final state is stamped past the latest block: not due yet, but wanted (exit() waits for the head that admits it)', () => {
    // skew = max(1, agreementTime / 2); the proof is stamped T: due once the chain's time reaches T − skew.
    const skew = BigInt(Math.max(1, Math.floor(defaultTimes.agreementTime / 2)))
    const early = view({ leaving: { leave: false }, chain: { now: T - skew - 1n } })
    assert.deepEqual(kinds(decide(early)), [], 'the chain would refuse it at its latest block')
    const wanted = exitWanted(early)
    assert.ok(wanted?.kind === 'exit' && !wanted.leave && wanted.key === 'exit:0:close:open:0', 'the chain lets us raise it otherwise')
    assert.equal(stampedAhead(early, wanted), true)
    const admitted = view({ leaving: { leave: false }, chain: { now: T - skew } })
    assert.deepEqual(kinds(decide(admitted)), ['exit'], 'the block that admits the stamp')
    assert.equal(stampedAhead(admitted, exitWanted(admitted)!), false)
    assert.equal(exitWanted(view({ leaving: { leave: false }, chain: { phase: 'disputed', dispute: { record: record({ kind: DisputeKind.Exit }) } } })), undefined, 'another dispute: not raisable, whatever the stamps')
    assert.equal(exitWanted(view()), undefined, 'not asked to leave')
  })

  test('credits are withdrawn only when asked to', () => {
    const credits = [{ key: '7:1', asset: h(0), amount: 5n }]
    assert.deepEqual(kinds(decide(view({ chain: { phase: 'closed', credits } }))), [])
    const [a] = decide(view({ chain: { phase: 'closed', credits }, policy: { autoWithdraw: true } }))
    assert.ok(a?.kind === 'withdraw' && a.amount === 5n && a.key === 'withdraw:7:1')
  })
})
