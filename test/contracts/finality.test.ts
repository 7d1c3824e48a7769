/**
 * Finality proofs (virtual voting): the contract's verifyFinalityProof agrees with the
 * TypeScript reference checkFinalityProof / checkList (src/protocol/finality.ts) on random
 * channels (N = 2..8), random linked chains with random signer sets, data sizes and timestamps
 * on both sides of every bound (MAX_DATA_BYTES; the fork genesis, the parent's timestamp and
 * block time + skew), and random damage to the proof (shuffled, truncated, over-long, broken
 * links, seq jumps, wrong fork or channel); and proofLength / latestFinal name exactly the
 * proofs the contract accepts.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Wallet, hexlify, randomBytes } from 'ethers'
import { setup, makeParams, signOpen, atTime, chainNow, type Fixture } from '../helpers/fixture.js'
import { decodeRevert, expectRevert } from '../helpers/revert.js'
import { join, signEach } from '../helpers/sigs.js'
import { bitIndices, fullBitmap } from '../../src/protocol/bitmap.js'
import {
  checkFinalityProof, checkList, latestFinal, proofLength, type FinalityVerdict, type ListContext, type ProofEntry,
} from '../../src/protocol/finality.js'
import { latestTimestamp } from '../../src/protocol/timing.js'
import { MAX_DATA_BYTES, type Hex, type PackedSignedTransaction, type Transaction } from '../../src/protocol/types.js'

const MAX_U64 = 2n ** 64n - 1n
const AGREEMENT = 30 // skew 15 s
let f: Fixture
const channels = new Map<number, { ws: Wallet[]; id: Hex; parts: Hex[]; genesis: bigint }>()
const rand32 = () => hexlify(randomBytes(32)) as Hex
/** Latest block time + skew: what every view call (eth_call on the latest block) accepts. */
let latest: bigint

before(async () => {
  f = await setup(1)
  const counter = (await f.counter.getAddress()) as Hex
  // Each channel opens 5 s after the last, at fixed offsets from one base, and no block is mined
  // afterwards: every bound below is the same distance from every other on each run.
  const base = (await chainNow(f)) + 100n
  for (let n = 2; n <= 8; n++) {
    const ws = Array.from({ length: n }, () => new Wallet(rand32()))
    const params = makeParams(ws, counter, { deposits: ws.map(() => 0n), agreementTime: AGREEMENT })
    const genesis = base + 5n * BigInt(n - 2)
    await atTime(f, genesis)
    await (await f.manager.getFunction('open')(params, signOpen(f, ws, params))).wait()
    channels.set(n, { ws, id: f.hasher.channelId(params), parts: params.participants, genesis })
  }
  latest = latestTimestamp(await chainNow(f), AGREEMENT)
  assert.equal(latest, base + 30n + 15n)
})
after(() => f.stop())

/** The reference's context for channel `n`: fork 0, everyone active, the contract's time bounds. */
const ctx = (n: number): ListContext => ({
  channelId: channels.get(n)!.id, fork: 0n, active: fullBitmap(n), earliest: channels.get(n)!.genesis, latest,
})

/** Signs each entry by the signers its bitmap names that exist (bits >= n cannot sign). */
function pack(n: number, entries: ProofEntry[]): PackedSignedTransaction[] {
  const { ws } = channels.get(n)!
  return entries.map(({ transaction, signers }) => {
    const real = bitIndices(signers & fullBitmap(n)).map((i) => ws[i]!)
    return { transaction, signers, signatures: join(signEach(real, f.hasher.transaction(transaction))) }
  })
}

/** The contract's answer in the reference's vocabulary. */
async function onChain(n: number, entries: ProofEntry[]): Promise<FinalityVerdict> {
  const { id, parts } = channels.get(n)!
  const call = f.manager.getFunction('verifyFinalityProof')(id, parts, pack(n, entries)) as Promise<[Hex, bigint]>
  try {
    const [stateHash, seq] = await call
    return { final: true, stateHash, seq }
  } catch {
    const r = await decodeRevert(call)
    const index = ['ProofLengthInvalid', 'ProofNotFinal', 'SignerInactive'].includes(r.name) ? -1 : Number(r.args[0])
    return { final: false, fault: r.name as never, index, ...(r.name === 'ProofNotFinal' ? { missing: r.args[0] as bigint } : {}) }
  }
}

