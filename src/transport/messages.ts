/**
 * The protocol messages peers exchange, as plain typed objects. Transports carry them as
 * they are (in memory) or encode them (hyperswarm, issue 5); the Channel never sees bytes.
 * Every signature inside is verified by the receiver: the transport's `from` is a hint, not
 * an authority.
 */
import type { Hex, Transaction } from '../protocol/types.js'

/** A new transaction with its author's signature. */
export interface TxMessage {
  type: 'tx'
  transaction: Transaction
  signature: Hex
}

/** `signer`'s signature on the tx `digest` at (fork, seq): a confirmation. */
export interface ConfirmMessage {
  type: 'confirm'
  fork: bigint
  seq: bigint
  digest: Hex
  signer: number
  signature: Hex
}

/** Asks for every tx of `fork` from `fromSeq` on, with all known signatures. */
export interface SyncRequestMessage {
  type: 'sync-request'
  fork: bigint
  fromSeq: bigint
}

/** Answer to a sync request: txs ascending, each with `[participant, signature]` pairs. */
export interface SyncResponseMessage {
  type: 'sync-response'
  fork: bigint
  entries: { transaction: Transaction; signatures: [number, Hex][] }[]
}

/**
 * `signer`'s signature on CloseChannel(channelId, fork, stateHash, payouts) for the final state
 * at `seq`. The first one a peer sees is the request to close cooperatively; a peer signs the
 * same only when its own machine gives the same `payouts` for that state.
 */
export interface CloseMessage {
  type: 'close'
  fork: bigint
  seq: bigint
  stateHash: Hex
  /** The payouts the consent names: one per participant (see closePayouts). */
  payouts: bigint[]
  signer: number
  signature: Hex
}

/** Liveness probe; answered with a pong carrying the same nonce. */
export interface PingMessage {
  type: 'ping' | 'pong'
  nonce: number
}

export type Message = TxMessage | ConfirmMessage | SyncRequestMessage | SyncResponseMessage | CloseMessage | PingMessage

/** Message type names. */
export type MessageType = Message['type']
