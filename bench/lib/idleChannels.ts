/**
 * One configuration of bench:channels, run in its own process: one moving 2-party channel,
 * `n` idle channels of participant 0 in one store, memory before and after, create and
 * restore times, and the latency of moves in the moving channel while the others idle.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { AbiCoder, JsonRpcProvider, Wallet, keccak256, toUtf8Bytes } from 'ethers'
import { detectHardfork } from '../../src/chain/hardfork.js'
import { Channel } from '../../src/channel/Channel.js'
import { defaultTimes } from '../../src/channel/params.js'
import { LogicalClock } from '../../src/clock/LogicalClock.js'
import { ManualClock } from '../../src/clock/ManualClock.js'
import { EvmStateMachine } from '../../src/machine/EvmStateMachine.js'
import { sharedMachineEvms } from '../../src/machine/evm/MachineEvmCache.js'
import { ParleyHasher } from '../../src/protocol/eip712.js'
import { ETH, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import { MemoryStore } from '../../src/store/MemoryStore.js'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import type { Store } from '../../src/store/types.js'
import { MemoryHub } from '../../src/transport/MemoryHub.js'
import { COUNTER_MOVE } from './channel.js'
import { progress, quantile } from './report.js'

const abi = AbiCoder.defaultAbiCoder()

export interface ChildConfig {
  rpc: string
  /** The Counter machine's address on the chain. */
  machine: Hex
  domain: { chainId: string; verifyingContract: Hex }
  /** Private keys of participants 0 (this process) and 1. */
  keys: [string, string] | string[]
  /** Idle channels (0: the one-channel reference). */
  n: number
  store: 'memory' | 'sqlite'
  /** Share the EVM between channels (false: one per channel, as before sharing). */
  share: boolean
  moves: number
  warmup: number
  /**
   * Lockstep (`bench:channels -- --lockstep`): once the idle channels are restored, print `ready`
   * and run blocks of moves on command (one JSON line on stdin each: `{ "moves": k }`, answered
   * with `{ "samples": [ms…], "cpuUs": … }`; `{ "end": true }` ends), instead of the ABBA blocks:
   * the parent alternates blocks between this process and a one-channel process, so both see the
   * same load and never run at once.
   */
  lockstep?: boolean
}

export interface ChildResult {
  n: number
  store: 'memory' | 'sqlite'
  share: boolean
  /** MachineEvm instances in use once the channels are restored. */
  evmBuilds: number
  rssPerChannel: number
  heapPerChannel: number
  /** Wall time to create / restore all `n` channels, ms. */
  createMs: number
  restoreMs: number
  /** Move latency (propose → final at the proposer) with the idle channels, ms. */
  p50: number
  p95: number
  /** The same in this process before the idle channels were created, ms. */
  aloneP50: number
  aloneP95: number
  /** Process CPU time (user + system) per move, with the idle channels and before them, ms. */
  cpu: number
  aloneCpu: number
  /**
   * Moves in alternating blocks (ABBA) with the idle channels and with them disposed and
   * collected, in this process: p50 and CPU per move, ms.
   */
  paired: Record<'with' | 'without', { p50: number; cpu: number }>
}

/** Lockstep blocks (see ChildConfig.lockstep): moves on command from stdin, results on stdout. */
async function serveBlocks(move: () => Promise<number>): Promise<void> {
  process.stdout.write('ready\n')
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = JSON.parse(line) as { moves?: number; end?: boolean }
    if (cmd.end) return
    const samples: number[] = []
    const c0 = process.cpuUsage()
    for (let i = 0; i < (cmd.moves ?? 0); i++) samples.push(await move())
    const c = process.cpuUsage(c0)
    process.stdout.write(`${JSON.stringify({ samples, cpuUs: c.user + c.system })}\n`)
  }
}

/** Two full collections, then RSS and heap used. */
async function memory(): Promise<{ rss: number; heap: number }> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (!gc) throw new Error('run with node --expose-gc')
  for (let i = 0; i < 2; i++) {
    gc()
    await new Promise((r) => setTimeout(r, 50))
  }
  const m = process.memoryUsage()
  return { rss: m.rss, heap: m.heapUsed }
}

