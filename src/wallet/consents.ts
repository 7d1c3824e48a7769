/**
 * Asks a participant's wallet for its consents and checks what comes back: the signature must
 * recover to the wallet's account over exactly the digest the manager checks (the channel id,
 * or the CloseChannel digest), so a wallet on another chain or account fails here, not on-chain.
 */
import { UsageError } from '../errors/ParleyError.js'
import { ParleyHasher, hashState, type Domain } from '../protocol/eip712.js'
import { recoverSigner } from '../protocol/signatures.js'
import type { ChannelParams, Hex } from '../protocol/types.js'
import type { ConsentSigner } from './ConsentSigner.js'
import { closeConsentTypedData, openConsentTypedData, type ConsentTypedData } from './typedData.js'

/**
 * The wallet's open consent to `params` on the manager of `domain`: its signature over the
 * channel id, which authorizes the session keys in `params.signers`. Throws UsageError
 * `SIGNER_MISMATCH` when the signature is not the wallet account's over the channel id,
 * RuntimeError `WALLET_REJECTED` when the wallet refuses.
 * @example const consent = await requestOpenConsent(consentSignerFromSigner(signer), hasher.domain, params)
 */
export async function requestOpenConsent(wallet: ConsentSigner, domain: Domain, params: ChannelParams): Promise<Hex> {
  return checked(wallet, openConsentTypedData(domain, params), new ParleyHasher(domain).channelId(params))
}

/**
 * The wallet's close consent: settle `channelId` from `state` on `fork` with `payouts` (see
 * `closePayouts`). Errors as {@link requestOpenConsent}.
 * @example const consent = await requestCloseConsent(wallet, hasher.domain, channelId, 0n, finalState, payouts)
 */
export async function requestCloseConsent(wallet: ConsentSigner, domain: Domain, channelId: Hex, fork: bigint, state: Hex, payouts: readonly bigint[]): Promise<Hex> {
  const digest = new ParleyHasher(domain).close(channelId, fork, hashState(state), payouts)
  return checked(wallet, closeConsentTypedData(domain, channelId, fork, state, payouts), digest)
}

async function checked(wallet: ConsentSigner, data: ConsentTypedData, digest: Hex): Promise<Hex> {
  const [account, signature] = await Promise.all([wallet.getAddress(), wallet.signTypedData(data)])
  const signer = recoverSigner(digest, signature)
  if (signer !== account.toLowerCase()) {
    throw new UsageError('SIGNER_MISMATCH', `the ${data.primaryType} consent recovers to ${signer}, not to the wallet's account ${account}`, { details: { signer, account } })
  }
  return signature
}
