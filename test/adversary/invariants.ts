/**
 * The three invariants of the safety theorem (docs/protocol.md §11.0), checked after every
 * adversary schedule, as pure functions of what was observed: an honest participant's trace of
 * states (its channel's `state`, `final` and `fork` events), what the chain credited and slashed,
 * and the channel's dispute events with their block times.
 *
 * 1. Credit: P's credits ≥ its entitlement + bond — and so is its own share alone (a bounty for
 *    a slashed participant must not hide a loss) — and P is never slashed. The entitlement is the lowest
 *    balance of P among its latest final state and every later state it accepted on that fork
 *    (a later state lowers P's share only through P's own signed move — Payments — which the
 *    rules make enforceable, so the literal "balance in the latest final state" is too strict);
 *    on a new fork the genesis must give P at least that much, and becomes the entitlement.
 * 2. Bound: every dispute lasts as §7.9 says (one conversion at most, joins keep the deadline),
 *    and the channel settles within {@link settleBound} of the moment P wants out.
 * 3. Solvency: the channel credits exactly Σ deposits + n·bond (the manager-wide check is
 *    test/helpers/solvency.ts).
 */
import { DisputeKind, type DisputeRecord } from '../../src/protocol/types.js'

/** One entry of an honest participant's trace, balances already decoded. */
export type TraceEvent =
  | { kind: 'state'; fork: bigint; seq: bigint; balance: bigint }
  | { kind: 'final'; fork: bigint; seq: bigint; balance: bigint }
  | { kind: 'fork'; fork: bigint; balance: bigint }

/** What the entitlement computation found. */
export interface Entitlement {
  /** The lower bound on P's share at the end of the trace. */
  amount: bigint
  /** P's balance in its latest final state (or the latest fork's genesis): the literal reading. */
  strict: bigint
  violations: string[]
}

/**
 * P's entitlement after `events`, starting from its deposit in the fork-0 genesis.
 * @example entitlement(1n, [{ kind: 'final', fork: 0n, seq: 2n, balance: 3n }]).amount // 3n
 */
export function entitlement(genesis: bigint, events: readonly TraceEvent[]): Entitlement {
  let fork = 0n
  let finalSeq = 0n
  let final = genesis
  const later = new Map<bigint, bigint>()
  const violations: string[] = []
  const floor = () => [...later.values()].reduce((m, b) => (b < m ? b : m), final)
  for (const e of events) {
    if (e.fork < fork) continue
    if (e.kind === 'fork') {
      if (e.fork === fork) continue
      const before = floor()
      if (e.balance < before) violations.push(`fork ${e.fork} starts from a genesis giving ${e.balance}, below the entitlement ${before}`)
      fork = e.fork
      finalSeq = 0n
      final = e.balance
      later.clear()
      continue
    }
    if (e.fork > fork) continue // a state of a fork whose genesis we have not seen: not ours yet
    if (e.kind === 'state') {
      if (e.seq > finalSeq) later.set(e.seq, e.balance)
    } else if (e.seq >= finalSeq) {
      finalSeq = e.seq
      final = e.balance
      for (const s of [...later.keys()]) if (s <= finalSeq) later.delete(s)
    }
  }
  return { amount: floor(), strict: final, violations }
}

/** What the credit check needs about one honest participant. */
export interface CreditInput {
  index: number
  deposit: bigint
  bond: bigint
  trace: readonly TraceEvent[]
  /** Σ of this channel's Credited events to P's account (own share and bounties). */
  credited: bigint
  /** What the channel paid for P's own share and bond (bounties for slashed participants excluded). */
  own?: bigint
  slashed: boolean
}

