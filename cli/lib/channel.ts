/**
 * What the channel commands (consent, open, run, status) share: the params file, the chain,
 * the manager it names, and the channel id recomputed on this chain and manager — checked
 * against the file's metadata so a params file used against another deployment fails loudly.
 */
import type { Wallet } from 'ethers'
import type { ManagerClient } from '../../src/chain/ManagerClient.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import type { Hex } from '../../src/protocol/types.js'
import type { Values } from './args.js'
import { connect, resolveManager, type ChainContext } from './chain.js'
import { argError } from './errors.js'
import { readParamsFile, type ParamsFile } from './params.js'

export interface ChannelContext extends Omit<ParamsFile, 'manager' | 'chainId' | 'channelId'> {
  chain: ChainContext
  manager: ManagerClient
  hasher: ParleyHasher
  channelId: Hex
}

/**
 * Loads `paramsPath`, connects, and derives the channel id (signing with `wallet` if given).
 * @example const ctx = await openChannelContext(path, values)
 */
export async function openChannelContext(paramsPath: string, values: Values, wallet?: (chain: ChainContext) => Wallet): Promise<ChannelContext & { wallet?: Wallet }> {
  const file = readParamsFile(paramsPath)
  const chain = await connect(values)
  try {
    if (file.chainId !== undefined && file.chainId !== chain.chainId) {
      throw argError('PARAMS_CHAIN_MISMATCH', `${paramsPath} was made for chain ${file.chainId}, but ${chain.rpc} is chain ${chain.chainId} (see --rpc)`)
    }
    const signer = wallet?.(chain)
    const manager = await resolveManager(chain, values, signer, file.manager)
    if (file.manager && manager.address !== file.manager) {
      throw argError('PARAMS_MANAGER_MISMATCH', `${paramsPath} was made for manager ${file.manager}, not ${manager.address}: the channel id would differ`)
    }
    const hasher = await manager.hasher()
    const channelId = hasher.channelId(file.params)
    if (file.channelId && file.channelId !== channelId) {
      throw argError('PARAMS_CHANNEL_ID_MISMATCH', `${paramsPath} says channel ${file.channelId}, but its params hash to ${channelId} (was the file edited?)`)
    }
    return {
      params: file.params, ...(file.machineName ? { machineName: file.machineName } : {}), chain, manager, hasher, channelId,
      ...(signer ? { wallet: signer } : {}),
    }
  } catch (e) {
    chain.close()
    throw e
  }
}

/**
 * Our index in the channel; ArgumentError `NOT_PARTICIPANT` when the key is not one.
 * @example const me = participantIndex(ctx, wallet.address)
 */
export function participantIndex(ctx: Pick<ParamsFile, 'params'>, address: string): number {
  const me = ctx.params.participants.findIndex((p) => p === address.toLowerCase())
  if (me < 0) throw argError('NOT_PARTICIPANT', `${address.toLowerCase()} is not a participant of this channel (${ctx.params.participants.join(', ')})`)
  return me
}
