/**
 * What bench:offchain and bench:net share: a Counter channel opened on the local stack, one
 * Channel per peer on given stores and transports, and the saturated run (every peer proposes as
 * soon as it is its turn) with its latency and CPU figures.
 */
import { AbiCoder, keccak256, toUtf8Bytes, type Wallet } from 'ethers'
import type { Anvil } from '../../src/chain/anvil.js'
import { signOpenConsent } from '../../src/chain/consent.js'
import type { LocalStack } from '../../src/chain/stack.js'
import { Channel } from '../../src/channel/Channel.js'
import { LogicalClock } from '../../src/clock/LogicalClock.js'
import { EvmStateMachine } from '../../src/machine/EvmStateMachine.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { ETH, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import type { Store } from '../../src/store/types.js'
import type { Transport } from '../../src/transport/Transport.js'
import { defaultTimes } from '../../src/channel/params.js'
import { quantile } from './report.js'

const abi = AbiCoder.defaultAbiCoder()
/** The Counter move every benchmark tx carries: add 1. */
export const COUNTER_MOVE = abi.encode(['uint64'], [1]) as Hex

export interface Latency {
  p50: number
  p99: number
}

/** p50 and p99 of `samples` (ms). */
export function latencyStats(samples: readonly number[]): Latency {
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99) }
}

export interface OpenedCounter {
  params: ChannelParams
  channelId: Hex
  genesis: { state: Hex; timestamp: bigint }
}

/** Opens a Counter channel for `wallets` with no deposits; `salt` tells runs apart. */
export async function openCounterChannel(stack: LocalStack, hasher: ParleyHasher, wallets: readonly Wallet[], salt: string): Promise<OpenedCounter> {
  const params: ChannelParams = {
    participants: wallets.map((w) => w.address.toLowerCase() as Hex), machine: stack.machines.counter, asset: ETH,
    deposits: wallets.map(() => 0n), bond: 0n, ...defaultTimes,
    salt: keccak256(toUtf8Bytes(salt)) as Hex, initData: abi.encode(['uint64'], [0]) as Hex, openDeadline: 1n << 40n,
  }
  const opened = await stack.manager.open(params, wallets.map((w) => signOpenConsent(w.signingKey, hasher, params)))
  return { params, channelId: opened.channelId, genesis: { state: opened.genesis.state, timestamp: opened.genesis.timestamp } }
}

/** One Channel per peer `i` on `stores[i]` and `transports[i]`, each with its own clock and EVM. */
export async function createChannels(anvil: Anvil, hasher: ParleyHasher, opened: OpenedCounter, wallets: readonly Wallet[], stores: readonly Store[], transports: readonly Transport[]): Promise<Channel[]> {
  const channels: Channel[] = []
  for (const [i, signer] of wallets.entries()) {
    const clock = new LogicalClock()
    clock.observeBlock(opened.genesis.timestamp)
    channels.push(await Channel.create({
      params: opened.params, genesis: opened.genesis, signer, store: stores[i]!, transport: transports[i]!, clock, hasher,
      machine: await EvmStateMachine.fromChain({ provider: anvil.provider, address: opened.params.machine }),
    }))
  }
  return channels
}

export interface SaturatedRun extends Latency {
  /** Wall time of the measured txs, s. */
  seconds: number
  /** Process CPU time (user + system, all threads) per measured tx, ms. */
  cpuMsPerTx: number
}

/**
 * Every peer proposes as soon as it is its turn: `warmup` untimed txs, then `measured` timed
 * ones; latency = propose() → `final` at the proposer. Throws the first error a peer raised.
 * Moves come from each peer's `state` event (`channel.propose`), or with `onTurn` from its
 * `Channel.onTurn` handler (the answer stored in the commit of the transaction it answers);
 * latency then starts when the handler is asked.
 */
export async function runSaturated(channels: readonly Channel[], warmup: number, measured: number, onMeasured?: () => void, opts: { onTurn?: boolean } = {}): Promise<SaturatedRun> {
  const total = BigInt(warmup + measured)
  const proposedAt = new Map<bigint, number>()
  const latencies: number[] = []
  let startedAt = 0
  let cpuAt = process.cpuUsage()
  let failure: unknown
  /** Our next move's data if we move now (and the clocks of the measurement start at the first measured one). */
  const next = (s: { isMyTurn: boolean; seq: bigint }): Hex | undefined => {
    if (!s.isMyTurn || s.seq >= total) return undefined
    const seq = s.seq + 1n
    if (seq === BigInt(warmup + 1)) {
      onMeasured?.()
      startedAt = performance.now()
      cpuAt = process.cpuUsage()
    }
    proposedAt.set(seq, performance.now())
    return COUNTER_MOVE
  }
  const turn = (ch: Channel) => {
    const data = next(ch.state)
    if (data !== undefined) ch.propose(data).catch((e) => (failure ??= e))
  }
  const offs = channels.flatMap((ch) => [
    opts.onTurn ? ch.onTurn(next) : ch.on('state', (s) => s.isMyTurn && turn(ch)),
    ch.on('final', (f) => {
      if (f.transaction.actor !== ch.me || f.seq <= BigInt(warmup) || f.seq > total) return
      latencies.push(performance.now() - proposedAt.get(f.seq)!)
    }),
    ch.on('error', (e) => (failure ??= e.error)),
  ])
  const done = Promise.all(channels.map((ch) => ch.waitFinal(total)))
  turn(channels[0]!)
  await done
  const seconds = (performance.now() - startedAt) / 1000
  const cpu = process.cpuUsage(cpuAt)
  offs.forEach((off) => off())
  if (failure) throw failure
  return { seconds, cpuMsPerTx: (cpu.user + cpu.system) / 1000 / measured, ...latencyStats(latencies) }
}
