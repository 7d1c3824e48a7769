/**
 * One participant's peer, wired from the public API exactly as an application would: a SQLite
 * store, the machine's bytecode in the local EVM, a logical clock that follows the chain's
 * blocks, a P2PManager and HyperswarmTransport for the peers, the Channel (created from the
 * chain's genesis, or restored from the store), and a ChainListener with the court attached
 * so chain events reach the channel and disputes are raised and answered by themselves.
 */
import { keccak256, concat, toUtf8Bytes, type Wallet } from 'ethers'
import { ChainListener } from '../../src/chain/ChainListener.js'
import { Channel } from '../../src/channel/Channel.js'
import { LogicalClock } from '../../src/clock/LogicalClock.js'
import { attachCourt, type Court } from '../../src/dispute/attachCourt.js'
import { EvmStateMachine } from '../../src/machine/EvmStateMachine.js'
import { HyperswarmTransport } from '../../src/net/HyperswarmTransport.js'
import { P2PManager } from '../../src/net/P2PManager.js'
import type { Logger } from '../../src/net/logger.js'
import type { Hex } from '../../src/protocol/types.js'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import type { ChannelContext } from '../lib/channel.js'
import { progress } from '../lib/output.js'
import { findGenesis } from './genesis.js'
import { lockStore } from './lock.js'

export interface PeerOptions {
  ctx: ChannelContext
  wallet: Wallet
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
  autoWithdraw: boolean
  verbose: boolean
}

export interface Peer {
  channel: Channel
  court: Court
  transport: HyperswarmTransport
  listener: ChainListener
  /** True when the channel was restored from the store (a restart). */
  restored: boolean
  stop(): Promise<void>
}

/**
 * Starts the peer; progress goes to stderr. Everything started is stopped again if a later
 * step fails.
 * @example const peer = await startPeer({ ctx, wallet, me, storePath: 'alice.db', pollMs: 1000, fromBlock: 0, autoWithdraw: false, verbose: false })
 */
export async function startPeer(o: PeerOptions): Promise<Peer> {
  const { ctx, wallet } = o
  const cleanup: (() => Promise<void> | void)[] = []
  const stop = async () => {
    for (const f of cleanup.splice(0).reverse()) await Promise.resolve(f()).catch(() => {})
  }
  try {
    cleanup.push(lockStore(o.storePath))
    const store = new SqliteStore(o.storePath)
    cleanup.push(() => store.close())
    const restored = store.getChannel(ctx.channelId) !== undefined
    const genesis = restored ? undefined : await findGenesis(ctx.manager, ctx.channelId, o.fromBlock)
    const machine = await EvmStateMachine.fromChain({ provider: ctx.chain.provider, address: ctx.params.machine })
    const clock = new LogicalClock()
    const head = await ctx.chain.provider.getBlock('latest')
    if (head) clock.observeBlock(BigInt(head.timestamp))

    const p2p = new P2PManager({
      seed: noiseSeed(wallet, ctx.channelId),
      ...(o.bootstrap ? { bootstrap: o.bootstrap } : {}),
      ...(o.host ? { host: o.host } : {}),
      ...(o.firewalled !== undefined ? { firewalled: o.firewalled } : {}),
      logger: netLogger(o.verbose),
    })
    cleanup.push(() => p2p.close())
    progress(`run: joining the channel's topic on ${o.bootstrap ? `the DHT at ${o.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')}` : 'the public HyperDHT'}…`)
    const transport = await HyperswarmTransport.join(p2p, { channelId: ctx.channelId, participants: ctx.params.participants, me: o.me, signer: wallet.signingKey })

    const runtime = { signer: wallet, machine, store, transport, clock, hasher: ctx.hasher, chain: ctx.manager }
    const channel = restored
      ? await Channel.restore({ ...runtime, channelId: ctx.channelId })
      : await Channel.create({ ...runtime, params: ctx.params, channelId: ctx.channelId, genesis: { state: genesis!.state, timestamp: genesis!.timestamp } })
    cleanup.push(() => channel.dispose())

    const listener = new ChainListener({ provider: ctx.chain.provider, manager: ctx.manager.address, clock, pollMs: o.pollMs })
    cleanup.push(() => listener.close())
    const court = attachCourt(channel, {
      listener, manager: ctx.manager, fromBlock: genesis?.blockNumber ?? o.fromBlock, policy: { autoWithdraw: o.autoWithdraw },
    })
    cleanup.push(() => court.detach())
    return { channel, court, transport, listener, restored, stop }
  } catch (e) {
    await stop()
    throw e
  }
}

/**
 * The Noise key seed: derived from our key and the channel, so a restarted peer keeps its
 * network identity (peers recognise the reconnection) and two channels of one key do not
 * share a DHT identity. One-way: the seed reveals nothing about the key.
 */
function noiseSeed(wallet: Wallet, channelId: Hex): Hex {
  return keccak256(concat([toUtf8Bytes('parley/cli/noise-seed'), wallet.privateKey, channelId])) as Hex
}

/** Net log lines on stderr: warnings always, the rest with --verbose. */
function netLogger(verbose: boolean): Logger {
  const line = (level: string, message: string, fields?: Record<string, unknown>) =>
    process.stderr.write(`net ${level}: ${message}${fields ? ` ${Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : String(v)}`).join(' ')}` : ''}\n`)
  return { info: (m, f) => verbose && line('info', m, f), warn: (m, f) => line('warn', m, f) }
}
