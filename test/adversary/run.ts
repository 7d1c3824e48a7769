/**
 * Runs one schedule end to end on the world's anvil and checks the invariants for every honest
 * participant: the chain is reverted to the freshly deployed snapshot first, so every run sees
 * the same chain and funds; the game is played, finished (an honest force-close, time until
 * the channel is closed), observed and checked.
 */
import { startAnvil } from '../../src/chain/anvil.js'
import { deploy } from '../../src/chain/deploy.js'
import { deployLocalStack } from '../../src/chain/stack.js'
import type { Hex } from '../../src/protocol/types.js'
import { runStep } from './actions.js'
import type { World } from './context.js'
import { Game } from './Game.js'
import { checkCredit, checkDisputes, checkSettlement } from './invariants.js'
import { observe, type Observation } from './observe.js'
import type { Schedule } from './schedule.js'

/** What one run did and found. */
export interface RunResult {
  violations: string[]
  notes: string[]
  log: string[]
  steps: number
  disputes: number
  slashes: number
  forks: number
  calls: Record<string, number>
  /** Mutant steps by use and outcome (Game `stats.mutants`). */
  mutants: Record<string, number>
  honestActions: number
  /** Skewed close requests sent (./closeAttack.ts), by terms. */
  skewedCloses: Record<string, number>
  /** Chain seconds from the end of the schedule to the settlement. */
  settleSeconds?: bigint
  wallMs: number
}

/** Starts the process-wide anvil (prague: EIP-7702), deploys the stack and a Forwarder, and snapshots. */
export async function startWorld(): Promise<World> {
  const anvil = await startAnvil({ accounts: 8, hardfork: 'prague' })
  const stack = await deployLocalStack(anvil.wallets[0]!)
  const hasher = await stack.manager.hasher()
  const forwarder = (await deploy('Forwarder', anvil.wallets[0]!)).address as Hex
  const snapshot = (await anvil.provider.send('evm_snapshot', [])) as string
  return { anvil, stack, hasher, forwarder, snapshot }
}

/** Back to the freshly deployed chain (a snapshot is used up by evm_revert: take the next one). */
async function reset(world: World): Promise<void> {
  const ok = (await world.anvil.provider.send('evm_revert', [world.snapshot])) as boolean
  if (!ok) throw new Error(`evm_revert(${world.snapshot}) failed`)
  world.snapshot = (await world.anvil.provider.send('evm_snapshot', [])) as string
}

let games = 0

/** Plays `schedule`, finishes the channel and checks the three invariants. */
export async function runSchedule(
  world: World, schedule: Schedule, opts: { trace?: (line: string) => void; /** Control only: honest courts detached at once (the checker must then see the theft). */ detachCourts?: boolean } = {},
): Promise<RunResult> {
  const started = Date.now()
  await reset(world)
  const log: string[] = []
  const say = (line: string) => {
    log.push(line)
    opts.trace?.(line)
  }
  const r: RunResult = { violations: [], notes: [], log, steps: 0, disputes: 0, slashes: 0, forks: 0, calls: {}, mutants: {}, honestActions: 0, skewedCloses: {}, wallMs: 0 }
  let g: Game | undefined
  try {
    g = await Game.open(world, schedule, `adversary-${process.pid}-${games++}`)
    say(`open: n=${schedule.n}, byzantine M${schedule.byzantine.join(',M')}, honest P${g.honest.join(',P')}`)
    if (opts.detachCourts) for (const i of g.honest) await g.role(i).court!.detach()
    for (const step of schedule.steps) say(await runStep(g, step))
    const end = await g.finish()
    const o = await observe(g)
    say(`end: closed at ${o.closedAt ?? 'never'}, ${o.disputes.filter((d) => d.name === 'DisputeRaised').length} disputes, ${o.slashed.length} slashed, ${o.forks} forks`)
    check(g, o, end, r)
    Object.assign(r, { disputes: o.disputes.filter((d) => d.name === 'DisputeRaised').length, slashes: o.slashed.length, forks: o.forks })
    if (o.closedAt !== undefined) r.settleSeconds = o.closedAt - end
    r.steps = g.stats.steps
    r.calls = g.stats.calls
    r.mutants = g.stats.mutants
    r.honestActions = g.stats.honestActions
    r.skewedCloses = g.stats.skewedCloses
  } catch (e) {
    r.violations.push(`harness: ${(e as Error).stack ?? String(e)}`)
  } finally {
    await g?.close().catch(() => undefined)
  }
  r.wallMs = Date.now() - started
  return r
}

function check(g: Game, o: Observation, end: bigint, r: RunResult): void {
  const params = g.ctx.params
  for (const i of g.honest) {
    const c = checkCredit({
      index: i, deposit: params.deposits[i]!, bond: params.bond, trace: g.traces.get(i)!,
      credited: o.credited.get(params.participants[i]!.toLowerCase() as Hex) ?? 0n, own: o.own.get(i) ?? 0n, slashed: o.slashed.some((s) => s.index === i),
    })
    r.violations.push(...c.violations)
    r.notes.push(...c.notes)
  }
  const bound = { challengeTime: params.challengeTime, postingWindow: params.p2pTime + params.agreementTime + params.chainFallbackTime }
  r.violations.push(...checkDisputes(o.disputes, bound).violations)
  r.violations.push(...checkSettlement({
    n: g.ctx.n, deposits: params.deposits, bond: params.bond, credited: o.total, end, params: bound,
    ...(o.closedAt !== undefined ? { closedAt: o.closedAt } : {}),
    ...(o.firstDispute !== undefined ? { firstDispute: o.firstDispute } : {}),
    ...(g.out !== undefined && g.out.at < end ? { wantedOut: g.out.at } : {}),
  }))
  if (o.insolvent) r.violations.push(`insolvent: ${o.insolvent}`)
  // docs/protocol.md §9.1: an honest participant signs a close only on its latest final state, with its machine's payouts.
  if (g.stats.skewedCloseConsents > 0) r.violations.push(`close: every active participant consented to skewed close terms (${g.stats.skewedCloseConsents} time(s))`)
  const own = [...o.own.values()].reduce((a, b) => a + b, 0n)
  if (own !== o.total) r.violations.push(`harness: own shares add up to ${own}, the credits to ${o.total}`)
}
