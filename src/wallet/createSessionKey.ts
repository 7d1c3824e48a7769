/**
 * Session keys: a fresh key per channel that signs the channel's moves and confirmations, so
 * the participant's wallet is asked once per channel (the open consent that names the key), not
 * once per move. Whoever holds it can sign moves in that channel only: the contracts pay every
 * payout to the wallet and only the wallet calls, consents to open and to close.
 */
import { Wallet } from 'ethers'

/**
 * A new random session key (an ethers `Wallet`, not connected: it never sends transactions).
 * Put its `address` in `params.signers[i]` and pass it to `createPeer({ sessionKey })`; keep
 * its `privateKey` with the channel's store if the peer must survive a restart.
 * @example
 * const session = createSessionKey()
 * const params = channelParams({ participants, signers: [session.address, bobSession], machine, deposits })
 */
export function createSessionKey(): Wallet {
  const random = Wallet.createRandom()
  return new Wallet(random.privateKey)
}
