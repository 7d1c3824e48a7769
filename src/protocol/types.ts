/**
 * Protocol data types, mirroring contracts/interfaces/ChannelTypes.sol field for field.
 * Byte strings are 0x-prefixed lowercase hex; integers that may exceed 2^53 are bigint.
 */

/** 0x-prefixed hex string. */
export type Hex = `0x${string}`

/** Everything participants agree on at open; its EIP-712 digest is the channel id. */
export interface ChannelParams {
  participants: Hex[]
  machine: Hex
  /** `0x000…0` for ETH, otherwise an ERC-20 token address. */
  asset: Hex
  deposits: bigint[]
  bond: bigint
  p2pTime: number
  agreementTime: number
  chainFallbackTime: number
  challengeTime: number
  salt: Hex
  initData: Hex
}

/** One step of the state machine (EIP-712 type `Transaction`). */
export interface Transaction {
  channelId: Hex
  fork: bigint
  seq: bigint
  timestamp: bigint
  actor: number
  previousStateHash: Hex
  data: Hex
  stateHash: Hex
}

/** A transaction with signatures: `signatures[i]` is participant i's 65-byte signature. */
export interface SignedTransaction {
  transaction: Transaction
  signatures: Map<number, Hex>
}

/** The on-chain encoding of a signed transaction (bitmap + concatenated signatures). */
export interface PackedSignedTransaction {
  transaction: Transaction
  signers: bigint
  signatures: Hex
}

/** Channel phases as the contract stores them. */
export enum Phase {
  None = 0,
  Open = 1,
  Disputed = 2,
  Closed = 3,
}

/** The zero address, used as the asset id of ETH. */
export const ETH: Hex = '0x0000000000000000000000000000000000000000'

/** Largest channel (bitmaps are 64 bits wide). */
export const MAX_PARTICIPANTS = 64
