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
  /** UDP port of the bootstrap node (default 0: any free port); RuntimeError `PORT_IN_USE` when it is taken. */
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
  let t: Awaited<ReturnType<typeof createTestnet>>
  try {
    t = await createTestnet(nodes, { host: '127.0.0.1', ...(port ? { port } : {}) })
  } catch (cause) {
    throw new RuntimeError('TESTNET_FAILED', `the DHT testnet did not start: ${(cause as Error).message}`, { cause })
  }
  // hyperdht binds the next free port when the one asked for is taken: a bootstrap address
  // other than the one the caller will hand out is a failure, not a fallback.
  const bound = t.nodes[0]?.address().port
  if (port && bound !== port) {
    await t.destroy()
    throw new RuntimeError('PORT_IN_USE', `UDP port ${port} on 127.0.0.1 is in use (another testnet?)`, { details: { port, bound } })
  }
  return { bootstrap: t.bootstrap.map((b) => ({ host: b.host, port: b.port })), destroy: () => t.destroy() }
}