/** Compares verdicts: same acceptance and result, or the same error (and index where it names one). */
function assertSame(ref: FinalityVerdict, chain: FinalityVerdict): void {
  if (ref.final || chain.final) return assert.deepEqual(chain, ref)
  assert.equal(chain.fault, ref.fault)
  if (chain.index >= 0) assert.equal(chain.index, ref.index, `index of ${ref.fault}`)
  if (ref.fault === 'ProofNotFinal') assert.equal(chain.missing, ref.missing)
}

/**
 * A timestamp relative to the bounds: the first entry's floor is the fork genesis, a later
 * entry's its parent's; the ceiling is block time + skew. Each side of each bound, exactly at
 * it, inside, and the extremes of uint64.
 */
type Stamp = { at: 'floor' | 'ceiling' | 'inside' | 'zero' | 'max'; delta: -1n | 0n | 1n }
const stamp: fc.Arbitrary<Stamp> = fc.oneof(
  { weight: 16, arbitrary: fc.constant<Stamp>({ at: 'inside', delta: 0n }) },
  { weight: 6, arbitrary: fc.constantFrom<Stamp>({ at: 'floor', delta: 0n }, { at: 'ceiling', delta: 0n }) },
  { weight: 2, arbitrary: fc.constantFrom<Stamp>({ at: 'floor', delta: -1n }, { at: 'ceiling', delta: 1n }) },
  { weight: 1, arbitrary: fc.constantFrom<Stamp>({ at: 'floor', delta: 1n }, { at: 'ceiling', delta: -1n }, { at: 'zero', delta: 0n }, { at: 'max', delta: 0n }) },
)
/** Data sizes on both sides of MAX_DATA_BYTES, mostly small. */
const data = fc.oneof(
  { weight: 12, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => hexlify(b) as Hex) },
  { weight: 2, arbitrary: fc.constantFrom(MAX_DATA_BYTES - 1, MAX_DATA_BYTES, MAX_DATA_BYTES + 1, 5000).map((k) => `0x${'5a'.repeat(k)}` as Hex) },
)

const step = (n: number) =>
  fc.record({
    actor: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: n - 1 }) }, { weight: 1, arbitrary: fc.integer({ min: n, max: 300 }) }),
    others: fc.bigInt({ min: 0n, max: fullBitmap(n) }),
    author: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    stray: fc.oneof({ weight: 15, arbitrary: fc.constant(0n) }, { weight: 1, arbitrary: fc.integer({ min: n, max: 63 }).map((b) => 1n << BigInt(b)) }),
    timestamp: stamp,
    data,
  })
const MUTATIONS = ['none', 'none', 'none', 'shuffle', 'dropFront', 'dropBack', 'brokenLink', 'seqJump', 'seqZero', 'wrongFork', 'wrongChannel', 'empty'] as const

const scenario = fc.integer({ min: 2, max: 8 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    start: fc.oneof({ weight: 8, arbitrary: fc.bigInt({ min: 1n, max: 10_000n }) }, { weight: 1, arbitrary: fc.constant(0n) }, { weight: 1, arbitrary: fc.constant(MAX_U64 - 1n) }),
    steps: fc.array(step(n), { minLength: n + 2, maxLength: n + 2 }),
    // Mostly within the bound A = n; sometimes over-long.
    length: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: n }) }, { weight: 1, arbitrary: fc.integer({ min: n + 1, max: n + 2 }) }),
    mutation: fc.constantFrom(...MUTATIONS),
    pick: fc.nat(),
    keys: fc.array(fc.nat(), { minLength: n + 2, maxLength: n + 2 }),
    seq: fc.bigInt({ min: 1n, max: MAX_U64 }),
  }),
)
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never

/** The uint64 timestamp a Stamp names, given the entry's floor (clamped to uint64). */
function resolveStamp(st: Stamp, floor: bigint): bigint {
  const base = { floor, ceiling: latest, inside: floor + (latest - floor) / 2n, zero: 0n, max: MAX_U64 }[st.at]
  const t = base + st.delta
  return t < 0n ? 0n : t > MAX_U64 ? MAX_U64 : t
}

