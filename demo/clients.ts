/**
 * The demo's participants are the real client: one {@link createPeer} per member (the Payments
 * bytecode in the local EVM, a logical clock fed by the chain listener, a P2PManager and
 * HyperswarmTransport on the local DHT testnet, the Channel, the court attached), each with its
 * own SQLite store. Connection changes and the courts' on-chain calls go to the timeline.
 */
import { join } from 'node:path'
import type { OpenResult } from '../src/chain/ManagerBase.js'
import { silentLogger } from '../src/net/logger.js'
import { createPeer, type Peer } from '../src/peer/createPeer.js'
import type { ChannelParams } from '../src/protocol/types.js'
import { SqliteStore } from '../src/store/SqliteStore.js'
import type { Client, Member, World } from './world.js'

export type { Client } from './world.js'

/** Chain poll interval of the demo's listeners (a local anvil answers at once). */
const POLL_MS = 100

/**
 * Starts one client per member and resolves once every pair is connected over hyperswarm
 * (each side has verified the other's participant key).
 */
export async function startClients(world: World, members: readonly Member[], params: ChannelParams, opened: OpenResult, scenario: string): Promise<Client[]> {
  const { timeline: tl, testnet, stack } = world
  const clients: Client[] = []
  const linked = new Set<string>()
  try {
    for (const [index, m] of members.entries()) {
      const store = new SqliteStore(join(world.dir, `${scenario}-${m.name}.db`))
      const peer = await createPeer({
        wallet: m.wallet, manager: stack.manager, channelId: opened.channelId, params, store, pollMs: POLL_MS,
        genesis: { state: opened.genesis.state, timestamp: opened.genesis.timestamp, blockNumber: opened.blockNumber },
        net: { bootstrap: testnet.bootstrap, host: '127.0.0.1', logger: silentLogger },
      }).catch((e: unknown) => {
        store.close()
        throw e
      })
      let stopped = false
      const client: Client = {
        ...m, index, peer, store,
        stop: async () => {
          if (stopped) return
          stopped = true
          await peer.stop()
          store.close()
        },
      }
      clients.push(client)
      peer.transport.onPeer((other, up) => {
        const [lo, hi] = [Math.min(index, other), Math.max(index, other)]
        if (up && !linked.has(`${lo}-${hi}`)) {
          linked.add(`${lo}-${hi}`)
          tl.step('net', `${members[lo]!.name} ↔ ${members[hi]!.name} connected over hyperswarm (Noise, participant keys verified)`)
        }
      })
      peer.court.on('submitted', ({ action, gasUsed }) => tl.chain(m.name, `court: ${action.kind} — ${action.why}`, gasUsed))
      tl.step(m.name, `client started: EVM running Payments, chain listener + court, joined the channel's topic on the DHT`)
    }
    await Promise.all(clients.map((c) => c.peer.transport.waitForPeers(undefined, 30_000)))
    tl.step('net', `every pair connected: ${clients.length} peers found each other through the DHT`)
    world.show?.(clients, params, opened.channelId)
    return clients
  } catch (e) {
    await stopClients(clients)
    throw e
  }
}

export async function stopClients(clients: readonly Client[]): Promise<void> {
  for (const c of [...clients].reverse()) await c.stop().catch(() => undefined)
}