export async function runChild(cfg: ChildConfig): Promise<ChildResult> {
  // No batching stall: the requests are sequential or in small parallel groups.
  const provider = new JsonRpcProvider(cfg.rpc, undefined, { staticNetwork: true, batchMaxCount: 1 })
  const hardfork = await detectHardfork(provider)
  const hasher = new ParleyHasher({ chainId: BigInt(cfg.domain.chainId), verifyingContract: cfg.domain.verifyingContract })
  const [a, b] = cfg.keys.map((k) => new Wallet(k))
  const start = BigInt((await provider.getBlock('latest'))!.timestamp)
  let privateEvms = 0
  const machine = () => {
    if (!cfg.share) privateEvms++
    return EvmStateMachine.fromChain({ provider, address: cfg.machine, hardfork, ...(cfg.share ? {} : { evmCache: false }) })
  }
  const paramsOf = (salt: string): ChannelParams => ({
    participants: [a!.address.toLowerCase() as Hex, b!.address.toLowerCase() as Hex], machine: cfg.machine, asset: ETH,
    deposits: [0n, 0n], bond: 0n, ...defaultTimes, salt: keccak256(toUtf8Bytes(salt)) as Hex,
    initData: abi.encode(['uint64'], [0]) as Hex, openDeadline: 1n << 40n,
  })
  const clockAt = () => {
    const c = new LogicalClock()
    c.observeBlock(start)
    return c
  }
  const dir = mkdtempSync(join(tmpdir(), 'parley-channels-'))
  const store: Store = cfg.store === 'memory' ? new MemoryStore() : new SqliteStore(join(dir, 'peer0.db'))
  try {
    // The moving channel: both participants here, participant 0 in the shared store.
    const moving = paramsOf('moving')
    const m0 = await machine()
    const genesis = { state: await m0.initialState(moving.deposits, moving.initData), timestamp: start }
    const hub = new MemoryHub()
    // Stopped clocks: the idle channels take minutes to create, longer than a move's broadcast window.
    const pair = [
      await Channel.create({ params: moving, genesis, signer: a!, machine: m0, store, transport: hub.connect(0), clock: new ManualClock(start), hasher }),
      await Channel.create({ params: moving, genesis, signer: b!, machine: await machine(), store: new MemoryStore(), transport: hub.connect(1), clock: new ManualClock(start), hasher }),
    ]
    const move = async (): Promise<number> => {
      const c = pair.find((x) => x.state.isMyTurn)!
      const t = performance.now()
      const { seq } = await c.propose(COUNTER_MOVE)
      await c.waitFinal(seq)
      return performance.now() - t
    }
    const timed = async () => {
      const samples: number[] = []
      const c0 = process.cpuUsage()
      for (let i = 0; i < cfg.moves; i++) samples.push(await move())
      const c = process.cpuUsage(c0)
      return { p50: quantile(samples, 0.5), p95: quantile(samples, 0.95), cpu: (c.user + c.system) / 1000 / cfg.moves }
    }
    for (let i = 0; i < cfg.warmup; i++) await move()
    const alone = await timed()
    const before = await memory()

    // The idle channels: created, then disposed and restored from the store, as after a restart.
    const GROUP = 20
    const ids: Hex[] = []
    let idle: Channel[] = []
    const t0 = performance.now()
    for (let i = 0; i < cfg.n; i += GROUP) {
      const made = await Promise.all(Array.from({ length: Math.min(GROUP, cfg.n - i) }, async (_, k) => {
        const params = paramsOf(`idle-${i + k}`)
        const m = await machine()
        const g = { state: await m.initialState(params.deposits, params.initData), timestamp: start }
        return Channel.create({ params, genesis: g, signer: a!, machine: m, store, transport: new MemoryHub().connect(0), clock: clockAt(), hasher })
      }))
      idle.push(...made)
      if ((i + GROUP) % 2000 === 0) progress(`  created ${i + GROUP}`)
    }
    const createMs = performance.now() - t0
    ids.push(...idle.map((c) => c.channelId))
    await Promise.all(idle.map((c) => c.dispose()))
    idle = []
    if (!cfg.share) privateEvms -= cfg.n
    const restoreAll = async () => {
      for (let i = 0; i < ids.length; i += GROUP) {
        idle.push(...(await Promise.all(ids.slice(i, i + GROUP).map(async (channelId) =>
          Channel.restore({ channelId, signer: a!, machine: await machine(), store, transport: new MemoryHub().connect(0), clock: clockAt(), hasher })))))
        if ((i + GROUP) % 2000 === 0) progress(`  restored ${i + GROUP}`)
      }
    }
    const t1 = performance.now()
    await restoreAll()
    const restoreMs = performance.now() - t1
    const after = await memory()
    const evmBuilds = cfg.share ? sharedMachineEvms.stats().entries : privateEvms

    if (idle.length !== cfg.n) throw new Error('lost channels')
    if (cfg.lockstep) await serveBlocks(move)
    const busy = await timed()

    // In-process pairs, ABBA so that a drifting load cancels: blocks of moves with the idle
    // channels and with them disposed (and collected), WOOWWOOW.
    const paired = { with: { samples: [] as number[], cpuUs: 0 }, without: { samples: [] as number[], cpuUs: 0 } }
    if (cfg.n > 0 && !cfg.lockstep) {
      const per = Math.ceil(cfg.moves / 4)
      for (const cond of ['with', 'without', 'without', 'with', 'with', 'without', 'without', 'with'] as const) {
        if (cond === 'without' && idle.length > 0) {
          await Promise.all(idle.map((c) => c.dispose()))
          idle = []
          await memory()
        }
        if (cond === 'with' && idle.length === 0) {
          await restoreAll()
          await memory()
        }
        const c0 = process.cpuUsage()
        for (let i = 0; i < per; i++) paired[cond].samples.push(await move())
        const c = process.cpuUsage(c0)
        paired[cond].cpuUs += c.user + c.system
      }
      progress(`  paired blocks done`)
    }
    const stat = (x: { samples: number[]; cpuUs: number }) => ({ p50: quantile(x.samples, 0.5), cpu: x.cpuUs / 1000 / Math.max(1, x.samples.length) })
    await Promise.all([...idle, ...pair].map((c) => c.dispose()))
    const per = Math.max(1, cfg.n)
    return {
      n: cfg.n, store: cfg.store, share: cfg.share, evmBuilds,
      rssPerChannel: (after.rss - before.rss) / per, heapPerChannel: (after.heap - before.heap) / per,
      createMs, restoreMs, ...busy, aloneP50: alone.p50, aloneP95: alone.p95, aloneCpu: alone.cpu,
      paired: { with: stat(paired.with), without: stat(paired.without) },
    }
  } finally {
    store.close()
    provider.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}
