/**
 * A channel's record read back from the manager's events (see ./records.ts): every call about a
 * channel re-supplies it, and the chain keeps only a commitment to it. Read from the node's
 * current chain at each call, so a reorg or a restart needs nothing persisted: the record is
 * always the one the node's chain commits to.
 */
import type { Interface, Provider } from 'ethers'
import type { Hex } from '../protocol/types.js'
import { decodeManagerLog, type ManagerEventName } from './decode.js'
import { applyRecordEvent, type ChannelTrack } from './records.js'

/** The events that change a channel's record (and the word committing to it). */
export const RECORD_EVENTS: readonly ManagerEventName[] = [
  'ChannelOpened', 'StateSet', 'DisputeRaised', 'DisputeAnswered', 'DisputeCancelled', 'DisputeResolved', 'ParticipantSlashed',
  'ParticipantRemoved', 'ChannelClosed', 'ClaimsRecorded', 'PayoutsClaimed',
]

/**
 * The record of `channelId` from the manager's logs between `fromBlock` and `toBlock` (default
 * the latest block), or undefined if it never opened there.
 * @example const track = await channelTrack(provider, manager.contract.interface, manager.address, channelId)
 */
export async function channelTrack(
  provider: Provider, iface: Interface, address: Hex, channelId: Hex, opts: { fromBlock?: number; toBlock?: number | string } = {},
): Promise<ChannelTrack | undefined> {
  const topics = RECORD_EVENTS.map((name) => iface.getEvent(name)!.topicHash)
  const logs = await provider.getLogs({ address, topics: [topics, channelId.toLowerCase()], fromBlock: opts.fromBlock ?? 0, toBlock: opts.toBlock ?? 'latest' })
  let track: ChannelTrack | undefined
  for (const log of [...logs].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)) {
    if (log.removed) continue
    const ev = decodeManagerLog(iface, log)
    if (ev) track = applyRecordEvent(track, ev, log.blockNumber)
  }
  return track
}