/** Builds the linked chain of the scenario, then damages it as its mutation says. */
function build(s: Scenario): ProofEntry[] {
  const { id } = channels.get(s.n)!
  let prev = rand32()
  let floor = channels.get(s.n)!.genesis
  let entries: ProofEntry[] = s.steps.slice(0, s.length).map((st, k) => {
    const timestamp = resolveStamp(st.timestamp, floor)
    const transaction: Transaction = {
      channelId: id, fork: 0n, seq: (s.start + BigInt(k)) & MAX_U64, timestamp, actor: st.actor,
      previousStateHash: prev, data: st.data, stateHash: rand32(),
    }
    prev = transaction.stateHash
    floor = timestamp
    const own = st.actor < s.n ? 1n << BigInt(st.actor) : 0n
    return { transaction, signers: (st.author ? st.others | own : st.others & ~own) | st.stray }
  })
  const j = s.pick % entries.length
  const edit = (over: Partial<Transaction>) => (entries[j] = { ...entries[j]!, transaction: { ...entries[j]!.transaction, ...over } })
  switch (s.mutation) {
    case 'shuffle': entries = entries.map((e, i) => ({ e, key: s.keys[i]! })).sort((a, b) => a.key - b.key).map((x) => x.e); break
    case 'dropFront': entries = entries.slice(j); break
    case 'dropBack': entries = entries.slice(0, Math.max(1, j)); break
    case 'brokenLink': edit({ previousStateHash: rand32() }); break
    case 'seqJump': edit({ seq: s.seq }); break
    case 'seqZero': edit({ seq: 0n }); break
    case 'wrongFork': edit({ fork: 1n + (s.seq % 5n) }); break
    case 'wrongChannel': edit({ channelId: rand32() }); break
    case 'empty': entries = []; break
  }
  return entries
}

/** Which bounds an accepted proof sits exactly on (so the property shows the bounds are inclusive). */
function boundsHit(n: number, entries: ProofEntry[]): string[] {
  const hit: string[] = []
  entries.forEach(({ transaction: t }, i) => {
    if ((t.data.length - 2) / 2 === MAX_DATA_BYTES) hit.push('data = max')
    if (i === 0 && t.timestamp === channels.get(n)!.genesis) hit.push('timestamp = genesis')
    if (i > 0 && t.timestamp === entries[i - 1]!.transaction.timestamp) hit.push('timestamp = parent')
    if (t.timestamp === latest) hit.push('timestamp = latest')
  })
  return hit
}

test('contract verifier = TS reference on random proofs (same verdict, error and result)', async (t) => {
  const seen = new Map<string, number>()
  const count = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1)
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      const entries = build(s)
      const ref = checkFinalityProof(ctx(s.n), entries)
      assertSame(ref, await onChain(s.n, entries))
      // checkList is the same rule for lists that need not be final (timeout candidates).
      const list = checkList(ctx(s.n), entries)
      if (!ref.final && ref.fault !== 'ProofNotFinal' && entries.length > 0) assert.deepEqual(list, { ok: false, fault: ref.fault, index: ref.index })
      else if (entries.length > 0) assert.equal(list.ok, true)
      count(ref.final ? 'final' : ref.fault)
      if (ref.final) boundsHit(s.n, entries).forEach((b) => count(`final with ${b}`))
    }),
    { numRuns: 300, seed: 20261205 },
  )
  // The generator must reach both sides of every bound and most faults, or the comparison
  // proves little.
  const report = JSON.stringify([...seen])
  t.diagnostic(`verdicts: ${report}`)
  assert.ok((seen.get('final') ?? 0) >= 10, `accepted proofs: ${report}`)
  for (const key of ['ProofDataTooLarge', 'ProofTimestampInvalid', 'ProofNotFinal', 'ProofNotLinked', 'ProofActorNotSigned']) {
    assert.ok((seen.get(key) ?? 0) >= 3, `${key} seen: ${report}`)
  }
  for (const b of ['data = max', 'timestamp = genesis', 'timestamp = parent', 'timestamp = latest']) {
    assert.ok((seen.get(`final with ${b}`) ?? 0) >= 1, `accepted with ${b}: ${report}`)
  }
  assert.ok(seen.size >= 12, `verdicts seen: ${report}`)
})

