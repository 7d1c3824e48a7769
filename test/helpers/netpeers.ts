/**
 * N peers of one on-chain channel, each with its own P2PManager (a HyperDHT node bound to
 * loopback on the testnet, a Noise key from a per-peer seed), HyperswarmTransport, store,
 * EvmStateMachine (the deployed bytecode in the local EVM) and clock, driven through the
 * Channel facade.
 */
import { join } from 'node:path'
import { keccak256, toUtf8Bytes, AbiCoder, type Wallet } from 'ethers'
import type { Anvil } from '../../src/chain/anvil.js'
import type { LocalStack } from '../../src/chain/stack.js'
import { signOpenConsent } from '../../src/chain/consent.js'
import { Channel } from '../../src/channel/Channel.js'
import { ManualClock } from '../../src/clock/ManualClock.js'
import { EvmStateMachine } from '../../src/machine/EvmStateMachine.js'
import { HyperswarmTransport } from '../../src/net/HyperswarmTransport.js'
import type { P2PManager, P2PManagerOptions } from '../../src/net/P2PManager.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { ETH, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import { MemoryStore } from '../../src/store/MemoryStore.js'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import type { Store } from '../../src/store/types.js'
import { manager, type Testnet } from './net.js'
import { defaultTimes } from '../../src/channel/params.js'

const abi = AbiCoder.defaultAbiCoder()

/** Counter move: add `n`. */
export const inc = (n = 1) => abi.encode(['uint64'], [n]) as Hex

/** A deterministic 32-byte Noise seed per (label, participant). */
export const seedOf = (label: string, i: number) => keccak256(toUtf8Bytes(`${label}/${i}`)) as Hex

export interface NetPeer {
  p2p: P2PManager
  transport: HyperswarmTransport
  store: Store
  clock: ManualClock
  channel: Channel
}

export interface NetPeers {
  peers: NetPeer[]
  params: ChannelParams
  channelId: Hex
  genesis: { state: Hex; timestamp: bigint }
  /** Starts participant `i` again from its store (a restart): new P2PManager with the same seed. */
  restore(i: number): Promise<NetPeer>
  close(): Promise<void>
}

export interface NetPeersOptions {
  anvil: Anvil
  stack: LocalStack
  hasher: ParleyHasher
  testnet: Testnet
  wallets: Wallet[]
  label: string
  /** SQLite files in this directory (else in-memory stores). */
  sqliteDir?: string
  /** Extra options of every peer's P2PManager (e.g. `probeTimeoutMs`). */
  p2p?: P2PManagerOptions
  /** Each peer's store at the open, shared with other channels (default: a new one, see sqliteDir). */
  stores?: Store[]
}

/** Opens a Counter channel on anvil and starts one networked peer per wallet. */
export async function openNetPeers(o: NetPeersOptions): Promise<NetPeers> {
  const params: ChannelParams = {
    participants: o.wallets.map((w) => w.address.toLowerCase() as Hex), machine: o.stack.machines.counter, asset: ETH,
    deposits: o.wallets.map(() => 0n), bond: 0n, ...defaultTimes,
    salt: keccak256(toUtf8Bytes(o.label)) as Hex, initData: abi.encode(['uint64'], [0]) as Hex, openDeadline: 1n << 40n,
  }
  const opened = await o.stack.manager.open(params, o.wallets.map((w) => signOpenConsent(w.signingKey, o.hasher, params)))
  const genesis = { state: opened.genesis.state, timestamp: opened.genesis.timestamp }
  const channelId = opened.channelId
  const openStore = (i: number): Store => (o.sqliteDir ? new SqliteStore(join(o.sqliteDir, `${o.label}-${i}.db`)) : new MemoryStore())
  const runtime = async (i: number, store: Store) => {
    const p2p = manager(o.testnet, { ...o.p2p, seed: seedOf(o.label, i) })
    const transport = await HyperswarmTransport.join(p2p, { channelId, participants: params.participants, me: i, signer: o.wallets[i]!.signingKey })
    const machine = await EvmStateMachine.fromChain({ provider: o.anvil.provider, address: params.machine })
    return { p2p, transport, store, machine, clock: new ManualClock(genesis.timestamp) }
  }
  const peers: NetPeer[] = []
  for (let i = 0; i < o.wallets.length; i++) {
    const r = await runtime(i, o.stores?.[i] ?? openStore(i))
    const channel = await Channel.create({ params, genesis, signer: o.wallets[i]!, machine: r.machine, store: r.store, transport: r.transport, clock: r.clock, hasher: o.hasher })
    peers.push({ ...r, channel })
  }
  return {
    peers, params, channelId, genesis,
    async restore(i) {
      const r = await runtime(i, openStore(i))
      const channel = await Channel.restore({ channelId, signer: o.wallets[i]!, machine: r.machine, store: r.store, transport: r.transport, clock: r.clock, hasher: o.hasher })
      peers[i] = { ...r, channel }
      return peers[i]!
    },
    async close() {
      await Promise.allSettled(peers.map(async (p) => {
        await p.channel.dispose().catch(() => {})
        await p.p2p.close()
        p.store.close()
      }))
    },
  }
}

/** Stops participant `i` as a crash would leave it: channel disposed, network gone, store closed. */
export async function stop(p: NetPeer): Promise<void> {
  await p.channel.dispose()
  await p.p2p.close()
  p.store.close()
}
