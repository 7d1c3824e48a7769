/**
 * The `mutant` step: the differential test's field-by-field mutations (test/differential:
 * `mutationArb` draws the edit, mutate.ts `mutateTransaction` / `mutateSignatures` apply it)
 * on a transaction the byzantine participant legitimately has — its next honest move, its
 * latest own move, the latest transaction its shadow holds, the accused's valid response, an
 * entry of its latest finality proof — used where the contract takes one: posted, as the last
 * entry of a timeout candidate or of an extension (after the anchored list up to its parent),
 * as a response when accused, in the finality proof of an answer, an exit or a force-close.
 *
 * The differential's `me` (the honest client whose key nobody else holds) is here every honest
 * participant: a field edit is re-signed only by the byzantine signers the transaction had (and
 * by its new author when that is byzantine), or keeps every signature when the mutation says
 * so; signature edits that need a participant's key use the real key of a byzantine one and a
 * stand-in key (not theirs) for an honest one. Nothing here signs with an honest key.
 */
import { keccak256, SigningKey, toUtf8Bytes } from 'ethers'
import { bitIndices, hasBit } from '../../src/protocol/bitmap.js'
import { hashState } from '../../src/protocol/eip712.js'
import { packSignatures, unpackSignatures } from '../../src/protocol/signatures.js'
import { defaultSkew } from '../../src/protocol/timing.js'
import { DisputeKind, type Hex, type PackedSignedTransaction, type Transaction } from '../../src/protocol/types.js'
import { GARBAGE, mutateSignatures, mutateTransaction, type Bounds, type SigKeys } from '../differential/mutate.js'
import { TX_FIELDS, type Mutation } from '../differential/recipes.js'
import type { Call } from './actions.js'
import type { Byzantine } from './Byzantine.js'
import type { Head } from './forge.js'
import type { Game } from './Game.js'
import { chooseMove, decodePayments, encodePayments, inventedState, payData } from './payments.js'
import { describeMutation, type MutantBase, type Step } from './schedule.js'

type MutantStep = Extract<Step, { kind: 'mutant' }>

/** An entry being edited: its transaction and valid signatures, or the raw packed form once a signature edit broke them. */
interface Draft {
  tx: Transaction
  sigs: Map<number, Hex>
  raw?: PackedSignedTransaction
}

const stand = new Map<string, SigningKey>()
/** A fixed key that is nobody's in the channel (`outsider`), or stands in for an honest participant's. */
function standIn(name: string): SigningKey {
  let k = stand.get(name)
  if (!k) stand.set(name, (k = new SigningKey(keccak256(toUtf8Bytes(`parley adversary stand-in ${name}`)))))
  return k
}

/** A Payments state that pays out more than the channel holds: the thief gets twice the total. */
function excessState(state: Hex, thief: number): Hex {
  const s = decodePayments(state)
  if (!s) return GARBAGE
  const total = s.balances.reduce((a, b) => a + b, 0n)
  return encodePayments({ ...s, balances: s.balances.map((v, i) => (i === thief ? 2n * total + 1n : v)) })
}

const short = (v: unknown): string => {
  const x = String(v)
  if (!x.startsWith('0x') || x.length <= 14) return x
  return x.length > 70 ? `${(x.length - 2) / 2} bytes` : `${x.slice(0, 8)}…${x.slice(-4)}`
}

const signers = (bits: bigint): string => `{${bitIndices(bits).join(',')}}`

/**
 * What the edit changed from `a` to `d`: fields as `seq 3→4, stateHash 0x1a2b3c…9f0e→0xefefef…efef`,
 * a broken signature set as `signers {0,2}→{0,1,2}` or `signatures 130→129 bytes`.
 */
function changes(a: Transaction, d: Draft): string {
  const b = d.tx
  const out = TX_FIELDS.filter((f) => String(a[f]).toLowerCase() !== String(b[f]).toLowerCase()).map((f) => `${f} ${short(a[f])}→${short(b[f])}`)
  if (d.raw) {
    const before = packSignatures(d.sigs)
    if (before.signers !== d.raw.signers) out.push(`signers ${signers(before.signers)}→${signers(d.raw.signers)}`)
    if (before.signatures.length !== d.raw.signatures.length) out.push(`signatures ${(before.signatures.length - 2) / 2}→${(d.raw.signatures.length - 2) / 2} bytes`)
    else if (before.signatures.toLowerCase() !== d.raw.signatures.toLowerCase()) out.push(`signatures of ${signers(d.raw.signers)} altered`)
  }
  return out.length ? out.join(', ') : 'nothing changed'
}

