/**
 * What every part of one adversary game shares: the chain, the deployment, the channel and
 * the network. The world (one anvil per process) outlives games; a game is one schedule.
 */
import type { Wallet } from 'ethers'
import type { Anvil } from '../../src/chain/anvil.js'
import type { LocalStack } from '../../src/chain/stack.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { signDigest } from '../../src/protocol/signatures.js'
import type { ChannelParams, Hex, Transaction } from '../../src/protocol/types.js'
import type { Message } from '../../src/transport/messages.js'

/** The process-wide chain: one anvil (prague, for EIP-7702), the stack and a Forwarder for delegations. */
export interface World {
  anvil: Anvil
  stack: LocalStack
  hasher: ParleyHasher
  /** The Forwarder (contracts/test/Forwarder.sol) byzantine EOAs delegate to. */
  forwarder: Hex
  /** evm_snapshot id of the freshly deployed chain; every game starts from it. */
  snapshot: string
}

/** One game's shared facts and services. */
export interface GameContext {
  anvil: Anvil
  stack: LocalStack
  hasher: ParleyHasher
  forwarder: Hex
  channelId: Hex
  params: ChannelParams
  n: number
  openBlock: number
  /** Sends a message that bypasses the network policy (the adversary's own crafted traffic). */
  route(from: number, to: number, message: Message): void
  /** `wallet`'s signature on `tx`. */
  sign(wallet: Wallet, tx: Transaction): Hex
}

/** The signing function of a context. */
export function signer(hasher: ParleyHasher): (wallet: Wallet, tx: Transaction) => Hex {
  return (wallet, tx) => signDigest(wallet.signingKey, hasher.transaction(tx))
}
