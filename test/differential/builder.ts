/**
 * Builds the transactions and lists of a case: the court's own lists and moves of a channel
 * (finality proofs, candidate lists, fresh valid moves), then edits — field mutations, signature
 * edits, list operations and forged last entries. Only the adversaries (everyone but me) sign
 * anything new: an edited transaction loses me's signature.
 */
import { hashState } from '../../src/protocol/eip712.js'
import { bitCount, bitIndices, hasBit } from '../../src/protocol/bitmap.js'
import { packSignatures } from '../../src/protocol/signatures.js'
import { defaultSkew } from '../../src/protocol/timing.js'
import { MAX_STATE_BYTES, type Hex, type PackedSignedTransaction, type Transaction } from '../../src/protocol/types.js'
import { GARBAGE, clamp, mutateSignatures, mutateTransaction, type Bounds, type SigKeys } from './mutate.js'
import { FORGES, type CaseRecipe, type ListRecipe, type Mutation, type TxRecipe } from './recipes.js'
import { adversaries, anchoredList, finalityProof, type ChainState } from './situations.js'
import { moveData, sign, type Move, type Scenario, type World } from './world.js'

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!

/** An entry being built: a transaction, its valid signatures, or a raw packed form once a signature edit made it invalid. */
export interface Draft {
  tx: Transaction
  sigs: Map<number, Hex>
  raw?: PackedSignedTransaction
}

export class Builder {
  readonly time: bigint
  readonly latest: bigint
  readonly keys: SigKeys

  constructor(readonly w: World, readonly s: Scenario, readonly cs: ChainState, delay: bigint) {
    this.time = cs.now + delay
    this.latest = this.time + defaultSkew(s.params.agreementTime)
    this.keys = { participants: s.wallets.map((x) => x.signingKey), outsider: w.outsider, me: s.me, active: s.active }
    s.states.set(hashState(GARBAGE), GARBAGE)
  }

  /** State bytes at `seq` (0 = genesis). */
  stateAt(seq: bigint): Hex {
    return seq === 0n ? this.s.genesis : this.s.moves[Number(seq) - 1]?.state ?? this.s.genesis
  }

  /** Timestamp at `seq` (0 = genesis). */
  tsAt(seq: bigint): bigint {
    return seq === 0n ? this.s.genesisTs : this.s.moves[Number(seq) - 1]?.tx.timestamp ?? this.s.genesisTs
  }

  bounds(t: Transaction, parentTs: bigint): Bounds {
    const s = this.s
    const other = this.w.scenarios.find((x) => x.channelId !== s.channelId)?.channelId ?? (`0x${'12'.repeat(32)}` as Hex)
    const gp = t.seq >= 2n ? hashState(this.stateAt(t.seq - 2n)) : s.genesisHash
    const otherState = s.moves.find((m) => m.tx.stateHash !== t.stateHash)?.tx.stateHash ?? s.genesisHash
    const data = moveData(s.machine, t.actor, s.n)
    return {
      otherChannelId: other, n: s.n, me: s.me, active: s.active, genesisTs: s.genesisTs, genesisHash: s.genesisHash, parentTs,
      blockTime: this.time, latest: this.latest, grandparentHash: gp, otherStateHash: otherState, garbageHash: hashState(GARBAGE),
      inventedHashes: [hashState(s.invented.theft), hashState(s.invented.excess)],
      goodData: data.good.filter((d) => d.toLowerCase() !== t.data.toLowerCase()).slice(0, 2), badData: data.bad,
    }
  }

  /**
   * Re-signs `d` as `tx` by its signers minus me, plus a new author when the adversaries hold its
   * key (unchanged digest: signatures kept).
   */
  resign(d: Draft, tx: Transaction): Draft {
    if (this.w.hasher.transaction(tx) === this.w.hasher.transaction(d.tx)) return { tx, sigs: d.sigs }
    const who = new Set([...d.sigs.keys()].filter((i) => i !== this.s.me && i < this.s.n))
    if (tx.actor !== d.tx.actor && tx.actor !== this.s.me && tx.actor < this.s.n) who.add(tx.actor)
    return { tx, sigs: sign(this.w.hasher, this.s.wallets, tx, who) }
  }

  /** Applies one edit to `d` (`parentTs`: its floor). */
  async edit(d: Draft, m: Mutation, parentTs: bigint): Promise<Draft> {
    if (m.kind === 'sig') {
      const base = d.raw ? new Map<number, Hex>() : d.sigs
      if (d.raw) return d // a second signature edit on an already broken set: keep the first
      return { ...d, raw: mutateSignatures(d.tx, this.w.hasher.transaction(d.tx), base, m.edit, m.who, this.keys) }
    }
    let tx = mutateTransaction(d.tx, m, this.bounds(d.tx, parentTs))
    if (m.recompute) tx = await this.recompute(tx)
    return m.keepSignatures ? { tx, sigs: d.sigs } : this.resign(d, tx)
  }