/** Invariant 1 for one honest participant: violations (empty when it holds) and notes. */
export function checkCredit(p: CreditInput): { violations: string[]; notes: string[] } {
  const e = entitlement(p.deposit, p.trace)
  const violations = e.violations.map((v) => `P${p.index}: ${v}`)
  if (p.slashed) violations.push(`P${p.index} was slashed`)
  if (p.credited < e.amount + p.bond) violations.push(`P${p.index} credited ${p.credited} < entitlement ${e.amount} + bond ${p.bond}`)
  else if (p.own !== undefined && p.own < e.amount + p.bond) violations.push(`P${p.index}'s own share ${p.own} < entitlement ${e.amount} + bond ${p.bond} (bounties made up for it)`)
  const notes = p.credited < e.strict + p.bond && p.credited >= e.amount + p.bond
    ? [`P${p.index} credited ${p.credited} < latest final ${e.strict} + bond: its own unconfirmed payments were enforced`]
    : []
  return { violations, notes }
}

/** A dispute event of the channel with the time of its block. */
export type DisputeLogEntry =
  | { name: 'DisputeRaised' | 'DisputeAnswered'; time: bigint; record: DisputeRecord }
  | { name: 'DisputeCancelled' | 'DisputeResolved'; time: bigint }

/** The time parameters the bounds need. */
export interface BoundParams {
  challengeTime: number
  /** p2pTime + agreementTime + chainFallbackTime. */
  postingWindow: number
}

/** Longest first deadline of a dispute of `kind`, from its raise (§7.9). */
export function baseDuration(kind: DisputeKind, p: BoundParams): bigint {
  const C = BigInt(p.challengeTime)
  switch (kind) {
    case DisputeKind.Timeout:
      return C + BigInt(p.postingWindow)
    case DisputeKind.Exit:
    case DisputeKind.ForceClose:
      return 2n * C
    default:
      return C
  }
}

/** Summary of one dispute (from its raise to its cancellation, resolution or replacement). */
export interface Episode {
  /** The kind it was raised as. */
  kind: DisputeKind
  /** Its kind now (Fraud after a conversion). */
  current: DisputeKind
  raised: bigint
  /** The deadline it was raised with. */
  first: bigint
  deadline: bigint
  restarts: number
  end?: { how: 'cancelled' | 'resolved' | 'replaced'; time: bigint }
}

/**
 * Splits the dispute events into episodes and checks each against §7.9: the first deadline is
 * the kind's (timeout C or C + W, exit/force-close 2C, fraud and conclude C); the deadline moves
 * only on a conversion into Fraud, to that moment + C, at most once (so never past the first
 * deadline + C); resolution only after it. An exit or force-close replacing a timeout ends the
 * timeout's episode and starts its own.
 * @example checkDisputes([{ name: 'DisputeRaised', time: 10n, record }], { challengeTime: 300, postingWindow: 210 }).violations
 */
