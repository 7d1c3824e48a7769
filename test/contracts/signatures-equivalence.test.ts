/**
 * The library Signatures recovers in one assembly loop around the ecrecover precompile; this
 * file holds it to OpenZeppelin's ECDSA.tryRecover rules. SignaturesHarness runs the library and
 * a reference that checks each signature with OZ's tryRecover (the implementation before the
 * assembly loop) on the same input; both must accept, or revert with the same bytes (error and
 * arguments), for random signer sets of 1..64 participants with valid, malleable, malformed,
 * foreign, swapped and random signatures and wrong lengths. A sweep over all 64 bitmap
 * positions checks the set-bit walk (a de Bruijn table) names every index right.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Contract, Wallet, hexlify } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { contractInterface } from '../../src/contracts/artifacts.js'
import { deploy } from '../../src/chain/deploy.js'
import { SECP256K1_HALF_N } from '../../src/protocol/signatures.js'
import type { Hex } from '../../src/protocol/types.js'
import { SECP256K1_N, highS, join, signEach, trim, withV, withWord } from '../helpers/sigs.js'

const POOL = 66 // 64 possible participants and two strangers
const RUNS = 300
let anvil: Anvil
let harness: Contract
let pool: Wallet[]

before(async () => {
  anvil = await startAnvil({ accounts: 1 })
  harness = (await deploy('SignaturesHarness', anvil.wallets[0]!)) as unknown as Contract
  // Deterministic keys (1, 2, …) keep failures reproducible from fast-check's seed alone.
  pool = Array.from({ length: POOL }, (_, i) => new Wallet('0x' + (BigInt(i) + 1n).toString(16).padStart(64, '0')))
})
after(() => anvil.stop())

const iface = contractInterface('SignaturesHarness')
const word = (v: bigint) => '0x' + v.toString(16).padStart(64, '0')

interface Outcome { ok: boolean; data: string }
/** Both implementations on one input, in one eth_call. */
async function compare(digest: Hex, participants: readonly string[], signers: bigint, sigs: Hex): Promise<[Outcome, Outcome]> {
  const [ok, data, okRef, dataRef] = (await harness.getFunction('compare')(digest, participants, signers, sigs)) as [boolean, string, boolean, string]
  return [{ ok, data }, { ok: okRef, data: dataRef }]
}
/** The outcome's name: 'accepted' or the custom error. */
function outcomeName(o: Outcome): string {
  if (o.ok) return 'accepted'
  return iface.parseError(o.data)?.name ?? `raw ${o.data}`
}

/** How one signer's entry is made. */
type Entry =
  | { kind: 'own' | 'highS' | 'r0' | 's0' | 'rAtN' | 'otherDigest' }
  | { kind: 'v'; v: number }
  | { kind: 'rRandom' | 'sRandom'; value: bigint }
  | { kind: 'foreign'; who: number }
  | { kind: 'random'; bytes: Uint8Array }

const entry: fc.Arbitrary<Entry> = fc.oneof(
  { weight: 12, arbitrary: fc.constant({ kind: 'own' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'highS' as const }) },
  { weight: 1, arbitrary: fc.constantFrom(...(['r0', 's0', 'rAtN', 'otherDigest'] as const)).map((kind) => ({ kind })) },
  { weight: 2, arbitrary: fc.oneof(fc.constantFrom(0, 1, 26, 27, 28, 29, 255), fc.integer({ min: 0, max: 255 })).map((v) => ({ kind: 'v' as const, v })) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('rRandom' as const, 'sRandom' as const), value: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }) }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: POOL - 1 }).map((who) => ({ kind: 'foreign' as const, who })) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 65, maxLength: 65 }).map((bytes) => ({ kind: 'random' as const, bytes })) },
)

