/**
 * Many idle channels in one process: memory per channel, time to create and restore them, and
 * the latency of a move in one channel while the others idle — with the machine's EVM shared
 * between channels (the default) and, side by side, one EVM per channel (`evmCache: false`, the
 * behaviour before sharing).
 *
 * Each configuration runs in a fresh child process (`node --expose-gc`), so that one
 * configuration's heap does not count against the next. One anvil serves them all: the stack
 * is deployed once; every idle channel's machine is fetched from it with `eth_getCode` and
 * hash-checked (EvmStateMachine.fromChain, per channel, as createPeer's loadMachine does; the
 * hardfork is detected once per process), and its genesis is what that machine computes
 * (`initialState`) — the channels are not opened on-chain (nothing of the open stays in the
 * client's memory). They are real Channel instances (Channel.create, Channel.restore) of our
 * participant 0, each on its own in-memory transport, all in one store. The moving channel has
 * both participants in the process; a move = propose() → final at the proposer.
 *
 * `npm run bench:channels` (`-- --quick`: 1,000 channels only, fewer moves; `-- --n=500,2000`: other counts).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { loadavg } from 'node:os'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { startAnvil } from '../src/chain/anvil.js'
import { deployLocalStack } from '../src/chain/stack.js'
import { runChild, type ChildConfig, type ChildResult } from './lib/idleChannels.js'
import { machineLine } from './lib/machine.js'
import { fmt, median, progress, quantile, table } from './lib/report.js'

const quick = process.argv.includes('--quick')
const nArg = process.argv.find((a) => a.startsWith('--n='))
const NS = nArg ? nArg.slice(4).split(',').map(Number) : quick ? [1000] : [1000, 10_000]
const MOVES = quick ? 100 : 500
const WARMUP = 50
const STORES = ['memory', 'sqlite'] as const
/** `--lockstep`: only the latency goal, measured in lockstep (see {@link lockstep}); `--rounds=`, `--per=` size it. */
const LOCKSTEP = process.argv.includes('--lockstep')
const ROUNDS = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 60)
const PER = Number(process.argv.find((a) => a.startsWith('--per='))?.slice(6) ?? 50)

/** Runs one configuration in a fresh `node --expose-gc` process; its last stdout line is the result. */
function child(cfg: ChildConfig): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=16384', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', JSON.stringify(cfg)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.on('error', reject)
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`child ${JSON.stringify({ ...cfg, domain: undefined })} exited with ${code}`))
      resolve(JSON.parse(out.trim().split('\n').pop()!) as ChildResult)
    })
  })
}

/**
 * A configuration run in lockstep with others (ChildConfig.lockstep): it prints `ready` once its
 * idle channels are restored, then runs blocks of moves when told.
 */
class Stepped {
  private readonly lines: string[] = []
  private readonly waiting: ((line: string) => void)[] = []
  private readonly p: ChildProcessWithoutNullStreams
  readonly done: Promise<ChildResult>

  constructor(cfg: ChildConfig) {
    this.p = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=16384', '--import', 'tsx', fileURLToPath(import.meta.url), '--child', JSON.stringify(cfg)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }) as unknown as ChildProcessWithoutNullStreams
    let last = ''
    createInterface({ input: this.p.stdout }).on('line', (line) => {
      last = line
      const w = this.waiting.shift()
      if (w) w(line)
      else this.lines.push(line)
    })
    this.done = new Promise((resolve, reject) => {
      this.p.on('error', reject)
      this.p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(last) as ChildResult) : reject(new Error(`lockstep child (n = ${cfg.n}, ${cfg.store}) exited with ${code}`))))
    })
  }

  /** The next line the child prints (or its failure). */
  next(): Promise<string> {
    const line = this.lines.shift()
    if (line !== undefined) return Promise.resolve(line)
    return Promise.race([new Promise<string>((r) => this.waiting.push(r)), this.done.then(() => Promise.reject(new Error('the child ended')))])
  }

  /** Runs `moves` moves: the median latency (ms) and CPU per move (ms). */
  async block(moves: number): Promise<{ p50: number; cpu: number }> {
    this.p.stdin.write(`${JSON.stringify({ moves })}\n`)
    const r = JSON.parse(await this.next()) as { samples: number[]; cpuUs: number }
    return { p50: median(r.samples), cpu: r.cpuUs / 1000 / moves }
  }

  end(): Promise<ChildResult> {
    this.p.stdin.end(`${JSON.stringify({ end: true })}\n`)
    return this.done
  }
}

