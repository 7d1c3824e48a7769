/**
 * The two consents the manager checks besides transactions: opening a channel (a signature
 * over the channel id) and closing it cooperatively (a signature over CloseChannel). Thin
 * wrappers over src/protocol so callers cannot pick the wrong digest.
 */
import type { SigningKey } from 'ethers'
import type { ParleyHasher } from '../protocol/eip712.js'
import { hashState } from '../protocol/eip712.js'
import { signDigest } from '../protocol/signatures.js'
import type { ChannelParams, Hex } from '../protocol/types.js'

/**
 * A participant's consent to open: its signature over the channel id (= EIP-712 digest of
 * `params` on this manager and chain).
 * @example const sigs = wallets.map((w) => signOpenConsent(w.signingKey, hasher, params))
 */
export function signOpenConsent(key: SigningKey, hasher: ParleyHasher, params: ChannelParams): Hex {
  return signDigest(key, hasher.channelId(params))
}

/**
 * A participant's consent to settle from `state` on `fork` with `payouts`: its signature over
 * CloseChannel(channelId, fork, keccak256(state), payouts). `payouts` are the machine's outcome
 * of `state` with nothing for inactive participants (`closePayouts`), computed by the signer
 * itself (its machine replica), never taken from someone else. An honest client signs no
 * transaction on that fork afterwards.
 * @example const sig = signCloseConsent(alice.signingKey, hasher, channelId, 0n, latestFinalState, closePayouts(outcome, active))
 */
export function signCloseConsent(key: SigningKey, hasher: ParleyHasher, channelId: Hex, fork: bigint, state: Hex, payouts: readonly bigint[]): Hex {
  return signDigest(key, hasher.close(channelId, fork, hashState(state), payouts))
}
