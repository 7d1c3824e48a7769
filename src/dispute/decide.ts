/**
 * The dispute handler's functional core: from what the chain says and what we hold, the
 * actions an honest client takes now (docs/protocol.md §6.6, §7). Pure: no I/O, no clock of
 * its own; the same view always yields the same actions, each with a stable key so the shell
 * never performs one twice.
 *
 * Order of precedence: fraud proofs (they take precedence on-chain too), then the open dispute
 * (convict a lying disputer, answer or extend with a later state, respond to a timeout, resolve
 * after the deadline), then duties on an open channel (submit a close everyone signed, post our
 * unconfirmed moves, time out a silent next actor, conclude a terminal state others will not
 * confirm), then withdrawals.
 */
import { bitIndices, hasBit } from '../protocol/bitmap.js'
import { accusedOf } from '../protocol/disputes.js'
import { confirmationDeadline, latestTimestamp, postingDeadline } from '../protocol/timing.js'
import { DisputeKind, type DisputeRecord, type Hex, type PackedSignedTransaction } from '../protocol/types.js'
import { packSignatures } from '../protocol/signatures.js'
import { ChannelPhase } from '../channel/phase.js'
import type { AuthoredTransaction, Evidence } from '../state/evidence.js'
import type { Action, DisputeView, PendingEvidence } from './types.js'

/**
 * The actions to take now, in order, minus those already done, and minus those whose
 * transactions the chain would still find stamped in its future (they wait for a later block).
 * @example for (const a of decide(view)) await perform(a)
 */
export function decide(view: DisputeView): Action[] {
  const out = [...fraudProofs(view), ...leaving(view), ...disputeDuties(view), ...openDuties(view), ...withdrawals(view)]
  const latest = latestTimestamp(view.chain.now, view.channel.agreementTime)
  return out.filter((a) => !view.done.has(a.key) && stamps(a).every((t) => t <= latest))
}

/** Whether we may act in the court: active and not slashed on the chain's current fork. */
function canAct(v: DisputeView): boolean {
  const { chain, local } = v
  return hasBit(chain.active, local.me) && !hasBit(chain.slashed, local.me) && chain.phase !== 'closed'
}

/** Our ledger is on the chain's fork (a StateSet we have not applied yet would make it stale). */
function sameFork(v: DisputeView): boolean {
  return v.local.fork === v.chain.fork
}

/** Our latest final state as a checkpoint: its finality proof (empty = the fork genesis) and bytes. */
function checkpoint(v: DisputeView): { checkpoint: PackedSignedTransaction[]; seq: bigint; state: Hex } {
  const { local, chain } = v
  return local.finalProof.length > 0
    ? { checkpoint: local.finalProof, seq: local.final.seq, state: local.finalState }
    : { checkpoint: [], seq: 0n, state: chain.genesis.state }
}

function fraudProofs(v: DisputeView): Action[] {
  if (!canAct(v) || !sameFork(v)) return []
  const d = v.chain.dispute
  const record = d?.record
  const cp = checkpoint(v)
  // Joining an open fraud dispute keeps its candidate when it is later than our checkpoint.
  const state = record?.kind === DisputeKind.Fraud && record.seq > cp.seq && d?.state !== undefined ? d.state : cp.state
  const out: Action[] = []
  for (const p of v.evidence) {
    const culprit = p.evidence.culprit
    if (p.fork !== v.chain.fork || culprit === v.local.me || !hasBit(v.chain.active, culprit) || hasBit(v.chain.slashed, culprit)) continue
    out.push(proof(p, cp.checkpoint, state, record === undefined ? {} : { record }, v.chain.fork))
  }
  return out
}

/** A signed transaction packed with every signature we saw on it (the author's at least). */
function pack(signed: AuthoredTransaction, all: ReadonlyMap<number, Hex> | undefined): PackedSignedTransaction {
  const sigs = new Map(all ?? [])
  sigs.set(signed.transaction.actor, signed.signature)
  return { transaction: signed.transaction, ...packSignatures(sigs) }
}

