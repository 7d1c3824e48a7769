/**
 * Performs one schedule step in a game and says what happened, as a log line. Honest steps go
 * through the real client (`court.propose`, `court.forceClose`, `court.exit`,
 * `channel.close`); adversary steps through {@link Byzantine}. Adversary calls that revert are
 * part of the search (the contract refusing them is the expected outcome); the line names the
 * revert.
 */
import { hasBit } from '../../src/protocol/bitmap.js'
import { DisputeKind, type Hex } from '../../src/protocol/types.js'
import type { Message } from '../../src/transport/messages.js'
import type { CourtArgs, CourtMethod, Fees } from '../helpers/byzantine.js'
import type { Byzantine, Candidate, Via } from './Byzantine.js'
import { forgeSplit, type ForgeKind, type Forged } from './forge.js'
import type { Game } from './Game.js'
import { choices } from './choices.js'
import { skewedClose } from './closeAttack.js'
import { mutant } from './mutant.js'
import { chooseMove } from './payments.js'
import type { CandidateKind, Step } from './schedule.js'

const CAND_FORGE: Partial<Record<CandidateKind, ForgeKind>> = { forged: 'badHash', withheld: 'withheld', backdated: 'backdated', oversized: 'oversized' }

/** A court call by the step's byzantine participant, logged as `what`; `tally` also counts its outcome under that name (mutant steps: the use). */
export type Call = <M extends CourtMethod>(method: M, args: CourtArgs[M], via: Via, what: string, tally?: string) => Promise<string>

/** Fees that outbid the honest courts in a block (and a gas limit: no estimate on the pending block). */
const FRONT: Fees = { maxPriorityFeePerGas: 10n ** 11n, maxFeePerGas: 10n ** 12n, gasLimit: 12_000_000n }

/**
 * Runs `s` in `g` and returns the log line. Then the clients react (`settle`), unless the step
 * is `hold` (the next step follows at once: back-to-back calls); a `front` step is sent while
 * the honest courts' reactions to what came before wait in the pool, with higher fees, and
 * mined in the same block ahead of them.
 */
export async function runStep(g: Game, s: Step): Promise<string> {
  const timing = 't' in s ? s.t : 'calm'
  let line: string
  if (s.kind === 'burst') {
    // Back to back: every move but the last without the honest clients reacting in between.
    const b = g.byz[s.b % g.byz.length]!
    const lines: string[] = []
    for (const choice of s.choices.slice(0, -1)) lines.push(await perform(g, await pick(g, b, choice, s.via)))
    const last = await pick(g, b, s.choices.at(-1)!, s.via)
    lines.push(timing === 'front' ? await g.frontRun(() => perform(g, last, FRONT)) : await perform(g, last))
    line = `burst: ${lines.join(' | ')}`
  } else line = timing === 'front' ? await g.frontRun(() => perform(g, s, FRONT)) : await perform(g, s)
  g.stats.steps++
  if (timing === 'hold') return `${line} (held)`
  await g.settle()
  await g.pushOut()
  return timing === 'front' ? `${line} (front-running)` : line
}

