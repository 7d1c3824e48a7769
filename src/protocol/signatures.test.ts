/**
 * The native ECDSA (libsecp256k1) against ethers' pure-JS ECDSA as the reference: the same
 * signatures for random keys and digests, the same recovered addresses, and the same verdict
 * (address or error code) for arbitrary 65-byte inputs — well-formed, malleable or garbage.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Signature, SigningKey, Wallet, recoverAddress } from 'ethers'
import secp256k1 from 'secp256k1'
import { ParleyError, ProtocolError } from '../errors/ParleyError.js'
import { SECP256K1_HALF_N, normalizeSignature, packSignatures, recoverSigner, signDigest, unpackSignatures } from './signatures.js'
import type { Hex } from './types.js'

const N = 2n * SECP256K1_HALF_N + 1n
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}` as Hex
const word = (v: bigint) => v.toString(16).padStart(64, '0')

const privateKey = fc.bigInt({ min: 1n, max: N - 1n }).map((k) => `0x${word(k)}` as Hex)
const digest = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hex)

/** The verdict of `fn`: its result, or the ParleyError code it throws. */
function verdict(fn: () => string): string {
  try {
    return fn()
  } catch (e) {
    if (e instanceof ParleyError) return e.code
    throw e
  }
}

/** The previous implementation (ethers / noble), kept as the reference of the rules. */
function referenceRecover(d: Hex, signature: Hex): string {
  const b = Buffer.from(signature.slice(2), 'hex')
  if (b.length !== 65) return 'SIGNATURE_MALFORMED'
  // The contract (and so recoverSigner) reads v = 0 / 1 as 27 / 28.
  if (![0, 1, 27, 28].includes(b[64]!)) return 'SIGNATURE_MALFORMED'
  if (BigInt(hex(b.subarray(32, 64))) > SECP256K1_HALF_N) return 'SIGNATURE_MALLEABLE'
  try {
    return recoverAddress(d, Signature.from(signature)).toLowerCase()
  } catch {
    return 'SIGNATURE_MALFORMED'
  }
}

test('signDigest equals ethers’ signature (RFC 6979, low s) and recoverSigner returns the address', () => {
  fc.assert(
    fc.property(privateKey, digest, (k, d) => {
      const key = new SigningKey(k)
      const sig = signDigest(key, d)
      assert.equal(sig, key.sign(d).serialized)
      assert.equal(recoverSigner(d, sig), new Wallet(k).address.toLowerCase())
      assert.equal(recoverSigner(d, sig), recoverAddress(d, sig).toLowerCase())
    }),
    { numRuns: 150 },
  )
})

test('signDigest takes a Wallet’s signingKey or any holder of a private key', () => {
  const w = Wallet.createRandom()
  const d = hex(new Uint8Array(32).fill(7))
  assert.equal(signDigest({ privateKey: w.privateKey }, d), signDigest(w.signingKey, d))
  assert.equal(verdict(() => signDigest(w.signingKey, '0x1234')), 'DIGEST_INVALID')
  assert.equal(verdict(() => signDigest({ privateKey: `0x${word(0n)}` }, d)), 'SIGNER_INVALID')
  assert.equal(verdict(() => signDigest({ privateKey: `0x${word(N)}` }, d)), 'SIGNER_INVALID')
  assert.equal(verdict(() => signDigest({ privateKey: '0x01' }, d)), 'SIGNER_INVALID')
})

test('recoverSigner agrees with the reference on arbitrary 65-byte signatures', () => {
  // v is 27/28 most of the time so that r and s are exercised; s and r are often out of range.
  const scalar = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.bigInt({ min: 0n, max: SECP256K1_HALF_N + 2n }), fc.constantFrom(0n, 1n, SECP256K1_HALF_N, SECP256K1_HALF_N + 1n, N - 1n, N))
  const v = fc.oneof(fc.constantFrom(27, 28), fc.integer({ min: 0, max: 255 }))
  fc.assert(
    fc.property(digest, scalar, scalar, v, (d, r, s, vv) => {
      const sig = `0x${word(r)}${word(s)}${vv.toString(16).padStart(2, '0')}` as Hex
      assert.equal(verdict(() => recoverSigner(d, sig)), referenceRecover(d, sig))
    }),
    { numRuns: 300 },
  )
})

