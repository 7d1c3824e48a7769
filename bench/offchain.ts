/**
 * Off-chain benchmark: one channel, N = 2, 3, 5, 8, 16 peers in one process over the
 * in-memory transport, Counter machine run from its deployed bytecode in the local EVM,
 * with in-memory and SQLite stores. Every peer proposes as soon as it is its turn.
 *
 * Reports, per configuration: finalized tx/s, and finality latency (from `propose()` to the
 * proposer's `final` event) p50/p99; plus the cost of one EVM transition and of the ECDSA
 * operations every tx needs. All N peers share this process's CPU, so the figures are a
 * lower bound of what N separate machines would do.
 *
 * `npm run bench:offchain` (add `-- --quick` for a short run).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { AbiCoder, keccak256, toUtf8Bytes, type Wallet } from 'ethers'
import { startAnvil, type Anvil } from '../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../src/chain/stack.js'
import { EvmStateMachine } from '../src/machine/EvmStateMachine.js'
import { hashState, type ParleyHasher } from '../src/protocol/eip712.js'
import { recoverSigner, signDigest } from '../src/protocol/signatures.js'
import { ETH, type ChannelParams, type Hex } from '../src/protocol/types.js'
import { MemoryStore } from '../src/store/MemoryStore.js'
import { SqliteStore } from '../src/store/SqliteStore.js'
import type { Store } from '../src/store/types.js'
import { MemoryHub } from '../src/transport/MemoryHub.js'
import { createChannels, openCounterChannel, runSaturated, type SaturatedRun } from './lib/channel.js'
import { machineLine } from './lib/machine.js'
import { fmt, progress, table } from './lib/report.js'

const abi = AbiCoder.defaultAbiCoder()
const quick = process.argv.includes('--quick')
const only = process.argv.find((a) => a.startsWith('--n='))
const NS = only ? [Number(only.slice(4))] : [2, 3, 5, 8, 16]
/** Measured txs per channel size (after a warm-up of 2N txs). */
const txsArg = process.argv.find((a) => a.startsWith('--txs='))
const TXS: Record<number, number> = txsArg ? Object.fromEntries([2, 3, 5, 8, 16].map((n) => [n, Number(txsArg.slice(6))])) : quick ? { 2: 200, 3: 150, 5: 80, 8: 40, 16: 20 } : { 2: 3000, 3: 1000, 5: 300, 8: 100, 16: 40 }
/** Txs of the untimed channel run first, so the timed runs do not pay for JIT compilation. */
const JIT_WARMUP_TXS = quick ? 200 : 500
type StoreKind = 'memory' | 'sqlite'
const storeArg = process.argv.find((a) => a.startsWith('--store='))?.slice(8) as StoreKind | undefined
const STORES: StoreKind[] = storeArg ? [storeArg] : ['memory', 'sqlite']

/** Where the moves come from: each peer's `state` event (`propose`), or its `onTurn` handler. */
type Moves = 'state event' | 'onTurn'
/** The configurations, in order: the `state`-event runs for each store, then SQLite with `onTurn` (`--moves=event|turn` picks one kind). */
const movesArg = process.argv.find((a) => a.startsWith('--moves='))?.slice(8)
const CONFIGS: { store: StoreKind; moves: Moves }[] = [
  ...(movesArg === 'turn' ? [] : STORES.map((store) => ({ store, moves: 'state event' as const }))),
  ...(movesArg === 'event' || !STORES.includes('sqlite') ? [] : [{ store: 'sqlite' as const, moves: 'onTurn' as const }]),
]

interface Result extends SaturatedRun {
  n: number
  store: StoreKind
  moves: Moves
  txs: number
  /** 1-minute load average when the run started (2 cores shared with other work). */
  load: number
  /** SQLite: durable commits per measured transaction and peer (each an fsync). */
  commitsPerTxPeer?: number
}

/** Which ECDSA the `secp256k1` package runs: its native binding, or its pure-JS fallback. */
function ecdsaBackend(): string {
  try {
    createRequire(import.meta.url)('secp256k1/bindings')
    return 'native libsecp256k1'
  } catch {
    return 'secp256k1 pure-JS fallback (the native binding did not load)'
  }
}

