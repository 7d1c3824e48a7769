/**
 * The data of the dispute handler's functional core: what the chain says (ChainView, reduced
 * from events), what we hold (LocalView, read from the channel's ledger and store), and the
 * actions `decide` returns for the shell to perform.
 */
import type { ChannelPhase } from '../channel/phase.js'
import type { AuthoredTransaction, Evidence } from '../state/evidence.js'
import type { DisputeRecord, Hex, PackedSignedTransaction, Transaction } from '../protocol/types.js'

/** The channel as the chain's events describe it. */
export interface ChainView {
  fork: bigint
  active: bigint
  slashed: bigint
  phase: 'open' | 'disputed' | 'closed'
  /** The current fork's genesis (StateSet). */
  genesis: { state: Hex; stateHash: Hex; timestamp: bigint }
  /** The latest move the chain saw outside a proof (a response that cancelled a timeout). */
  latestSeq: bigint
  /** The open dispute: the record to re-supply, its candidate's bytes (the events carry them) and when it was raised (block time). */
  dispute?: { record: DisputeRecord; state?: Hex; raisedAt?: bigint }
  /** The latest block timestamp seen (chain seconds). */
  now: bigint
  /** Digests of the current fork's transactions published on-chain (posts and responses). */
  posted: Hex[]
  /** Amounts credited to our account by this channel (settlement, removal), by event position. */
  credits: { key: string; asset: Hex; amount: bigint }[]
  /** Position `(block, index)` of the last event applied: older ones are ignored (idempotence). */
  position?: { block: number; index: number }
}

/** One of our own transactions that is not final yet. */
export interface OwnTransaction {
  signed: AuthoredTransaction
  digest: Hex
  /** Participants supporting it: signers of it or of a later linked transaction (virtual voting). */
  supporters: bigint
  /** Timestamp its deadlines count from (its parent's). */
  parentTimestamp: bigint
}

/** An anchored list (a finality proof of its first entry, or from the fork genesis) and the state after its last entry. */
export interface AnchoredList {
  txs: PackedSignedTransaction[]
  seq: bigint
  state: Hex
  stateHash: Hex
  timestamp: bigint
}

/** The candidate list of a timeout (or, on a terminal state, a conclude) we could raise: ending at the latest tx we signed. */
export interface TimeoutAnchor extends AnchoredList {
  /** `nextActor(state)`: the participant we would accuse (NO_ACTOR, -1, if the machine's call fails). */
  accused: number
  /** isTerminal(state); undefined when the machine's call fails (nothing can be raised then). */
  terminal: boolean | undefined
}

/** What we hold, read from the channel's ledger and store at one moment. */
export interface LocalView {
  me: number
  phase: ChannelPhase
  fork: bigint
  active: bigint
  /** Our logical clock (seconds). */
  clock: bigint
  head: { seq: bigint; stateHash: Hex; timestamp: bigint; nextActor: number }
  final: { seq: bigint; stateHash: Hex }
  /** Finality proof of `final.seq` (empty when the latest final state is the fork genesis). */
  finalProof: PackedSignedTransaction[]
  /** The bytes of the state `finalProof` proves (the genesis' when it is empty). */
  finalState: Hex
  /** The anchored list ending at our head, when the head is later than the latest final state: extends an exit or force-close. */
  extension?: AnchoredList
  /** Our transactions after the latest final one. */
  own: OwnTransaction[]
  /** Defined when the latest tx we signed is the head and the list anchoring it fits the bound. */
  timeout?: TimeoutAnchor
  /** For the open timeout: the accused's move at the candidate's seq + 1, if we hold it. */
  move?: { transaction: Transaction; signature: Hex }
  /** For the open timeout: a transaction later than the candidate that its disputer signed. */
  disputerLater?: { transaction: Transaction; signature: Hex }
  /** The open dispute's candidate state bytes, if we know them. */
  candidateState?: Hex
  /** For a timeout against us: our head is its candidate and it is our turn (we have not moved). */
  canMove: boolean
  /** A cooperative close every active participant signed, not settled yet (we hold the signatures). */
  close?: SignedClose
}