const quartiles = (xs: readonly number[]) => [quantile(xs, 0.25), quantile(xs, 0.75)] as const

/**
 * The goal's comparison, in lockstep: a process with `n` idle channels (A), a one-channel process
 * (B, the reference) and a second one-channel process (C, the control: what the method measures
 * between two identical processes), all alive at once; blocks of `per` moves run in one of them
 * at a time, round after round (the order rotates), so a drifting load weighs on all alike.
 * Per round: A/B and C/B of the blocks' median latency and CPU per move.
 */
async function lockstep(base: Omit<ChildConfig, 'n' | 'store' | 'share'>, store: 'memory' | 'sqlite', n: number, rounds: number, per: number) {
  const [a, b, c] = [n, 0, 0].map((k) => new Stepped({ ...base, n: k, store, share: true, lockstep: true }))
  try {
    for (const x of [a!, b!, c!]) if ((await x.next()) !== 'ready') throw new Error('a lockstep child did not get ready')
    const rows: { a: { p50: number; cpu: number }; b: { p50: number; cpu: number }; c: { p50: number; cpu: number } }[] = []
    const orders = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0], [1, 0, 2], [0, 2, 1]]
    for (let i = 0; i < rounds; i++) {
      const got: { p50: number; cpu: number }[] = []
      for (const k of orders[i % orders.length]!) got[k] = await [a!, b!, c!][k]!.block(per)
      rows.push({ a: got[0]!, b: got[1]!, c: got[2]! })
      if ((i + 1) % 10 === 0) progress(`  lockstep ${store}, ${fmt(n)} idle: ${i + 1} of ${rounds} rounds`)
    }
    return {
      store, n, rounds, per,
      p50: { a: median(rows.map((r) => r.a.p50)), b: median(rows.map((r) => r.b.p50)), c: median(rows.map((r) => r.c.p50)) },
      cpu: { a: median(rows.map((r) => r.a.cpu)), b: median(rows.map((r) => r.b.cpu)), c: median(rows.map((r) => r.c.cpu)) },
      p50Ratio: rows.map((r) => r.a.p50 / r.b.p50), cpuRatio: rows.map((r) => r.a.cpu / r.b.cpu),
      p50Control: rows.map((r) => r.c.p50 / r.b.p50), cpuControl: rows.map((r) => r.c.cpu / r.b.cpu),
    }
  } finally {
    await Promise.all([a!, b!, c!].map((x) => x.end().catch(() => undefined)))
  }
}

