/**
 * Network benchmark: one run on one local HyperDHT testnet (bound to 127.0.0.1), in one process.
 *
 * (a) The floor: round trip of a 128-byte message echoed over a bare protomux channel on a
 *     hyperswarm connection (Noise-encrypted UDX on loopback) — what any protocol pays.
 *     Also the same round trip through Parley's stack (P2PManager: handshake-verified link,
 *     size/rate bounds, strict decoding): a `ping` answered by a `pong`.
 * (b) Parley finality over hyperswarm: one Counter channel of N = 2, 3, 5, 8, 16 peers, each with
 *     its own P2PManager (own DHT node, own swarm, own Noise key), HyperswarmTransport and the
 *     Channel facade; the machine's deployed bytecode in the local EVM; in-memory stores
 *     (`--store=sqlite` for SQLite). Every peer proposes as soon as it is its turn; latency is
 *     propose() → `final` at the proposer. Then the same channel one tx at a time (each proposed
 *     once the previous one is final everywhere): the latency of an interactive move, without
 *     queueing. All peers share this process's CPU. The same channel on the in-memory hub, in
 *     the same run, shows what the network itself adds.
 *
 * `npm run bench:net` (`-- --quick` for a short run, `-- --n=8` for one size).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { Wallet, keccak256, toUtf8Bytes } from 'ethers'
import c from 'compact-encoding'
import createTestnet from '@hyperswarm/testnet'
import DHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import Protomux from 'protomux'
import { startAnvil, type Anvil } from '../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../src/chain/stack.js'
import type { Channel } from '../src/channel/Channel.js'
import { HyperswarmTransport } from '../src/net/HyperswarmTransport.js'
import { silentLogger } from '../src/net/logger.js'
import { P2PManager } from '../src/net/P2PManager.js'
import type { ParleyHasher } from '../src/protocol/eip712.js'
import type { Hex } from '../src/protocol/types.js'
import { MemoryStore } from '../src/store/MemoryStore.js'
import { SqliteStore } from '../src/store/SqliteStore.js'
import type { Store } from '../src/store/types.js'
import { MemoryHub } from '../src/transport/MemoryHub.js'
import type { Message } from '../src/transport/messages.js'
import type { Transport } from '../src/transport/Transport.js'
import { COUNTER_MOVE, createChannels, latencyStats, openCounterChannel, runSaturated, type Latency, type SaturatedRun } from './lib/channel.js'
import { machineLine } from './lib/machine.js'
import { fmt, progress, table } from './lib/report.js'

type Testnet = Awaited<ReturnType<typeof createTestnet>>
const quick = process.argv.includes('--quick')
const only = process.argv.find((a) => a.startsWith('--n='))
const NS = only ? [Number(only.slice(4))] : [2, 3, 5, 8, 16]
const STORE = (process.argv.find((a) => a.startsWith('--store='))?.slice(8) ?? 'memory') as 'memory' | 'sqlite'
const TXS: Record<number, number> = quick ? { 2: 200, 3: 150, 5: 80, 8: 40, 16: 20 } : { 2: 1000, 3: 600, 5: 300, 8: 150, 16: 60 }
/** Txs proposed one at a time (each waits for the previous one to be final everywhere). */
const SEQ: Record<number, number> = quick ? { 2: 60, 3: 45, 5: 30, 8: 24, 16: 16 } : { 2: 300, 3: 240, 5: 150, 8: 96, 16: 48 }
const ECHOES = quick ? 500 : 3000
/** Loopback peers in one process: bound to 127.0.0.1 and not firewalled (see test/helpers/net.ts). */
const local = (t: Testnet) => ({ bootstrap: t.bootstrap, host: '127.0.0.1', firewalled: false, logger: silentLogger })

/** (a) Bare protomux echo between two hyperswarm nodes on the testnet. */
async function protomuxEcho(testnet: Testnet): Promise<Latency> {
  const swarms = [0, 1].map(() => new Hyperswarm({ dht: new DHT({ bootstrap: testnet.bootstrap, host: '127.0.0.1', firewalled: false }) }))
  try {
    const channels = swarms.map((s) => once(s, 'connection').then((args) => {
      const conn = args[0] as Hyperswarm.Connection
      conn.on('error', () => {})
      return Protomux.from(conn).createChannel({ protocol: 'bench/echo' })!
    }))
    await swarms[1]!.listen()
    swarms[0]!.joinPeer(swarms[1]!.keyPair.publicKey)
    const [client, server] = await Promise.all(channels)
    const echo = server!.addMessage({ encoding: c.raw, onmessage: (b: Uint8Array) => void echo.send(b) })
    let reply: (() => void) | undefined
    const call = client!.addMessage({ encoding: c.raw, onmessage: () => reply?.() })
    client!.open()
    server!.open()
    await Promise.all([client!.fullyOpened(), server!.fullyOpened()])
    const payload = new Uint8Array(128)
    const samples: number[] = []
    for (let i = 0; i < ECHOES + 200; i++) {
      const t = performance.now()
      await new Promise<void>((resolve) => ((reply = resolve), call.send(payload)))
      if (i >= 200) samples.push(performance.now() - t)
    }
    return latencyStats(samples)
  } finally {
    await Promise.all(swarms.map((s) => s.destroy()))
  }
}

