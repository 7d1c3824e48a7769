/**
 * `npm run demo`: starts a local anvil, deploys Parley, and plays the cooperative scenario
 * (three participants, a Payments channel, off-chain payments, cooperative close), then the
 * punishment scenario (a cheater's invalid transaction proven on-chain by the honest clients'
 * courts, slashed and removed). Exits 0 on success, 1 with a clear message on failure, 130 on
 * Ctrl-C; anvil is always stopped.
 */
import { startAnvil, type Anvil } from '../src/chain/anvil.js'
import { ParleyError } from '../src/errors/ParleyError.js'
import { runCheater } from './scenarios/cheater.js'
import { runCooperative } from './scenarios/cooperative.js'
import { Timeline } from './timeline.js'
import { setupWorld } from './world.js'

let anvil: Anvil | undefined
let interrupted = false

async function shutdown(code: number): Promise<never> {
  await anvil?.stop().catch(() => undefined)
  process.exit(code)
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true
    console.error(`\ndemo interrupted (${signal}); stopping anvil`)
    void shutdown(130)
  })
}

async function main(): Promise<void> {
  const timeline = new Timeline()
  timeline.title('Parley demo: three participants pay each other off-chain on one channel, then settle on-chain')
  anvil = await startAnvil({ accounts: 5 })
  const world = await setupWorld(anvil, timeline, ['alice', 'bob', 'carol'])
  await runCooperative(world)
  await runCheater(world, anvil.wallets[4]!)
}

try {
  await main()
  console.log('demo finished: every check passed')
  await shutdown(0)
} catch (e) {
  // After Ctrl-C, pending calls fail because anvil is going away: that is not the error to report.
  if (interrupted) await new Promise(() => undefined)
  if (e instanceof ParleyError) {
    console.error(`\ndemo failed: ${e.name} ${e.code}: ${e.message}`)
    if (e.details) console.error(e.details)
  } else {
    console.error('\ndemo failed with an unexpected error:', e)
  }
  await shutdown(1)
}
