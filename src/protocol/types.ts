/**
 * Protocol data types, mirroring contracts/interfaces/ChannelTypes.sol field for field.
 * Byte strings are 0x-prefixed lowercase hex; integers that may exceed 2^53 are bigint.
 */

/** 0x-prefixed hex string. */
export type Hex = `0x${string}`

/** Everything participants agree on at open; its EIP-712 digest is the channel id. */
export interface ChannelParams {
  participants: Hex[]
  /**
   * Session keys: `signers[i]` signs participant i's in-channel moves and confirmations (see
   * `membersOf`). Absent or empty: each participant signs with its own account. The wallet
   * authorizes them by signing the open consent, which covers this list.
   */
  signers?: Hex[]
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
  /** Last block time (seconds) at which `open` accepts the consents to these params. */
  openDeadline: bigint
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

/** Kinds of on-chain dispute (contract enum `DisputeKind`). */
export enum DisputeKind {
  None = 0,
  /** The next actor of the candidate failed to move; removed at resolution. */
  Timeout = 1,
  /** The disputer leaves from its latest final state; removed at resolution. */
  Exit = 2,
  /** The disputer ends the channel from its latest final state (removed through onRemove, then everyone settles). */
  ForceClose = 3,
  /** Proven fraud: culprits slashed at once and removed at resolution; a new fork unless the channel settles. */
  Fraud = 4,
  /** The disputer's latest signed transaction reached a terminal state others did not confirm: settles from it. */
  Conclude = 5,
}

/**
 * An open dispute (contract struct `DisputeRecord`). The chain stores only its hash; every call
 * acting on a dispute re-supplies the record of the latest `DisputeRaised` / `DisputeAnswered`.
 */
export interface DisputeRecord {
  kind: DisputeKind
  /** Participant that raised it (for `Fraud`: the latest prover). */
  disputer: number
  /** Height of the candidate state (0 = the fork's genesis). */
  seq: bigint
  /** Timestamp of the candidate (its transaction's, or the fork genesis'): a response is not stamped before it. */
  timestamp: bigint
  /** Last second to challenge or answer; resolvable after it. */
  deadline: bigint
  /** Removed at resolution; for a `Timeout`, exactly the accused. */
  removals: bigint
  /** keccak256 of the candidate state. */
  stateHash: Hex
}

/** Contract event `TransactionPosted`: a transaction published as calldata. */
export interface TransactionPosted {
  channelId: Hex
  digest: Hex
  transaction: Transaction
  signature: Hex
}

/**
 * Contract event `DisputeRaised`: `state` is the candidate's bytes, `txs` the signed
 * transactions the call carried (candidate list, finality proof or checkpoint) — the evidence
 * clients check, whatever contract the call came through.
 */
export interface DisputeRaised {
  channelId: Hex
  fork: bigint
  dispute: DisputeRecord
  state: Hex
  txs: PackedSignedTransaction[]
}

/** Contract event `DisputeAnswered`: the open dispute's record changed (`state`, `txs` as in DisputeRaised). */
export interface DisputeAnswered {
  channelId: Hex
  fork: bigint
  dispute: DisputeRecord
  state: Hex
  txs: PackedSignedTransaction[]
}

/**
 * Contract event `DisputeCancelled`: the accused's move answered a timeout, published in the
 * event itself (`digest`, `transaction`, `signature`, as `TransactionPosted` publishes a post; a
 * response emits no `TransactionPosted`). `fork` and `seq` are the move's (`transaction.fork`,
 * `transaction.seq`): the channel is open again at that height.
 */
export interface DisputeCancelled {
  channelId: Hex
  fork: bigint
  seq: bigint
  digest: Hex
  transaction: Transaction
  signature: Hex
}

/** Contract event `DisputeResolved`; `StateSet` or `ChannelClosed` follows. */
export interface DisputeResolved {
  channelId: Hex
  fork: bigint
  dispute: DisputeRecord
}

/** Contract event `ParticipantRemoved`: `index` left the active set. */
export interface ParticipantRemoved {
  channelId: Hex
  index: number
}

/** Contract event `ParticipantSlashed`: `index`'s bond and outcome share go to `beneficiary`. */
export interface ParticipantSlashed {
  channelId: Hex
  index: number
  beneficiary: number
}

/** Largest `data` of any transaction (contract `MAX_DATA_BYTES`). */
export const MAX_DATA_BYTES = 4096

/** Largest state a machine may produce; a larger result is a failed call (contract `MAX_STATE_BYTES`). */
export const MAX_STATE_BYTES = 32768