/**
 * A fraud proof of `p`. Its key names the dispute it is built against too: when the open dispute
 * changes before the proof is mined (another extension, answer or proof), the proof reverts
 * with DisputeRecordMismatch — and is built again, against the new record, on a later tick.
 */
function proof(p: PendingEvidence, checkpoint: PackedSignedTransaction[], state: Hex, r: { record?: DisputeRecord }, fork: bigint): Action {
  const e: Evidence = p.evidence
  const against = r.record ? `${fork}:${r.record.kind}:${r.record.seq}:${r.record.deadline}:${r.record.removals}:${r.record.stateHash}` : `open:${fork}`
  const key = `fraud:${p.key}@${against}`
  if (e.kind === 'InvalidTransition') {
    return {
      kind: 'proveInvalidTransition', key, evidence: p.key, why: `participant ${e.culprit} signed an invalid transition (${e.reason})`,
      fraud: pack(e.signed, e.signatures), previousState: e.previousState, checkpoint, state, culprit: e.culprit, ...r,
    }
  }
  return {
    kind: 'proveEquivocation', key, evidence: p.key, why: `participant ${e.culprit} signed two transactions at seq ${e.a.transaction.seq}`,
    first: pack(e.a, e.aSignatures), second: pack(e.b, e.bSignatures), checkpoint, state, culprit: e.culprit, ...r,
  }
}

/**
 * The exit or force-close we asked for, as the chain lets us raise it now, before `decide`'s
 * filters: undefined when the chain does not (another dispute open, closed, we are out); when
 * `decide` still leaves it out, it was done (or refused) already, or its final state is stamped
 * in the chain's future and waits for a later block.
 * @example const wanted = exitWanted(view); if (wanted && !decide(view).includes(wanted)) …
 */
export function exitWanted(view: DisputeView): Extract<Action, { kind: 'exit' }> | undefined {
  return leaving(view)[0]
}

/** Whether the chain, at its latest block, still finds one of the action's transactions stamped in its future. */
export function stampedAhead(view: DisputeView, a: Action): boolean {
  const latest = latestTimestamp(view.chain.now, view.channel.agreementTime)
  return stamps(a).some((t) => t > latest)
}

/**
 * We asked to leave: an exit or force-close from our latest final state whenever the chain lets
 * us raise one — the channel open, or a timeout open (which it replaces) — on every fork until
 * we are out or the channel settled. Each resolution of someone else's dispute starts a fork or
 * settles, so this is what keeps docs/protocol.md §11.0's bound without the application asking
 * again.
 */
function leaving(v: DisputeView): Extract<Action, { kind: 'exit' }>[] {
  const { chain } = v
  if (!v.leaving || !canAct(v) || !sameFork(v)) return []
  const r = chain.dispute?.record
  const overTimeout = chain.phase === 'disputed' && r?.kind === DisputeKind.Timeout && chain.now <= r.deadline
  if (chain.phase !== 'open' && !overTimeout) return []
  const { leave } = v.leaving
  const cp = checkpoint(v)
  const tag = overTimeout ? `${r!.seq}:${r!.deadline}` : `open:${chain.latestSeq}`
  return [{
    kind: 'exit', key: `exit:${chain.fork}:${leave ? 'leave' : 'close'}:${tag}`, why: `we asked to ${leave ? 'leave' : 'force-close'} from our final state ${cp.seq}`,
    leave, proof: cp.checkpoint, state: cp.state, ...(overTimeout ? { record: r } : {}),
  }]
}

