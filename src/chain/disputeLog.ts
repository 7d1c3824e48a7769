/**
 * The open dispute of a channel, read back from the manager's events. The chain stores only a
 * commitment to the record (docs/protocol.md §7.1); every call acting on a dispute re-supplies
 * the record of the latest `DisputeRaised` or `DisputeAnswered`.
 */
import type { Interface, Provider } from 'ethers'
import type { DisputeRecord, Hex } from '../protocol/types.js'
import { decodeManagerLog } from './decode.js'

/** An open dispute as the events describe it. */
export interface OpenDispute {
  /** The record to re-supply. */
  record: DisputeRecord
  /** The fork it is on. */
  fork: bigint
  /** The candidate's state bytes when the events carry them (a timeout's candidate), else undefined. */
  state?: Hex
  /** Block of the event that set this record. */
  blockNumber: number
}

const DISPUTE_EVENTS = ['DisputeRaised', 'DisputeAnswered', 'DisputeCancelled', 'DisputeResolved'] as const

/**
 * The open dispute of `channelId` from the manager's logs since `fromBlock`, or undefined if the
 * latest dispute event ended it (or there is none).
 * @example const open = await latestDispute(provider, manager.contract.interface, manager.address, channelId)
 */
export async function latestDispute(provider: Provider, iface: Interface, address: Hex, channelId: Hex, fromBlock = 0): Promise<OpenDispute | undefined> {
  const topics = DISPUTE_EVENTS.map((name) => iface.getEvent(name)!.topicHash)
  const logs = await provider.getLogs({ address, topics: [topics, channelId], fromBlock, toBlock: 'latest' })
  let open: OpenDispute | undefined
  for (const log of [...logs].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)) {
    const ev = decodeManagerLog(iface, log)
    if (!ev) continue
    if (ev.name === 'DisputeRaised') {
      open = { record: ev.args.dispute, fork: ev.args.fork, blockNumber: log.blockNumber, ...(ev.args.state !== '0x' ? { state: ev.args.state } : {}) }
    } else if (ev.name === 'DisputeAnswered') {
      // A refutation keeps the candidate, and with it the state bytes the timeout published.
      const state = open?.state !== undefined && open.record.stateHash === ev.args.dispute.stateHash ? { state: open.state } : {}
      open = { record: ev.args.dispute, fork: ev.args.fork, blockNumber: log.blockNumber, ...state }
    } else {
      open = undefined
    }
  }
  return open
}
