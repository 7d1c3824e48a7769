/**
 * The fork-0 genesis of a channel, read from the chain: the `StateSet` its `open` emitted
 * (state bytes, block timestamp, block). Any participant can start its peer from this, not
 * only whoever submitted `open`.
 */
import { RuntimeError, UsageError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import { decodeManagerLog } from './decode.js'
import type { ManagerClient } from './ManagerClient.js'

export interface Genesis {
  state: Hex
  timestamp: bigint
  /** Block of the `open` (where the chain listener starts reading). */
  blockNumber: number
}

/**
 * Finds the `StateSet` of fork 0 for `channelId` from block `fromBlock` on.
 * UsageError `CHANNEL_NOT_OPENED` when there is none.
 * @example const { state, timestamp, blockNumber } = await findGenesis(manager, channelId)
 */
export async function findGenesis(manager: ManagerClient, channelId: Hex, fromBlock = 0): Promise<Genesis> {
  const provider = manager.runner.provider
  if (!provider) throw new UsageError('PROVIDER_REQUIRED', 'the manager client has no provider')
  const iface = manager.contract.interface
  let logs
  try {
    logs = await provider.getLogs({ address: manager.address, topics: [iface.getEvent('StateSet')!.topicHash, channelId], fromBlock, toBlock: 'latest' })
  } catch (cause) {
    throw new RuntimeError('RPC_FAILED', `eth_getLogs failed while looking for the channel's opening (a later fromBlock narrows the search): ${(cause as Error).message}`, { cause })
  }
  for (const log of logs) {
    const e = decodeManagerLog(iface, log)
    if (e?.name === 'StateSet' && e.args.fork === 0n) return { state: e.args.state, timestamp: e.args.timestamp, blockNumber: log.blockNumber }
  }
  throw new UsageError('CHANNEL_NOT_OPENED', `channel ${channelId} was not opened on this manager (searched from block ${fromBlock}): open it on-chain first`)
}
