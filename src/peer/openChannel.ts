/**
 * Opening a channel: gather every participant's consent (signatures in any order, or keys we
 * hold to sign with), check them and the deposits before anything is sent, then `open`.
 */
import type { SigningKey } from 'ethers'
import { signOpenConsent } from '../chain/consent.js'
import type { ManagerClient, OpenResult } from '../chain/ManagerClient.js'
import { UsageError } from '../errors/ParleyError.js'
import { fundingCoverage, shareOf } from '../protocol/funding.js'
import { normalizeSignature, recoverSigner } from '../protocol/signatures.js'
import { Phase, type ChannelParams, type Hex } from '../protocol/types.js'

/** A consent: a signature from `signOpenConsent` / `parley consent`, or a key (a Wallet) to sign one with. */
export type Consent = string | { signingKey: SigningKey }

/**
 * Matches consent signatures to participants by recovery: the result is in participant order.
 * Wallet forms are taken (64-byte EIP-2098, v = 0 / 1) and returned as 65 bytes with v = 27 / 28.
 * UsageError `CONSENT_COUNT_MISMATCH`, `CONSENT_INVALID` (not a 64- or 65-byte signature),
 * `CONSENT_SIGNER_UNKNOWN` (another key, other params or another manager), `CONSENT_DUPLICATE`.
 * @example const ordered = orderConsents(channelId, params, [bobSig, aliceSig])
 */
export function orderConsents(channelId: Hex, params: ChannelParams, signatures: readonly string[]): Hex[] {
  const n = params.participants.length
  if (signatures.length !== n) throw new UsageError('CONSENT_COUNT_MISMATCH', `the channel has ${n} participants: ${n} consents needed, got ${signatures.length}`)
  const ordered: (Hex | undefined)[] = new Array(n).fill(undefined)
  signatures.forEach((sig, k) => {
    if (typeof sig !== 'string' || !/^0x([0-9a-fA-F]{128}|[0-9a-fA-F]{130})$/.test(sig)) throw new UsageError('CONSENT_INVALID', `consent #${k + 1} is not a 64- or 65-byte hex signature`, { details: { index: k } })
    let signer: Hex
    let full: Hex
    try {
      full = normalizeSignature(sig)
      signer = recoverSigner(channelId, full)
    } catch {
      throw new UsageError('CONSENT_INVALID', `consent #${k + 1} is not a valid signature`, { details: { index: k } })
    }
    const i = params.participants.indexOf(signer)
    if (i < 0) {
      throw new UsageError('CONSENT_SIGNER_UNKNOWN', `consent #${k + 1} is ${signer}'s, not a participant's consent to channel ${channelId} (signed for other params or another manager?)`, { details: { index: k, signer } })
    }
    if (ordered[i] !== undefined) throw new UsageError('CONSENT_DUPLICATE', `participant #${i} (${signer}) consented twice`, { details: { participant: i } })
    ordered[i] = full
  })
  return ordered as Hex[]
}

/** A participant whose share an open could not lock: `needs` is what the funding does not cover, `has` its balance. */
export interface Shortfall {
  participant: number
  account: Hex
  has: bigint
  needs: bigint
}

/**
 * Who an open of `params` would find short, in participant order: the channel's funding covers
 * shares in participant order (a funding in another asset covers nothing: the open sets it aside)
 * and each participant's manager balance must hold the rest.
 * @example const [short] = await shortfalls(manager, channelId, params)
 */
export async function shortfalls(manager: ManagerClient, channelId: Hex, params: ChannelParams): Promise<Shortfall[]> {
  const funded = await manager.funding(channelId)
  const { covered } = fundingCoverage(params, funded.asset === params.asset.toLowerCase() ? funded.held : 0n)
  const out: Shortfall[] = []
  for (const [i, p] of params.participants.entries()) {
    const needs = shareOf(params, i) - covered[i]!
    if (needs === 0n) continue
    const has = await manager.balanceOf(p, params.asset)
    if (has < needs) out.push({ participant: i, account: p, has, needs })
  }
  return out
}

/**
 * Opens the channel on `manager` (connected to the account that pays for the transaction):
 * signs with the keys among `consents`, orders the signatures by participant
 * ({@link orderConsents}), checks that the channel is new (UsageError `CHANNEL_EXISTS`) and that
 * every participant's deposit plus bond is funded into the channel (`fundShare`) or in its manager
 * balance (UsageError `DEPOSIT_MISSING`, with `details.participant`, `has`, `needs`), then opens. Resolves with the open's receipt,
 * channel id and genesis.
 * @example
 * const params = channelParams({ participants: [alice.address, bob.address], machine, deposits: [ONE, ONE] })
 * const { channelId, genesis } = await openChannel(manager.connect(alice), params, [alice, bobConsent])
 */
export async function openChannel(manager: ManagerClient, params: ChannelParams, consents: readonly Consent[]): Promise<OpenResult> {
  if (!Array.isArray(consents)) throw new UsageError('CONSENT_COUNT_MISMATCH', 'openChannel needs one consent per participant')
  const hasher = await manager.hasher()
  const channelId = hasher.channelId(params)
  const signatures = consents.map((c) => (typeof c === 'string' ? c : c && typeof c === 'object' && 'signingKey' in c ? signOpenConsent(c.signingKey, hasher, params) : String(c)))
  const ordered = orderConsents(channelId, params, signatures)
  if ((await manager.getChannel(channelId)).phase !== Phase.None) throw new UsageError('CHANNEL_EXISTS', `channel ${channelId} was already opened on this manager`)
  const [short] = await shortfalls(manager, channelId, params)
  if (short) {
    const { participant: i, account: p, has, needs } = short
    throw new UsageError('DEPOSIT_MISSING', `participant #${i} (${p}) has ${has} in the manager, needs ${needs} (deposit + bond not funded into the channel): fund its share or deposit first`, { details: { participant: i, has, needs } })
  }
  return manager.open(params, ordered)
}