  /** `tx` with the stateHash the machine computes from its parent (when the parent is known and the move valid). */
  async recompute(tx: Transaction): Promise<Transaction> {
    const parent = this.s.states.get(tx.previousStateHash.toLowerCase())
    if (parent === undefined) return tx
    try {
      const next = await this.s.machineImpl.transition(parent, tx.actor, tx.data, tx.timestamp)
      this.s.states.set(hashState(next), next)
      return { ...tx, stateHash: hashState(next) }
    } catch {
      return tx
    }
  }

  pack(d: Draft): PackedSignedTransaction {
    return d.raw ?? { transaction: d.tx, ...packSignatures(d.sigs) }
  }

  /** A fresh valid move on the state at `parent` by its next actor (or `actor`), stamped at the block time (not before the parent), signed by `signer` (default: its author). */
  async fresh(parent: bigint, parentState = this.stateAt(parent), parentTs = this.tsAt(parent), signer?: number): Promise<Draft> {
    const s = this.s
    const actor = await s.machineImpl.nextActor(parentState).catch(() => 0)
    const ts = this.time > parentTs ? this.time : parentTs
    let data = moveData(s.machine, actor, s.n).good[0]!
    let next: Hex | undefined
    for (const d of moveData(s.machine, actor, s.n).good) {
      next = await s.machineImpl.transition(parentState, actor, d, ts).catch(() => undefined)
      if (next !== undefined) {
        data = d
        break
      }
    }
    const stateHash = next === undefined ? hashState(GARBAGE) : hashState(next)
    if (next !== undefined) s.states.set(stateHash, next)
    const tx: Transaction = { channelId: s.channelId, fork: s.fork, seq: parent + 1n, timestamp: ts, actor, previousStateHash: hashState(parentState), data, stateHash }
    // Me signs only valid moves of its own on its head (never a second move at a height it signed).
    const by = signer ?? actor
    const known = BigInt(s.moves.filter((m) => !m.withheld).length)
    const refuses = by === s.me && (next === undefined || parent !== known || parentState !== this.stateAt(known))
    return { tx, sigs: refuses ? new Map() : sign(this.w.hasher, s.wallets, tx, [by]) }
  }

  fromMove(m: Move, only?: number[]): Draft {
    const sigs = new Map([...m.sigs].filter(([i]) => hasBit(this.s.active, i) && (!only || only.includes(i))))
    return { tx: m.tx, sigs }
  }

  /** A single transaction: the recipe's base (or `def`), then its edits. */
  async single(r: TxRecipe, def: () => Promise<Draft>): Promise<Draft> {
    const s = this.s
    let d: Draft
    if (r.base === 'default') d = await def()
    else if (r.base === 'move' && s.moves.length) {
      const m = pick(s.moves, r.at)
      d = this.fromMove(m, [m.tx.actor])
    } else d = await this.fresh(BigInt(r.at % (s.moves.length + 1)))
    for (const m of r.edits) d = await this.edit(d, m, this.tsAt(d.tx.seq - 1n))
    return d
  }

  /**
   * A list: the recipe's shape (`proof` = the entry point's `natural` kind, `anchored` = the
   * other kind) at move `at` (0 = `defAt`), its signatures, edits and operations.
   */
  async list(r: ListRecipe, natural: 'proof' | 'anchored', defAt: number): Promise<PackedSignedTransaction[]> {
    const s = this.s
    const total = s.moves.length
    if (r.shape === 'genesis' || total === 0) return []
    const k = r.at === 0 ? defAt : 1 + ((r.at - 1) % total)
    if (k === 0) return []
    const kind = r.shape === 'range' ? 'range' : r.shape === 'proof' ? natural : natural === 'proof' ? 'anchored' : 'proof'
    const A = bitCount(s.active)
    let drafts: Draft[]
    const built = kind === 'proof' ? finalityProof(s, k) : kind === 'anchored' ? anchoredList(s, k) : undefined
    if (built) drafts = built.map((p) => this.fromMove(s.moves[Number(p.transaction.seq) - 1]!, bitIndices(p.signers)))
    else drafts = s.moves.slice(k - 1, k - 1 + (kind === 'range' ? r.len : A)).map((m) => this.fromMove(m))
    drafts = drafts.map((d) => (r.sigs === 'all' ? d : { tx: d.tx, sigs: new Map([...d.sigs].filter(([i]) => (r.sigs === 'author' ? i === d.tx.actor : i !== s.me || i === d.tx.actor))) }))
    for (const e of r.edits) {
      if (drafts.length === 0) break
      const i = e.index % drafts.length
      const floor = i > 0 ? drafts[i - 1]!.tx.timestamp : this.tsAt(drafts[i]!.tx.seq - 1n)
      drafts[i] = await this.edit(drafts[i]!, e.mutation, floor)
      if (e.relink && e.mutation.kind === 'field') {
        for (let j = i + 1; j < drafts.length; j++) {
          const p = drafts[j - 1]!.tx
          const t = drafts[j]!.tx
          drafts[j] = this.resign(drafts[j]!, { ...t, seq: clamp(p.seq + 1n), previousStateHash: p.stateHash, timestamp: t.timestamp < p.timestamp ? p.timestamp : t.timestamp })
        }
      }
    }
    for (const { op, index } of r.ops) drafts = op === 'forge' ? await this.forge(drafts, index) : this.op(drafts, op, index)
    return drafts.map((d) => this.pack(d))
  }

