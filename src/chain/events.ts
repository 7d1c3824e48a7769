/**
 * Typed forms of the manager's events (same names as in Solidity) and their extraction from
 * a transaction receipt.
 */
import type { Interface, Log, TransactionReceipt } from 'ethers'
import type { Hex } from '../protocol/types.js'

/** `StateSet`: the chain set the genesis state of a fork (fork 0 at open). */
export interface StateSetEvent {
  channelId: Hex
  fork: bigint
  stateHash: Hex
  state: Hex
  timestamp: bigint
  /** Bitmap of active participants. */
  active: bigint
  /** The locked deposits from this fork on (the channel record's `locked`). */
  locked: bigint
}

/** `ChannelClosed`: the channel settled; `payouts[i]` went to participant i (plus its bond). */
export interface ChannelClosedEvent {
  channelId: Hex
  fork: bigint
  stateHash: Hex
  payouts: bigint[]
}

/**
 * `ChannelPaidOut`: after `ChannelClosed` of a `closeAndPay`, bit i of `sent` is set when payout i
 * (with its bond) went straight to its payee's account; every other non-zero payout was
 * `Credited` in the manager.
 */
export interface ChannelPaidOutEvent {
  channelId: Hex
  sent: bigint
}

/** `ClaimsRecorded`: after `ChannelClosed` of a `closeToClaims`: the payouts are claims, paid by `claim`. */
export interface ClaimsRecordedEvent {
  channelId: Hex
}

/**
 * `PayoutsClaimed`: a `claim` paid recorded claims; `claimed` is the bitmap claimed so far (the
 * next claim re-supplies it), `sent` the entries of this call sent to their payee's account (the
 * others of this call were `Credited`).
 */
export interface PayoutsClaimedEvent {
  channelId: Hex
  claimed: bigint
  sent: bigint
}

/** `Credited`: settlement credited `amount` of `asset` to `account`'s manager balance. */
export interface CreditedEvent {
  channelId: Hex
  account: Hex
  asset: Hex
  amount: bigint
}

/** Every parsed event of `address` in `receipt`, in log order. */
export function parseEvents(iface: Interface, address: string, receipt: TransactionReceipt): { name: string; args: Record<string, unknown> }[] {
  const out: { name: string; args: Record<string, unknown> }[] = []
  for (const log of receipt.logs as readonly Log[]) {
    if (log.address.toLowerCase() !== address.toLowerCase()) continue
    const parsed = iface.parseLog({ topics: [...log.topics], data: log.data })
    if (parsed) out.push({ name: parsed.name, args: parsed.args.toObject() })
  }
  return out
}

const lower = (v: unknown): Hex => String(v).toLowerCase() as Hex

/** Converts parsed `StateSet` args. */
export function toStateSet(args: Record<string, unknown>): StateSetEvent {
  return {
    channelId: lower(args.channelId),
    fork: BigInt(args.fork as bigint),
    stateHash: lower(args.stateHash),
    state: lower(args.state),
    timestamp: BigInt(args.timestamp as bigint),
    active: BigInt(args.active as bigint),
    locked: BigInt(args.locked as bigint),
  }
}

/** Converts parsed `ChannelClosed` args. */
export function toChannelClosed(args: Record<string, unknown>): ChannelClosedEvent {
  return {
    channelId: lower(args.channelId),
    fork: BigInt(args.fork as bigint),
    stateHash: lower(args.stateHash),
    payouts: [...(args.payouts as Iterable<bigint>)].map((p) => BigInt(p)),
  }
}

/** Converts parsed `Credited` args. */
export function toCredited(args: Record<string, unknown>): CreditedEvent {
  return {
    channelId: lower(args.channelId),
    account: lower(args.account),
    asset: lower(args.asset),
    amount: BigInt(args.amount as bigint),
  }
}

/** Converts parsed `ChannelPaidOut` args. */
export function toChannelPaidOut(args: Record<string, unknown>): ChannelPaidOutEvent {
  return { channelId: lower(args.channelId), sent: BigInt(args.sent as bigint) }
}

/** Converts parsed `ClaimsRecorded` args. */
export function toClaimsRecorded(args: Record<string, unknown>): ClaimsRecordedEvent {
  return { channelId: lower(args.channelId) }
}

/** Converts parsed `PayoutsClaimed` args. */
export function toPayoutsClaimed(args: Record<string, unknown>): PayoutsClaimedEvent {
  return { channelId: lower(args.channelId), claimed: BigInt(args.claimed as bigint), sent: BigInt(args.sent as bigint) }
}
