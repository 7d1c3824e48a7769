/**
 * A channel's record replayed from its events: the contract's changes to the record, event by
 * event (the pure part of ./recordLog.ts; the record itself and the word committing to it are
 * in ./records.ts, the events' decoding in ./decode.ts).
 */
import { Phase } from '../protocol/types.js'
import type { ManagerEvent } from './decode.js'
import type { ChannelTrack } from './records.js'

/**
 * The track after `ev` (an event of this channel, in chain order), the contract's changes to
 * the record replayed: `ChannelOpened` starts it; `StateSet` (a new fork: phase Open, genesis,
 * active set, locked amount, latestSeq 0), `DisputeRaised` / `DisputeAnswered` (phase Disputed,
 * the dispute record), `DisputeCancelled` (phase Open, latestSeq), `ParticipantSlashed`,
 * `ParticipantRemoved`, `ChannelClosed` (phase Closed, locked 0), `ClaimsRecorded` and
 * `PayoutsClaimed` change it. Returns undefined before a `ChannelOpened`.
 * @example for (const ev of events) track = applyRecordEvent(track, ev, blockNumber)
 */
export function applyRecordEvent(t: ChannelTrack | undefined, ev: ManagerEvent, blockNumber: number): ChannelTrack | undefined {
  if (ev.name === 'ChannelOpened') return { record: { ...ev.args.record }, openedAt: blockNumber }
  if (!t) return undefined
  const r = { ...t.record }
  const next: ChannelTrack = { ...t, record: r }
  switch (ev.name) {
    case 'StateSet':
      Object.assign(r, {
        phase: Phase.Open, fork: ev.args.fork, genesisStateHash: ev.args.stateHash, genesisTimestamp: ev.args.timestamp,
        active: ev.args.active, locked: ev.args.locked, latestSeq: 0n,
      })
      delete next.dispute
      break
    case 'DisputeRaised':
    case 'DisputeAnswered':
      r.phase = Phase.Disputed
      next.dispute = ev.args.dispute
      break
    case 'DisputeCancelled':
      r.phase = Phase.Open
      r.latestSeq = ev.args.seq
      delete next.dispute
      break
    case 'DisputeResolved':
      delete next.dispute
      break
    case 'ParticipantSlashed':
      r.slashed |= 1n << BigInt(ev.args.index)
      break
    case 'ParticipantRemoved':
      r.active &= ~(1n << BigInt(ev.args.index))
      break
    case 'ChannelClosed':
      r.phase = Phase.Closed
      r.locked = 0n
      next.payouts = ev.args.payouts
      delete next.dispute
      break
    case 'ClaimsRecorded':
      next.claims = { payouts: t.payouts ?? [], claimed: 0n }
      break
    case 'PayoutsClaimed':
      if (next.claims) next.claims = { ...next.claims, claimed: ev.args.claimed }
      break
    default:
      return t
  }
  return next
}