async function perform(g: Game, s: Step, fees?: Fees): Promise<string> {
  const b = 'b' in s ? g.byz[s.b % g.byz.length]! : undefined
  const tag = b ? `M${b.me}` : ''
  const call: Call = async (method, args, via, what, tally) => {
    const r = await b!.call(method, args, via, fees)
    g.stats.calls[r] = (g.stats.calls[r] ?? 0) + 1
    if (tally) g.stats.mutants[`${tally} ${r}`] = (g.stats.mutants[`${tally} ${r}`] ?? 0) + 1
    return `${tag} ${what}${via === '7702' && !fees ? ' via 7702' : ''}: ${r}`
  }
  switch (s.kind) {
    case 'act':
      return perform(g, await pick(g, b!, s.choice, s.via), fees)
    case 'burst':
      throw new Error('a burst is run by runStep')
    case 'play':
      return play(g, s.share, s.to)
    case 'travel':
      await g.travel(s.seconds)
      return `time +${s.seconds} s`
    case 'lastSecond': {
      const d = g.deadline()
      if (d === undefined) return `last second of the ${s.of} window: no dispute`
      const until = s.of === 'answer' ? d - BigInt(g.ctx.params.challengeTime) : d
      const now = await g.now()
      // One second before: the next transaction is mined in the window's last second or so.
      if (until - 1n <= now) return `last second of the ${s.of} window: already past`
      await g.travel(Number(until - 1n - now))
      return `time to the last second of the ${s.of} window (${until})`
    }
    case 'net': {
      const peer = g.honest[s.peer % g.honest.length]!
      if (s.mode === 'ok') g.net.delete(b!.me)
      else g.net.set(b!.me, { mode: s.mode, peer })
      return `${tag} network: ${s.mode}${s.mode === 'cut' ? ` from P${peer}` : ''}`
    }
    case 'forge': {
      const chosen = g.honest.filter((_, k) => ((s.to >> k) & 1) === 1)
      const to = chosen.length > 0 ? chosen : g.honest
      const rest = g.honest.filter((i) => !to.includes(i))
      if (s.what === 'equivocate' || s.what === 'split') {
        const [x, y] = s.what === 'equivocate' ? await b!.equivocation(s.variant) : await split(b!, s.variant)
        if (s.what === 'split') b!.send(x, to)
        b!.send(y, rest.length > 0 && s.what === 'split' ? rest : to)
        return `${tag} signs two moves at seq ${x.transaction.seq} (${x.label} / ${y.label}) → P${to.join(',P')}${rest.length ? ` / P${rest.join(',P')}` : ''}`
      }
      const f = await b!.forge(s.what, s.variant)
      if (s.what !== 'withheld') b!.send(f, to)
      return `${tag} signs seq ${f.transaction.seq}: ${f.label}${s.what === 'withheld' ? ' (kept)' : ` → P${to.join(',P')}`}`
    }
    case 'post': {
      const f = s.what === 'split' || s.what === 'equivocate' ? (await b!.equivocation())[1] : await b!.forge(s.what)
      return call('postTransaction', [f.transaction, f.signature], s.via, `posts seq ${f.transaction.seq} (${f.label})`)
    }
    case 'timeout': {
      const c = await candidate(b!, s.cand)
      if (!c) return `${tag} timeout (${s.cand}): no such candidate`
      let waited = ''
      if (s.race && b!.disputeKind === DisputeKind.None) {
        // Until the candidate may be raised (stamp + posting window), without letting the honest courts act first.
        const wait = await g.raceTo(c.txs.at(-1)?.transaction.timestamp ?? b!.headAt(0n)?.timestamp ?? 0n)
        if (wait > 0n) waited = ` after ${wait} s`
      }
      return call('disputeTimeout', [c.txs, c.state], s.via, `timeout${waited} on ${s.cand} candidate seq ${c.seq} (${c.txs.length} txs)`)
    }
    case 'exit': {
      const c = b!.finalProof(s.from)
      return call('exit', [b!.record, c.txs, s.leave, c.state], s.via, `${s.leave ? 'exit' : 'force-close'} from ${s.from} final seq ${c.seq}`)
    }
    case 'answer': {
      if (b!.disputeKind === DisputeKind.None) return `${tag} answer: no dispute`
      const c = b!.finalProof(s.from)
      return call('answer', [b!.record, c.txs, c.state], s.via, `answers with ${s.from} final seq ${c.seq}`)
    }
    case 'extend': {
      if (b!.disputeKind === DisputeKind.None) return `${tag} extend: no dispute`
      const c = await candidate(b!, s.cand)
      if (!c) return `${tag} extend (${s.cand}): no such list`
      return call('extend', [b!.record, c.txs, c.state], s.via, `extends with ${s.cand} list to seq ${c.seq}`)
    }
    case 'refute': {
      const r = b!.record
      if (b!.disputeKind === DisputeKind.None) return `${tag} refute: no dispute`
      const later = await laterSignedBy(g, b!, r.disputer, r.seq)
      if (!later) return `${tag} refute: no later signature of P${r.disputer}`
      const c = b!.finalProof(s.from)
      return call('refute', [r, later.transaction, later.signature, c.txs, c.state], s.via,
        `refutes P${r.disputer} with its seq ${later.transaction.seq}, checkpoint ${s.from} seq ${c.seq}`)
    }
    case 'respond': {
      const r = b!.record
      if (b!.disputeKind !== DisputeKind.Timeout || !hasBit(r.removals, b!.me)) return `${tag} respond: not accused`
      const state = b!.candidateState ?? b!.headAt(r.seq)?.state
      if (!state) return `${tag} respond: candidate unknown`
      const head = { channelId: g.ctx.channelId, fork: b!.view.fork, seq: r.seq, state, stateHash: r.stateHash, timestamp: r.timestamp, nextActor: b!.me }
      const f = await b!.forge(s.what === 'forged' ? 'badHash' : 'wrongTurn', 0, head)
      if (s.what === 'late') {
        // Stamped as late as the chain allows: block time + skew.
        // (Payments ignores the timestamp: the resulting state is the same.)
        const t = { ...f.transaction, timestamp: (await g.now()) + 1n + BigInt(Math.max(1, Math.floor(g.ctx.params.agreementTime / 2))) }
        return call('respond', [r, t, g.ctx.sign(b!.wallet, t)], s.via, `responds with a move stamped block time + skew`)
      }
      return call('respond', [r, f.transaction, f.signature], s.via, `responds with ${f.label}`)
    }
    case 'fraud':
      return fraud(g, b!, s, call)
    case 'mutant':
      return mutant(g, b!, s, call)
    case 'resolve': {
      if (b!.disputeKind === DisputeKind.None) return `${tag} resolve: no dispute`
      const state = b!.candidateState ?? b!.headAt(b!.record.seq)?.state ?? '0x'
      return call('resolve', [b!.record, state], s.via, 'resolves')
    }
    case 'collude': {
      const c = b!.colluders[0]
      if (!c) return `${tag} collude: nobody to collude with`
      const f = b!.forged.at(-1) ?? (await b!.forge('badHash'))
      const digest = g.ctx.hasher.transaction(f.transaction)
      for (const i of g.honest) {
        g.ctx.route(b!.me, i, { type: 'tx', transaction: f.transaction, signature: f.signature } satisfies Message)
        g.ctx.route(c.me, i, { type: 'confirm', fork: f.transaction.fork, seq: f.transaction.seq, digest, signer: c.me, signature: c.sign(f) } satisfies Message)
      }
      return `${tag} and M${c.me} sign and send seq ${f.transaction.seq} (${f.label})`
    }
    case 'forceClose': {
      const h = g.honest[s.h % g.honest.length]!
      if (!g.activeHonest().includes(h)) return `P${h} force-close: not active`
      await g.wantOut(h)
      return `P${h} wants out (force-close)`
    }
    case 'exitHonest': {
      const active = g.activeHonest()
      const h = g.honest[s.h % g.honest.length]!
      if (active.length < 2 || !active.includes(h) || g.out?.h === h) return `P${h} exit: skipped (last honest or leaving)`
      const r = await g.role(h).court!.exit().then(() => 'ok', (e: { code?: string }) => e.code ?? 'error')
      return `P${h} exits: ${r}`
    }
    case 'skewedClose':
      return skewedClose(g, b!, s.skew)
    case 'coopClose': {
      const h = g.honest[s.h % g.honest.length]!
      g.role(h).channel.close({ signal: AbortSignal.timeout(5_000) }).catch(() => undefined)
      return `P${h} asks for a cooperative close`
    }
  }
}

