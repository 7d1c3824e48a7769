/**
 * A scriptable byzantine participant built on the protocol code. It keeps a real Channel as its
 * memory of honest play (its "shadow": it confirms what peers send and holds the signatures,
 * finality proofs and stored states) fed with the chain's events by its own ChainListener, but
 * has no court: everything it does on-chain or off-chain beyond plain play is scripted here —
 * forged transactions sent to chosen peers, any dispute call with any candidate, answers,
 * extensions, refutations, responses and fraud proofs, sent directly or through its EIP-7702
 * delegated account (test/helpers/relay.ts). Colluders sign for each other. Signing and
 * calls go through the shared toolkit (test/helpers/byzantine.ts).
 */
import type { Wallet } from 'ethers'
import { ChainListener, type ChainEvent } from '../../src/chain/ChainListener.js'
import { NO_DISPUTE } from '../../src/chain/ManagerClient.js'
import { toParleyError } from '../../src/chain/errors.js'
import { engineOf, type Channel } from '../../src/channel/Channel.js'
import { applyChainEvent, initialChainView } from '../../src/dispute/chainView.js'
import { timeoutCandidates, type SignedEntry } from '../../src/dispute/anchor.js'
import type { ChainView } from '../../src/dispute/types.js'
import type { StateMachine } from '../../src/machine/StateMachine.js'
import { unpackSignatures } from '../../src/protocol/signatures.js'
import { DisputeKind, type DisputeRecord, type Hex, type PackedSignedTransaction } from '../../src/protocol/types.js'
import type { Message } from '../../src/transport/messages.js'
import { Byzantine as Toolkit, type CourtArgs, type CourtMethod, type Fees } from '../helpers/byzantine.js'
import type { Role } from '../helpers/courtPeers.js'
import { forge, forgeSplit, type ForgeContext, type ForgeKind, type Forged, type Head } from './forge.js'
import type { GameContext } from './context.js'

/** How an on-chain call is sent: as the top-level transaction, or through the EOA's 7702 delegation. */
export type Via = 'direct' | '7702'

/** A list of signed transactions and the state bytes of the candidate it names. */
export interface Candidate {
  txs: PackedSignedTransaction[]
  state: Hex
  seq: bigint
}

export class Byzantine {
  readonly me: number
  view: ChainView
  /** Everything signed outside the shadow channel, in order. */
  readonly forged: Forged[] = []
  /** Other byzantine participants, who sign for us. */
  colluders: Byzantine[] = []
  /** Signs anything, calls anything (test/helpers/byzantine.ts). */
  readonly tools: Toolkit
  private readonly listener: ChainListener
  private unwatch: (() => void) | undefined

  constructor(readonly role: Role, readonly ctx: GameContext, readonly machine: StateMachine) {
    this.me = role.channel.me
    this.view = initialChainView(role.store.getForks(ctx.channelId).at(-1)!)
    this.listener = new ChainListener({ provider: ctx.anvil.provider, manager: ctx.stack.manager.address, pollMs: 60_000, clock: role.clock })
    this.tools = new Toolkit({ wallet: role.wallet, params: ctx.params, hasher: ctx.hasher, manager: ctx.stack.manager, machine })
  }

  get channel(): Channel {
    return this.role.channel
  }

  get wallet(): Wallet {
    return this.role.wallet
  }

  get chainListener(): ChainListener {
    return this.listener
  }

  /** Starts feeding the shadow channel and our chain view from the chain's events. */
  start(): void {
    this.unwatch = this.listener.watch(this.ctx.channelId, (ev) => this.onEvent(ev), { store: this.role.store, fromBlock: this.ctx.openBlock })
  }

  async stop(): Promise<void> {
    this.unwatch?.()
    await this.listener.close()
  }

  private async onEvent(ev: ChainEvent): Promise<void> {
    const ch = this.channel
    switch (ev.name) {
      case 'StateSet':
        await ch.applyStateSet(ev.args)
        break
      case 'DisputeRaised':
      case 'DisputeAnswered':
        if (ev.name === 'DisputeRaised') await ch.applyDispute(ev.args)
        if (ev.args.fork === ch.state.fork) {
          await ch.applyChainTransactions(ev.args.txs.map((p) => ({ transaction: p.transaction, signatures: unpackSignatures(p.signers, p.signatures) })), ev.blockTimestamp)
        }
        break
      case 'DisputeCancelled':
        // The response's move comes in this event (as attachCourt takes it).
        if (ev.args.transaction.fork >= ch.state.fork) await ch.applyPostedTransaction(ev.args.transaction, ev.args.signature, ev.blockTimestamp)
        await ch.applyDisputeCancelled(ev.args)
        break
      case 'TransactionPosted':
        if (ev.args.transaction.fork >= ch.state.fork) await ch.applyPostedTransaction(ev.args.transaction, ev.args.signature, ev.blockTimestamp)
        break
      case 'ChannelClosed':
        await ch.applyClosed(ev.args)
        break
      default:
        break
    }
    this.view = applyChainEvent(this.view, ev, this.ctx.params.participants[this.me]!)
  }