/** Runs one channel of `n` peers for `measured` txs (after 2N warm-up txs). */
async function runChannel(anvil: Anvil, stack: LocalStack, hasher: ParleyHasher, n: number, store: StoreKind, dir: string, measured = TXS[n]!, label = 'bench', moves: Moves = 'state event'): Promise<Result> {
  const wallets = anvil.wallets.slice(1, 1 + n) as Wallet[]
  if (moves === 'onTurn') label += '-turn'
  const opened = await openCounterChannel(stack, hasher, wallets, `${label}-${n}-${store}`)
  const hub = new MemoryHub()
  const stores: Store[] = wallets.map((_, i) => (store === 'memory' ? new MemoryStore() : new SqliteStore(join(dir, `${label}-n${n}-p${i}.db`))))
  const channels = await createChannels(anvil, hasher, opened, wallets, stores, wallets.map((_, i) => hub.connect(i)))
  const load = loadavg()[0]!
  const commits = () => stores.reduce((sum, s) => sum + (s instanceof SqliteStore ? s.commits : 0), 0)
  let atStart = 0
  try {
    const run = await runSaturated(channels, 2 * n, measured, () => (atStart = commits()), { onTurn: moves === 'onTurn' })
    const perTxPeer = store === 'sqlite' ? (commits() - atStart) / measured / n : undefined
    return { n, store, moves, txs: measured, load, ...run, ...(perTxPeer === undefined ? {} : { commitsPerTxPeer: perTxPeer }) }
  } finally {
    await Promise.all(channels.map((c) => c.dispose()))
    stores.forEach((s) => s.close())
  }
}

/** Any parameters: the commit floor's scratch store needs a channel row to write under. */
const FLOOR_PARAMS: ChannelParams = {
  participants: [`0x${'01'.repeat(20)}`, `0x${'02'.repeat(20)}`], machine: `0x${'03'.repeat(20)}`, asset: ETH, deposits: [0n, 0n], bond: 0n,
  p2pTime: 1, agreementTime: 1, chainFallbackTime: 1, challengeTime: 1, salt: `0x${'00'.repeat(32)}`, initData: '0x', openDeadline: 0n,
}

/**
 * The raw cost of one durable commit here: a scratch store with the peers' settings commits one
 * small write at a time; the median over the samples.
 */
function commitFloor(dir: string): { perSecond: number; ms: number; samples: number } {
  const s = new SqliteStore(join(dir, 'commit-floor.db'))
  try {
    const id = ('0x' + '11'.repeat(32)) as Hex
    s.putChannel({ channelId: id, params: FLOOR_PARAMS, me: 0 })
    const samples = 2000
    const times: number[] = []
    for (let i = 0; i < samples; i++) {
      const t = performance.now()
      s.putMeta(id, 'floor', String(i))
      times.push(performance.now() - t)
    }
    times.sort((a, b) => a - b)
    const ms = times[Math.floor(samples / 2)]!
    return { perSecond: 1000 / ms, ms, samples }
  } finally {
    s.close()
  }
}

/**
 * Microseconds of process CPU time (user + system) per call of `fn`, over `iterations` after
 * a warm-up. CPU time rather than wall time: the cores are shared, and time spent waiting for
 * one is not a cost of the call.
 */
async function perCall(iterations: number, fn: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < Math.min(200, iterations); i++) await fn(i)
  const t = process.cpuUsage()
  for (let i = 0; i < iterations; i++) await fn(i)
  const used = process.cpuUsage(t)
  return (used.user + used.system) / iterations
}

