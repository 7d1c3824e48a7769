/**
 * N peers of one channel in one process: the channel is opened on anvil (real manager,
 * real machine bytecode), each peer gets its own store, machine runtime, clock and a
 * transport on a shared in-memory hub.
 */
import { keccak256, toUtf8Bytes, type Wallet } from 'ethers'
import { join } from 'node:path'
import type { Anvil } from '../../src/chain/anvil.js'
import type { LocalStack } from '../../src/chain/stack.js'
import { signOpenConsent } from '../../src/chain/consent.js'
import { EvmStateMachine } from '../../src/machine/EvmStateMachine.js'
import { ManualClock } from '../../src/clock/ManualClock.js'
import { Channel } from '../../src/channel/Channel.js'
import type { StateMachine } from '../../src/machine/StateMachine.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { ETH, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import { MemoryStore } from '../../src/store/MemoryStore.js'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import type { Store } from '../../src/store/types.js'
import { MemoryHub, type MemoryHubOptions } from '../../src/transport/MemoryHub.js'
import { defaultTimes } from '../../src/channel/params.js'

export interface Peers {
  channels: Channel[]
  wallets: Wallet[]
  stores: Store[]
  clocks: ManualClock[]
  hub: MemoryHub
  params: ChannelParams
  channelId: Hex
  genesis: { state: Hex; timestamp: bigint }
  /** Builds the machine runtime a peer uses (the deployed bytecode in a local EVM). */
  machine(): Promise<StateMachine>
}

export interface PeersOptions {
  anvil: Anvil
  stack: LocalStack
  hasher: ParleyHasher
  machine: 'counter' | 'payments' | 'tictactoe'
  /** Wallets of the participants (funded). */
  wallets: Wallet[]
  deposits?: bigint[]
  initData?: Hex
  hub?: MemoryHubOptions
  /** A directory: SQLite store per peer there; otherwise in-memory stores. */
  sqliteDir?: string
  /** Each peer's store, shared with other channels (default: a new one per peer, see sqliteDir). */
  stores?: Store[]
  salt?: string
  /** Connect the on-chain manager (for close) with each peer's wallet. */
  withChain?: boolean
  /** Participants that do not sign a peer's close request by themselves (`autoAcceptClose: false`). */
  manualClose?: number[]
  /** Builds a machine runtime (default: EvmStateMachine from the code deployed on anvil). */
  machineFactory?: (address: Hex) => Promise<StateMachine>
}

/** Deposits, opens the channel on-chain and creates one Channel per participant. */
export async function openPeers(o: PeersOptions): Promise<Peers> {
  const n = o.wallets.length
  const deposits = o.deposits ?? o.wallets.map(() => 10n ** 18n)
  const params: ChannelParams = {
    participants: o.wallets.map((w) => w.address.toLowerCase() as Hex), machine: o.stack.machines[o.machine], asset: ETH,
    deposits, bond: 0n, ...defaultTimes,
    salt: keccak256(toUtf8Bytes(o.salt ?? `peers-${Math.random()}`)) as Hex, initData: o.initData ?? '0x', openDeadline: 1n << 40n,
  }
  for (const [i, w] of o.wallets.entries()) if (deposits[i]! > 0n) await o.stack.manager.connect(w).deposit(ETH, deposits[i]!)
  const opened = await o.stack.manager.open(params, o.wallets.map((w) => signOpenConsent(w.signingKey, o.hasher, params)))
  const genesis = { state: opened.genesis.state, timestamp: opened.genesis.timestamp }
  const hub = new MemoryHub(o.hub)
  const machine = () =>
    (o.machineFactory ?? ((address: Hex) => EvmStateMachine.fromChain({ provider: o.anvil.provider, address })))(params.machine)
  const stores: Store[] = o.stores ?? o.wallets.map((_, i) => (o.sqliteDir ? new SqliteStore(join(o.sqliteDir, `peer${i}.db`)) : new MemoryStore()))
  const clocks = o.wallets.map(() => new ManualClock(genesis.timestamp))
  const channels: Channel[] = []
  for (let i = 0; i < n; i++) {
    channels.push(
      await Channel.create({
        params, genesis, signer: o.wallets[i]!, machine: await machine(), store: stores[i]!, transport: hub.connect(i), clock: clocks[i]!, hasher: o.hasher,
        ...(o.withChain ? { chain: o.stack.manager.connect(o.wallets[i]!) } : {}),
        ...(o.manualClose?.includes(i) ? { autoAcceptClose: false } : {}),
      }),
    )
  }
  return { channels, wallets: o.wallets, stores, clocks, hub, params, channelId: opened.channelId, genesis, machine }
}

/**
 * Drives the game: whenever it is a peer's turn, it proposes `move(peerIndex, seq)` until
 * `moves` txs exist (or `move` returns undefined). Resolves when every peer saw the last
 * tx final.
 */
export async function play(channels: Channel[], moves: number, move: (who: number, seq: bigint) => Hex | undefined): Promise<void> {
  const target = channels[0]!.state.seq + BigInt(moves)
  const offs: (() => void)[] = []
  let fail!: (e: unknown) => void
  const failed = new Promise<never>((_, reject) => (fail = reject))
  const turn = (c: Channel) => {
    const s = c.state
    if (!s.isMyTurn || s.seq >= target) return
    const data = move(c.me, s.seq + 1n)
    if (data !== undefined) c.propose(data).catch(fail)
  }
  for (const c of channels) {
    offs.push(c.on('state', (s) => s.isMyTurn && turn(c)))
    offs.push(c.on('error', (e) => fail(e.error)))
  }
  try {
    for (const c of channels) turn(c)
    await Promise.race([Promise.all(channels.map((c) => c.waitFinal(target))), failed])
  } finally {
    offs.forEach((f) => f())
  }
}

/** Waits until no message is in flight and every channel processed what it received. */
export async function settle(hub: MemoryHub, channels: Channel[]): Promise<void> {
  for (;;) {
    const sent = hub.stats.sent
    await hub.idle()
    await Promise.all(channels.map((c) => c.idle()))
    await hub.idle()
    if (hub.stats.sent === sent) return
  }
}
