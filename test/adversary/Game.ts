/**
 * One adversary game on the world's anvil: a Payments channel with bonds, the honest
 * participants running the real client (Channel + attached court on a MemoryHub,
 * test/helpers/courtPeers.ts) and the byzantine ones driven by {@link Byzantine}. The game
 * controls the network (what reaches or leaves the adversary), time (anvil time travel with
 * every clock fed, never past a dispute's deadline without letting the courts act) and the
 * pace: `settle` polls every listener and waits for every channel, court and message until
 * nothing moves. Listeners poll only when told to, so a run is as deterministic as the
 * clients are.
 */
import { hasBit } from '../../src/protocol/bitmap.js'
import { DisputeKind, Phase } from '../../src/protocol/types.js'
import { EvmStateMachine } from '../../src/machine/EvmStateMachine.js'
import { manualMining } from '../helpers/byzantine.js'
import { openCourtChannel, travel, type CourtChannel, type Role } from '../helpers/courtPeers.js'
import { Byzantine } from './Byzantine.js'
import { signer, type GameContext, type World } from './context.js'
import { balanceIn } from './payments.js'
import type { TraceEvent } from './invariants.js'
import type { NetMode, Schedule } from './schedule.js'
import type { CloseMessage } from '../../src/transport/messages.js'

/** Counters of one game. */
export interface GameStats {
  steps: number
  /** Adversary calls by outcome ('ok' or the revert's code). */
  calls: Record<string, number>
  /** Mutant steps (./mutant.ts) by use and outcome ('timeout ok', 'post SignatureInvalid', 'respond skipped', …). */
  mutants: Record<string, number>
  /** Honest court actions submitted. */
  honestActions: number
  /** Skewed close requests sent (./closeAttack.ts), by terms. */
  skewedCloses: Record<string, number>
  /** Of those, how many every active participant consented to (an honest consent to skewed terms: each one is a finding). */
  skewedCloseConsents: number
}

export class Game {
  readonly byz: Byzantine[] = []
  readonly honest: number[]
  readonly traces = new Map<number, TraceEvent[]>()
  readonly net = new Map<number, { mode: NetMode; peer: number }>()
  readonly stats: GameStats = { steps: 0, calls: {}, mutants: {}, honestActions: 0, skewedCloses: {}, skewedCloseConsents: 0 }
  /** Every close message an honest participant sent (requests and consents), as the network carried it. */
  readonly closeMessages: CloseMessage[] = []
  /** Who asked to leave (force-close) and when (chain time), if anyone did. */
  out: { h: number; at: bigint } | undefined
  private readonly crafted = new WeakSet<object>()

  private constructor(readonly world: World, readonly c: CourtChannel, readonly ctx: GameContext, readonly schedule: Schedule) {
    this.honest = c.roles.map((_, i) => i).filter((i) => !schedule.byzantine.includes(i))
  }

