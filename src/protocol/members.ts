/**
 * Who signs what in a channel (pure). A participant's account — its wallet — signs the open and
 * close consents and sends its on-chain transactions, and is paid. Its in-channel signer signs
 * every move and confirmation, and so every signature a finality proof, dispute, fraud proof
 * or slashing rests on: the session key `params.signers[i]`, or the account itself when the
 * channel has no session keys. The contracts check the same split (ChannelParams.signers).
 */
import type { ChannelParams, Hex } from './types.js'

/**
 * The in-channel signer of each participant index, lowercase: `params.signers` if the channel
 * has session keys, else the participants themselves.
 * @example const signers = membersOf(params); if (recoverSigner(digest, sig) !== signers[actor]) reject()
 */
export function membersOf(params: Pick<ChannelParams, 'participants' | 'signers'>): Hex[] {
  const list = params.signers && params.signers.length > 0 ? params.signers : params.participants
  return list.map((a) => a.toLowerCase() as Hex)
}

/**
 * The member list every manager and court call after `open` takes as its `participants`
 * argument: participants ‖ signers, or the participants alone without session keys (the
 * contract stores only its hash). The caller's account is always among the first n entries.
 * @example await manager.conclude(channelId, memberList(params), proof, state)
 */
export function memberList(params: Pick<ChannelParams, 'participants' | 'signers'>): Hex[] {
  return [...params.participants, ...(params.signers ?? [])].map((a) => a.toLowerCase() as Hex)
}

/** Whether the channel's in-channel signers are session keys rather than the accounts. */
export function hasSessionKeys(params: Pick<ChannelParams, 'signers'>): boolean {
  return (params.signers?.length ?? 0) > 0
}
