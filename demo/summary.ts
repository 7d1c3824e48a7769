/**
 * The demo's closing summary, and the checks that make a wrong result fail the run: the
 * machine's final balances equal the script's own arithmetic, settlement paid exactly those,
 * every participant withdrew them, the manager holds nothing more, the channel is Closed.
 */
import { ProtocolError } from '../src/errors/ParleyError.js'
import { ETH, Phase, type ChannelParams, type Hex } from '../src/protocol/types.js'
import { eth, gas } from './timeline.js'
import type { Client } from './clients.js'
import { addressOf, type World } from './world.js'

/** What the scenario played off-chain, and the balances its own arithmetic expects. */
export interface Script {
  transactions: number
  passes: number
  expected: bigint[]
}

export interface Settlement {
  finalSeq: bigint
  state: Hex
  payouts: bigint[]
  withdrawn: bigint[]
  phase: Phase
}

export async function printSummary(world: World, peers: readonly Client[], params: ChannelParams, script: Script, s: Settlement): Promise<void> {
  const { timeline: tl, stack } = world
  const machineBalances = await peers[0]!.peer.machine.outcome(s.state)
  const { expected, transactions, passes } = script
  const managerLeft = await Promise.all(peers.map((p) => stack.manager.balanceOf(addressOf(p.wallet), ETH)))
  const checks: [string, boolean][] = [
    ['the machine\'s final balances equal the script\'s arithmetic', same(machineBalances, expected)],
    ['settlement paid exactly the final off-chain balances', same(s.payouts, machineBalances)],
    ['every participant withdrew its payout', same(s.withdrawn, s.payouts)],
    ['the manager holds nothing more for them', managerLeft.every((v) => v === 0n)],
    ['the channel is Closed on-chain', s.phase === Phase.Closed],
    ['the latest transaction was final when the channel closed', s.finalSeq === BigInt(transactions)],
  ]

  tl.section('Summary')
  tl.line(`  off-chain: ${transactions} transactions (${transactions - passes} payments, ${passes} passes), ` +
    `${transactions * peers.length} signatures, all final, exchanged over hyperswarm, 0 gas`)
  const onchain = tl.onchain.filter((o) => o.who !== 'deployer')
  const total = onchain.reduce((g, o) => g + o.gasUsed, 0n)
  tl.line(`  on-chain:  ${onchain.length} transactions by the participants, ${gas(total)} gas in all (deployment not counted)`)
  for (const kind of ['deposited', 'opened', 'closed', 'withdrew']) {
    const steps = onchain.filter((o) => o.what.startsWith(kind))
    if (steps.length === 0) continue
    const sum = steps.reduce((g, o) => g + o.gasUsed, 0n)
    tl.line(`             ${kind.padEnd(10)} ×${steps.length}  ${gas(sum).padStart(9)} gas`)
  }
  tl.line('')
  tl.line(`  ${'participant'.padEnd(12)} ${'deposited'.padStart(10)} ${'withdrew'.padStart(10)} ${'net'.padStart(10)}`)
  peers.forEach((p, i) => {
    const net = s.withdrawn[i]! - params.deposits[i]!
    tl.line(`  ${p.name.padEnd(12)} ${eth(params.deposits[i]!).padStart(10)} ${eth(s.withdrawn[i]!).padStart(10)} ${((net >= 0n ? '+' : '') + eth(net)).padStart(10)}`)
  })
  tl.line('')
  for (const [what, ok] of checks) tl.line(`  ${ok ? '✓' : '✗'} ${what}`)
  const failed = checks.filter(([, ok]) => !ok).map(([what]) => what)
  if (failed.length > 0) {
    throw new ProtocolError('DEMO_CHECK_FAILED', `demo result is wrong: ${failed.join('; ')}`, {
      details: { expected, machineBalances, payouts: s.payouts, withdrawn: s.withdrawn, managerLeft },
    })
  }
}

function same(a: readonly bigint[], b: readonly bigint[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}
