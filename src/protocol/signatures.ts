/**
 * Signing and recovery of protocol digests (secp256k1, as Ethereum), and the packed on-chain
 * form (signer bitmap + 65-byte signatures in ascending participant order). Pure functions.
 *
 * ECDSA runs in libsecp256k1 (npm `secp256k1`, native binding; the package falls back to
 * pure JS where no binary loads): every tx costs each peer one signature and up to N − 1
 * recoveries, and the pure-JS curve code was most of the client's CPU time. Signatures are
 * identical to ethers' (RFC 6979 nonces, low s); the tests check both libraries agree.
 */
import { concat } from 'ethers'
import secp256k1 from 'secp256k1'
import { ProtocolError, UsageError } from '../errors/ParleyError.js'
import { bitIndices, bitmapOf } from './bitmap.js'
import { bytesToHex, isHex } from './hex.js'
import { keccak256 } from './keccak.js'
import type { Hex, PackedSignedTransaction, SignedTransaction } from './types.js'

/** Half the secp256k1 group order: signatures with a larger s are malleable and rejected. */
export const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n
/** The same, as 32 big-endian bytes: s is compared byte-wise, as it sits in the signature. */
const HALF_N_BYTES = Buffer.from(SECP256K1_HALF_N.toString(16).padStart(64, '0'), 'hex')

/** Anything holding a secp256k1 private key as 32-byte hex, such as an ethers `SigningKey`. */
export interface PrivateKeyHolder {
  readonly privateKey: string
}

/** Bytes of a 32-byte hex value, or undefined if it is not one. */
function bytes32(hex: unknown): Buffer | undefined {
  return isHex(hex, 32) ? Buffer.from(hex.slice(2), 'hex') : undefined
}

/**
 * Signs a 32-byte digest; returns the 65-byte (r, s, v) signature, lowercase hex, with low s
 * and v ∈ {27, 28}. `key` is an ethers `SigningKey` (or anything with its `privateKey`).
 * Throws UsageError `DIGEST_INVALID` or `SIGNER_INVALID` for a bad digest or key.
 * @example const sig = signDigest(wallet.signingKey, hasher.transaction(tx))
 */
export function signDigest(key: PrivateKeyHolder, digest: Hex): Hex {
  const message = bytes32(digest)
  if (!message) throw new UsageError('DIGEST_INVALID', 'a digest must be 32-byte 0x-hex', { details: { digest } })
  const secret = bytes32(key?.privateKey)
  let signed: { signature: Uint8Array; recid: number }
  try {
    if (!secret) throw new TypeError('privateKey is not 32-byte 0x-hex')
    signed = secp256k1.ecdsaSign(message, secret)
  } catch (cause) {
    throw new UsageError('SIGNER_INVALID', 'the signing key is not a valid secp256k1 private key', { cause })
  }
  // libsecp256k1 always returns the low-s form, with the recovery id adjusted to it.
  return `${bytesToHex(signed.signature)}${(27 + signed.recid).toString(16)}`
}

/**
 * Recovers the signer of `digest`, as a lowercase address; v may be 0 / 1 or 27 / 28, as the
 * contract accepts. Throws ProtocolError `SIGNATURE_MALFORMED` for a wrong length (a 64-byte
 * EIP-2098 signature must go through {@link normalizeSignature} first), bad v or an (r, s) that recovers no key, and
 * `SIGNATURE_MALLEABLE` for a high s — the same rules as OpenZeppelin's ECDSA.
 * @example if (recoverSigner(digest, signature) !== participants[actor]) reject()
 */
