/**
 * The manager's solvency invariant: for every asset, what the manager holds (ETH balance or
 * token balance) equals the sum of all account balances plus the funds locked in channels that
 * are not closed (locked deposits + the bonds of active participants: a removed participant's
 * bond is credited when it leaves the active set).
 */
import assert from 'node:assert/strict'
import { Contract } from 'ethers'
import { bitCount } from '../../src/protocol/bitmap.js'
import { ETH, Phase, type Hex } from '../../src/protocol/types.js'
import type { Fixture } from './fixture.js'

/** What the invariant compared, per asset (for diagnostics). */
export interface SolvencyReport {
  asset: Hex
  held: bigint
  balances: bigint
  locked: bigint
}

const ERC20_BALANCE = ['function balanceOf(address) view returns (uint256)']

/** Accounts that ever received a balance (Deposited or Credited) and every channel opened, from logs. */
async function discover(f: Fixture): Promise<{ accounts: string[]; channels: Hex[] }> {
  const m = f.manager
  const [deposited, credited, opened] = await Promise.all([
    m.queryFilter(m.filters.Deposited!(), 0, 'latest'),
    m.queryFilter(m.filters.Credited!(), 0, 'latest'),
    m.queryFilter(m.filters.ChannelOpened!(), 0, 'latest'),
  ])
  const accounts = new Set<string>()
  for (const e of deposited) accounts.add(m.interface.parseLog(e)!.args[0].toLowerCase())
  for (const e of credited) accounts.add(m.interface.parseLog(e)!.args[1].toLowerCase())
  const channels = opened.map((e) => m.interface.parseLog(e)!.args[0] as Hex)
  return { accounts: [...accounts], channels }
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
  const records = await Promise.all(chans.map((id) => f.manager.getFunction('getChannel')(id)))
  const reports: SolvencyReport[] = []
  for (const asset of list) {
    const held =
      asset === ETH
        ? await f.anvil.provider.getBalance(managerAddr)
        : ((await new Contract(asset, ERC20_BALANCE, f.anvil.provider).getFunction('balanceOf')(managerAddr)) as bigint)
    let balances = 0n
    for (const a of accs) balances += (await f.manager.getFunction('balanceOf')(a, asset)) as bigint
    let locked = 0n
    for (const ch of records) {
      const phase = Number(ch.phase)
      if (String(ch.asset).toLowerCase() !== asset || (phase !== Phase.Open && phase !== Phase.Disputed)) continue
      locked += BigInt(ch.locked) + BigInt(bitCount(BigInt(ch.active))) * BigInt(ch.bond)
    }
    assert.equal(held, balances + locked, `manager holds ${held} of ${asset}, accounts ${balances} + locked ${locked}`)
    reports.push({ asset, held, balances, locked })
  }
  return reports
}