/** What one mutant step works with: the byzantine participant, its keys, the states it knows by hash. */
class Mutator {
  /** State bytes by lowercase hash: the shadow's, the candidate's, invented and recomputed ones. */
  readonly states = new Map<string, Hex>()
  readonly keys: SigKeys
  readonly byzantine: Set<number>

  constructor(readonly g: Game, readonly b: Byzantine, readonly now: bigint) {
    const n = g.ctx.n
    this.byzantine = new Set(g.byz.map((x) => x.me))
    const key = (i: number) => g.byz.find((x) => x.me === i)?.wallet.signingKey ?? standIn(`${g.ctx.channelId}:${i}`)
    this.keys = { participants: Array.from({ length: n }, (_, i) => key(i)), outsider: standIn('outsider'), me: g.honest[0]!, active: b.view.active }
    for (let s = 0n; s <= b.channel.state.seq; s++) {
      const h = b.headAt(s)
      if (h) this.remember(h.state)
    }
    if (b.candidateState) this.remember(b.candidateState)
    this.remember(GARBAGE)
  }

  remember(state: Hex): Hex {
    const h = hashState(state)
    this.states.set(h.toLowerCase(), state)
    return h
  }

  stateOf(hash: Hex): Hex | undefined {
    return this.states.get(hash.toLowerCase())
  }

  private digest(t: Transaction): Hex {
    return this.g.ctx.hasher.transaction(t)
  }

  /** Our signatures (and the colluders') on `t`, for `who` among the byzantine participants. */
  signBy(t: Transaction, who: Iterable<number>): Map<number, Hex> {
    const out = new Map<number, Hex>()
    for (const i of who) {
      const x = this.g.byz.find((y) => y.me === i)
      if (x) out.set(i, x.tools.sign(t))
    }
    return out
  }

  /** The special values of `t`'s fields (test/differential/mutate.ts `Bounds`), `parentTs` its floor. */
  bounds(t: Transaction, parentTs: bigint): Bounds {
    const b = this.b
    const genesis = b.headAt(0n)!
    const parent = this.stateOf(t.previousStateHash) ?? b.head().state
    const latestSeq = b.channel.state.seq
    let other: Hex = genesis.stateHash
    for (let s = 1n; s <= latestSeq; s++) {
      const h = b.headAt(s)
      if (h && h.stateHash.toLowerCase() !== t.stateHash.toLowerCase()) {
        other = h.stateHash
        break
      }
    }
    const good = [...new Set([chooseMove(parent, t.actor, 1, 0), chooseMove(parent, t.actor, 2, 1), '0x' as Hex])].filter((d) => d.toLowerCase() !== t.data.toLowerCase())
    return {
      otherChannelId: `0x${'12'.repeat(32)}`, n: this.g.ctx.n, me: this.keys.me, active: b.view.active,
      genesisTs: genesis.timestamp, genesisHash: genesis.stateHash, parentTs, blockTime: this.now,
      latest: this.now + defaultSkew(this.g.ctx.params.agreementTime),
      grandparentHash: (t.seq >= 2n ? b.headAt(t.seq - 2n)?.stateHash : undefined) ?? genesis.stateHash,
      otherStateHash: other, garbageHash: hashState(GARBAGE),
      inventedHashes: [this.remember(inventedState(parent, b.me)), this.remember(excessState(parent, b.me))],
      goodData: good.slice(0, 2), badData: [payData((t.actor + 1) % this.g.ctx.n, 1n << 200n), '0x1234'],
    }
  }

  /** Applies `m` to `d` as the differential does, with only byzantine keys. */
  async edit(d: Draft, m: Mutation, parentTs: bigint): Promise<Draft> {
    if (m.kind === 'sig') return d.raw ? d : { ...d, raw: mutateSignatures(d.tx, this.digest(d.tx), d.sigs, m.edit, m.who, this.keys) }
    let tx = mutateTransaction(d.tx, m, this.bounds(d.tx, parentTs))
    if (m.recompute) tx = await this.recompute(tx)
    if (m.keepSignatures || this.digest(tx) === this.digest(d.tx)) return { tx, sigs: d.sigs }
    const who = new Set([...d.sigs.keys()].filter((i) => this.byzantine.has(i)))
    if (this.byzantine.has(tx.actor)) who.add(tx.actor)
    return { tx, sigs: this.signBy(tx, who) }
  }