function disputeDuties(v: DisputeView): Action[] {
  const { chain, local, channel } = v
  const d = chain.dispute
  if (chain.phase !== 'disputed' || !d) return []
  const r = d.record
  const tag = `${chain.fork}:${r.kind}:${r.seq}:${r.deadline}`
  if (chain.now > r.deadline) {
    // Anyone may resolve; a removed participant too (it is paid by then, but it helps).
    const state = d.state ?? local.candidateState
    if (state === undefined || !sameFork(v) || chain.now <= r.deadline + delay(v, 0n)) return []
    return [{ kind: 'resolve', key: `resolve:${tag}`, why: `the ${DisputeKind[r.kind]} dispute's deadline ${r.deadline} passed`, record: r, state }]
  }
  if (!canAct(v) || !sameFork(v)) return []
  const later = local.final.seq > r.seq && local.finalProof.length > 0
  const answer: Action | undefined = later
    ? { kind: 'answer', key: `answer:${tag}:${local.final.seq}`, why: `our final state ${local.final.seq} is later than the candidate ${r.seq}`, record: r, proof: local.finalProof, state: local.finalState }
    : undefined
  if (r.kind === DisputeKind.Exit || r.kind === DisputeKind.ForceClose) {
    // During the answer window, our head (final or not) is the furthest state we can defend.
    const x = local.extension
    if (x && x.seq > r.seq && chain.now <= r.deadline - BigInt(channel.challengeTime)) {
      return [{ kind: 'extend', key: `extend:${tag}:${x.seq}`, why: `our state ${x.seq} is later than the candidate ${r.seq}`, record: r, txs: x.txs, state: x.state }]
    }
    return answer ? [answer] : []
  }
  if (r.kind === DisputeKind.Fraud) return answer ? [answer] : []
  // Timeout or conclude: the disputer claimed the candidate as the latest it signed.
  if (r.disputer === local.me) return []
  // A later final state carries the disputer's signature after the one it claimed as its latest.
  if (answer) return [answer]
  if (local.disputerLater) {
    const t = local.disputerLater
    const cp = checkpoint(v)
    return [{
      kind: 'refute', key: `refute:${tag}`, why: `the disputer ${r.disputer} signed seq ${t.transaction.seq}, later than its candidate ${r.seq}`,
      record: r, ...t, checkpoint: cp.checkpoint, state: cp.state,
    }]
  }
  if (r.kind !== DisputeKind.Timeout) return []
  const accused = accusedOf(r)
  if (local.move) {
    const raisedAt = d.raisedAt ?? r.deadline - BigInt(channel.challengeTime)
    const relayAt = raisedAt + BigInt(v.policy.relayAfter ?? Math.floor(channel.challengeTime / 2))
    if (accused !== local.me && chain.now < relayAt) return []
    const whose = accused === local.me ? 'our' : `participant ${accused}'s`
    return [{ kind: 'respond', key: `respond:${tag}`, why: `${whose} move at seq ${r.seq + 1n} answers the timeout`, record: r, ...local.move }]
  }
  if (accused === local.me && local.canMove) {
    return [{ kind: 'moveNeeded', key: `move:${tag}`, why: `a timeout accuses us at seq ${r.seq}: it is our turn`, record: r, seq: r.seq + 1n }]
  }
  return []
}

