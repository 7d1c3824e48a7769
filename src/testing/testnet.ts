/**
 * A HyperDHT testnet on 127.0.0.1 (`hyperdht/testnet`, part of the runtime dependency
 * `hyperdht`), so peers on one host find each other without the public DHT.
 */
// With its extension: hyperdht has no exports map, and Node's ESM resolver adds none.
import createTestnet from 'hyperdht/testnet.js'
import { RuntimeError, UsageError } from '../errors/ParleyError.js'

/** What {@link startTestnet} returns. */
export interface Testnet {
  /** Bootstrap nodes: pass as `net: { bootstrap, host: '127.0.0.1' }` to createPeer / P2PManager. */
  bootstrap: { host: string; port: number }[]
  /** Stops every DHT node. */
  destroy(): Promise<void>
}

/** Options of {@link startTestnet}. */
export interface TestnetOptions {
  /** DHT nodes, 1..20 (default 3). */
  nodes?: number
  /** UDP port of the bootstrap node (default 0: any free port). */
  port?: number
}

/**
 * Starts a local HyperDHT testnet bound to 127.0.0.1.
 * @example
 * const testnet = await startTestnet()
 * const peer = await createPeer({ ..., net: { bootstrap: testnet.bootstrap, host: '127.0.0.1' } })
 * await testnet.destroy()
 */
export async function startTestnet(opts: TestnetOptions = {}): Promise<Testnet> {
  const nodes = opts.nodes ?? 3
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 20) throw new UsageError('TESTNET_NODES_INVALID', `nodes must be an integer in 1..20, got ${nodes}`)
  const port = opts.port ?? 0
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('TESTNET_PORT_INVALID', `port must be an integer in 0..65535, got ${port}`)
  try {
    const t = await createTestnet(nodes, { host: '127.0.0.1', ...(port ? { port } : {}) })
    return { bootstrap: t.bootstrap.map((b) => ({ host: b.host, port: b.port })), destroy: () => t.destroy() }
  } catch (cause) {
    throw new RuntimeError('TESTNET_FAILED', `the DHT testnet did not start: ${(cause as Error).message}`, { cause })
  }
}
