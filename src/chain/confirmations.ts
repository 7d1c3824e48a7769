/**
 * How deep a block must be before the client acts on its events, per chain. The listener follows
 * reorganisations at any depth it remembers (ChainListener `reorgDepth`) and the court takes back
 * what dropped blocks said, so confirmations are not what keeps funds safe; they keep the channel
 * from acting on blocks that are likely to vanish (a fork the chain set and then took back cannot
 * be undone by the client: see docs/protocol.md §7.11).
 */

/** Local development chains (anvil, hardhat, geth --dev): blocks only change on request. */
const DEV_CHAINS = new Set([31337n, 1337n])

/** Public chains: a little more than the depth of the reorganisations they are known to have. */
export const PUBLIC_CONFIRMATIONS = 12

/**
 * The safe default confirmation depth for `chainId`: 0 on local development chains (anvil,
 * hardhat: 31337, geth --dev: 1337), {@link PUBLIC_CONFIRMATIONS} everywhere else.
 * @example defaultConfirmations(1n) // 12
 */
export function defaultConfirmations(chainId: bigint): number {
  return DEV_CHAINS.has(chainId) ? 0 : PUBLIC_CONFIRMATIONS
}
