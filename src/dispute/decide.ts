/**
 * The dispute handler's functional core: from what the chain says and what we hold, the
 * actions an honest client takes now (docs/protocol.md §6.6, §7). Pure: no I/O, no clock of
 * its own; the same view always yields the same actions, each with a stable key so the shell
 * never performs one twice.
 *
 * Order of precedence: fraud proofs (they take precedence on-chain too), then the open dispute
 * (convict a lying disputer, answer with a later final state, respond to a timeout, resolve
 * after the deadline), then duties on an open channel (post our unconfirmed moves, time out a
 * silent next actor), then withdrawals.
 */
import { bitIndices, hasBit } from '../protocol/bitmap.js'
import { accusedOf } from '../protocol/disputes.js'
import { confirmationDeadline, postingDeadline } from '../protocol/timing.js'
import { DisputeKind, type DisputeRecord, type Hex, type PackedSignedTransaction, type Transaction } from '../protocol/types.js'
import { ChannelPhase } from '../channel/phase.js'
import type { Evidence } from '../state/evidence.js'
import type { Action, DisputeView, PendingEvidence } from './types.js'

/**
 * The actions to take now, in order, minus those already done.
 * @example for (const a of decide(view)) await perform(a)
 */
export function decide(view: DisputeView): Action[] {
  const out = [...fraudProofs(view), ...disputeDuties(view), ...openDuties(view), ...withdrawals(view)]
  return out.filter((a) => !view.done.has(a.key))
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

function fraudProofs(v: DisputeView): Action[] {
  if (!canAct(v) || !sameFork(v)) return []
  const record = v.chain.dispute?.record
  const out: Action[] = []
  for (const p of v.evidence) {
    const culprit = p.evidence.culprit
    if (p.fork !== v.chain.fork || culprit === v.local.me || !hasBit(v.chain.active, culprit) || hasBit(v.chain.slashed, culprit)) continue
    out.push(proof(p, v.local.finalProof, record === undefined ? {} : { record }))
  }
  return out
}

function packOne(signed: { transaction: Transaction; signature: Hex }, signer: number): PackedSignedTransaction {
  return { transaction: signed.transaction, signers: 1n << BigInt(signer), signatures: signed.signature }
}

function proof(p: PendingEvidence, checkpoint: PackedSignedTransaction[], r: { record?: DisputeRecord }): Action {
  const e: Evidence = p.evidence
  if (e.kind === 'InvalidTransition') {
    return {
      kind: 'proveInvalidTransition', key: `fraud:${p.key}`, why: `participant ${e.culprit} signed an invalid transition (${e.reason})`,
      fraud: packOne(e.signed, e.culprit), previousState: e.previousState, checkpoint, culprit: e.culprit, ...r,
    }
  }
  return {
    kind: 'proveEquivocation', key: `fraud:${p.key}`, why: `participant ${e.culprit} signed two transactions at seq ${e.a.transaction.seq}`,
    first: packOne(e.a, e.culprit), second: packOne(e.b, e.culprit), checkpoint, culprit: e.culprit, ...r,
  }
}

function disputeDuties(v: DisputeView): Action[] {
  const { chain, local, channel } = v
  const d = chain.dispute
  if (chain.phase !== 'disputed' || !d) return []
  const r = d.record
  const tag = `${chain.fork}:${r.kind}:${r.seq}:${r.deadline}`
  if (chain.now > r.deadline) {
    // Anyone may resolve; a removed participant too (it is paid by then, but it helps).
    if (local.candidateState === undefined || !sameFork(v) || chain.now <= r.deadline + delay(v, 0n)) return []
    return [{ kind: 'resolve', key: `resolve:${tag}`, why: `the ${DisputeKind[r.kind]} dispute's deadline ${r.deadline} passed`, record: r, state: local.candidateState }]
  }
  if (!canAct(v) || !sameFork(v)) return []
  const later = local.final.seq > r.seq && local.finalProof.length > 0
  const answer: Action | undefined = later
    ? { kind: 'answer', key: `answer:${tag}:${local.final.seq}`, why: `our final state ${local.final.seq} is later than the candidate ${r.seq}`, record: r, proof: local.finalProof }
    : undefined
  if (r.kind !== DisputeKind.Timeout) return answer ? [answer] : []
  if (r.disputer === local.me) return []
  // A later final state carries the disputer's signature after the one it claimed as its latest.
  if (answer) return [answer]
  if (local.disputerLater) {
    const t = local.disputerLater
    return [{ kind: 'refute', key: `refute:${tag}`, why: `the disputer ${r.disputer} signed seq ${t.transaction.seq}, later than its candidate ${r.seq}`, record: r, ...t }]
  }
  const accused = accusedOf(r)
  if (local.move) {
    const raisedAt = r.deadline - BigInt(channel.challengeTime)
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
  if (chain.phase !== 'open' || !canAct(v) || !sameFork(v) || local.phase === ChannelPhase.Closed) return []
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
  if (policy.timeout && a && local.phase === ChannelPhase.Open && a.seq === local.head.seq && a.seq >= chain.latestSeq && !a.terminal &&
    a.accused !== local.me && hasBit(chain.active, a.accused) && chain.now > postingDeadline(a.timestamp, channel) + delay(v, 1n << BigInt(a.accused))) {
    out.push({
      kind: 'timeout', key: `timeout:${chain.fork}:${a.seq}`, why: `participant ${a.accused} did not move after seq ${a.seq} by ${postingDeadline(a.timestamp, channel)}`,
      txs: a.txs, state: a.state, accused: a.accused,
    })
  }
  return out
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