/** The `choice`-th adversary move that applies now, by `b` — or by its colluder once `b` is slashed or removed. */
async function pick(g: Game, b: Byzantine, choice: number, via: Via): Promise<Step> {
  const usable = (x: Byzantine) => hasBit(x.view.active, x.me) && !hasBit(x.view.slashed, x.me)
  const actor = usable(b) ? b : (b.colluders.find(usable) ?? b)
  const options = await choices(g, actor, g.byz.indexOf(actor), via === '7702', choice)
  return options[choice % options.length]!
}

/** The honest next actor (by the most advanced honest view) moves; or the byzantine one plays honestly. */
async function play(g: Game, share: number, to: number): Promise<string> {
  const views = g.activeHonest().map((i) => g.role(i).channel.state)
  const v = views.sort((a, b) => (a.fork !== b.fork ? Number(b.fork - a.fork) : Number(b.seq - a.seq)))[0]
  if (!v) return 'play: no honest participant left'
  const who = v.nextActor
  const byz = g.byz.find((x) => x.me === who)
  const ch = byz ? byz.channel : g.honest.includes(who) ? g.role(who).channel : undefined
  if (!ch || !ch.state.isMyTurn) return `play: ${byz ? 'M' : 'P'}${who} cannot move (head ${v.seq}, ${ch?.phase ?? 'inactive'})`
  const data = chooseMove(ch.state.state, who, share, to)
  const what = data === '0x' ? 'passes' : `pays ${share}/4 of its balance`
  try {
    if (byz) await byz.propose(data)
    else await g.role(who).court!.propose(data)
    return `${byz ? 'M' : 'P'}${who} ${what} at seq ${ch.state.seq}`
  } catch (e) {
    return `${byz ? 'M' : 'P'}${who} cannot move: ${(e as { code?: string }).code ?? (e as Error).message}`
  }
}

/** Two valid moves by `b` at head + 1 (or, out of turn, two invented ones). */
async function split(b: Byzantine, variant: number): Promise<[Forged, Forged]> {
  const x = await b.forge('split', variant)
  const y = await forgeSplit(await b.forgeContext(), b.head(), x)
  b.forged.push(y)
  return [x, y]
}

