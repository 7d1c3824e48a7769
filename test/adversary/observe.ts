/**
 * What the chain says happened in a game, read back from the manager's logs of the channel
 * (never from a client's view): credits by account, slashes, the dispute events with their
 * block times, the settlement; and the manager-wide solvency check of test/helpers/solvency.ts.
 */
import { decodeManagerLog } from '../../src/chain/decode.js'
import { ETH, type Hex } from '../../src/protocol/types.js'
import { assertSolvent } from '../helpers/solvency.js'
import { solvencyFixture } from '../helpers/courtPeers.js'
import type { Game } from './Game.js'
import type { DisputeLogEntry } from './invariants.js'

export interface Observation {
  /** Σ Credited by account (lowercase address). */
  credited: Map<Hex, bigint>
  /** Σ of every Credited event of the channel. */
  total: bigint
  slashed: { index: number; beneficiary: number }[]
  disputes: DisputeLogEntry[]
  closedAt?: bigint
  firstDispute?: bigint
  forks: number
  posts: number
  /** The solvency assertion's message when it failed. */
  insolvent?: string
}

/** Reads the channel's events since it opened and checks the manager's solvency. */
export async function observe(g: Game): Promise<Observation> {
  const { anvil, stack } = g.world
  const iface = stack.manager.contract.interface
  const logs = await anvil.provider.getLogs({ address: stack.manager.address, topics: [null, g.ctx.channelId], fromBlock: g.ctx.openBlock, toBlock: 'latest' })
  const times = new Map<number, bigint>()
  const timeOf = async (block: number) => {
    if (!times.has(block)) times.set(block, BigInt((await anvil.provider.getBlock(block))!.timestamp))
    return times.get(block)!
  }
  const o: Observation = { credited: new Map(), total: 0n, slashed: [], disputes: [], forks: 0, posts: 0 }
  for (const log of [...logs].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)) {
    const ev = decodeManagerLog(iface, log)
    if (!ev) continue
    const time = await timeOf(log.blockNumber)
    switch (ev.name) {
      case 'Credited':
        o.credited.set(ev.args.account, (o.credited.get(ev.args.account) ?? 0n) + ev.args.amount)
        o.total += ev.args.amount
        break
      case 'ParticipantSlashed':
        o.slashed.push({ index: ev.args.index, beneficiary: ev.args.beneficiary })
        break
      case 'DisputeRaised':
      case 'DisputeAnswered':
        if (ev.name === 'DisputeRaised') o.firstDispute ??= time
        o.disputes.push({ name: ev.name, time, record: ev.args.dispute })
        break
      case 'DisputeCancelled':
      case 'DisputeResolved':
        o.disputes.push({ name: ev.name, time })
        break
      case 'StateSet':
        if (ev.args.fork > 0n) o.forks++
        break
      case 'TransactionPosted':
        o.posts++
        break
      case 'ChannelClosed':
        o.closedAt = time
        break
      default:
        break
    }
  }
  try {
    await assertSolvent(solvencyFixture(anvil, stack), [ETH])
  } catch (e) {
    o.insolvent = (e as Error).message
  }
  return o
}
