/**
 * `npm run demo`: starts a local anvil and a local HyperDHT testnet (127.0.0.1), deploys
 * Parley, and plays the cooperative scenario (three participants running the real client over
 * hyperswarm, a Payments channel, off-chain payments, cooperative close), then the punishment
 * scenario (a cheater's invalid transaction, sent over hyperswarm, proven on-chain by the honest
 * clients' courts, slashed and removed). Exits 0 on success, 1 with a clear message on failure,
 * 130 on Ctrl-C; anvil, the DHT and the peers' temporary stores are always cleaned up.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import createTestnet from '@hyperswarm/testnet'
import { startAnvil, type Anvil } from '../src/chain/anvil.js'
import { ParleyError } from '../src/errors/ParleyError.js'
import { runCheater } from './scenarios/cheater.js'
import { runCooperative } from './scenarios/cooperative.js'
import { Timeline } from './timeline.js'
import { setupWorld, type Testnet } from './world.js'

let anvil: Anvil | undefined
let testnet: Testnet | undefined
let dir: string | undefined
let interrupted = false

async function shutdown(code: number): Promise<never> {
  await testnet?.destroy().catch(() => undefined)
  await anvil?.stop().catch(() => undefined)
  if (dir) rmSync(dir, { recursive: true, force: true })
  process.exit(code)
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true
    console.error(`\ndemo interrupted (${signal}); stopping anvil and the DHT`)
    void shutdown(130)
  })
}

async function main(): Promise<void> {
  const timeline = new Timeline()
  timeline.title('Parley demo: three participants pay each other off-chain over hyperswarm on one channel, then settle on-chain')
  dir = mkdtempSync(join(tmpdir(), 'parley-demo-'))
  ;[anvil, testnet] = await Promise.all([startAnvil({ accounts: 5 }), createTestnet(3, { host: '127.0.0.1' })])
  const world = await setupWorld(anvil, testnet, timeline, ['alice', 'bob', 'carol', 'mallory'], dir)
  await runCooperative(world)
  await runCheater(world)
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