/** (a') ping → pong through two P2PManagers (verified link, bounds, strict codec). */
async function parleyPing(testnet: Testnet): Promise<Latency> {
  const wallets = [Wallet.createRandom(), Wallet.createRandom()]
  const participants = wallets.map((w) => w.address.toLowerCase() as Hex)
  const channelId = keccak256(toUtf8Bytes(`bench-ping-${Date.now()}`)) as Hex
  const managers = [0, 1].map(() => new P2PManager(local(testnet)))
  try {
    const nets = await Promise.all(managers.map((m, i) => m.join({ channelId, participants, me: i, signer: wallets[i]!.signingKey })))
    await Promise.all(nets.map((n) => n.waitForPeers()))
    nets[1]!.on('message', (from, m) => m.type === 'ping' && nets[1]!.send(from, { type: 'pong', nonce: m.nonce }))
    let reply: (() => void) | undefined
    nets[0]!.on('message', () => reply?.())
    const samples: number[] = []
    for (let i = 0; i < ECHOES + 200; i++) {
      const t = performance.now()
      await new Promise<void>((resolve) => ((reply = resolve), nets[0]!.send(1, { type: 'ping', nonce: i } as Message)))
      if (i >= 200) samples.push(performance.now() - t)
    }
    return latencyStats(samples)
  } finally {
    await Promise.all(managers.map((m) => m.close()))
  }
}

type TransportKind = 'hyperswarm' | 'memory'

interface Result extends SaturatedRun {
  n: number
  transport: TransportKind
  /** Latency with one tx in flight at a time (no queueing behind other txs). */
  single: Latency
  txs: number
  connectMs: number
}

/** (b) One Counter channel of `n` peers, networked (or on the in-memory hub, for comparison). */
async function runChannel(anvil: Anvil, stack: LocalStack, hasher: ParleyHasher, testnet: Testnet, n: number, kind: TransportKind, dir: string): Promise<Result> {
  const wallets = anvil.wallets.slice(1, 1 + n) as Wallet[]
  const opened = await openCounterChannel(stack, hasher, wallets, `bench-net-${n}-${kind}-${Date.now()}`)
  const managers = kind === 'hyperswarm' ? wallets.map(() => new P2PManager(local(testnet))) : []
  const hub = new MemoryHub({ clone: false })
  const stores: Store[] = wallets.map((_, i) => (STORE === 'memory' ? new MemoryStore() : new SqliteStore(join(dir, `n${n}-${kind}-p${i}.db`))))
  let channels: Channel[] = []
  try {
    const connectStart = performance.now()
    const transports: Transport[] = kind === 'memory'
      ? wallets.map((_, i) => hub.connect(i))
      : await Promise.all(managers.map((m, i) => HyperswarmTransport.join(m, { channelId: opened.channelId, participants: opened.params.participants, me: i, signer: wallets[i]!.signingKey })))
    await Promise.all(transports.map((t) => (t instanceof HyperswarmTransport ? t.waitForPeers(undefined, 60_000) : undefined)))
    const connectMs = performance.now() - connectStart
    channels = await createChannels(anvil, hasher, opened, wallets, stores, transports)
    const saturated = await runSaturated(channels, 2 * n, TXS[n]!)
    // one at a time: the latency of a tx that does not queue behind others
    let failure: unknown
    const offs = channels.map((ch) => ch.on('error', (e) => (failure ??= e.error)))
    const single: number[] = []
    for (let k = 0; k < SEQ[n]! && !failure; k++) {
      const proposer = channels.find((ch) => ch.state.isMyTurn)!
      const t = performance.now()
      const { seq } = await proposer.propose(COUNTER_MOVE)
      await proposer.waitFinal(seq)
      single.push(performance.now() - t)
      await Promise.all(channels.map((ch) => ch.waitFinal(seq)))
    }
    offs.forEach((off) => off())
    if (failure) throw failure
    return { n, transport: kind, txs: TXS[n]!, connectMs, ...saturated, single: latencyStats(single) }
  } finally {
    await Promise.allSettled(channels.map((ch) => ch.dispose()))
    await Promise.allSettled(managers.map((m) => m.close()))
    stores.forEach((s) => s.close())
  }
}