export function recoverSigner(digest: Hex, signature: Hex): Hex {
  if (!isHex(signature)) throw new ProtocolError('SIGNATURE_MALFORMED', 'signature must be 0x-prefixed hex')
  const b = Buffer.from(signature.slice(2), 'hex')
  if (b.length !== 65) {
    throw new ProtocolError('SIGNATURE_MALFORMED', `signature must be 65 bytes, got ${b.length}`)
  }
  // v = 0 / 1 (the raw recovery id hardware wallets return) counts as 27 / 28, as on-chain.
  const v = b[64]! < 2 ? b[64]! + 27 : b[64]!
  if (v !== 27 && v !== 28) throw new ProtocolError('SIGNATURE_MALFORMED', `signature v must be 0, 1, 27 or 28, got ${v}`)
  if (b.compare(HALF_N_BYTES, 0, 32, 32, 64) > 0) throw new ProtocolError('SIGNATURE_MALLEABLE', 'signature s is in the upper half order')
  const message = bytes32(digest)
  if (!message) throw new ProtocolError('SIGNATURE_MALFORMED', 'the signed digest is not 32-byte hex')
  let publicKey: Uint8Array
  try {
    // r = 0, r ≥ n, s = 0 or no curve point for r: libsecp256k1 throws.
    publicKey = secp256k1.ecdsaRecover(b.subarray(0, 64), v - 27, message, false)
  } catch (cause) {
    throw new ProtocolError('SIGNATURE_MALFORMED', 'signature does not recover to an address', { cause })
  }
  // Address = the last 20 bytes of keccak256(x ‖ y) of the uncompressed key (minus its 0x04 prefix).
  return bytesToHex(keccak256(publicKey.subarray(1)).subarray(12))
}

/**
 * The 65-byte (r, s, v ∈ {27, 28}) form the contracts and peers take, of a signature as a wallet
 * may return it: 65 bytes with v = 0 / 1 or 27 / 28, or 64-byte EIP-2098 compact (r, yParity·2²⁵⁵
 * + s). A high s is kept as it is (and refused by every verifier): normalising never makes a
 * malleable signature acceptable. Throws ProtocolError `SIGNATURE_MALFORMED` for another length
 * or v.
 * @example const sig = normalizeSignature(await wallet.signTypedData(domain, types, message))
 */
export function normalizeSignature(signature: string): Hex {
  if (!isHex(signature)) throw new ProtocolError('SIGNATURE_MALFORMED', 'signature must be 0x-prefixed hex')
  const b = Buffer.from(signature.slice(2), 'hex')
  if (b.length === 64) {
    const yParity = b[32]! >> 7
    const out = Buffer.alloc(65)
    b.copy(out, 0, 0, 64)
    out[32] = b[32]! & 0x7f
    out[64] = 27 + yParity
    return bytesToHex(out)
  }
  if (b.length !== 65) throw new ProtocolError('SIGNATURE_MALFORMED', `signature must be 64 or 65 bytes, got ${b.length}`)
  const v = b[64]! < 2 ? b[64]! + 27 : b[64]!
  if (v !== 27 && v !== 28) throw new ProtocolError('SIGNATURE_MALFORMED', `signature v must be 0, 1, 27 or 28, got ${b[64]}`)
  const out = Buffer.from(b)
  out[64] = v
  return bytesToHex(out)
}

/** Concatenates signatures in ascending participant order, with their bitmap. */
export function packSignatures(signatures: ReadonlyMap<number, Hex>): { signers: bigint; signatures: Hex } {
  const indices = [...signatures.keys()].sort((a, b) => a - b)
  return {
    signers: bitmapOf(indices),
    signatures: (indices.length === 0 ? '0x' : concat(indices.map((i) => signatures.get(i)!))) as Hex,
  }
}

/**
 * The inverse of {@link packSignatures}: splits a bitmap and its concatenated 65-byte
 * signatures (ascending index order) into a map; a truncated tail is left out.
 * @example unpackSignatures(0b101n, concat([sigA, sigC])) // Map { 0 => sigA, 2 => sigC }
 */
export function unpackSignatures(signers: bigint, signatures: Hex): Map<number, Hex> {
  const out = new Map<number, Hex>()
  bitIndices(signers).forEach((i, k) => {
    const s = signatures.slice(2 + k * 130, 2 + (k + 1) * 130)
    if (s.length === 130) out.set(i, `0x${s.toLowerCase()}` as Hex)
  })
  return out
}

/** The contract's encoding of a signed transaction, restricted to `only` signers if given. */
export function packSignedTransaction(st: SignedTransaction, only?: Iterable<number>): PackedSignedTransaction {
  let sigs: ReadonlyMap<number, Hex> = st.signatures
  if (only) {
    const keep = new Set(only)
    sigs = new Map([...st.signatures].filter(([i]) => keep.has(i)))
  }
  return { transaction: st.transaction, ...packSignatures(sigs) }
}