  /** Appends a forged entry after the last (see FORGES), by the next actor, signed by the adversaries. */
  private async forge(ds: Draft[], variant: number): Promise<Draft[]> {
    const s = this.s
    const A = bitCount(s.active)
    if (ds.length >= A) {
      // Room for one more: the court's list ending at the latest move where one fits.
      for (let j = Math.min(Number(ds.at(-1)!.tx.seq) - 1, s.moves.length); j >= 1; j--) {
        const l = anchoredList(s, j)
        if (l && l.length < A) {
          ds = l.map((p) => this.fromMove(s.moves[Number(p.transaction.seq) - 1]!, bitIndices(p.signers)))
          break
        }
      }
    }
    const prev = ds.at(-1)?.tx
    const parentState = prev ? s.states.get(prev.stateHash.toLowerCase()) : s.genesis
    if (parentState === undefined) return ds
    const seq = clamp((prev?.seq ?? 0n) + 1n)
    const parentTs = prev?.timestamp ?? s.genesisTs
    // The next actor, unless that is me (whose key the adversaries lack): then an adversary out of turn.
    const next = await s.machineImpl.nextActor(parentState).catch(() => s.me)
    const actor = next === s.me || !hasBit(s.active, next) ? adversaries(s)[variant % adversaries(s).length]! : next
    const kind = FORGES[variant % FORGES.length]!
    const data = kind === 'oversized' ? (`0x${'a5'.repeat(4097)}` as Hex) : moveData(s.machine, actor, s.n).good[0]!
    // Stamped as early as the rules allow (a timeout on it is due soonest), or just outside them.
    const timestamp = clamp(kind === 'backdated' ? parentTs - 1n : kind === 'future' ? this.latest + 1n : parentTs)
    let tx: Transaction = { channelId: s.channelId, fork: s.fork, seq, timestamp, actor, previousStateHash: hashState(parentState), data, stateHash: hashState(GARBAGE) }
    if (kind === 'theft') tx.stateHash = hashState(s.invented.theft)
    else if (kind === 'excess') tx.stateHash = hashState(s.invented.excess)
    else if (kind !== 'garbage') tx = await this.recompute(tx)
    const signers = bitIndices(s.active).filter((i) => i !== s.me)
    return [...ds, { tx, sigs: sign(this.w.hasher, s.wallets, tx, signers) }]
  }

  private op(ds: Draft[], op: Exclude<ListRecipe['ops'][number]['op'], 'forge'>, index: number): Draft[] {
    const s = this.s
    const i = ds.length ? index % ds.length : 0
    const at = (seq: bigint) => s.moves[Number(seq) - 1]
    switch (op) {
      case 'drop':
        return ds.filter((_, j) => j !== i)
      case 'dup':
        return ds.length ? [...ds.slice(0, i + 1), ds[i]!, ...ds.slice(i + 1)] : ds
      case 'swap':
        return ds.length > 1 ? ds.map((d, j) => (j === i ? ds[(i + 1) % ds.length]! : j === (i + 1) % ds.length ? ds[i]! : d)) : ds
      case 'append': {
        const next = ds.length ? at(ds.at(-1)!.tx.seq + 1n) : s.moves[0]
        return next ? [...ds, this.fromMove(next)] : ds
      }
      case 'prepend': {
        const prev = ds.length ? at(ds[0]!.tx.seq - 1n) : undefined
        return prev ? [this.fromMove(prev), ...ds] : ds
      }
      case 'reverse':
        return [...ds].reverse()
      case 'overlong': {
        const out = [...ds]
        for (let seq = (out.at(-1)?.tx.seq ?? 0n) + 1n; out.length <= bitCount(s.active) && at(seq); seq++) out.push(this.fromMove(at(seq)!))
        while (out.length <= bitCount(s.active) && out.length > 0) out.push(out.at(-1)!)
        return out
      }
    }
  }

  /** Bytes for `hash` (a known state, else the genesis). */
  bytesOf(hash: Hex | undefined): Hex {
    return (hash && this.s.states.get(hash.toLowerCase())) ?? this.s.genesis
  }

  /** The `state` argument: the candidate's bytes, or another state, garbage, or one over MAX_STATE_BYTES. */
  stateArg(mode: CaseRecipe['state'], candidateHash: Hex): Hex {
    if (mode === 'candidate') return this.bytesOf(candidateHash)
    if (mode === 'garbage') return GARBAGE
    if (mode === 'oversized') return `0x${'00'.repeat(MAX_STATE_BYTES + 1)}`
    const other = [...this.s.states.entries()].find(([h]) => h !== candidateHash.toLowerCase())
    return other ? other[1] : this.s.genesis
  }
}