async function main(): Promise<void> {
  console.log('# Network benchmark (hyperswarm over a local HyperDHT testnet on 127.0.0.1, one process)\n')
  console.log(machineLine())
  console.log(`Parameters: ${quick ? 'quick run' : 'full run'}; echo: ${fmt(ECHOES)} round trips of 128 bytes after 200 warm-up; ` +
    `channel: Counter machine in the local EVM, ${STORE} store, every peer proposes as soon as it is its turn, warm-up 2N txs, ` +
    'latency = propose() → final at the proposer; one P2PManager (DHT node + swarm + Noise key) per peer, default per-peer bounds.\n')
  const [anvil, testnet] = await Promise.all([startAnvil({ accounts: 1 + Math.max(...NS) }), createTestnet(3, { host: '127.0.0.1' })])
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-net-'))
  try {
    progress('protomux echo (floor)')
    const floor = await protomuxEcho(testnet)
    progress('Parley ping/pong through P2PManager')
    const ping = await parleyPing(testnet)
    console.log(table(['round trip', 'p50 (ms)', 'p99 (ms)'], [
      ['bare protomux echo, 128 B (the floor)', floor.p50.toFixed(3), floor.p99.toFixed(3)],
      ['Parley ping → pong (P2PManager, verified link, codec)', ping.p50.toFixed(3), ping.p99.toFixed(3)],
    ]))
    console.log()

    const stack = await deployLocalStack(anvil.wallets[0]!)
    const hasher = await stack.manager.hasher()
    const results: Result[] = []
    for (const n of NS) {
      for (const kind of ['hyperswarm', 'memory'] as const) {
        progress(`N = ${n}, ${kind}`)
        results.push(await runChannel(anvil, stack, hasher, testnet, n, kind, dir))
      }
    }
    const memory = (n: number) => results.find((r) => r.n === n && r.transport === 'memory')!
    console.log('Saturated: every peer proposes as soon as it is its turn (throughput, and latency including queueing):\n')
    console.log(table(['N', 'transport', 'txs measured', 'finalized tx/s', 'latency p50 (ms)', 'latency p99 (ms)', 'p50 / floor', 'p50 − memory p50 (ms)', 'CPU ms / tx', 'connected after (ms)'], results.map((r) => [
      String(r.n), r.transport, fmt(r.txs), fmt(Math.round(r.txs / r.seconds)), r.p50.toFixed(2), r.p99.toFixed(2), `${(r.p50 / floor.p50).toFixed(0)}×`,
      r.transport === 'memory' ? '—' : (r.p50 - memory(r.n).p50).toFixed(2), r.cpuMsPerTx.toFixed(2), r.transport === 'memory' ? '—' : fmt(Math.round(r.connectMs)),
    ])))
    console.log('\nOne at a time: each tx proposed after the previous one is final everywhere (the latency of an interactive move):\n')
    console.log(table(['N', 'transport', 'txs', 'latency p50 (ms)', 'latency p99 (ms)', 'p50 / floor', 'p50 − memory p50 (ms)'], results.map((r) => [
      String(r.n), r.transport, fmt(SEQ[r.n]!), r.single.p50.toFixed(2), r.single.p99.toFixed(2), `${(r.single.p50 / floor.p50).toFixed(0)}×`,
      r.transport === 'memory' ? '—' : (r.single.p50 - memory(r.n).single.p50).toFixed(2),
    ])))
    const at = (n: number) => results.find((r) => r.n === n && r.transport === 'hyperswarm')
    const verdict = (n: number, target: number) => {
      const r = at(n)
      if (!r) return `N = ${n} not run`
      const met = (x: number) => (x <= target ? 'met' : 'missed')
      return `N = ${n} p50 ≤ ${target} ms: saturated ${r.p50.toFixed(2)} ms (${met(r.p50)}), one at a time ${r.single.p50.toFixed(2)} ms (${met(r.single.p50)})`
    }
    console.log(`\nTargets: ${verdict(2, 2)}; ${verdict(16, 10)}.`)
    console.log('\nThe floor is one round trip; a Parley tx needs the author\'s broadcast and every confirmation back (one round trip ' +
      'on the wire) plus, per peer, the EVM transition and N signature recoveries — on one CPU shared by all N peers here. ' +
      'The same channel on the in-memory hub (same run, same load) isolates what the network adds: the column p50 − memory p50.')
  } finally {
    await testnet.destroy()
    await anvil.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