  // ─── What we know ──────────────────────────────────────────────────────────────────────────

  /**
   * Plays honestly: proposes through the shadow channel, or — past our broadcast window — signs
   * the move late and posts it on-chain, as a client with a court would.
   */
  async propose(data: Hex): Promise<void> {
    try {
      await this.channel.propose(data)
      return
    } catch (e) {
      if ((e as { code?: string }).code !== 'BROADCAST_WINDOW_PASSED') throw e
    }
    const engine = engineOf(this.channel)
    const entry = await engine.job(() => engine.lateMove(data))
    await this.role.manager.postTransaction(this.ctx.channelId, this.ctx.params.participants, entry.transaction, entry.signatures.get(this.me)!)
  }

  /** The shadow's head as a base for forging. */
  head(): Head {
    const s = this.channel.state
    return { channelId: this.ctx.channelId, fork: s.fork, seq: s.seq, state: s.state, stateHash: s.stateHash, timestamp: s.timestamp, nextActor: s.nextActor }
  }

  /** The head of the current fork at `seq` (0 = the genesis), from the shadow's store. */
  headAt(seq: bigint): Head | undefined {
    const fork = this.channel.state.fork
    if (seq === 0n) {
      const g = this.role.store.getForks(this.ctx.channelId).find((f) => f.fork === fork)
      return g && { channelId: this.ctx.channelId, fork, seq: 0n, state: g.state, stateHash: g.stateHash, timestamp: g.timestamp, nextActor: -1 }
    }
    const r = this.role.store.getTx(this.ctx.channelId, fork, seq)
    return r && { channelId: this.ctx.channelId, fork, seq, state: r.state, stateHash: r.transaction.stateHash, timestamp: r.transaction.timestamp, nextActor: r.nextActor }
  }

  /** Stored transactions of the current fork from `from` to `to` with every signature we hold. */
  entries(from: bigint, to: bigint): SignedEntry[] {
    const out: SignedEntry[] = []
    const fork = this.channel.state.fork
    for (let s = from < 1n ? 1n : from; s <= to; s++) {
      const r = this.role.store.getTx(this.ctx.channelId, fork, s)
      if (!r) break
      out.push({ transaction: r.transaction, signatures: this.role.store.getSignatures(this.ctx.channelId, r.digest) })
    }
    return out
  }

  /** An anchored list ending at `seq` (finality proof of its first entry, or from the genesis); [] for the genesis. */
  anchored(seq: bigint): Candidate | undefined {
    const at = this.headAt(seq)
    if (!at) return undefined
    if (seq === 0n) return { txs: [], state: at.state, seq }
    const g = this.headAt(0n)!
    const txs = timeoutCandidates(this.entries(seq - 2n * BigInt(this.ctx.n), seq), g.stateHash, this.channel.state.active)
    return txs && { txs, state: at.state, seq }
  }

  /**
   * Our latest forged transaction with the forged ones it builds on, down to a state of the
   * shadow's store: [first forged, …, latest] and the anchored list before them; undefined if
   * none links.
   */
  forgedChain(): { base: Candidate; chain: Forged[] } | undefined {
    const fork = this.channel.state.fork
    for (const last of [...this.forged].reverse()) {
      if (last.transaction.fork !== fork) continue
      const chain = [last]
      for (;;) {
        const first = chain[0]!.transaction
        const parent = this.headAt(first.seq - 1n)
        if (parent && parent.stateHash === first.previousStateHash) {
          const base = this.anchored(parent.seq)
          if (base) return { base, chain }
          break
        }
        const below = this.forged.find((f) => f.transaction.fork === fork && f.transaction.seq === first.seq - 1n && f.transaction.stateHash === first.previousStateHash)
        if (!below) break
        chain.unshift(below)
      }
    }
    return undefined
  }

  /** A finality proof: of our latest final state, of the oldest one we can still prove, or the genesis (empty). */
  finalProof(from: 'latest' | 'old' | 'genesis'): Candidate {
    const final = this.channel.state.finalSeq
    const genesis = { txs: [], state: this.headAt(0n)?.state ?? this.channel.state.finalState, seq: 0n }
    if (from === 'genesis' || final === 0n) return genesis
    const seqs = from === 'latest' ? [final] : Array.from({ length: Number(final) }, (_, i) => BigInt(i + 1))
    for (const seq of seqs) {
      try {
        return { txs: this.channel.finalityProof(seq), state: this.headAt(seq)!.state, seq }
      } catch {
        // final only as an ancestor: try the next one
      }
    }
    return genesis
  }