function openDuties(v: DisputeView): Action[] {
  const { chain, local, channel, policy } = v
  if (chain.phase !== 'open' || !canAct(v) || !sameFork(v) || local.phase === ChannelPhase.Closed || local.phase === ChannelPhase.Unopened) return []
  const close = signedClose(v)
  if (close) return [close]
  const out: Action[] = []
  if (policy.post) {
    for (const own of local.own) {
      const t = own.signed.transaction
      if ((own.supporters & chain.active) === chain.active || chain.posted.includes(own.digest)) continue
      if (local.clock <= confirmationDeadline(own.parentTimestamp, channel)) continue
      const missing = bitIndices(chain.active & ~own.supporters)
      out.push({ kind: 'post', key: `post:${chain.fork}:${t.seq}`, why: `participants ${missing.join(', ')} did not confirm our seq ${t.seq} in time`, ...own.signed })
    }
  }
  const a = local.timeout
  if (!policy.timeout || !a || local.phase !== ChannelPhase.Open || a.seq !== local.head.seq || a.seq < chain.latestSeq) return out
  if (a.terminal === true) {
    // Nothing can follow a terminal state. Once its confirmation window passed without a close:
    // final → conclude with its proof; not final (someone withholds its signature) → a Conclude
    // dispute settles from it unless someone proves it stale or invalid.
    if (chain.now <= confirmationDeadline(a.timestamp, channel) + delay(v, 0n)) return out
    if (local.final.seq === a.seq && a.seq > 0n && local.finalProof.length > 0) {
      out.push({ kind: 'conclude', key: `conclude:${chain.fork}:${a.seq}`, why: `our final state ${a.seq} is terminal`, proof: local.finalProof, state: a.state })
    } else if (local.final.seq < a.seq) {
      out.push({ kind: 'concludeDispute', key: `concludeDispute:${chain.fork}:${a.seq}`, why: `our terminal state ${a.seq} is not confirmed by everyone`, txs: a.txs, state: a.state })
    }
    return out
  }
  if (a.terminal === false && a.accused >= 0 && a.accused !== local.me && hasBit(chain.active, a.accused) &&
    chain.now > postingDeadline(a.timestamp, channel) + delay(v, 1n << BigInt(a.accused))) {
    out.push({
      kind: 'timeout', key: `timeout:${chain.fork}:${a.seq}`, why: `participant ${a.accused} did not move after seq ${a.seq} by ${postingDeadline(a.timestamp, channel)}`,
      txs: a.txs, state: a.state, accused: a.accused,
    })
  }
  return out
}

/**
 * A close every active participant signed, still not mined: whoever called close() sent it at
 * once; every court sends it too once the close's messages had `p2pTime` to arrive, staggered by
 * rank — so its initiator going down (or a lost transaction) does not leave the channel closing
 * forever. The key names the chain's latest move: a close that lost to a timeout later cancelled
 * is sent again.
 */
function signedClose(v: DisputeView): Action | undefined {
  const { chain, local, channel } = v
  const c = local.close
  if (!c || c.fork !== chain.fork || c.submitting || bitIndices(chain.active).some((i) => !c.signatures.has(i))) return undefined
  if (chain.now <= c.readyAt + BigInt(channel.p2pTime) + delay(v, 0n)) return undefined
  return { kind: 'close', key: `close:${chain.fork}:${c.stateHash}:${chain.latestSeq}`, why: `every participant signed the close on ${c.stateHash} and it is not mined`, state: c.state, payouts: c.payouts, signatures: c.signatures }
}

/** Our wait in a race of honest clients: our rank among the active, unslashed participants (minus `skip`) times the stagger. */
function delay(v: DisputeView, skip: bigint): bigint {
  const stagger = BigInt(v.policy.stagger ?? 0)
  if (stagger === 0n) return 0n
  const rank = bitIndices(v.chain.active & ~v.chain.slashed & ~skip).indexOf(v.local.me)
  return rank < 0 ? 0n : BigInt(rank) * stagger
}

function withdrawals(v: DisputeView): Action[] {
  if (!v.policy.autoWithdraw) return []
  return v.chain.credits.map((c) => ({ kind: 'withdraw', key: `withdraw:${c.key}`, why: `the channel credited us ${c.amount}`, asset: c.asset, amount: c.amount }))
}

/** Timestamps of the transactions an action submits: the chain refuses any beyond its time plus the skew. */
function stamps(a: Action): bigint[] {
  const list = (l: readonly PackedSignedTransaction[]) => l.map((p) => p.transaction.timestamp)
  switch (a.kind) {
    case 'post':
    case 'respond':
      return [a.transaction.timestamp]
    case 'timeout':
    case 'concludeDispute':
    case 'extend':
      return list(a.txs)
    case 'conclude':
      return list(a.proof)
    case 'answer':
      return list(a.proof)
    case 'exit':
      return list(a.proof)
    case 'refute':
      return [a.transaction.timestamp, ...list(a.checkpoint)]
    case 'proveInvalidTransition':
      return [a.fraud.transaction.timestamp, ...list(a.checkpoint)]
    case 'proveEquivocation':
      return [a.first.transaction.timestamp, a.second.transaction.timestamp, ...list(a.checkpoint)]
    default:
      return []
  }
}