export function checkDisputes(log: readonly DisputeLogEntry[], p: BoundParams): { episodes: Episode[]; violations: string[] } {
  const C = BigInt(p.challengeTime)
  const W = BigInt(p.postingWindow)
  const episodes: Episode[] = []
  const violations: string[] = []
  let open: Episode | undefined
  const start = (kind: DisputeKind, time: bigint, deadline: bigint) => {
    open = { kind, current: kind, raised: time, first: deadline, deadline, restarts: 0 }
    episodes.push(open)
    const d = deadline - time
    const allowed = kind === DisputeKind.Timeout ? [C, C + W] : [baseDuration(kind, p)]
    if (!allowed.includes(d)) violations.push(`${DisputeKind[kind]} raised at ${time} with deadline +${d} (allowed: ${allowed.map((a) => `+${a}`).join(' or ')})`)
  }
  for (const e of log) {
    if (!('record' in e)) {
      if (!open) {
        violations.push(`${e.name} at ${e.time} with no dispute open`)
        continue
      }
      if (e.name === 'DisputeResolved' && e.time <= open.deadline) violations.push(`resolved at ${e.time}, not after the deadline ${open.deadline}`)
      if (e.name === 'DisputeCancelled' && open.current !== DisputeKind.Timeout) violations.push(`a ${DisputeKind[open.current]} dispute was cancelled at ${e.time}`)
      open.end = { how: e.name === 'DisputeCancelled' ? 'cancelled' : 'resolved', time: e.time }
      open = undefined
      continue
    }
    const r = e.record
    if (!open) {
      if (e.name === 'DisputeAnswered') violations.push(`DisputeAnswered at ${e.time} with no dispute open`)
      start(r.kind, e.time, r.deadline)
      continue
    }
    if (e.name === 'DisputeRaised' && r.kind !== DisputeKind.Fraud) {
      if (open.current !== DisputeKind.Timeout || (r.kind !== DisputeKind.Exit && r.kind !== DisputeKind.ForceClose)) {
        violations.push(`${DisputeKind[r.kind]} raised at ${e.time} while a ${DisputeKind[open.current]} was open`)
      }
      open.end = { how: 'replaced', time: e.time }
      start(r.kind, e.time, r.deadline)
      continue
    }
    if (r.deadline !== open.deadline) {
      open.restarts++
      if (r.kind !== DisputeKind.Fraud || open.current === DisputeKind.Fraud || r.deadline !== e.time + C) {
        violations.push(`${e.name} at ${e.time} moved the ${DisputeKind[open.current]} deadline ${open.deadline} to ${r.deadline} (${DisputeKind[r.kind]}; only a conversion into Fraud may, to +${C})`)
      }
      if (open.restarts > 1) violations.push(`the ${DisputeKind[open.kind]} raised at ${open.raised} restarted its deadline ${open.restarts} times`)
      open.deadline = r.deadline
    }
    open.current = r.kind
  }
  for (const ep of episodes) {
    if (ep.deadline > ep.first + C) violations.push(`a ${DisputeKind[ep.kind]} raised at ${ep.raised} ran to ${ep.deadline}, past its first deadline + C (${ep.first + C})`)
  }
  return { episodes, violations }
}

/**
 * How long after P wants out (asks for a force-close) the channel must be settled, by
 * docs/protocol.md §11.0: `3(n − 1)·C`, plus `2n` transactions to get included, each allowed
 * `inclusion` seconds of chain time.
 * @example settleBound({ challengeTime: 300, postingWindow: 210 }, 3) // 1800n + 6n * 15n
 */
export function settleBound(p: BoundParams, n: number, inclusion = 15): bigint {
  return 3n * BigInt(n - 1) * BigInt(p.challengeTime) + 2n * BigInt(n) * BigInt(inclusion)
}

/** What the settlement checks need about the channel. */
export interface SettlementInput {
  n: number
  deposits: readonly bigint[]
  bond: bigint
  /** Σ of every Credited event of the channel. */
  credited: bigint
  /** Block time of ChannelClosed, if the channel closed. */
  closedAt?: bigint
  /** When honest play stopped (the end of the schedule). */
  end: bigint
  /** Block time of the first DisputeRaised, if any. */
  firstDispute?: bigint
  /** When an honest participant first asked for a force-close during the schedule, if it did. */
  wantedOut?: bigint
  params: BoundParams
}

/** Invariants 2 (bound) and 3 (the channel's credits) at the end of a run. */
export function checkSettlement(s: SettlementInput): string[] {
  const out: string[] = []
  const bound = settleBound(s.params, s.n)
  if (s.closedAt === undefined) return [`the channel is not closed`]
  const from = s.firstDispute !== undefined && s.firstDispute > s.end ? s.firstDispute : s.end
  if (s.closedAt - from > bound) out.push(`settled ${s.closedAt - from} s after the end of the schedule (bound ${bound})`)
  if (s.wantedOut !== undefined && s.closedAt - s.wantedOut > bound) {
    out.push(`settled ${s.closedAt - s.wantedOut} s after an honest force-close request (bound ${bound})`)
  }
  const owed = s.deposits.reduce((a, b) => a + b, 0n) + BigInt(s.n) * s.bond
  if (s.credited !== owed) out.push(`the channel credited ${s.credited}, not Σ deposits + n·bond = ${owed}`)
  return out
}
