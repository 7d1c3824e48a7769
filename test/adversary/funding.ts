/**
 * The adversary before the open (issue 12's per-channel funding): honest participants fund
 * their shares through the client (`fundShare`, in order; when they cannot, they deposit into
 * their balance) while a byzantine participant funds out of turn, partly, too much, in a junk
 * token, with a wrong expected funding, front-runs an honest funding in the same block, deposits,
 * tries to reclaim early, and gives or withholds its consent to the open. At the end the honest
 * open the channel if they can, and reclaim after the open deadline if they cannot.
 *
 * The invariant, per honest participant P: **P is whole** — what P holds afterwards (its manager
 * balance, plus its share locked in the channel when it opened) is at least what P put in (its
 * fundings and deposits), so none of P's money covers another participant's share or stays stuck
 * — and the manager is solvent (so, with every honest whole, the adversary gains nothing).
 * `brokenClient` is the control: honest fundings ignore the funding order (expected = whatever is
 * held), and the checker must then catch the loss.
 */
import fc from 'fast-check'
import { keccak256, toUtf8Bytes, type Contract, type Wallet } from 'ethers'
import { ManagerClient } from '../../src/chain/ManagerClient.js'
import { signOpenConsent } from '../../src/chain/consent.js'
import { fundingBefore, shareOf } from '../../src/protocol/funding.js'
import { shortfalls } from '../../src/peer/openChannel.js'
import { ETH, Phase, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import { channelParams } from '../../src/channel/params.js'
import type { World } from './context.js'
import { assertSolvent } from '../helpers/solvency.js'
import { solvencyFixture } from '../helpers/courtPeers.js'

const UNIT = 10n ** 15n

/** What the byzantine participant funds: its share, half of it, two shares, one wei. */
export const AMOUNTS = ['share', 'half', 'double', 'wei'] as const
export type FundStep =
  | { kind: 'honest'; h: number }
  /** Byzantine funding; `expected` 'held' is right, 'off' one unit above; `junk` funds the test token. */
  | { kind: 'byz'; amount: (typeof AMOUNTS)[number]; expected: 'held' | 'off'; junk: boolean }
  /** Honest `h` funds; the byzantine participant's funding lands first in the same block. */
  | { kind: 'front'; h: number; amount: (typeof AMOUNTS)[number] }
  | { kind: 'byzDeposit'; shares: 0 | 1 | 2 }
  | { kind: 'byzReclaim' }
  | { kind: 'travel'; seconds: number }

export interface FundingSchedule {
  n: number
  /** The byzantine participant's index. */
  byz: number
  /** Whether it signs the open consent. */
  consents: boolean
  steps: FundStep[]
}

export interface FundingResult {
  violations: string[]
  log: string[]
  opened: boolean
}

export function fundingScheduleArb(maxSteps = 8): fc.Arbitrary<FundingSchedule> {
  return fc.integer({ min: 2, max: 3 }).chain((n) =>
    fc.record({
      n: fc.constant(n),
      byz: fc.integer({ min: 0, max: n - 1 }),
      consents: fc.boolean(),
      steps: fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('honest' as const), h: fc.nat(4) }),
          fc.record({ kind: fc.constant('byz' as const), amount: fc.constantFrom(...AMOUNTS), expected: fc.constantFrom('held' as const, 'held' as const, 'off' as const), junk: fc.boolean() }),
          fc.record({ kind: fc.constant('front' as const), h: fc.nat(4), amount: fc.constantFrom(...AMOUNTS) }),
          fc.record({ kind: fc.constant('byzDeposit' as const), shares: fc.constantFrom(0 as const, 1 as const, 2 as const) }),
          fc.constant({ kind: 'byzReclaim' as const }),
          fc.record({ kind: fc.constant('travel' as const), seconds: fc.constantFrom(60, 3_600) }),
        ),
        { maxLength: maxSteps },
      ),
    }),
  )
}

export function describeFunding(s: FundingSchedule): string {
  return [`n=${s.n} byz=#${s.byz} consents=${s.consents}`, ...s.steps.map((x) => Object.entries(x).map(([k, v]) => (k === 'kind' ? v : `${k}=${v}`)).join(' '))].join('\n')
}