  /** The latest seq below `below` that we signed (authored or confirmed) and after which someone else moves: a stale timeout candidate. */
  signedBelow(below: bigint): bigint | undefined {
    const fork = this.channel.state.fork
    for (let s = below - 1n; s >= 1n; s--) {
      const r = this.role.store.getTx(this.ctx.channelId, fork, s)
      if (r && r.nextActor !== this.me && this.role.store.getSignatures(this.ctx.channelId, r.digest).has(this.me)) return s
    }
    return undefined
  }

  // ─── Signing ───────────────────────────────────────────────────────────────────────────────

  async forgeContext(): Promise<ForgeContext> {
    return { tools: this.tools, now: BigInt(await this.ctx.anvil.now()) }
  }

  /** Signs a forged transaction of `kind` on `head` (default: the shadow's head). */
  async forge(kind: ForgeKind, variant = 0, head = this.head(), at?: bigint): Promise<Forged> {
    const f = await forge(await this.forgeContext(), head, kind, variant, at)
    this.forged.push(f)
    return f
  }

  /** A second move at a height we authored (or, without one, at head + 1): both versions. */
  async equivocation(variant = 0): Promise<[Forged, Forged]> {
    const fork = this.channel.state.fork
    for (let s = this.channel.state.seq; s >= 1n; s--) {
      const r = this.role.store.getTx(this.ctx.channelId, fork, s)
      if (!r || r.transaction.actor !== this.me) continue
      const sig = this.role.store.getSignatures(this.ctx.channelId, r.digest).get(this.me)
      const parent = this.headAt(s - 1n)
      if (!sig || !parent) continue
      const first: Forged = { transaction: r.transaction, signature: sig, state: r.state, label: `our move at ${s}` }
      const second = await forgeSplit(await this.forgeContext(), { ...parent, nextActor: this.me }, first)
      this.forged.push(second)
      return [first, second]
    }
    const first = await this.forge('split', variant)
    const second = await forgeSplit(await this.forgeContext(), this.head(), first)
    this.forged.push(second)
    return [first, second]
  }

  /** `f` packed with our signature and the colluders' (when `withColluders`). */
  pack(f: Forged, withColluders = false): PackedSignedTransaction {
    const sigs = new Map<number, Hex>([[f.transaction.actor, f.signature]])
    if (withColluders) for (const c of this.colluders) sigs.set(c.me, c.sign(f))
    const indices = [...sigs.keys()].sort((a, b) => a - b)
    return {
      transaction: f.transaction,
      signers: indices.reduce((m, i) => m | (1n << BigInt(i)), 0n),
      signatures: `0x${indices.map((i) => sigs.get(i)!.slice(2)).join('')}` as Hex,
    }
  }

  /** Our signature on someone's forged transaction. */
  sign(f: Forged): Hex {
    return this.tools.sign(f.transaction)
  }

  /** Sends `f` as a broadcast transaction to `to` (participant indices). */
  send(f: Forged, to: readonly number[]): void {
    for (const i of to) this.ctx.route(this.me, i, { type: 'tx', transaction: f.transaction, signature: f.signature } satisfies Message)
  }

  // ─── The chain ─────────────────────────────────────────────────────────────────────────────

  /** The open dispute's record (for calls that re-supply it), or the empty one. */
  get record(): DisputeRecord {
    return this.view.dispute?.record ?? NO_DISPUTE
  }

  /** The open dispute's candidate bytes, if the events carried them. */
  get candidateState(): Hex | undefined {
    return this.view.dispute?.state
  }

  get disputeKind(): DisputeKind {
    return this.view.phase === 'disputed' ? (this.view.dispute?.record.kind ?? DisputeKind.None) : DisputeKind.None
  }

  /**
   * Calls a court entry point (our index is added where it is taken); returns 'ok' or the
   * decoded revert's code — reverts are expected: the adversary tries everything. `fees` (with a
   * gas limit: no estimate) make it outbid honest transactions waiting in the same block; they
   * go direct. Then we read the chain at once: we know what we did before the honest courts do.
   */
  async call<M extends CourtMethod>(method: M, args: CourtArgs[M], via: Via, fees?: Fees): Promise<string> {
    let outcome: string
    try {
      await this.tools.call(method, args, fees || via === 'direct' ? 'direct' : { delegate: this.ctx.forwarder }, fees)
      outcome = 'ok'
    } catch (e) {
      outcome = toParleyError(e, method).code
    }
    for (const b of [this, ...this.colluders]) await b.chainListener.poll().catch(() => undefined)
    return outcome
  }
}