test('malleable and malformed signatures are rejected with their codes', () => {
  const key = new SigningKey(`0x${word(123456789n)}`)
  const d = hex(new Uint8Array(32).fill(1))
  const sig = signDigest(key, d)
  const r = sig.slice(2, 66)
  const s = BigInt(`0x${sig.slice(66, 130)}`)
  const v = Number.parseInt(sig.slice(130), 16)
  // The high-s twin of a valid signature: the curve accepts it for the same key; OpenZeppelin and we refuse it.
  const twin = `0x${r}${word(N - s)}${(v === 27 ? 28 : 27).toString(16)}` as Hex
  const twinKey = secp256k1.ecdsaRecover(Buffer.from(twin.slice(2, 130), 'hex'), v === 27 ? 1 : 0, Buffer.from(d.slice(2), 'hex'), false)
  assert.equal(hex(twinKey), key.publicKey)
  const cases: [Hex, string][] = [
    [twin, 'SIGNATURE_MALLEABLE'],
    [sig.slice(0, -2) as Hex, 'SIGNATURE_MALFORMED'],
    [`${sig}00`, 'SIGNATURE_MALFORMED'],
    [`0x${r}${word(s)}1d`, 'SIGNATURE_MALFORMED'],
    [`0x${r}${word(s)}02`, 'SIGNATURE_MALFORMED'],
    [`0x${r}${word(s)}1a`, 'SIGNATURE_MALFORMED'],
    [`0x${word(0n)}${word(s)}1b`, 'SIGNATURE_MALFORMED'],
    [`0x${r}${word(0n)}1b`, 'SIGNATURE_MALFORMED'],
    [`0x${word(N)}${word(s)}1b`, 'SIGNATURE_MALFORMED'],
    ['0xzz' as Hex, 'SIGNATURE_MALFORMED'],
    ['0x' as Hex, 'SIGNATURE_MALFORMED'],
  ]
  for (const [bad, code] of cases) {
    assert.equal(verdict(() => recoverSigner(d, bad)), code, bad)
    assert.throws(() => recoverSigner(d, bad), ProtocolError)
  }
  assert.equal(verdict(() => recoverSigner('0x1234', sig)), 'SIGNATURE_MALFORMED')
})

test('unpackSignatures inverts packSignatures for any signer set', () => {
  fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 63 }), { maxLength: 64 }), fc.array(fc.uint8Array({ minLength: 65, maxLength: 65 }), { minLength: 64, maxLength: 64 }), (indices, raw) => {
    const sigs = new Map(indices.map((i) => [i, `0x${Buffer.from(raw[i]!).toString('hex')}` as Hex]))
    const { signers, signatures } = packSignatures(sigs)
    assert.deepEqual(unpackSignatures(signers, signatures), new Map([...sigs].sort(([a], [b]) => a - b)))
  }))
})

test('normalizeSignature: EIP-2098 compact and v = 0 / 1 become the 65-byte v = 27 / 28 form; high s stays refused', () => {
  fc.assert(
    fc.property(privateKey, digest, (k, d) => {
      const sig = signDigest(new SigningKey(k), d)
      const compact = Signature.from(sig).compactSerialized as Hex
      assert.equal(normalizeSignature(compact), sig)
      const raw = `${sig.slice(0, 130)}0${Number.parseInt(sig.slice(130), 16) - 27}` as Hex
      assert.equal(normalizeSignature(raw), sig)
      assert.equal(normalizeSignature(sig), sig)
      assert.equal(recoverSigner(d, raw), recoverSigner(d, sig))
    }),
    { numRuns: 50 },
  )
  const d = hex(new Uint8Array(32).fill(3))
  const sig = signDigest(new SigningKey(`0x${word(42n)}`), d)
  // A compact (r, yParity‖s) with s in the upper half: expanded as it is, then refused as malleable.
  const highCompact = `${sig.slice(0, 66)}${word(SECP256K1_HALF_N + 1n)}` as Hex
  assert.equal(verdict(() => recoverSigner(d, normalizeSignature(highCompact))), 'SIGNATURE_MALLEABLE')
  for (const bad of [sig.slice(0, -4), `${sig}00`, `${sig.slice(0, 130)}1d`, '0xzz']) {
    assert.equal(verdict(() => normalizeSignature(bad)), 'SIGNATURE_MALFORMED', bad)
  }
})