const scenario = fc.record({
  digest: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b) as Hex),
  // A permutation of the pool; the first n are the participants, the rest strangers.
  order: fc.shuffledSubarray(Array.from({ length: POOL }, (_, i) => i), { minLength: POOL, maxLength: POOL }),
  n: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 64 })),
  zeroParticipant: fc.option(fc.nat(63), { freq: 8 }),
  mask: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  outOfRange: fc.nat(3).map((x) => x === 0),
  entries: fc.array(entry, { minLength: 64, maxLength: 64 }),
  lengthDelta: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -70, max: 70 }) }),
})

function entryFor(e: Entry, self: Wallet, digest: Hex, other: Hex): Hex {
  const own = signEach([self], digest)[0]!
  switch (e.kind) {
    case 'own': return own
    case 'highS': return highS(own)
    case 'r0': return withWord(own, 0, 0n)
    case 's0': return withWord(own, 1, 0n)
    case 'rAtN': return withWord(own, 0, SECP256K1_N)
    case 'otherDigest': return signEach([self], other)[0]!
    case 'v': return withV(own, e.v)
    case 'rRandom': return withWord(own, 0, e.value)
    case 'sRandom': return withWord(own, 1, e.value)
    case 'foreign': return signEach([pool[e.who]!], digest)[0]!
    case 'random': return hexlify(e.bytes) as Hex
  }
}

