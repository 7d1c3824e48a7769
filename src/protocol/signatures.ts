/**
 * Signing and recovery of protocol digests (secp256k1, as Ethereum), and the packed on-chain
 * form (signer bitmap + 65-byte signatures in ascending participant order). Pure functions.
 */
import { Signature, SigningKey, concat, getBytes, recoverAddress } from 'ethers'
import { ProtocolError } from '../errors/ParleyError.js'
import { bitmapOf } from './bitmap.js'
import type { Hex, PackedSignedTransaction, SignedTransaction } from './types.js'

/** Half the secp256k1 group order: signatures with a larger s are malleable and rejected. */
export const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

/**
 * Signs a 32-byte digest; returns the 65-byte (r, s, v) signature with low s and v ∈ {27, 28}.
 * @example const sig = signDigest(wallet.signingKey, hasher.transaction(tx))
 */
export function signDigest(key: SigningKey, digest: Hex): Hex {
  return key.sign(digest).serialized as Hex
}

/**
 * Recovers the signer of `digest`. Throws ProtocolError `SIGNATURE_MALFORMED` for a wrong
 * length or bad v, `SIGNATURE_MALLEABLE` for a high s — the same rules as OpenZeppelin's ECDSA.
 */
export function recoverSigner(digest: Hex, signature: Hex): Hex {
  const b = getBytes(signature)
  if (b.length !== 65) {
    throw new ProtocolError('SIGNATURE_MALFORMED', `signature must be 65 bytes, got ${b.length}`)
  }
  const v = b[64]!
  if (v !== 27 && v !== 28) throw new ProtocolError('SIGNATURE_MALFORMED', `signature v must be 27 or 28, got ${v}`)
  const s = BigInt('0x' + Buffer.from(b.subarray(32, 64)).toString('hex'))
  if (s > SECP256K1_HALF_N) throw new ProtocolError('SIGNATURE_MALLEABLE', 'signature s is in the upper half order')
  try {
    return recoverAddress(digest, Signature.from(signature)).toLowerCase() as Hex
  } catch (cause) {
    throw new ProtocolError('SIGNATURE_MALFORMED', 'signature does not recover to an address', { cause })
  }
}

/** Concatenates signatures in ascending participant order, with their bitmap. */
export function packSignatures(signatures: ReadonlyMap<number, Hex>): { signers: bigint; signatures: Hex } {
  const indices = [...signatures.keys()].sort((a, b) => a - b)
  return {
    signers: bitmapOf(indices),
    signatures: (indices.length === 0 ? '0x' : concat(indices.map((i) => signatures.get(i)!))) as Hex,
  }
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