async function main(): Promise<void> {
  console.log('# Off-chain benchmark (one channel, in-memory transport, Counter machine in the local EVM)\n')
  console.log(machineLine())
  console.log(`Parameters: every peer proposes as soon as it is its turn (from its 'state' event, or — rows 'onTurn' — from its Channel.onTurn handler, whose move is stored in the commit of the transaction it answers); ${quick ? 'quick run' : 'full run'}; ` +
    `JIT warm-up: one untimed N = 2 channel of ${JIT_WARMUP_TXS} txs, then per configuration 2N untimed txs; ` +
    'latency = propose() → final at the proposer; SQLite store: WAL, synchronous=FULL, one file per peer.')
  console.log(`Load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (2 cores shared with other work: wall-clock figures drop with load, CPU per tx much less)\n`)
  const anvil = await startAnvil({ accounts: 1 + Math.max(...NS) })
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'))
  try {
    const stack = await deployLocalStack(anvil.wallets[0]!)
    const hasher = await stack.manager.hasher()

    progress('EVM transition')
    const machine = await EvmStateMachine.fromChain({ provider: anvil.provider, address: stack.machines.counter })
    let state = await machine.initialState([0n, 0n, 0n], abi.encode(['uint64'], [0]) as Hex)
    const inc = abi.encode(['uint64'], [1]) as Hex
    let turn = 0
    const transitionUs = await perCall(5000, async () => {
      state = await machine.transition(state, turn, inc, 1n)
      turn = (turn + 1) % 3
    })
    const nextActorUs = await perCall(5000, () => machine.nextActor(state))
    const key = anvil.wallets[1]!.signingKey
    const digests = Array.from({ length: 300 }, (_, i) => keccak256(toUtf8Bytes(`d${i}`)) as Hex)
    const signUs = await perCall(2000, (i) => signDigest(key, digests[i % 300]!))
    const sigs = digests.map((d) => signDigest(key, d))
    const recoverUs = await perCall(2000, (i) => recoverSigner(digests[i % 300]!, sigs[i % 300]!))
    const tx = { channelId: digests[0]!, fork: 0n, seq: 1n, timestamp: 1n, actor: 0, previousStateHash: digests[1]!, data: inc, stateHash: digests[2]! }
    const digestUs = await perCall(5000, (i) => hasher.transaction({ ...tx, seq: BigInt(i + 1) }))
    const stateHashUs = await perCall(5000, () => hashState(state))
    console.log(table(['operation', 'CPU µs per call'], [
      ['EVM transition (Counter, reused EVM)', transitionUs.toFixed(1)],
      ['EVM nextActor (Counter)', nextActorUs.toFixed(1)],
      [`ECDSA sign (${ecdsaBackend()})`, signUs.toFixed(1)],
      [`ECDSA recover + address (${ecdsaBackend()})`, recoverUs.toFixed(1)],
      ['EIP-712 transaction digest (keccak256 ×3)', digestUs.toFixed(1)],
      [`state hash (keccak256 of the ${(state.length - 2) / 2}-byte Counter state)`, stateHashUs.toFixed(1)],
    ]))
    console.log()

    // The first channel of the process also pays for compiling the client's code paths; one
    // untimed channel first, so that every configuration is measured in steady state.
    progress('JIT warm-up: one untimed N = 2 channel')
    await runChannel(anvil, stack, hasher, 2, 'memory', dir, JIT_WARMUP_TXS, 'jit-warmup')

    const results: Result[] = []
    for (const { store, moves } of CONFIGS) {
      for (const n of NS) {
        progress(`N = ${n}, ${store} store, moves from ${moves}`)
        results.push(await runChannel(anvil, stack, hasher, n, store, dir, TXS[n]!, 'bench', moves))
      }
    }
    console.log(table(['N', 'store', 'moves from', 'txs measured', 'finalized tx/s', 'latency p50 (ms)', 'latency p99 (ms)', 'CPU ms / tx', 'tx/s per CPU-s', 'commits / tx / peer', 'load (1 min)'], results.map((r) => [
      String(r.n), r.store, r.moves, fmt(r.txs), fmt(Math.round(r.txs / r.seconds)), r.p50.toFixed(2), r.p99.toFixed(2),
      r.cpuMsPerTx.toFixed(2), fmt(Math.round(1000 / r.cpuMsPerTx)), r.commitsPerTxPeer === undefined ? '—' : r.commitsPerTxPeer.toFixed(2), r.load.toFixed(2),
    ])))
    if (STORES.includes('sqlite')) {
      const floor = commitFloor(dir)
      console.log(`\nRaw commit floor, same run: one small write committed alone in a SQLite store with the peers' settings ` +
        `(WAL, synchronous=FULL): ${fmt(Math.round(floor.perSecond))} commits/s (${floor.ms.toFixed(3)} ms each, median of ${floor.samples}). ` +
        'Commits / tx / peer: the durable commits (each outermost store transaction, and each write outside one) the peers made ' +
        'during the measured transactions, per transaction and peer.')
      for (const r of results.filter((x) => x.store === 'sqlite' && x.commitsPerTxPeer !== undefined)) {
        const bound = floor.perSecond / (r.n * r.commitsPerTxPeer!)
        console.log(`N = ${r.n}, moves from ${r.moves}: ${r.commitsPerTxPeer!.toFixed(2)} commits per transaction and peer; the commits alone, ` +
          `${r.n} peers on one disk, allow ${fmt(Math.round(bound))} tx/s; measured ${fmt(Math.round(r.txs / r.seconds))}.`)
      }
    }
    console.log('\n(CPU ms / tx: process CPU time, all threads, per measured tx — less sensitive than wall time to other load on the machine; ' +
      'tx/s per CPU-s = 1000 / CPU ms per tx, about what one uncontended core would do.)')
    console.log(`Load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
    const two = results.find((r) => r.n === 2 && r.store === 'memory')
    if (two) console.log(`\nTarget ≥ 1,000 finalized tx/s at N = 2 (memory store): measured ${fmt(Math.round(two.txs / two.seconds))} tx/s.`)
    for (const r of results.filter((x) => x.n === 2 && x.store === 'sqlite')) {
      console.log(`Target ≥ 900 finalized tx/s at N = 2 (SQLite store, moves from ${r.moves}): measured ${fmt(Math.round(r.txs / r.seconds))} tx/s.`)
    }
    console.log(`Target EVM transition ≤ 200 µs: measured ${transitionUs.toFixed(1)} µs.`)
    console.log(`\nWhere the time goes: every tx costs the process N signatures, N(N−1) signature recoveries ` +
      `(each peer checks the author's signature and every confirmation) and N transitions with N nextActor calls ` +
      `(every peer runs the machine), i.e. at N = 2 about ` +
      `${((2 * signUs + 2 * recoverUs + 2 * (transitionUs + nextActorUs)) / 1000).toFixed(2)} ms of CPU per tx from ECDSA and the EVM alone, ` +
      `on one core shared by all peers.`)
  } finally {
    await anvil.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