/** Plays one schedule from the world's fresh snapshot and checks the invariant. */
export async function runFunding(world: World, s: FundingSchedule, opts: { brokenClient?: boolean; label?: string } = {}): Promise<FundingResult> {
  const ok = (await world.anvil.provider.send('evm_revert', [world.snapshot])) as boolean
  if (!ok) throw new Error('evm_revert failed')
  world.snapshot = (await world.anvil.provider.send('evm_snapshot', [])) as string

  const { anvil, stack } = world
  const provider = anvil.provider
  const wallets = anvil.wallets.slice(1, s.n + 1)
  const honest = wallets.map((_, i) => i).filter((i) => i !== s.byz)
  const now = BigInt((await provider.getBlock('latest'))!.timestamp)
  const p: ChannelParams = channelParams({
    participants: wallets.map((w) => w.address.toLowerCase() as Hex), machine: stack.machines.payments, asset: ETH,
    deposits: wallets.map((_, i) => BigInt(i + 1) * 3n * UNIT), bond: UNIT, salt: keccak256(toUtf8Bytes(opts.label ?? 'funding')) as Hex,
    openDeadline: now + 7_200n,
  })
  const manager = (w: Wallet) => stack.manager.connect(w)
  const id = (await stack.manager.hasher()).channelId(p)
  const log: string[] = []
  const spent = wallets.map(() => 0n)
  const byz = wallets[s.byz]!
  const raw = stack.manager.connect(byz).contract as unknown as Contract
  const amountOf = (a: (typeof AMOUNTS)[number]) => ({ share: shareOf(p, s.byz), half: shareOf(p, s.byz) / 2n, double: 2n * shareOf(p, s.byz), wei: 1n })[a]
  await stack.mintAndApprove(byz, 10n ** 21n)

  const held = async () => (await stack.manager.funding(id)).held
  /** An honest participant's funding through the client (or, broken, with whatever is held as expected). */
  const honestFund = async (h: number): Promise<string> => {
    if (opts.brokenClient) {
      const { held: now, asset } = await stack.manager.funding(id)
      if (now !== 0n && asset !== ETH) return 'junk held'
      const r = await manager(wallets[h]!).fund(id, ETH, now, shareOf(p, h)).catch((e: { code?: string }) => e.code ?? 'failed')
      if (typeof r === 'string') return r
      spent[h]! += shareOf(p, h)
      return 'sent (broken)'
    }
    let sending = 0n
    try {
      const r = await manager(wallets[h]!).fundShare(p, h, { onSend: (amount) => (sending = amount) })
      if (r) spent[h]! += sending // mined; a reverted one throws and costs gas only
      return r ? 'sent' : 'funded already'
    } catch (e) {
      return (e as { code?: string }).code ?? String(e)
    }
  }
  const byzFund = async (amount: bigint, expected: bigint, junk: boolean, gas: { maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint } = {}) => {
    const asset = junk ? stack.token.address : ETH
    const tx = await raw.getFunction('fund')(id, asset, expected, amount, { value: junk ? 0n : amount, gasLimit: 300_000, ...gas })
    const r = await tx.wait().then((x: { status: number }) => x, () => ({ status: 0 }))
    if (r.status === 1 && !junk) spent[s.byz]! += amount
    return r.status === 1 ? 'ok' : 'reverted'
  }

  for (const step of s.steps) {
    let line = ''
    if (step.kind === 'honest') {
      const h = honest[step.h % honest.length]!
      line = `honest #${h} funds: ${await honestFund(h)}`
    } else if (step.kind === 'byz') {
      const now = await held()
      line = `byz funds ${step.amount}${step.junk ? ' junk' : ''} expected ${step.expected}: ${await byzFund(amountOf(step.amount), step.expected === 'held' ? now : now + UNIT, step.junk)}`
    } else if (step.kind === 'front') {
      const h = honest[step.h % honest.length]!
      await provider.send('evm_setAutomine', [false])
      try {
        const before = await held()
        const honestDone = honestFund(h)
        await waitPool(provider, wallets[h]!.address)
        const byzDone = byzFund(amountOf(step.amount), before, false, { maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 50n * 10n ** 9n })
        await waitPool(provider, byz.address)
        await provider.send('evm_mine', [])
        line = `byz front-runs honest #${h} with ${step.amount}: byz ${await byzDone}, honest ${await honestDone}`
      } finally {
        await provider.send('evm_setAutomine', [true])
      }
    } else if (step.kind === 'byzDeposit') {
      const amount = BigInt(step.shares) * shareOf(p, s.byz)
      if (amount > 0n) {
        await manager(byz).deposit(ETH, amount)
        spent[s.byz]! += amount
      }
      line = `byz deposits ${step.shares} share(s)`
    } else if (step.kind === 'byzReclaim') {
      line = `byz reclaims: ${await manager(byz).reclaim(p).then(() => 'ok', (e: { code?: string }) => e.code ?? 'failed')}`
    } else {
      await provider.send('evm_increaseTime', [step.seconds])
      await provider.send('evm_mine', [])
      line = `${step.seconds} s pass`
    }
    log.push(line)
  }

  // The end: every honest participant makes sure its share is there (funded, else in its balance).
  for (const h of honest) {
    const r = await honestFund(h)
    const short = (await shortfalls(stack.manager, id, p)).find((x) => x.participant === h)
    let line = `end: honest #${h} funds: ${r}`
    if (short && short.needs > short.has) {
      await manager(wallets[h]!).deposit(ETH, short.needs - short.has)
      spent[h]! += short.needs - short.has
      line += `; deposits ${short.needs - short.has}`
    }
    log.push(line)
  }
  const hasher = await stack.manager.hasher()
  const consents = wallets.map((w) => signOpenConsent(w.signingKey, hasher, p))
  let opened = false
  const timeLeft = p.openDeadline - BigInt((await provider.getBlock('latest'))!.timestamp)
  if (s.consents && timeLeft > 0n) {
    opened = await manager(wallets[honest[0]!]!).open(p, consents).then(() => true, (e: { code?: string }) => (log.push(`open refused: ${e.code}`), false))
  }
  if (!opened) {
    const left = p.openDeadline + 1n - BigInt((await provider.getBlock('latest'))!.timestamp)
    if (left > 0n) {
      await provider.send('evm_increaseTime', [Number(left)])
      await provider.send('evm_mine', [])
    }
    const f = await stack.manager.funding(id)
    if (f.held > 0n || f.setAside > 0n) log.push(`honest reclaims: ${await manager(wallets[honest[0]!]!).reclaim(p).then(() => 'ok', (e: { code?: string }) => e.code ?? 'failed')}`)
  } else {
    log.push('opened')
    const f = await stack.manager.funding(id)
    if (f.setAside > 0n) log.push(`honest reclaims the junk set aside: ${await manager(wallets[honest[0]!]!).reclaim(p).then(() => 'ok', (e: { code?: string }) => e.code ?? 'failed')}`)
  }

  const violations: string[] = []
  await assertSolvent(solvencyFixture(anvil, stack), [ETH, stack.token.address]).catch((e: Error) => violations.push(`manager not solvent: ${e.message}`))
  for (const h of honest) {
    const balance = await stack.manager.balanceOf(p.participants[h]!, ETH)
    const holds = balance + (opened ? shareOf(p, h) : 0n)
    if (holds < spent[h]!) violations.push(`honest #${h} put in ${spent[h]} and holds ${holds} (balance ${balance}${opened ? ` + share ${shareOf(p, h)}` : ''})`)
  }
  return { violations, log, opened }
}

async function waitPool(provider: World['anvil']['provider'], from: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const pool = (await provider.send('txpool_content', [])) as { pending?: Record<string, unknown> }
    if (Object.keys(pool.pending ?? {}).some((a) => a.toLowerCase() === from.toLowerCase())) return
    await new Promise((r) => setTimeout(r, 20))
  }
}