  /** Opens the channel of `schedule` (deposits 1, 2, … ETH, bond 0.1 ETH, C = 300 s, W = 210 s). */
  static async open(world: World, schedule: Schedule, label: string): Promise<Game> {
    const { anvil, stack, hasher } = world
    const wallets = anvil.wallets.slice(1, schedule.n + 1)
    const honest = wallets.map((_, i) => i).filter((i) => !schedule.byzantine.includes(i))
    const c = await openCourtChannel({ anvil, stack, hasher, wallets, label, pollMs: 60_000 })
    // An honest participant accused of silence answers with a pass (its application is slow, not gone).
    for (const i of honest) c.attach(i, { autoMove: () => '0x' })
    const ctx: GameContext = {
      anvil, stack, hasher, forwarder: world.forwarder, channelId: c.channelId, params: c.params, n: schedule.n, openBlock: c.openBlock,
      route: (from, to, message) => {
        game.crafted.add(message)
        c.hub.route(from, to, message)
      },
      sign: signer(hasher),
    }
    const game = new Game(world, c, ctx, schedule)
    c.hub.filter = (from, to, message) => {
      if (message.type === 'close' && honest.includes(from) && !game.closeMessages.includes(message)) game.closeMessages.push(message)
      return game.crafted.has(message) || game.delivers(from, to, message.type)
    }
    for (const i of honest) {
      const trace: TraceEvent[] = []
      game.traces.set(i, trace)
      const ch = c.roles[i]!.channel
      const bal = (state: `0x${string}`) => balanceIn(state, i) ?? 0n
      ch.on('state', (s) => trace.push({ kind: 'state', fork: s.fork, seq: s.seq, balance: bal(s.state) }))
      ch.on('final', (s) => trace.push({ kind: 'final', fork: s.fork, seq: s.seq, balance: bal(s.state) }))
      ch.on('fork', (s) => trace.push({ kind: 'fork', fork: s.fork, balance: bal(s.state) }))
      c.roles[i]!.court!.on('submitted', () => game.stats.honestActions++)
    }
    for (const i of schedule.byzantine) {
      const machine = await EvmStateMachine.fromChain({ provider: anvil.provider, address: c.params.machine })
      const b = new Byzantine(c.roles[i]!, ctx, machine)
      b.start()
      game.byz.push(b)
    }
    for (const b of game.byz) b.colluders = game.byz.filter((x) => x !== b)
    await game.settle()
    return game
  }

  /** Whether the network delivers a message of `type` from → to under the current policy. */
  private delivers(from: number, to: number, type: string): boolean {
    for (const [b, { mode, peer }] of this.net) {
      if (from === b && (mode === 'mute' || mode === 'silent' || (mode === 'noConfirm' && (type === 'confirm' || type === 'close' || type === 'sync-response')))) return false
      if (to === b && (mode === 'deaf' || mode === 'silent')) return false
      if (mode === 'cut' && ((from === b && to === peer) || (to === b && from === peer))) return false
    }
    return true
  }

  role(i: number): Role {
    return this.c.roles[i]!
  }

  /** Honest participants still active and unslashed on the chain, as their own court sees it. */
  activeHonest(): number[] {
    return this.honest.filter((i) => {
      const v = this.role(i).court!.chain
      return hasBit(v.active, i) && !hasBit(v.slashed, i)
    })
  }

  private listeners() {
    return [...this.honest.map((i) => this.role(i).listener!), ...this.byz.map((b) => b.chainListener)]
  }

  /** Polls every listener and waits for every channel, court and message until nothing moves. */
  async settle(): Promise<void> {
    const provider = this.world.anvil.provider
    const channels = this.c.roles.map((r) => r.channel)
    const courts = this.honest.map((i) => this.role(i).court!)
    let quiet = 0
    for (let round = 0; round < 60 && quiet < 2; round++) {
      const block = await provider.getBlockNumber()
      const sent = this.c.hub.stats.sent
      await this.c.hub.idle()
      await Promise.all(channels.map((ch) => ch.idle()))
      await Promise.all(this.listeners().map((l) => l.poll().catch(() => undefined)))
      await Promise.all(courts.map((ct) => ct.idle()))
      await Promise.all(channels.map((ch) => ch.idle()))
      await this.c.hub.idle()
      quiet = (await provider.getBlockNumber()) === block && this.c.hub.stats.sent === sent ? quiet + 1 : 0
    }
  }

  /** The open dispute's deadline as the first active honest court sees it. */
  deadline(): bigint | undefined {
    const v = this.role(this.activeHonest()[0] ?? this.honest[0]!).court!.chain
    return v.phase === 'disputed' ? v.dispute?.record.deadline : undefined
  }

  /** Chain time now. */
  async now(): Promise<bigint> {
    return BigInt(await this.world.anvil.now())
  }