  /** `tx` with the stateHash the machine computes from its parent, when the parent is known and the move valid. */
  async recompute(tx: Transaction): Promise<Transaction> {
    const parent = this.stateOf(tx.previousStateHash)
    if (parent === undefined) return tx
    try {
      return { ...tx, stateHash: this.remember(await this.b.machine.transition(parent, tx.actor, tx.data, tx.timestamp)) }
    } catch {
      return tx
    }
  }

  /**
   * The base transaction: `want`, or the next kind that exists (next → own → latest). `next` is
   * a valid move of ours on the shadow's head (co-signed by the colluders) stamped `stamp`
   * (the parent's time, raisable soonest, or now).
   */
  async base(want: MutantBase, stamp: 'parent' | 'now'): Promise<{ draft: Draft; label: string } | undefined> {
    const order: MutantBase[] = want === 'next' ? ['next', 'own', 'latest'] : want === 'own' ? ['own', 'next', 'latest'] : ['latest', 'next', 'own']
    const b = this.b
    const head = b.head()
    for (const kind of order) {
      if (kind === 'next') {
        if (head.nextActor !== b.me || !hasBit(b.view.active, b.me)) continue
        const f = await this.validMove(head, stamp === 'parent' ? head.timestamp : this.now > head.timestamp ? this.now : head.timestamp)
        if (f) return { draft: f, label: `its next move at seq ${f.tx.seq}` }
        continue
      }
      const entries = b.entries(1n, head.seq)
      const e = kind === 'own' ? [...entries].reverse().find((x) => x.transaction.actor === b.me && x.signatures.has(b.me)) : entries.at(-1)
      if (e) return { draft: { tx: e.transaction, sigs: new Map(e.signatures) }, label: kind === 'own' ? `its move at seq ${e.transaction.seq}` : `${this.byzantine.has(e.transaction.actor) ? 'M' : 'P'}${e.transaction.actor}'s move at seq ${e.transaction.seq}` }
    }
    return undefined
  }

  /** A valid move of ours on `head` stamped `at` (a payment, else a pass), signed by us and the colluders. */
  async validMove(head: Head, at: bigint): Promise<Draft | undefined> {
    for (const data of [chooseMove(head.state, this.b.me, 1 + Number(head.seq % 3n), Number(head.seq)), '0x' as Hex]) {
      try {
        const { transaction, state } = await this.b.tools.move(head, head.state, data, { timestamp: at })
        this.remember(state)
        return { tx: transaction, sigs: this.signBy(transaction, this.byzantine) }
      } catch {
        // refused by the machine: try a pass
      }
    }
    return undefined
  }

  pack(d: Draft): PackedSignedTransaction {
    return d.raw ?? { transaction: d.tx, ...packSignatures(d.sigs) }
  }

  /** The single signature a post or a response carries: the author's, else whatever the set holds. */
  single(d: Draft): Hex {
    if (d.raw) return d.raw.signatures
    return d.sigs.get(d.tx.actor) ?? packSignatures(d.sigs).signatures
  }

  tsAt(seq: bigint): bigint {
    return this.b.headAt(seq < 0n ? 0n : seq)?.timestamp ?? this.b.headAt(0n)!.timestamp
  }
}

/**
 * Runs a mutant step by `b` through `call` (the step toolkit's call: routes, timing, the run's
 * counts); tallies the use and the contract's verdict, or why nothing was sent.
 */
