/**
 * The crash matrix's world (test/crash/matrix.test.ts, scripts/crash-matrix.ts): one anvil
 * (a block a second) and one HyperDHT testnet on 127.0.0.1, and per run a fresh 3-participant
 * Payments channel played by three `parley run` processes (cli/bin.mjs, each with its SQLite
 * store and court). A supervisor restarts any peer that dies (SIGKILL at a crash point, or an
 * external `kill -9`) on the same store; the run's steps wait on the chain and on the peers'
 * JSON events. What a run must end with is exact: the on-chain credits of every participant
 * and the manager's solvency.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keccak256, toUtf8Bytes, type Wallet } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { signOpenConsent } from '../../src/chain/consent.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { ETH, Phase, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import { defaultTimes } from '../../src/channel/params.js'
import { writeParamsFile } from '../../cli/lib/params.js'
import { Running } from '../../cli/harness.js'
import { solvent } from '../helpers/courtPeers.js'
import { startTestnet, type Testnet } from '../helpers/net.js'

export const ETH1 = 10n ** 18n
/** Hundredths of an ETH. */
export const cents = (n: number): bigint => (BigInt(n) * ETH1) / 100n
const TIMES = defaultTimes

export interface World {
  anvil: Anvil
  stack: LocalStack
  testnet: Testnet
  dir: string
  stop(): Promise<void>
}