  /**
   * Advances chain time by `seconds`, stopping one second past each dispute deadline on the way
   * so the courts act there (a client online at every block would).
   */
  async travel(seconds: number): Promise<void> {
    let left = BigInt(seconds)
    while (left > 0n) {
      const now = await this.now()
      const d = this.deadline()
      const step = d !== undefined && d >= now && d + 1n - now < left ? (d + 1n - now > 0n ? d + 1n - now : 1n) : left
      await travel(this.world.anvil, this.c, Number(step))
      left -= step
      await this.settle()
      await this.pushOut()
    }
  }

  /**
   * Advances chain time to the first second a timeout on a candidate stamped `stamp` may be
   * raised (stamp + W + 1) without letting the honest courts act (they poll only when told to).
   * Returns the seconds waited: 0 when already due or more than 1,200 s away.
   */
  async raceTo(stamp: bigint): Promise<bigint> {
    const p = this.ctx.params
    const wait = stamp + BigInt(p.p2pTime + p.agreementTime + p.chainFallbackTime) + 1n - (await this.now())
    if (wait <= 0n || wait > 1_200n) return 0n
    await travel(this.world.anvil, this.c, Number(wait))
    return wait
  }

  /**
   * Runs `act` (an adversary call with fees that outbid) with automine off: first the honest
   * courts look at the chain and send what they would — their transactions wait in the pool —
   * then `act` sends its own, and one block takes them all, the adversary's first.
   */
  async frontRun<T>(act: () => Promise<T>): Promise<T> {
    const provider = this.world.anvil.provider
    const honest = this.honest.map((i) => this.c.params.participants[i]!.toLowerCase())
    const adversary = this.byz.map((b) => b.wallet.address.toLowerCase())
    const waiting = async (from: readonly string[], ms: number) => {
      for (const until = Date.now() + ms; Date.now() < until;) {
        const pool = (await provider.send('txpool_content', [])) as { pending?: Record<string, unknown> }
        if (Object.keys(pool.pending ?? {}).some((a) => from.includes(a.toLowerCase()))) return true
        await new Promise((r) => setTimeout(r, 20))
      }
      return false
    }
    return manualMining(provider, async ({ mine }) => {
      await Promise.all(this.honest.map((i) => this.role(i).listener!.poll().catch(() => undefined)))
      await waiting(honest, 1_000)
      let done = false
      const result = act().finally(() => (done = true))
      while (!done && !(await waiting(adversary, 50))) { /* until our call is in the pool, or it failed before */ }
      await mine()
      return result
    })
  }

  /** Honest participant `h` wants out: it asks for a force-close now and whenever the channel is open again. */
  async wantOut(h: number): Promise<void> {
    this.out ??= { h, at: await this.now() }
    await this.pushOut()
  }

  /**
   * The force-close of whoever wants out, when the channel is open or only a timeout is open
   * (an exit replaces it); another active honest participant takes over if that one left.
   */
  async pushOut(): Promise<void> {
    if (!this.out) return
    const active = this.activeHonest()
    const h = active.includes(this.out.h) ? this.out.h : active[0]
    if (h === undefined) return
    const court = this.role(h).court!
    const v = court.chain
    if (v.phase === 'closed' || (v.phase === 'disputed' && v.dispute?.record.kind !== DisputeKind.Timeout)) return
    try {
      await court.forceClose()
    } catch {
      // raced by another dispute: tried again after it
    }
    await this.settle()
  }

  /** Ends the game: an honest participant wants out; time passes until the channel is closed. Returns the end time. */
  async finish(): Promise<bigint> {
    const end = await this.now()
    await this.settle()
    const h = this.out?.h ?? this.activeHonest()[0]
    if (h !== undefined) await this.wantOut(h)
    for (let i = 0; i < 8 * this.schedule.n; i++) {
      if ((await this.world.stack.manager.getChannel(this.c.channelId)).phase === Phase.Closed) break
      const d = this.deadline()
      const now = await this.now()
      await this.travel(d !== undefined && d >= now ? Number(d + 1n - now) : 1)
    }
    return end
  }

  /** Stops every client and listener of the game. */
  async close(): Promise<void> {
    for (const b of this.byz) await b.stop()
    await this.c.close()
  }
}