export async function mutant(g: Game, b: Byzantine, s: MutantStep, call: Call): Promise<string> {
  const tag = `M${b.me}`
  const skip = (why: string): string => {
    g.stats.mutants[`${s.use} skipped`] = (g.stats.mutants[`${s.use} skipped`] ?? 0) + 1
    return `${tag} mutant ${s.use}: ${why}`
  }
  const m = new Mutator(g, b, await g.now())
  const how = describeMutation(s.mutation)
  const kind = b.disputeKind
  const r = b.record
  switch (s.use) {
    case 'post': {
      const base = await m.base(s.base, 'now')
      if (!base) return skip('no transaction to start from')
      const d = await m.edit(base.draft, s.mutation, m.tsAt(base.draft.tx.seq - 1n))
      return call('postTransaction', [d.tx, m.single(d)], s.via, `posts ${base.label} mutated (${how}: ${changes(base.draft.tx, d)})`, s.use)
    }
    case 'timeout':
    case 'extend': {
      if (s.use === 'extend' && kind === DisputeKind.None) return skip('no dispute')
      const base = await m.base(s.base, 'parent')
      if (!base) return skip('no transaction to start from')
      const list = b.anchored(base.draft.tx.seq - 1n)
      if (!list) return skip(`no anchored list to seq ${base.draft.tx.seq - 1n}`)
      const d = await m.edit(base.draft, s.mutation, list.txs.at(-1)?.transaction.timestamp ?? m.tsAt(0n))
      const txs = [...list.txs, m.pack(d)]
      const state = m.stateOf(d.tx.stateHash) ?? list.state
      const what = `${base.label} mutated (${how}: ${changes(base.draft.tx, d)}) as ${txs.length === 1 ? 'the only entry' : `the last of ${txs.length} entries`}`
      if (s.use === 'extend') return call('extend', [r, txs, state], s.via, `extends with ${what}`, s.use)
      let waited = ''
      if (s.race && kind === DisputeKind.None) {
        const wait = await g.raceTo(d.tx.timestamp)
        if (wait > 0n) waited = ` after ${wait} s`
      }
      return call('disputeTimeout', [txs, state], s.via, `timeout${waited} on ${what}`, s.use)
    }
    case 'respond': {
      if (kind !== DisputeKind.Timeout || !hasBit(r.removals, b.me)) return skip('not accused')
      const state = b.candidateState ?? b.headAt(r.seq)?.state
      if (!state) return skip('candidate unknown')
      const head: Head = { channelId: g.ctx.channelId, fork: b.view.fork, seq: r.seq, state, stateHash: r.stateHash, timestamp: r.timestamp, nextActor: b.me }
      const valid = await m.validMove(head, m.now > r.timestamp ? m.now : r.timestamp)
      if (!valid) return skip('no valid response')
      const d = await m.edit(valid, s.mutation, r.timestamp)
      return call('respond', [r, d.tx, m.single(d)], s.via, `responds with its valid move mutated (${how}: ${changes(valid.tx, d)})`, s.use)
    }
    case 'answer':
    case 'exit':
    case 'forceClose': {
      if (s.use === 'answer' && kind === DisputeKind.None) return skip('no dispute')
      const proof = b.finalProof('latest')
      let txs: PackedSignedTransaction[]
      let what: string
      if (proof.txs.length === 0) {
        // Final only at the genesis: a one-entry list of the mutated base.
        const base = await m.base(s.base, 'now')
        if (!base) return skip('no transaction to start from')
        const d = await m.edit(base.draft, s.mutation, m.tsAt(base.draft.tx.seq - 1n))
        txs = [m.pack(d)]
        what = `[${base.label} mutated (${how}: ${changes(base.draft.tx, d)})]`
      } else {
        const i = s.entry % proof.txs.length
        const e = proof.txs[i]!
        const floor = i > 0 ? proof.txs[i - 1]!.transaction.timestamp : m.tsAt(e.transaction.seq - 1n)
        const d = await m.edit({ tx: e.transaction, sigs: unpackSignatures(e.signers, e.signatures) }, s.mutation, floor)
        txs = proof.txs.map((x, k) => (k === i ? m.pack(d) : x))
        what = `the final proof of seq ${proof.seq} with entry ${i + 1}/${txs.length} mutated (${how}: ${changes(e.transaction, d)})`
      }
      const state = (txs[0] && m.stateOf(txs[0].transaction.stateHash)) ?? proof.state
      if (s.use === 'answer') return call('answer', [r, txs, state], s.via, `answers with ${what}`, s.use)
      return call('exit', [r, txs, s.use === 'exit', state], s.via, `${s.use === 'exit' ? 'exits' : 'force-closes'} with ${what}`, s.use)
    }
  }
}