/** anvil (block time 1 s: the peers' clocks follow block timestamps), the stack, a DHT testnet. */
export async function startWorld(): Promise<World> {
  const [anvil, testnet] = await Promise.all([startAnvil({ accounts: 4, args: ['--block-time', '1'] }), startTestnet()])
  const stack = await deployLocalStack(anvil.wallets[0]!)
  const dir = mkdtempSync(join(tmpdir(), 'parley-crash-'))
  return {
    anvil, stack, testnet, dir,
    async stop() {
      await testnet.destroy()
      await anvil.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** How a run ends: a cooperative close; a force-close resolved after its deadline; a timeout answered by the accused, then a close. */
export type Ending = 'close' | 'force-close' | 'timeout'

export interface RunSpec {
  /** Payments in turn order (alice, bob, carol, alice, …): [to, cents]. */
  payments: [number, number][]
  ending: Ending
  /** Who is killed: index 0–2. */
  role: number
  /** A crash point (`name` or `name:n`) armed in `role`'s first process, or undefined. */
  crashAt?: string
  /** An external `kill -9` of `role` this many ms after the channel starts, or undefined. */
  killAfterMs?: number
  /** Retype a move or command the killed peer lost (only for external kills: a crash point comes after the store write). */
  retype?: boolean
  /** In a force-close, the others quit before the dispute so `role` (the disputer) alone resolves. */
  alone?: boolean
  /** Step timeout, ms. */
  stepMs?: number
  log?: (line: string) => void
}

export interface RunResult {
  /** Credits of the run on-chain, by participant (manager balance after − after the open). */
  credits: bigint[]
  expected: bigint[]
  /** Whether `role` was killed (and restarted), and how often peers were started. */
  killed: boolean
  starts: number
  ms: number
}

/** The payouts a run must end with: deposits of 1 ETH each, the payments (and in a timeout run the accused's answer) applied. */
export function expectedPayouts(spec: RunSpec): bigint[] {
  const bal = [ETH1, ETH1, ETH1]
  const pay = (from: number, [to, c]: [number, number]) => ((bal[from]! -= cents(c)), (bal[to]! += cents(c)))
  spec.payments.forEach((p, k) => pay(k % 3, p))
  if (spec.ending === 'timeout') {
    const accused = spec.payments.length % 3
    pay(accused, answerOf(spec))
    pay((accused + 1) % 3, [(accused + 2) % 3, 5])
  }
  return bal
}

/** The accused's answer to the timeout: 5 cents to the next participant. */
function answerOf(spec: RunSpec): [number, number] {
  return [(spec.payments.length % 3 + 1) % 3, 5]
}

let salt = 0

/** Plays one run in `w`; throws on a step that does not happen (with the peers' recent output). */
export async function playRun(w: World, spec: RunSpec): Promise<RunResult> {
  const t0 = Date.now()
  const wallets = w.anvil.wallets.slice(1, 4)
  const participants = wallets.map((x) => x.address.toLowerCase() as Hex)
  const params: ChannelParams = {
    participants, machine: w.stack.machines.payments, asset: ETH, deposits: [ETH1, ETH1, ETH1], bond: 0n, ...TIMES,
    salt: keccak256(toUtf8Bytes(`crash-${process.pid}-${Date.now()}-${salt++}`)) as Hex, initData: '0x', openDeadline: 1n << 40n,
  }
  for (const x of wallets) await w.stack.manager.connect(x).deposit(ETH, ETH1)
  const hasher = await w.stack.manager.hasher()
  const { channelId } = await w.stack.manager.open(params, wallets.map((x) => signOpenConsent(x.signingKey, hasher, params)))
  const base = await credits(w, wallets)
  const tag = channelId.slice(2, 10)
  const file = join(w.dir, `${tag}.json`)
  writeParamsFile(file, { params, chainId: hasher.domain.chainId, manager: w.stack.manager.address, channelId, machineName: 'payments' })
  const peers = new Supervisor(w, file, tag, wallets, spec)
  try {
    await peers.startAll()
    await peers.play()
    const got = (await credits(w, wallets)).map((b, i) => b - base[i]!)
    await solvent(w.anvil, w.stack)
    await peers.settled()
    return { credits: got, expected: expectedPayouts(spec), killed: peers.killed, starts: peers.starts, ms: Date.now() - t0 }
  } finally {
    await peers.stopAll()
  }
}

function credits(w: World, wallets: Wallet[]): Promise<bigint[]> {
  return Promise.all(wallets.map((x) => w.stack.manager.balanceOf(x.address.toLowerCase() as Hex, ETH)))
}

type Ev = Record<string, unknown>

/** The three `parley run` processes of a run, each restarted on its store when it dies unasked. */
class Supervisor {
  readonly procs: (Running | undefined)[] = [undefined, undefined, undefined]
  /** Processes stopped on purpose (quit) and not to be restarted. */
  private readonly parked = new Set<number>()
  killed = false
  starts = 0
  private closing = false
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly w: World, private readonly file: string, private readonly tag: string, private readonly wallets: Wallet[], private readonly spec: RunSpec) {}

  private log(line: string): void {
    this.spec.log?.(line)
  }

  /** Starts peer i (armed when it is the role's first process). */
  start(i: number): Running {
    const armed = i === this.spec.role && this.spec.crashAt !== undefined && !this.killed
    const args = [
      'run', this.file, '--key', this.wallets[i]!.privateKey, '--store', join(this.w.dir, `${this.tag}-${i}.db`), '--rpc', this.w.anvil.url,
      '--bootstrap', this.w.testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(','), '--poll', '250', '--json',
    ]
    const r = new Running(args, this.w.dir, armed ? { PARLEY_CRASH_AT: this.spec.crashAt! } : {})
    this.starts++
    this.procs[i] = r
    void r.exited.then(() => {
      if (this.procs[i] !== r || this.closing || this.parked.has(i)) return
      if (r.child.signalCode !== 'SIGKILL') return // a normal stop (settled) or a failure: the run's checks see it
      this.killed ||= i === this.spec.role
      this.log(`  #${i} died (${/crash point (\S+)/.exec(r.stderr)?.[1] ?? 'kill -9'}); restarting on its store`)
      this.start(i)
    })
    return r
  }

  async startAll(): Promise<void> {
    for (const i of [0, 1, 2]) this.start(i)
    if (this.spec.killAfterMs !== undefined) {
      this.timer = setTimeout(() => {
        const r = this.procs[this.spec.role]
        if (r && r.child.exitCode === null && r.child.signalCode === null && !this.parked.has(this.spec.role)) r.child.kill('SIGKILL')
      }, this.spec.killAfterMs)
    }
    await this.until(() => [0, 1, 2].every((i) => this.ev(i).some((e) => e.event === 'ready')), 'every peer ready')
  }

  /** The events of peer i's current process. */
  private ev(i: number): Ev[] {
    return this.procs[i]?.events ?? []
  }

  /** Peer i's head seq and final seq, from its current process's events. */
  private seqs(i: number): { seq: bigint; final: bigint } {
    let seq = -1n
    let final = -1n
    for (const e of this.ev(i)) {
      if (e.event === 'ready') ((seq = BigInt(e.seq as string)), (final = BigInt(e.finalSeq as string)))
      if (e.event === 'state' && BigInt(e.seq as string) > seq) seq = BigInt(e.seq as string)
      if (e.event === 'final' && BigInt(e.seq as string) > final) final = BigInt(e.seq as string)
    }
    return { seq, final }
  }

  private send(i: number, line: string): Running {
    const r = this.procs[i]!
    this.log(`  #${i} < ${line}`)
    if (r.child.exitCode === null && r.child.signalCode === null) r.send(line)
    return r
  }

  /**
   * Waits until `done()` holds. When `retype` names a peer and that peer's process changed since
   * the line was sent (it was killed), `retype.again()` decides whether to send it again.
   */
  private async until(done: () => boolean | Promise<boolean>, what: string, retype?: { i: number; line: string; sentTo: Running; again: () => boolean | Promise<boolean> }): Promise<void> {
    const deadline = Date.now() + (this.spec.stepMs ?? 60_000)
    let sentTo = retype?.sentTo
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`step "${what}" did not happen\n${this.diagnostics()}`)
      const cur = retype ? this.procs[retype.i] : undefined
      if (retype && this.spec.retype && cur && cur !== sentTo && cur.events.some((e) => e.event === 'ready') && (await retype.again())) {
        sentTo = this.send(retype.i, retype.line)
      }
      await sleep(200)
    }
  }

  private async phase(): Promise<Phase> {
    return Number((await this.w.stack.manager.getChannel(this.channelId())).phase) as Phase
  }

  private channelId(): Hex {
    return this.procs.map((p) => p?.events.find((e) => e.event === 'ready')?.channelId).find((x) => x !== undefined) as Hex
  }

  /** The run's moves and its ending. */
  async play(): Promise<void> {
    const s = this.spec
    for (const [k, [to, c]] of s.payments.entries()) {
      const author = k % 3
      const seq = BigInt(k + 1)
      const line = `pay ${to} ${(c / 100).toFixed(2)}`
      await this.move(author, line, seq)
    }
    const last = BigInt(s.payments.length)
    await this.until(() => [0, 1, 2].every((i) => this.seqs(i).final >= last), `seq ${last} final everywhere`)
    if (s.ending === 'close') return this.close(0)
    if (s.ending === 'force-close') return this.forceClose(s.role)
    // timeout: the next actor does not move; time passes its posting deadline; the courts raise a timeout; it answers.
    const accused = s.payments.length % 3
    await this.w.anvil.increaseTime(TIMES.p2pTime + TIMES.chainFallbackTime + 5)
    await this.until(async () => (await this.phase()) === Phase.Disputed, 'a timeout is raised')
    const [to, c] = answerOf(s)
    const line = `pay ${to} ${(c / 100).toFixed(2)}`
    const sentTo = this.send(accused, line)
    await this.until(async () => (await this.phase()) === Phase.Open && [0, 1, 2].every((i) => this.seqs(i).seq > last && this.openAgain(i)), 'the accused answers the timeout', {
      i: accused, line, sentTo, again: () => this.seqs(accused).seq <= last,
    })
    // The answer came through the chain: the next move (over the peers again) makes it final.
    await this.move((accused + 1) % 3, `pay ${(accused + 2) % 3} 0.05`, last + 2n)
    await this.until(() => [0, 1, 2].every((i) => this.seqs(i).final >= last + 2n), `seq ${last + 2n} final everywhere`)
    await this.close(accused === 0 ? 1 : 0)
  }

  /** Peer i's current process saw the timeout cancelled (or started after it). */
  private openAgain(i: number): boolean {
    return this.ev(i).some((e) => e.event === 'cancelled' || (e.event === 'ready' && e.phase === 'open'))
  }

  private async move(author: number, line: string, seq: bigint): Promise<void> {
    const sentTo = this.send(author, line)
    await this.until(() => [0, 1, 2].every((i) => this.seqs(i).seq >= seq), `seq ${seq} everywhere`, {
      i: author, line, sentTo, again: () => this.seqs(author).seq < seq,
    })
  }

  /** `closer` closes; the chain must say Closed. A stored, signed close left unsent (its sender killed) goes on-chain through the courts after p2pTime: time is moved on when it stalls. */
  private async close(closer: number): Promise<void> {
    const sentTo = this.send(closer, 'close')
    let nudged = Date.now()
    await this.until(async () => {
      if ((await this.phase()) === Phase.Closed) return true
      // Only once a signed close is stored (some peer said close-signed): time moved on before would start timeouts instead.
      if (Date.now() - nudged > 3_000 && this.procs.some((p) => p?.events.some((e) => e.event === 'close-signed'))) {
        nudged = Date.now()
        this.log('  (close not mined yet: chain time +61 s for the courts)')
        await this.w.anvil.increaseTime(TIMES.p2pTime + 1)
      }
      return false
    }, 'the channel closes', { i: closer, line: 'close', sentTo, again: () => !this.ev(closer).some((e) => e.event === 'close-signed' || (e.event === 'ready' && e.phase !== 'open')) })
  }

  private async forceClose(who: number): Promise<void> {
    if (this.spec.alone) {
      for (const i of [0, 1, 2].filter((x) => x !== who)) {
        this.parked.add(i)
        this.send(i, 'quit')
        await this.procs[i]!.exited
      }
    }
    const sentTo = this.send(who, 'force-close')
    await this.until(async () => (await this.phase()) !== Phase.Open, 'the force-close is raised', { i: who, line: 'force-close', sentTo, again: async () => (await this.phase()) === Phase.Open })
    let deadline: bigint | undefined
    await this.until(() => (deadline = this.deadline()) !== undefined, 'a peer reports the dispute')
    await this.w.anvil.increaseTime(Math.max(1, Number(deadline! - BigInt(await this.w.anvil.now())) + 2))
    await this.until(async () => (await this.phase()) === Phase.Closed, 'the dispute is resolved')
  }

  /** The open dispute's deadline (chain time), as a peer reported it. */
  private deadline(): bigint | undefined {
    const d = this.procs.flatMap((p) => p?.events ?? []).filter((e) => e.event === 'dispute').at(-1)
    return d ? BigInt(d.deadline as string) : undefined
  }

  /** After the chain closed: every running peer reports `closed` and stops by itself; parked ones, restarted, see it settled. */
  async settled(): Promise<void> {
    for (const i of this.parked) {
      this.parked.delete(i)
      this.start(i)
    }
    await this.until(() => this.procs.every((p) => p?.events.some((e) => e.event === 'closed')), 'every peer sees the settlement')
  }

  async stopAll(): Promise<void> {
    this.closing = true
    clearTimeout(this.timer)
    await Promise.all(this.procs.map((p) => p?.stop('SIGKILL')))
  }

  diagnostics(): string {
    return this.procs.map((p, i) => `#${i}: ${p?.events.slice(-8).map((e) => JSON.stringify(e)).join('\n    ')}\n  stderr: ${p?.stderr.slice(-1500)}`).join('\n')
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
