/**
 * One participant's peer for `parley run`: the public {@link createPeer} (SQLite store, the
 * machine's bytecode in the local EVM, a logical clock that follows the chain, hyperswarm,
 * the Channel created from the chain's genesis or restored from the store, a ChainListener
 * with the court attached) plus what only the CLI needs — one process per store (a lock file)
 * and network log lines on stderr.
 */
import type { Wallet } from 'ethers'
import type { Hardfork } from '../../src/chain/hardfork.js'
import { ProtocolError, UsageError } from '../../src/errors/ParleyError.js'
import type { Logger } from '../../src/net/logger.js'
import { createPeer, type Peer as RunningPeer } from '../../src/peer/createPeer.js'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import type { ChannelContext } from '../lib/channel.js'
import { progress } from '../lib/output.js'
import { lockStore } from './lock.js'

export interface PeerOptions {
  ctx: ChannelContext
  wallet: Wallet
  /** The session key signing our moves, when the channel has session keys (params.signers). */
  sessionKey?: Wallet
  me: number
  storePath: string
  /** DHT bootstrap nodes; undefined = the public HyperDHT. */
  bootstrap?: { host: string; port: number }[]
  /** Bind address of the DHT node. */
  host?: string
  /** Whether the DHT node may be firewalled (undefined: the DHT finds out). */
  firewalled?: boolean
  /** Chain poll interval, ms. */
  pollMs: number
  /** First block to search for the channel's opening. */
  fromBlock: number
  /** Confirmation depth (default: the chain's, see defaultConfirmations). */
  confirmations?: number
  autoWithdraw: boolean
  verbose: boolean
  /** The hardfork the deployment file records for this chain; the chain must run it. */
  hardfork?: Hardfork
  /** Where `hardfork` came from (e.g. "x.json records cancun"), said when the chain disagrees. */
  hardforkSource?: string
}

export type Peer = Pick<RunningPeer, 'channel' | 'court' | 'transport' | 'listener' | 'p2p' | 'clock' | 'restored' | 'stop'>

/**
 * Starts the peer; progress goes to stderr. Everything started is stopped again (and the store
 * closed, the lock released) if a later step fails.
 * @example const peer = await startPeer({ ctx, wallet, me, storePath: 'alice.db', pollMs: 1000, fromBlock: 0, autoWithdraw: false, verbose: false })
 */
export async function startPeer(o: PeerOptions): Promise<Peer> {
  const { ctx, wallet } = o
  const release = lockStore(o.storePath)
  let store: SqliteStore | undefined
  try {
    store = new SqliteStore(o.storePath)
    const where = o.bootstrap ? `the DHT at ${o.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')}` : 'the public HyperDHT'
    progress(`run: joining the channel's topic on ${where}…`)
    const peer = await createPeer({
      wallet, ...(o.sessionKey ? { sessionKey: o.sessionKey } : {}), manager: ctx.manager, channelId: ctx.channelId, params: ctx.params, store, pollMs: o.pollMs, fromBlock: o.fromBlock, ...(o.confirmations !== undefined ? { confirmations: o.confirmations } : {}),
      net: {
        ...(o.bootstrap ? { bootstrap: o.bootstrap } : {}), ...(o.host ? { host: o.host } : {}),
        ...(o.firewalled !== undefined ? { firewalled: o.firewalled } : {}), logger: netLogger(o.verbose),
      },
      court: { policy: { autoWithdraw: o.autoWithdraw } }, ...(o.hardfork !== undefined ? { hardfork: o.hardfork } : {}),
    }).catch((e: unknown) => {
      if (e instanceof UsageError && e.code === 'CHANNEL_NOT_OPENED') throw new UsageError(e.code, `${e.message} (\`parley open\`; --from-block)`, { cause: e })
      if (e instanceof ProtocolError && e.code === 'HARDFORK_MISMATCH') {
        const hint = `${o.hardforkSource ?? `expected ${o.hardfork}`}: has the chain upgraded? Deploy again, or correct the file's hardfork`
        throw new ProtocolError(e.code, `${e.message} (${hint})`, { cause: e, ...(e.details ? { details: e.details } : {}) })
      }
      throw e
    })
    const opened = store
    return {
      ...peer,
      async stop() {
        await peer.stop()
        opened.close()
        release()
      },
    }
  } catch (e) {
    store?.close()
    release()
    throw e
  }
}

/** Net log lines on stderr: warnings always, the rest with --verbose. */
function netLogger(verbose: boolean): Logger {
  const line = (level: string, message: string, fields?: Record<string, unknown>) =>
    process.stderr.write(`net ${level}: ${message}${fields ? ` ${Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : String(v)}`).join(' ')}` : ''}\n`)
  return { info: (m, f) => verbose && line('info', m, f), warn: (m, f) => line('warn', m, f) }
}