/** The candidate list a byzantine participant names for a timeout or an extension. */
async function candidate(b: Byzantine, kind: CandidateKind): Promise<Candidate | undefined> {
  const head = b.head()
  if (kind === 'head') return b.anchored(head.seq)
  if (kind === 'genesis') return b.anchored(0n)
  if (kind === 'stale') {
    const s = b.signedBelow(head.seq)
    return s === undefined ? b.anchored(0n) : b.anchored(s)
  }
  if (kind === 'onForged') {
    const found = b.forgedChain()
    if (!found) return undefined
    const top = found.chain.at(-1)!
    const on = { channelId: head.channelId, fork: head.fork, seq: top.transaction.seq, state: top.state, stateHash: top.transaction.stateHash, timestamp: top.transaction.timestamp, nextActor: b.me }
    const f = await b.forge('badHash', 0, on, top.transaction.timestamp)
    return { txs: [...found.base.txs, ...[...found.chain, f].map((x) => b.pack(x))], state: f.state, seq: f.transaction.seq }
  }
  if (kind === 'lastForged') {
    for (const f of [...b.forged].reverse()) {
      const parent = b.headAt(f.transaction.seq - 1n)
      if (!parent || parent.stateHash !== f.transaction.previousStateHash || f.transaction.fork !== head.fork) continue
      const base = b.anchored(parent.seq)
      if (base) return { txs: [...base.txs, b.pack(f, true)], state: f.state, seq: f.transaction.seq }
    }
    return undefined
  }
  if (kind === 'conflict') {
    const old = b.finalProof('old')
    const at = b.headAt(old.seq)!
    const f = await b.forge('badHash', 0, at, at.timestamp)
    const base = b.anchored(old.seq) ?? old
    return { txs: [...base.txs, b.pack(f)], state: f.state, seq: f.transaction.seq }
  }
  const base = b.anchored(head.seq) ?? b.anchored(0n)!
  // Stamped at the parent's time (as early as the rules allow): raisable soonest.
  const f = await b.forge(CAND_FORGE[kind]!, 0, head, kind === 'forged' ? head.timestamp : undefined)
  return { txs: [...base.txs, b.pack(f, kind === 'forged')], state: f.state, seq: f.transaction.seq }
}

/** A transaction later than `seq` signed by `who`: from our store, or forged by a colluder. */
async function laterSignedBy(g: Game, b: Byzantine, who: number, seq: bigint): Promise<{ transaction: Forged['transaction']; signature: Hex } | undefined> {
  for (const e of b.entries(seq + 1n, b.channel.state.seq)) {
    const sig = e.signatures.get(who)
    if (sig && e.transaction.actor === who) return { transaction: e.transaction, signature: sig }
  }
  const c = g.byz.find((x) => x.me === who)
  if (!c) return undefined
  const f = await c.forge('badHash', 0, c.head().seq > seq ? c.head() : { ...c.head(), seq })
  return { transaction: f.transaction, signature: f.signature }
}

/** A fraud proof by `b` against a colluder (or, hopelessly, an honest participant or itself). */
async function fraud(g: Game, b: Byzantine, s: Extract<Step, { kind: 'fraud' }>, call: Call): Promise<string> {
  const others = Array.from({ length: g.ctx.n }, (_, i) => i).filter((i) => i !== b.me)
  const target = others[s.target % others.length]!
  const culprit = g.byz.find((x) => x.me === target)
  const cp = b.finalProof(s.from)
  const r = b.record
  const state = r.kind === DisputeKind.Fraud && r.seq > cp.seq ? (b.candidateState ?? cp.state) : cp.state
  if (culprit && s.equivocation) {
    const [x, y] = await culprit.equivocation()
    return call('proveEquivocation', [r, culprit.pack(x), culprit.pack(y), cp.txs, state], s.via, `proves M${target} equivocated at seq ${x.transaction.seq}, checkpoint ${s.from} seq ${cp.seq}`)
  }
  if (culprit) {
    const f = await culprit.forge('badHash')
    const prev = culprit.head().state
    return call('proveInvalidTransition', [r, culprit.pack(f), prev, cp.txs, state], s.via, `proves M${target}'s invalid seq ${f.transaction.seq}, checkpoint ${s.from} seq ${cp.seq}`)
  }
  // An honest target: its latest move, claimed invalid (or "equivocated" with itself).
  for (const e of b.entries(1n, b.channel.state.seq).reverse()) {
    if (e.transaction.actor !== target) continue
    const packed = { transaction: e.transaction, signers: 1n << BigInt(target), signatures: e.signatures.get(target)! }
    if (s.equivocation) return call('proveEquivocation', [r, packed, packed, cp.txs, state], s.via, `claims P${target} equivocated at seq ${e.transaction.seq}`)
    const prev = b.headAt(e.transaction.seq - 1n)!.state
    return call('proveInvalidTransition', [r, packed, prev, cp.txs, state], s.via, `claims P${target}'s seq ${e.transaction.seq} is invalid`)
  }
  return `M${b.me} fraud: nothing of P${target} to accuse`
}