/** A close with every active participant's CloseChannel signature, as the channel stored it. */
export interface SignedClose {
  fork: bigint
  state: Hex
  stateHash: Hex
  /** The payouts the consents name (see closePayouts). */
  payouts: readonly bigint[]
  signatures: ReadonlyMap<number, Hex>
  /** Our clock when the last signature came in: the court's submission is staggered from there. */
  readyAt: bigint
  /** The channel's own submission (its close() caller's) is in flight. */
  submitting: boolean
}

/** Fraud evidence waiting to be proven, keyed by the transactions' digests. */
export interface PendingEvidence {
  key: string
  fork: bigint
  evidence: Evidence
}

/** Tunable behaviour. */
export interface DisputePolicy {
  /** Post our unconfirmed transactions on-chain (data availability). Default true. */
  post: boolean
  /** Raise timeouts against a silent next actor. Default true. */
  timeout: boolean
  /**
   * Relay the accused's move (respond for it) when we hold it and the accused has not answered
   * this many seconds after the dispute was raised. Default: half the challenge time.
   */
  relayAfter?: number
  /** Withdraw what the channel credits us. Default false. */
  autoWithdraw: boolean
  /**
   * Seconds of chain time between honest clients racing for the same call (a timeout, a
   * resolution, a signed close): the k-th active participant by index waits k · stagger past the
   * deadline, so on a public chain usually one of them pays for it and the others see it done.
   * Default 0.
   */
  stagger?: number
}

/** Channel facts the rules need. */
export interface ChannelFacts {
  /** The member list the manager's calls take (participants ‖ signers; see `memberList`). */
  participants: readonly Hex[]
  p2pTime: number
  agreementTime: number
  chainFallbackTime: number
  challengeTime: number
}

/** Everything `decide` looks at. */
export interface DisputeView {
  chain: ChainView
  local: LocalView
  channel: ChannelFacts
  evidence: readonly PendingEvidence[]
  policy: DisputePolicy
  /** We asked to leave (`court.exit()` / `forceClose()`): raised again until we are out or the channel settled. */
  leaving?: { leave: boolean }
  /** Keys of actions already submitted (or in flight): never submitted again. */
  done: ReadonlySet<string>
}

interface Base {
  /** Idempotence key: the same fact always yields the same key. */
  key: string
  /** Why, for logs. */
  why: string
}

/** What the shell performs: a court call, a withdrawal, or asking the application for a move. */
export type Action =
  | (Base & { kind: 'post'; transaction: Transaction; signature: Hex })
  | (Base & { kind: 'close'; state: Hex; payouts: readonly bigint[]; signatures: ReadonlyMap<number, Hex> })
  | (Base & { kind: 'timeout'; txs: PackedSignedTransaction[]; state: Hex; accused: number })
  | (Base & { kind: 'concludeDispute'; txs: PackedSignedTransaction[]; state: Hex })
  | (Base & { kind: 'conclude'; proof: PackedSignedTransaction[]; state: Hex })
  | (Base & { kind: 'respond'; record: DisputeRecord; transaction: Transaction; signature: Hex })
  | (Base & { kind: 'answer'; record: DisputeRecord; proof: PackedSignedTransaction[]; state: Hex })
  | (Base & { kind: 'extend'; record: DisputeRecord; txs: PackedSignedTransaction[]; state: Hex })
  | (Base & { kind: 'refute'; record: DisputeRecord; transaction: Transaction; signature: Hex; checkpoint: PackedSignedTransaction[]; state: Hex })
  | (Base & { kind: 'proveInvalidTransition'; evidence: string; record?: DisputeRecord; fraud: PackedSignedTransaction; previousState: Hex; checkpoint: PackedSignedTransaction[]; state: Hex; culprit: number })
  | (Base & { kind: 'proveEquivocation'; evidence: string; record?: DisputeRecord; first: PackedSignedTransaction; second: PackedSignedTransaction; checkpoint: PackedSignedTransaction[]; state: Hex; culprit: number })
  | (Base & { kind: 'resolve'; record: DisputeRecord; state: Hex })
  | (Base & { kind: 'withdraw'; asset: Hex; amount: bigint })
  | (Base & { kind: 'exit'; leave: boolean; proof: PackedSignedTransaction[]; state: Hex; record?: DisputeRecord })
  | (Base & { kind: 'moveNeeded'; record: DisputeRecord; seq: bigint })

export type ActionKind = Action['kind']
