/**
 * The terms of a cooperative close (docs/protocol.md §9.1), as the contract checks them: the
 * consents sign CloseChannel(channelId, fork, stateHash, payouts), and the call passes the
 * member list only where the consents cannot give it back. Pure functions: no I/O.
 */
import { hasBit } from './bitmap.js'
import type { Hex } from './types.js'

/**
 * The payouts a close consent names: the machine's `outcome` of the closing state with nothing
 * for inactive participants (a removed participant was paid at its removal). What they leave of
 * the locked deposits is split by the contract among the active ones (see settlementCredits).
 * Every signer computes them with its own machine replica, so all sign the same digest.
 * @example closePayouts([3n, 1n, 2n], 0b011n) // [3n, 1n, 0n]
 */
export function closePayouts(outcome: readonly bigint[], active: bigint): bigint[] {
  return outcome.map((p, i) => (hasBit(active, i) ? p : 0n))
}

/**
 * The `others` of a close call: the members the contract cannot recover from a consent — the
 * inactive participants' accounts (ascending), then the session keys (`members[n:]`, when the
 * channel has them). `members` is the channel's member list (participants ‖ signers).
 * @example closeOthers([alice, bob, carol], 3, 0b101n) // [bob]
 */
export function closeOthers(members: readonly Hex[], n: number, active: bigint): Hex[] {
  const inactive = members.slice(0, n).filter((_, i) => !hasBit(active, i))
  return [...inactive, ...members.slice(n)]
}