describe('Signatures (assembly) ≡ OpenZeppelin ECDSA.tryRecover reference', () => {
  test(`${RUNS} random signer sets: same acceptance, same revert bytes`, async () => {
    const seen = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(scenario, async (c) => {
        const members = c.order.slice(0, c.n).map((i) => pool[i]!)
        const participants = members.map((w, i) => (i === c.zeroParticipant ? '0x' + '00'.repeat(20) : w.address))
        const inRange = c.n >= 64 ? c.mask : c.mask & ((1n << BigInt(c.n)) - 1n)
        // Mostly in range; sometimes the raw 64-bit mask (bits beyond n).
        const signers = c.outOfRange ? c.mask : inRange
        const other = hexlify(Buffer.from(c.digest.slice(2), 'hex').map((b) => b ^ 0xff)) as Hex
        const sigs: Hex[] = []
        for (let i = 0; i < 64; i++) {
          if ((signers >> BigInt(i)) & 1n) sigs.push(entryFor(c.entries[i]!, members[i] ?? pool[POOL - 1]!, c.digest, other))
        }
        // lengthDelta > 0 appends zero bytes, < 0 drops bytes (at most all of them).
        const packed = trim(join(sigs), Math.min(-c.lengthDelta, 65 * sigs.length))
        const [lib, ref] = await compare(c.digest, participants, signers, packed)
        const name = outcomeName(ref)
        seen.set(name, (seen.get(name) ?? 0) + 1)
        assert.deepEqual(lib, ref, `library ${outcomeName(lib)} vs reference ${name}`)
      }),
      // A fixed seed (FC_SEED overrides): the coverage check below must not depend on luck.
      { numRuns: RUNS, seed: Number(process.env.FC_SEED ?? 20261206) },
    )
    // The generator must reach every outcome, or the property proves less than it claims.
    for (const name of ['accepted', 'SignerIndexOutOfRange', 'SignaturesLengthInvalid', 'SignatureMalleable', 'SignatureInvalid',
      'SignerNotParticipant', 'SignatureDuplicate', 'SignerMismatch']) {
      assert.ok((seen.get(name) ?? 0) > 0, `no case reached ${name}: ${JSON.stringify([...seen])}`)
    }
  })

  test('every bitmap position: a lone signer is found, a bad entry is named by its index', async () => {
    const digest = word(0xabcdefn) as Hex
    const members = pool.slice(0, 64)
    const participants = members.map((w) => w.address)
    const sigs = signEach(members, digest)
    const all = (1n << 64n) - 1n
    const [libAll, refAll] = await compare(digest, participants, all, join(sigs))
    assert.deepEqual(libAll, { ok: true, data: iface.encodeFunctionResult('verify', [true]) })
    assert.deepEqual(libAll, refAll)
    for (let i = 0; i < 64; i++) {
      const bit = 1n << BigInt(i)
      const [lone, loneRef] = await compare(digest, participants, bit, sigs[i]!)
      assert.ok(lone.ok, `participant ${i} alone`)
      assert.deepEqual(lone, loneRef)
      // Participant i's malleable twin inside the full set; the next one's signature in its slot.
      const twin = sigs.map((s, j) => (j === i ? highS(s) : s))
      const [bad] = await compare(digest, participants, all, join(twin))
      assert.equal(bad.data, iface.encodeErrorResult('SignatureMalleable', [i]))
      const swapped = sigs.map((s, j) => (j === i ? sigs[(i + 1) % 64]! : s))
      const [dup, dupRef] = await compare(digest, participants, all, join(swapped))
      assert.equal(dup.data, iface.encodeErrorResult('SignatureDuplicate', [i, members[(i + 1) % 64]!.address]))
      assert.deepEqual(dup, dupRef)
    }
  })

  test(`${RUNS} single signers: verifyOne (a move's author) ≡ the reference on the set {i}`, async () => {
    const single = fc.record({
      digest: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b) as Hex),
      order: fc.shuffledSubarray(Array.from({ length: POOL }, (_, i) => i), { minLength: POOL, maxLength: POOL }),
      n: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 64 })),
      // Mostly a participant's index; sometimes one past the list, or beyond 64.
      at: fc.oneof({ weight: 8, arbitrary: fc.double({ min: 0, max: 0.999, noNaN: true }) }, { weight: 1, arbitrary: fc.constantFrom(1, 1.5, 3) }),
      zeroParticipant: fc.boolean(),
      entry,
      lengthDelta: fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -65, max: 70 }) }),
    })
    const seen = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(single, async (sc) => {
        const members = sc.order.slice(0, sc.n).map((k) => pool[k]!)
        const participants = members.map((w) => w.address)
        const i = Math.floor(sc.at * sc.n)
        const self = members[Math.min(i, sc.n - 1)]!
        if (sc.zeroParticipant && i < sc.n) participants[i] = '0x' + '00'.repeat(20)
        let sig = entryFor(sc.entry, self, sc.digest, word(1n) as Hex)
        if (sc.lengthDelta !== 0) sig = trim(sig, sc.lengthDelta)
        const [ok, data, okRef, dataRef] = (await harness.getFunction('compareOne')(sc.digest, participants, i, sig)) as [boolean, string, boolean, string]
        const lib = { ok, data: ok ? iface.encodeFunctionResult('verify', [true]) : data }
        assert.deepEqual(lib, { ok: okRef, data: dataRef }, `n=${sc.n} i=${i} entry=${sc.entry.kind}`)
        seen.set(outcomeName(lib), (seen.get(outcomeName(lib)) ?? 0) + 1)
      }),
      { numRuns: RUNS },
    )
    // The run reached both the fast path and the errors the slow path names.
    assert.ok((seen.get('accepted') ?? 0) > RUNS / 8, JSON.stringify([...seen]))
    for (const name of ['SignatureMalleable', 'SignerMismatch', 'SignaturesLengthInvalid']) assert.ok(seen.has(name), `${name}: ${JSON.stringify([...seen])}`)
  })

  test('s exactly at the bound is accepted by the precompile rules, one above is malleable', async () => {
    // OZ rejects s > secp256k1n / 2 only; s = n / 2 itself goes to ecrecover (here: an invalid
    // or foreign signature, never SignatureMalleable).
    const digest = word(7n) as Hex
    const participants = [pool[0]!.address]
    const own = signEach([pool[0]!], digest)[0]!
    for (const s of [SECP256K1_HALF_N, SECP256K1_HALF_N + 1n]) {
      const [lib, ref] = await compare(digest, participants, 1n, withWord(own, 1, s))
      assert.deepEqual(lib, ref)
      assert.equal(outcomeName(lib) === 'SignatureMalleable', s > SECP256K1_HALF_N)
    }
  })
})