const kib = (bytes: number) => (bytes / 1024).toFixed(1)
const ms = (x: number) => x.toFixed(2)
const pct = (ratio: number) => `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)} %`

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const r = await runChild(JSON.parse(process.argv[3]!) as ChildConfig)
    process.stdout.write(`${JSON.stringify(r)}\n`)
    process.exit(0)
  }
  console.log('# Idle channels benchmark (many channels in one process, Counter machine in the local EVM)\n')
  console.log(machineLine())
  if (LOCKSTEP) console.log(`Parameters (--lockstep): ${fmt(Math.max(...NS))} idle channels in A; stores: memory, SQLite (one store, one file, for all of a process's channels: WAL, synchronous=FULL); EVM shared by code hash; ${ROUNDS} rounds of ${PER} moves per process after ${WARMUP} untimed ones.`)
  else console.log(`Parameters: ${NS.map(fmt).join(' and ')} idle channels per process; stores: memory, SQLite (one store, one file, for all channels: WAL, synchronous=FULL); ` +
    `EVM shared by code hash (after) vs one per channel (before); ${MOVES} timed moves after ${WARMUP} untimed ones in one 2-party channel; ` +
    'every configuration in a fresh `node --expose-gc` process, memory read after two full GCs.')
  console.log('Channels: real Channel instances (Channel.create, then dispose and Channel.restore from the same store) for participant 0, ' +
    'machine fetched from anvil with eth_getCode and hash-checked per channel, genesis computed by the machine (not opened on-chain); ' +
    'one in-memory transport (MemoryHub) and one LogicalClock per channel.')
  console.log(`Load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (2 cores shared with other work)\n`)
  const anvil = await startAnvil({ accounts: 3 })
  try {
    const stack = await deployLocalStack(anvil.wallets[0]!)
    const hasher = await stack.manager.hasher()
    const base = {
      rpc: anvil.url, machine: stack.machines.counter, moves: MOVES, warmup: WARMUP,
      domain: { chainId: hasher.domain.chainId.toString(), verifyingContract: hasher.domain.verifyingContract },
      keys: [anvil.wallets[1]!.privateKey, anvil.wallets[2]!.privateKey],
    }
    if (LOCKSTEP) return await reportLockstep(base)
    // Each configuration is paired with a one-channel process run just before it: the load of
    // the shared machine drifts over minutes, and the pair sees about the same load.
    const results: (ChildResult & { one: ChildResult })[] = []
    for (const store of STORES) {
      for (const n of NS) {
        for (const share of [false, true]) {
          progress(`${store}: one channel (the latency reference), then ${fmt(n)} idle channels, EVM ${share ? 'shared' : 'per channel'}`)
          const one = await child({ ...base, n: 0, store, share })
          results.push({ ...(await child({ ...base, n, store, share })), one })
        }
      }
    }
    const one = (r: (typeof results)[number]) => r.one
    console.log(table(
      ['store', 'idle channels', 'EVM', 'EVMs built', 'RSS / channel (KiB)', 'heap / channel (KiB)', 'create (ms / channel)', 'restore (ms / channel)',
        'move p50 / p95 (ms)', 'CPU ms / move', 'one channel: p50 / p95, CPU (ms)', 'p50 vs one channel', 'CPU vs one channel',
        'ABBA with / without idle: p50, CPU (ms)', 'ABBA p50', 'ABBA CPU'],
      results.map((r) => [
        r.store, fmt(r.n), r.share ? 'shared' : 'per channel', fmt(r.evmBuilds),
        kib(r.rssPerChannel), kib(r.heapPerChannel), ms(r.createMs / r.n), ms(r.restoreMs / r.n),
        `${ms(r.p50)} / ${ms(r.p95)}`, ms(r.cpu), `${ms(one(r).p50)} / ${ms(one(r).p95)}, ${ms(one(r).cpu)}`,
        pct(r.p50 / one(r).p50), pct(r.cpu / one(r).cpu),
        `${ms(r.paired.with.p50)} / ${ms(r.paired.without.p50)}, ${ms(r.paired.with.cpu)} / ${ms(r.paired.without.cpu)}`,
        pct(r.paired.with.p50 / r.paired.without.p50), pct(r.paired.with.cpu / r.paired.without.cpu),
      ]),
    ))
    console.log('\n(RSS and heap per channel: (after − before) / channels, read after the channels were restored, each time after two `global.gc()`; ' +
      'before = the process with the moving channel only. Move: the moving channel\'s moves once the idle channels were restored (moves ' +
      `${WARMUP + MOVES + 1}–${WARMUP + 2 * MOVES} of that channel); one channel = the same moves in a process without idle channels (same store and EVM mode), run just before; ` +
      'CPU ms / move = process CPU time (user + system) over those moves, less sensitive to other load than wall time; ' +
      `ABBA = then, in the same process, ${MOVES} moves with the idle channels and ${MOVES} with them disposed and collected, ` +
      'in eight alternating blocks (with, without, without, with, …) so that a drifting load weighs on both alike. ' +
      'EVMs built: MachineEvm instances in use, the moving channel\'s included.)')
    console.log(`Load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
    const top = Math.max(...NS)
    for (const store of STORES) {
      const refs = results.filter((x) => x.store === store).map((x) => x.one)
      const p50s = refs.map((x) => x.p50)
      const cpus = refs.map((x) => x.cpu)
      console.log(`\n${store}: the ${refs.length} one-channel processes of this run (identical runs, minutes apart) measured p50 ${ms(Math.min(...p50s))}–${ms(Math.max(...p50s))} ms ` +
        `and ${ms(Math.min(...cpus))}–${ms(Math.max(...cpus))} ms CPU per move: the run-to-run noise the comparisons below sit in.`)
      const r = results.find((x) => x.n === top && x.store === store && x.share)!
      const vsOne = r.p50 / one(r).p50
      const cpuVsOne = r.cpu / one(r).cpu
      const ab = r.paired.with.p50 / r.paired.without.p50
      const abCpu = r.paired.with.cpu / r.paired.without.cpu
      console.log(`\n${store}, ${fmt(top)} channels, shared EVM: ${kib(r.rssPerChannel)} KiB RSS / channel (goal ≤ 32: ${r.rssPerChannel <= 32 * 1024 ? 'met' : 'NOT met'}); ` +
        `move p50 ${pct(vsOne)}, CPU per move ${pct(cpuVsOne)} vs the one-channel process; ABBA in one process: p50 ${pct(ab)}, CPU ${pct(abCpu)} ` +
        `(goal within 10 %: ${[vsOne, cpuVsOne, ab, abCpu].map((x) => (x <= 1.1 ? 'met' : 'NOT met')).join(' / ')}).`)
    }
  } finally {
    await anvil.stop()
  }
}

/** `--lockstep`: the move-latency goal (within 10 % of a one-channel process), per store, at the largest N. */
async function reportLockstep(base: Omit<ChildConfig, 'n' | 'store' | 'share'>): Promise<void> {
  const n = Math.max(...NS)
  console.log(`Lockstep: three processes alive at once — A with ${fmt(n)} idle channels (shared EVM), B and C with the moving channel only — ` +
    `each after ${WARMUP} untimed moves; ${ROUNDS} rounds, each a block of ${PER} moves in A, B and C in turn (one process at a time, the order rotating); ` +
    'per round the ratio of the blocks\' median latency (propose → final at the proposer) and of their CPU per move. ' +
    'A/B is the goal\'s comparison; C/B compares two identical one-channel processes (what the method reads when there is no difference).\n')
  const out = []
  for (const store of STORES) {
    progress(`lockstep: ${store}, ${fmt(n)} idle channels against two one-channel processes`)
    out.push(await lockstep(base, store, n, ROUNDS, PER))
  }
  const iqr = (xs: number[]) => quartiles(xs).map((q) => pct(q)).join(' … ')
  console.log(table(
    ['store', 'idle channels', 'rounds × moves', 'p50 A / B / C (ms)', 'CPU / move A / B / C (ms)', 'A/B p50: median [IQR]', 'A/B CPU: median [IQR]', 'control C/B p50', 'control C/B CPU'],
    out.map((r) => [
      r.store, fmt(r.n), `${r.rounds} × ${r.per}`, `${ms(r.p50.a)} / ${ms(r.p50.b)} / ${ms(r.p50.c)}`, `${ms(r.cpu.a)} / ${ms(r.cpu.b)} / ${ms(r.cpu.c)}`,
      `${pct(median(r.p50Ratio))} [${iqr(r.p50Ratio)}]`, `${pct(median(r.cpuRatio))} [${iqr(r.cpuRatio)}]`,
      `${pct(median(r.p50Control))} [${iqr(r.p50Control)}]`, `${pct(median(r.cpuControl))} [${iqr(r.cpuControl)}]`,
    ]),
  ))
  console.log(`Load average at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  for (const r of out) {
    const [p, c] = [median(r.p50Ratio), median(r.cpuRatio)]
    console.log(`\n${r.store}, ${fmt(r.n)} idle channels: move latency ${pct(p)}, CPU per move ${pct(c)} against the one-channel process (median of ${r.rounds} paired blocks; ` +
      `two identical one-channel processes read ${pct(median(r.p50Control))} / ${pct(median(r.cpuControl))}) — goal within 10 %: ${p <= 1.1 && c <= 1.1 ? 'met' : 'NOT met'}.`)
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
