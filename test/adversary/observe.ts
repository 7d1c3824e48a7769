/**
 * What the chain says happened in a game, read back from the manager's logs of the channel
 * (never from a client's view): credits by account, slashes, the dispute events with their
 * block times, the settlement; and the manager-wide solvency check of test/helpers/solvency.ts.
 */
import { decodeManagerLog, type ManagerEvent } from '../../src/chain/decode.js'
import { bitmapOf, fullBitmap, hasBit } from '../../src/protocol/bitmap.js'
import { ETH, type Hex } from '../../src/protocol/types.js'
import { assertSolvent } from '../helpers/solvency.js'
import { solvencyFixture } from '../helpers/courtPeers.js'
import type { Game } from './Game.js'
import type { DisputeLogEntry } from './invariants.js'

export interface Observation {
  /** Σ Credited by account (lowercase address): own shares and bounties. */
  credited: Map<Hex, bigint>
  /**
   * Each participant's own share, by index: what the channel paid for it (outcome share and
   * bond, at its removal or at the settlement) wherever it went — so a bounty for a slashed
   * participant cannot hide a loss.
   */
  own: Map<number, bigint>
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
  const o: Observation = { credited: new Map(), own: new Map(), total: 0n, slashed: [], disputes: [], forks: 0, posts: 0 }
  const sorted = [...logs].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index)
  const txs = new Map<string, ManagerEvent[]>()
  for (const log of sorted) {
    const ev = decodeManagerLog(iface, log)
    if (!ev) continue
    txs.set(log.transactionHash, [...(txs.get(log.transactionHash) ?? []), ev])
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
  ownShares(o, [...txs.values()], g.ctx.n, g.ctx.params.bond)
  try {
    await assertSolvent(solvencyFixture(anvil, stack), [ETH])
  } catch (e) {
    o.insolvent = (e as Error).message
  }
  return o
}

/**
 * Own shares from the events of each transaction: a settlement pays index i `payouts[i]` plus
 * its bond if it was still owed one (active before the resolution); a removal that starts a fork
 * credits the removed participants in ascending order, one Credited each (never zero: bond > 0).
 */
function ownShares(o: Observation, txs: readonly ManagerEvent[][], n: number, bond: bigint): void {
  let active = fullBitmap(n)
  const add = (i: number, amount: bigint) => o.own.set(i, (o.own.get(i) ?? 0n) + amount)
  for (const events of txs) {
    const removed = events.flatMap((e) => (e.name === 'ParticipantRemoved' ? [e.args.index] : [])).sort((a, b) => a - b)
    const closed = events.find((e) => e.name === 'ChannelClosed')
    if (closed?.name === 'ChannelClosed') {
      closed.args.payouts.forEach((p, i) => add(i, p + (hasBit(active, i) ? bond : 0n)))
    } else if (removed.length > 0) {
      const credits = events.flatMap((e) => (e.name === 'Credited' ? [e.args.amount] : []))
      removed.forEach((i, k) => add(i, credits[k] ?? 0n))
    }
    active &= ~bitmapOf(removed)
  }
}
