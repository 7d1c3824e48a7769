/**
 * The manager's solvency invariant: for every asset, what the manager holds (ETH balance or
 * token balance) equals the sum of all account balances plus the funding of channels not open
 * plus the funds locked in channels that
 * are not closed (locked deposits + the bonds of active participants: a removed participant's
 * bond is credited when it leaves the active set) plus the claims recorded by closeToClaims and
 * not claimed yet.
 */
import assert from 'node:assert/strict'
import { Contract } from 'ethers'
import { bitCount } from '../../src/protocol/bitmap.js'
import { ETH, Phase, type Hex } from '../../src/protocol/types.js'
import type { Fixture } from './fixture.js'
import { trackOf } from './records.js'
import { channelWordOf, NO_CHANNEL } from '../../src/chain/records.js'

/** What the invariant compared, per asset (for diagnostics). */
export interface SolvencyReport {
  asset: Hex
  held: bigint
  balances: bigint
  locked: bigint
}

const ERC20_BALANCE = ['function balanceOf(address) view returns (uint256)']

/** Accounts that ever received a balance (Deposited or Credited) and every channel opened or funded, from logs. */
async function discover(f: Fixture): Promise<{ accounts: string[]; channels: Hex[] }> {
  const m = f.manager
  const [deposited, credited, opened, funded] = await Promise.all([
    m.queryFilter(m.filters.Deposited!(), 0, 'latest'),
    m.queryFilter(m.filters.Credited!(), 0, 'latest'),
    m.queryFilter(m.filters.ChannelOpened!(), 0, 'latest'),
    m.queryFilter(m.filters.Funded!(), 0, 'latest'),
  ])
  const accounts = new Set<string>()
  for (const e of deposited) accounts.add(m.interface.parseLog(e)!.args[0].toLowerCase())
  for (const e of credited) accounts.add(m.interface.parseLog(e)!.args[1].toLowerCase())
  const channels = new Set([...opened, ...funded].map((e) => (m.interface.parseLog(e)!.args[0] as string).toLowerCase() as Hex))
  return { accounts: [...accounts], channels: [...channels] }
}

/**
 * What a channel closed by closeToClaims still holds for its participants: every recorded claim
 * (payout, plus the bond of a participant active at the close) not claimed yet, from its
 * ChannelClosed and latest PayoutsClaimed. 0 for a channel settled by credits or pushes.
 */
async function unclaimed(f: Fixture, channelId: Hex, active: bigint, bond: bigint): Promise<bigint> {
  const m = f.manager
  if ((await m.queryFilter(m.filters.ClaimsRecorded!(channelId), 0, 'latest')).length === 0) return 0n
  const closed = await m.queryFilter(m.filters.ChannelClosed!(channelId), 0, 'latest')
  const payouts = m.interface.parseLog(closed[closed.length - 1]!)!.args.payouts as bigint[]
  const claims = await m.queryFilter(m.filters.PayoutsClaimed!(channelId), 0, 'latest')
  const claimed = claims.length === 0 ? 0n : BigInt(m.interface.parseLog(claims[claims.length - 1]!)!.args.claimed)
  let held = 0n
  payouts.forEach((p, i) => {
    if ((claimed >> BigInt(i)) & 1n) return
    held += BigInt(p) + ((active >> BigInt(i)) & 1n ? bond : 0n)
  })
  return held
}

/**
 * Asserts the invariant for each of `assets` (default: ETH and the fixture's token). When
 * `accounts` or `channels` are omitted they are discovered from the manager's logs
 * (Deposited/Credited recipients, ChannelOpened ids), which covers every account that can hold
 * a balance. Returns what was compared.
 */
export async function assertSolvent(
  f: Fixture,
  assets?: Hex[],
  accounts?: string[],
  channels?: Hex[],
): Promise<SolvencyReport[]> {
  const list = assets ?? [ETH, (await f.token.getAddress()).toLowerCase() as Hex]
  const found = accounts && channels ? { accounts, channels } : await discover(f)
  const accs = accounts ?? found.accounts
  const chans = channels ?? found.channels
  const managerAddr = await f.manager.getAddress()
  // Each channel's record as its events give it (the manager stores only a commitment to it),
  // checked against the word the manager stores: the events let a client rebuild exactly it.
  const tracks = await Promise.all(chans.map((id) => trackOf(f.manager, id)))
  for (const [k, t] of tracks.entries()) {
    const [phase, word] = (await f.manager.getFunction('channelWord')(chans[k]!)) as [bigint, string]
    if (Number(phase) === Phase.None) continue
    assert.ok(t, `channel ${chans[k]} is ${phase} but no ChannelOpened`)
    assert.equal(channelWordOf(t), word.toLowerCase(), `channel ${chans[k]}: the record rebuilt from its events is not the one its word commits to`)
  }
  const records = tracks.map((t) => t?.record ?? NO_CHANNEL)
  const reports: SolvencyReport[] = []
  for (const asset of list) {
    const held =
      asset === ETH
        ? await f.anvil.provider.getBalance(managerAddr)
        : ((await new Contract(asset, ERC20_BALANCE, f.anvil.provider).getFunction('balanceOf')(managerAddr)) as bigint)
    let balances = 0n
    for (const a of accs) balances += (await f.manager.getFunction('balanceOf')(a, asset)) as bigint
    let locked = 0n
    for (const [k, ch] of records.entries()) {
      const phase = Number(ch.phase)
      const [funded, fundedAsset, setAside, setAsideAsset] = (await f.manager.getFunction('funding')(chans[k]!)) as [bigint, string, bigint, string]
      // A funding in another asset that the open set aside, until reclaimed.
      if (setAsideAsset.toLowerCase() === asset) locked += setAside
      if (phase === Phase.None) {
        // Funding not locked by an open yet.
        if (fundedAsset.toLowerCase() === asset) locked += funded
        continue
      }
      if (String(ch.asset).toLowerCase() !== asset) continue
      if (phase === Phase.Closed) locked += await unclaimed(f, chans[k]!, BigInt(ch.active), BigInt(ch.bond))
      if (phase !== Phase.Open && phase !== Phase.Disputed) continue
      locked += BigInt(ch.locked) + BigInt(bitCount(BigInt(ch.active))) * BigInt(ch.bond)
    }
    assert.equal(held, balances + locked, `manager holds ${held} of ${asset}, accounts ${balances} + locked ${locked}`)
    reports.push({ asset, held, balances, locked })
  }
  return reports
}
