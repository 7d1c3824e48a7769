/**
 * The chain's view of a channel, reduced from its events: a pure function of the event
 * history, so the handler never needs a contract read to know the fork, the active set or the
 * open dispute. Events at or before the last applied position are ignored, which makes
 * redelivery after a crash harmless.
 */
import { withBit } from '../protocol/bitmap.js'
import type { ChainEvent } from '../chain/ChainListener.js'
import type { ForkRecord } from '../store/types.js'
import type { Hex } from '../protocol/types.js'
import type { ChainView } from './types.js'

/**
 * The view before any event is applied: the latest fork the channel's store knows.
 * @example const view = initialChainView(store.getForks(channelId).at(-1)!)
 */
export function initialChainView(fork: ForkRecord): ChainView {
  return {
    fork: fork.fork, active: fork.active, slashed: 0n, phase: fork.disputed ? 'disputed' : 'open',
    genesis: { state: fork.state, stateHash: fork.stateHash, timestamp: fork.timestamp },
    latestSeq: 0n, now: 0n, posted: [], credits: [],
  }
}

/** Whether `ev` lies at or before the view's position (already applied). */
export function isApplied(view: ChainView, ev: Pick<ChainEvent, 'blockNumber' | 'logIndex'>): boolean {
  const p = view.position
  return p !== undefined && (ev.blockNumber < p.block || (ev.blockNumber === p.block && ev.logIndex <= p.index))
}

/**
 * The view after `ev`. `account` is our address (for credits).
 * @example view = applyChainEvent(view, event, myAddress)
 */
export function applyChainEvent(view: ChainView, ev: ChainEvent, account: Hex): ChainView {
  if (isApplied(view, ev)) return view
  const v: ChainView = { ...view, position: { block: ev.blockNumber, index: ev.logIndex } }
  if (ev.blockTimestamp > v.now) v.now = ev.blockTimestamp
  // Replayed history of earlier forks (a view started from the store's latest fork) changes nothing.
  if ('fork' in ev.args && ev.args.fork < v.fork) return v
  switch (ev.name) {
    case 'StateSet':
      v.fork = ev.args.fork
      v.active = ev.args.active
      v.phase = 'open'
      v.genesis = { state: ev.args.state, stateHash: ev.args.stateHash, timestamp: ev.args.timestamp }
      v.latestSeq = 0n
      v.posted = []
      delete v.dispute
      break
    case 'TransactionPosted':
      if (ev.args.transaction.fork === v.fork) v.posted = [...v.posted, ev.args.digest]
      break
    case 'DisputeRaised':
      v.phase = 'disputed'
      v.dispute = { record: ev.args.dispute, state: ev.args.state, raisedAt: ev.blockTimestamp }
      break
    case 'DisputeAnswered':
      v.dispute = { record: ev.args.dispute, state: ev.args.state, ...(v.dispute?.raisedAt === undefined ? {} : { raisedAt: v.dispute.raisedAt }) }
      break
    case 'DisputeCancelled':
      // The response's move, published in this event (a response emits no TransactionPosted).
      if (ev.args.transaction.fork === v.fork) v.posted = [...v.posted, ev.args.digest]
      v.phase = 'open'
      v.latestSeq = ev.args.seq
      delete v.dispute
      break
    case 'DisputeResolved':
      delete v.dispute // StateSet or ChannelClosed follows in the same transaction
      break
    case 'ParticipantRemoved':
      v.active &= ~(1n << BigInt(ev.args.index))
      break
    case 'ParticipantSlashed':
      v.slashed = withBit(v.slashed, ev.args.index)
      break
    case 'ChannelClosed':
      v.phase = 'closed'
      delete v.dispute
      break
    case 'Credited':
      if (ev.args.account === account.toLowerCase()) {
        v.credits = [...v.credits, { key: `${ev.blockNumber}:${ev.logIndex}`, asset: ev.args.asset, amount: ev.args.amount }]
      }
      break
    default:
      break
  }
  return v
}
