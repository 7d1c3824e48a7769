/**
 * A channel's record read back from the manager's events (see ./records.ts): every call about a
 * channel re-supplies it, and the chain keeps only a commitment to it. Read from the node's
 * current chain at each call, so a reorg or a restart needs nothing persisted: the record is
 * always the one the node's chain commits to.
 */
import type { Interface, Log, Provider } from 'ethers'
import { RuntimeError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import { decodeManagerLog, type ManagerEventName } from './decode.js'
import { applyRecordEvent } from './recordEvents.js'
import type { ChannelTrack } from './records.js'

/** The events that change a channel's record (and the word committing to it). */
export const RECORD_EVENTS: readonly ManagerEventName[] = [
  'ChannelOpened', 'StateSet', 'DisputeRaised', 'DisputeAnswered', 'DisputeCancelled', 'DisputeResolved', 'ParticipantSlashed',
  'ParticipantRemoved', 'ChannelClosed', 'ClaimsRecorded', 'PayoutsClaimed',
]

/**
 * Largest block range of one `eth_getLogs` here (public RPCs cap it; the same default as the
 * ChainListener's `maxBlockRange`).
 */
export const RECORD_LOG_RANGE = 2000

/**
 * The record of `channelId` from the manager's logs between `fromBlock` and `toBlock` (default
 * the latest block), or undefined if it never opened there. The logs are read newest range first,
 * at most `maxBlockRange` blocks per query, back to the channel's `ChannelOpened` (or
 * `fromBlock`): a channel older than a node's range cap is read all the same, and a query never
 * reaches further back than the open.
 * @example const track = await channelTrack(provider, manager.contract.interface, manager.address, channelId)
 */
export async function channelTrack(
  provider: Provider, iface: Interface, address: Hex, channelId: Hex,
  opts: { fromBlock?: number; toBlock?: number | string; maxBlockRange?: number } = {},
): Promise<ChannelTrack | undefined> {
  const topics = RECORD_EVENTS.map((name) => iface.getEvent(name)!.topicHash)
  const opened = iface.getEvent('ChannelOpened')!.topicHash
  const step = opts.maxBlockRange ?? RECORD_LOG_RANGE
  const first = opts.fromBlock ?? 0
  let last = opts.toBlock
  if (typeof last !== 'number') {
    const b = await provider.getBlock(last ?? 'latest')
    if (!b) throw new RuntimeError('RPC_FAILED', `the node returned no block ${last ?? 'latest'}`, { details: { method: 'eth_getBlockByNumber' } })
    last = b.number
  }
  const logs: Log[] = []
  for (let to = last; to >= first; to -= step) {
    const from = Math.max(first, to - step + 1)
    const got = await provider.getLogs({ address, topics: [topics, channelId.toLowerCase()], fromBlock: from, toBlock: to })
    logs.push(...got)
    if (got.some((l) => !l.removed && l.topics[0] === opened)) break
  }
  let track: ChannelTrack | undefined
  for (const log of [...logs].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)) {
    if (log.removed) continue
    const ev = decodeManagerLog(iface, log)
    if (ev) track = applyRecordEvent(track, ev, log.blockNumber)
  }
  return track
}