const INSIDE: Stamp = { at: 'inside', delta: 0n }

const honest = fc.integer({ min: 2, max: 8 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    signers: fc.array(fc.bigInt({ min: 0n, max: fullBitmap(n) }), { minLength: 1, maxLength: 2 * n }),
  }),
)

test('proofLength and latestFinal name exactly the shortest proofs the contract accepts', async () => {
  await fc.assert(
    fc.asyncProperty(honest, async ({ n, signers: raw }) => {
      const active = fullBitmap(n)
      const s: Scenario = { n, start: 1n, length: raw.length, mutation: 'none', pick: 0, keys: [], seq: 1n, steps: raw.map((others, k) => ({ actor: k % n, others, author: true, stray: 0n, timestamp: INSIDE, data: '0x' })) }
      const chain = build(s)
      const signers = chain.map((e) => e.signers)
      const checks = chain.map(async (_, k) => {
        const len = proofLength(signers, k, active)
        if (len > 0) {
          assert.deepEqual(await onChain(n, chain.slice(k, k + len)), { final: true, stateHash: chain[k]!.transaction.stateHash, seq: BigInt(k + 1) })
          if (len > 1) assert.equal((await onChain(n, chain.slice(k, k + len - 1))).final, false)
        } else {
          const v = await onChain(n, chain.slice(k, k + n))
          assert.ok(!v.final && v.fault === 'ProofNotFinal', `entry ${k} must not be provable`)
        }
        return len > 0
      })
      const provable = await Promise.all(checks)
      assert.equal(latestFinal(signers, active), provable.lastIndexOf(true))
    }),
    { numRuns: 30, seed: 20261206 },
  )
})

test('virtual voting: three txs each signed by its author alone prove the first', async () => {
  const { id, parts } = channels.get(3)!
  const s: Scenario = { n: 3, start: 7n, length: 3, mutation: 'none', pick: 0, keys: [], seq: 1n, steps: [0, 1, 2].map((a) => ({ actor: a, others: 0n, author: true, stray: 0n, timestamp: INSIDE, data: '0x' })) }
  const chain = build(s)
  const [h, seq] = await f.manager.getFunction('verifyFinalityProof')(id, parts, pack(3, chain))
  assert.deepEqual([h, seq], [chain[0]!.transaction.stateHash, 7n])
  await expectRevert(f.manager.getFunction('verifyFinalityProof')(id, parts, pack(3, chain.slice(1))), 'ProofNotFinal', [0b001n])
})

test('a link after seq 2^64-1 is ProofNotLinked (no overflow panic)', async () => {
  const { id, parts, genesis } = channels.get(2)!
  const a: Transaction = { channelId: id, fork: 0n, seq: MAX_U64, timestamp: genesis, actor: 0, previousStateHash: rand32(), data: '0x', stateHash: rand32() }
  const b: Transaction = { ...a, seq: 5n, actor: 1, previousStateHash: a.stateHash, stateHash: rand32() }
  const entries = [{ transaction: a, signers: 0b01n }, { transaction: b, signers: 0b10n }]
  const ref = checkFinalityProof(ctx(2), entries)
  assert.deepEqual(ref, { final: false, fault: 'ProofNotLinked', index: 1 })
  await expectRevert(f.manager.getFunction('verifyFinalityProof')(id, parts, pack(2, entries)), 'ProofNotLinked', [1])
})

test('unknown channel → ChannelNotOpen; wrong list → ChannelParticipantsMismatch', async () => {
  const { id, parts } = channels.get(2)!
  const other = rand32()
  await expectRevert(f.manager.getFunction('verifyFinalityProof')(other, parts, []), 'ChannelNotOpen', [other, 0])
  await expectRevert(f.manager.getFunction('verifyFinalityProof')(id, [parts[1], parts[0]], []), 'ChannelParticipantsMismatch', [id])
})
