/**
 * The manager's signature-set check (contracts/libraries/Signatures.sol `verify`) composed from
 * the client's recovery (`recoverSigner`, OpenZeppelin's rules): the verdict on a signer bitmap
 * and its concatenated 65-byte signatures over one digest.
 */
import { bitCount, bitIndices, hasBit } from '../bitmap.js'
import { SECP256K1_HALF_N, recoverSigner } from '../signatures.js'
import type { Hex } from '../types.js'
import type { AdmissionVerdict } from './types.js'

/**
 * `'ok'` when every bit of `signers` is backed by that participant's signature, else the error
 * `Signatures.verify` reverts with: SignerIndexOutOfRange, SignaturesLengthInvalid, then per
 * signer in ascending index SignatureMalleable (s in the upper half, checked before recovery),
 * SignatureInvalid (no recovery: bad v, r or s out of range), SignatureDuplicate (another
 * signer's key), SignerMismatch (another participant's key) or SignerNotParticipant.
 *
 * @example signaturesVerdict(hasher.transaction(t), participants, 0b101n, concat([sigA, sigC])) // 'ok'
 */
export function signaturesVerdict(digest: Hex, participants: readonly Hex[], signers: bigint, signatures: Hex): AdmissionVerdict {
  const n = participants.length
  if (n < 64 && signers >> BigInt(n) !== 0n) return 'SignerIndexOutOfRange'
  if ((signatures.length - 2) / 2 !== 65 * bitCount(signers)) return 'SignaturesLengthInvalid'
  const lower = participants.map((p) => p.toLowerCase())
  for (const [k, i] of bitIndices(signers).entries()) {
    const sig = `0x${signatures.slice(2 + 130 * k, 2 + 130 * (k + 1))}` as Hex
    if (BigInt(`0x${sig.slice(66, 130)}`) > SECP256K1_HALF_N) return 'SignatureMalleable'
    let recovered: string
    try {
      recovered = recoverSigner(digest, sig)
    } catch {
      return 'SignatureInvalid'
    }
    if (recovered === lower[i]) continue
    const j = lower.indexOf(recovered)
    if (j < 0) return 'SignerNotParticipant'
    return hasBit(signers, j) ? 'SignatureDuplicate' : 'SignerMismatch'
  }
  return 'ok'
}
