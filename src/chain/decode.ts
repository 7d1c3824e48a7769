/**
 * Decoding of every manager event a client observes into the typed forms of
 * src/protocol/types.ts and ./events.ts, under the Solidity names. Used by
 * {@link ManagerClient} (events in a receipt) and the ChainListener (eth_getLogs).
 */
import type { Interface } from 'ethers'
import type {
  DisputeAnswered, DisputeCancelled, DisputeKind, DisputeRaised, DisputeRecord, DisputeResolved, Hex,
  PackedSignedTransaction, ParticipantRemoved, ParticipantSlashed, Transaction, TransactionPosted,
} from '../protocol/types.js'
import {
  toChannelClosed, toChannelPaidOut, toClaimsRecorded, toCredited, toPayoutsClaimed, toStateSet, type ChannelClosedEvent, type ChannelPaidOutEvent,
  type ClaimsRecordedEvent, type CreditedEvent, type PayoutsClaimedEvent, type StateSetEvent,
} from './events.js'
import { toChannelRecord, type ChannelRecord } from './records.js'

/** `ChannelOpened`: a channel opened, with its record (its parameters are the open transaction's calldata). */
export interface ChannelOpenedEvent {
  channelId: Hex
  /** The record every later call re-supplies, as the channel's events change it (see ./records.ts). */
  record: ChannelRecord
}

/** Every channel event a client observes, by its Solidity name. */
export interface ManagerEventArgs {
  ChannelOpened: ChannelOpenedEvent
  StateSet: StateSetEvent
  ChannelClosed: ChannelClosedEvent
  ChannelPaidOut: ChannelPaidOutEvent
  ClaimsRecorded: ClaimsRecordedEvent
  PayoutsClaimed: PayoutsClaimedEvent
  Credited: CreditedEvent
  TransactionPosted: TransactionPosted
  DisputeRaised: DisputeRaised
  DisputeAnswered: DisputeAnswered
  DisputeCancelled: DisputeCancelled
  DisputeResolved: DisputeResolved
  ParticipantRemoved: ParticipantRemoved
  ParticipantSlashed: ParticipantSlashed
}

/** The name of an observed event. */
export type ManagerEventName = keyof ManagerEventArgs

/** A decoded event: `{ name: 'DisputeRaised', args: DisputeRaised }` and so on. */
export type ManagerEvent = { [K in ManagerEventName]: { name: K; args: ManagerEventArgs[K] } }[ManagerEventName]

/** The observed event names (the filter of the ChainListener). */
export const MANAGER_EVENTS: readonly ManagerEventName[] = [
  'ChannelOpened', 'StateSet', 'ChannelClosed', 'ChannelPaidOut', 'ClaimsRecorded', 'PayoutsClaimed', 'Credited', 'TransactionPosted', 'DisputeRaised', 'DisputeAnswered',
  'DisputeCancelled', 'DisputeResolved', 'ParticipantRemoved', 'ParticipantSlashed',
]

const lower = (v: unknown): Hex => String(v).toLowerCase() as Hex
const big = (v: unknown): bigint => BigInt(v as bigint)
type Args = Record<string, unknown>

/** Converts a decoded `DisputeRecord` struct. */
export function toRecord(r: Args): DisputeRecord {
  return {
    kind: Number(r.kind) as DisputeKind, disputer: Number(r.disputer), seq: big(r.seq), timestamp: big(r.timestamp),
    deadline: big(r.deadline), removals: big(r.removals), stateHash: lower(r.stateHash),
  }
}

/** Converts a decoded `SignedTransaction[]` (the packed on-chain form). */
export function toPackedList(list: unknown): PackedSignedTransaction[] {
  // ethers' toObject(true) turns an empty array into {}.
  const items = Array.isArray(list) ? (list as Args[]) : Object.values(list as Record<string, Args>)
  return items.map((p) => ({
    transaction: toTransaction(p.transaction as Args), signers: big(p.signers), signatures: lower(p.signatures),
  }))
}

/** Converts a decoded `Transaction` struct. */
export function toTransaction(t: Args): Transaction {
  return {
    channelId: lower(t.channelId), fork: big(t.fork), seq: big(t.seq), timestamp: big(t.timestamp), actor: Number(t.actor),
    previousStateHash: lower(t.previousStateHash), data: lower(t.data), stateHash: lower(t.stateHash),
  }
}

/** Args of parsed events, deeply converted to plain objects by ethers' `toObject(true)`. */
const CONVERT: { [K in ManagerEventName]: (a: Args) => ManagerEventArgs[K] } = {
  ChannelOpened: (a) => ({ channelId: lower(a.channelId), record: toChannelRecord(a.record as Args) }),
  StateSet: toStateSet,
  ChannelClosed: toChannelClosed,
  ChannelPaidOut: toChannelPaidOut,
  ClaimsRecorded: toClaimsRecorded,
  PayoutsClaimed: toPayoutsClaimed,
  Credited: toCredited,
  TransactionPosted: (a) => ({
    channelId: lower(a.channelId), digest: lower(a.digest), transaction: toTransaction(a.transaction as Args), signature: lower(a.signature),
  }),
  DisputeRaised: (a) => ({
    channelId: lower(a.channelId), fork: big(a.fork), dispute: toRecord(a.dispute as Args), state: lower(a.state), txs: toPackedList(a.txs),
  }),
  DisputeAnswered: (a) => ({
    channelId: lower(a.channelId), fork: big(a.fork), dispute: toRecord(a.dispute as Args), state: lower(a.state), txs: toPackedList(a.txs),
  }),
  DisputeCancelled: (a) => {
    const transaction = toTransaction(a.transaction as Args)
    return { channelId: lower(a.channelId), fork: transaction.fork, seq: transaction.seq, digest: lower(a.digest), transaction, signature: lower(a.signature) }
  },
  DisputeResolved: (a) => ({ channelId: lower(a.channelId), fork: big(a.fork), dispute: toRecord(a.dispute as Args) }),
  ParticipantRemoved: (a) => ({ channelId: lower(a.channelId), index: Number(a.index) }),
  ParticipantSlashed: (a) => ({ channelId: lower(a.channelId), index: Number(a.index), beneficiary: Number(a.beneficiary) }),
}

/**
 * Decodes one log of the manager into a {@link ManagerEvent}, or undefined for an event a
 * client does not observe (Deposited, Withdrawn) or a log of another contract.
 * @example const ev = decodeManagerLog(manager.contract.interface, log); if (ev?.name === 'DisputeRaised') …
 */
export function decodeManagerLog(iface: Interface, log: { topics: readonly string[]; data: string }): ManagerEvent | undefined {
  let parsed
  try {
    parsed = iface.parseLog({ topics: [...log.topics], data: log.data })
  } catch {
    return undefined
  }
  if (!parsed || !(parsed.name in CONVERT)) return undefined
  const name = parsed.name as ManagerEventName
  const args = parsed.args.toObject(true) as Args
  return { name, args: CONVERT[name](args) } as ManagerEvent
}
