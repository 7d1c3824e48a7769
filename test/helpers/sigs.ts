/**
 * Signature tampering for revert tests: malleable twins, bad v, wrong lengths, concatenation;
 * the reverts every close entry point shares.
 */
import { concat, getBytes, hexlify, type Wallet } from 'ethers'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { signDigest } from '../../src/protocol/signatures.js'
import type { Hex } from '../../src/protocol/types.js'
import { expectRevert } from './revert.js'

/** secp256k1 group order. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

/** Each wallet's signature over `digest`, in the given order. */
export function signEach(wallets: readonly Wallet[], digest: Hex): Hex[] {
  return wallets.map((w) => signDigest(w.signingKey, digest))
}

/** Concatenates 65-byte signatures. */
export function join(sigs: readonly Hex[]): Hex {
  return (sigs.length === 0 ? '0x' : concat(sigs)) as Hex
}

/** The malleable twin of a valid signature: s' = n - s and v flipped; recovers the same signer. */
export function highS(sig: Hex): Hex {
  const b = getBytes(sig)
  const s = BigInt(hexlify(b.subarray(32, 64)))
  const out = new Uint8Array(b)
  out.set(getBytes('0x' + (SECP256K1_N - s).toString(16).padStart(64, '0')), 32)
  out[64] = b[64] === 27 ? 28 : 27
  return hexlify(out) as Hex
}

/** `sig` with its v byte replaced. */
export function withV(sig: Hex, v: number): Hex {
  const out = new Uint8Array(getBytes(sig))
  out[64] = v
  return hexlify(out) as Hex
}

/** `sig` with r (word 0) or s (word 1) replaced by `value`. */
export function withWord(sig: Hex, word: 0 | 1, value: bigint): Hex {
  const out = new Uint8Array(getBytes(sig))
  out.set(getBytes('0x' + value.toString(16).padStart(64, '0')), 32 * word)
  return hexlify(out) as Hex
}

/** Drops the last `n` bytes (or appends -n zero bytes when n < 0). */
export function trim(sig: Hex, n: number): Hex {
  const b = getBytes(sig)
  return hexlify(n >= 0 ? b.subarray(0, b.length - n) : concat([b, new Uint8Array(-n)])) as Hex
}

/**
 * The reverts every close entry point shares, for a channel whose participants `ws` are all
 * active, closing on state hash `h` with `payouts`: one consent fewer (the wrong length), consents
 * on another fork or over other payouts, and a member in `others` (a list the record does not
 * commit to). `call(signatures, others, payouts)` sends close, closeAndPay or closeToClaims.
 */
export async function expectSharedCloseReverts(
  hasher: ParleyHasher,
  ws: readonly Wallet[],
  id: Hex,
  h: Hex,
  payouts: readonly bigint[],
  call: (signatures: Hex, others: Hex[], payouts: bigint[]) => Promise<unknown>,
): Promise<void> {
  const sign = (fork: bigint, terms: readonly bigint[], by = ws) => join(signEach(by, hasher.close(id, fork, h, [...terms])))
  const n = BigInt(ws.length)
  await expectRevert(call(sign(0n, payouts, ws.slice(1)), [], [...payouts]), 'SignaturesLengthInvalid', [65n * n, 65n * (n - 1n)])
  await expectRevert(call(sign(1n, payouts), [], [...payouts]), 'CloseSignersMismatch', [id])
  await expectRevert(call(sign(0n, [...payouts].reverse()), [], [...payouts]), 'CloseSignersMismatch', [id])
  await expectRevert(call(sign(0n, payouts), [ws[0]!.address as Hex], [...payouts]), 'CloseSignersMismatch', [id])
}
