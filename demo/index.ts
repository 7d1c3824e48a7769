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
import { showClient } from './ui.js'
import { setupWorld, type Testnet } from './world.js'
import { startLiveView, type LiveView } from '../cli/ui/server.js'

let anvil: Anvil | undefined
let testnet: Testnet | undefined
let dir: string | undefined
let interrupted = false
let finished = false
let view: LiveView | undefined
let hideClient: (() => void) | undefined

/** `--ui [PORT]`: the port of the live view (0: any free one), or undefined without the flag. */
function uiPort(argv: string[]): number | undefined {
  const i = argv.indexOf('--ui')
  if (i < 0) return undefined
  const port = argv[i + 1]
  if (port === undefined || port.startsWith('-')) return 0
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
    console.error(`demo: --ui takes a TCP port (0-65535), got ${JSON.stringify(port)}`)
    process.exit(2)
  }
  return Number(port)
}

async function shutdown(code: number): Promise<never> {
  hideClient?.()
  await view?.close().catch(() => undefined)
  await testnet?.destroy().catch(() => undefined)
  await anvil?.stop().catch(() => undefined)
  if (dir) rmSync(dir, { recursive: true, force: true })
  process.exit(code)
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (finished) return void shutdown(0) // the live view was kept up after a successful run
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
  const port = uiPort(process.argv.slice(2))
  if (port !== undefined) {
    view = await startLiveView({ port })
    const v = view
    world.show = (clients, params, channelId) => {
      hideClient?.()
      hideClient = showClient(v, world, clients[0]!, params, channelId)
    }
    console.log(`\nlive view of alice's client: ${v.url}\n(127.0.0.1 only; the token in it lets anyone who has it play as alice) — the demo starts once the page is open\n`)
    await v.opened
  }
  await runCooperative(world)
  await runCheater(world)
}

try {
  await main()
  console.log('demo finished: every check passed')
  if (view) {
    finished = true
    console.log(`the live view stays at ${view.url} until Ctrl-C`)
    await new Promise(() => undefined)
  }
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
