/**
 * Pure rules of the on-chain court, mirroring contracts/manager/{ADisputes,AFraud,
 * ADisputeManager}.sol and AChannels._settle: timeout deadlines, the dispute record hash,
 * the resolution choice, and who is credited what at removal and at settlement.
 * No I/O; the contract tests and the client's dispute handler both use these.
 */
import { AbiCoder, keccak256 } from 'ethers'
import { UsageError } from '../errors/ParleyError.js'
import { bitCount, bitIndices, hasBit } from './bitmap.js'
import { postingDeadline } from './timing.js'
import { DisputeKind, type ChannelParams, type DisputeRecord, type Hex, type Transaction } from './types.js'

/** The time parameters a deadline depends on. */
export type TimeParams = Pick<ChannelParams, 'p2pTime' | 'agreementTime' | 'chainFallbackTime'>

/**
 * The accused's posting deadline after a state with timestamp `T`: it must have broadcast,
 * gathered confirmations or posted its move by `T + p2pTime + agreementTime + chainFallbackTime`
 * (chain seconds). A timeout dispute is accepted only strictly after it.
 *
 * @example
 * timeoutDeadline(1_000n, { p2pTime: 60, agreementTime: 30, chainFallbackTime: 120 }) === 1_210n
 */
export function timeoutDeadline(T: bigint, params: TimeParams): bigint {
  return postingDeadline(T, params)
}

/**
 * Whether a timeout against the next actor of a state with timestamp `T` may be raised in a
 * block with timestamp `now` (the contract reverts `DisputeTooEarly` otherwise).
 *
 * @example canRaiseTimeout(1_211n, 1_000n, params) // true when the deadline is 1_210
 */
export function canRaiseTimeout(now: bigint, T: bigint, params: TimeParams): boolean {
  return now > timeoutDeadline(T, params)
}

/**
 * The deadline of a dispute raised (or a fraud dispute restarted) at block time `now`.
 *
 * @example challengeDeadline(BigInt(block.timestamp), params.challengeTime) // record.deadline
 */
export function challengeDeadline(now: bigint, challengeTime: number): bigint {
  return now + BigInt(challengeTime)
}

const COMMITMENT_TYPES = ['bytes32', 'tuple(uint8,uint16,uint64,uint64,uint64,uint64,bytes32)'] as const

/**
 * A commitment to a dispute record with a member list,
 * keccak256(abi.encode(keccak256(abi.encodePacked(participants)), record)): two (list, record)
 * pairs are the same exactly when their commitments are. (The manager itself commits to the
 * dispute record together with the channel record: `channelWordOf` in src/chain/records.ts.)
 *
 * @example const same = disputeCommitment(participants, mine) === disputeCommitment(participants, theirs)
 */
export function disputeCommitment(participants: readonly Hex[], r: DisputeRecord): Hex {
  const coder = AbiCoder.defaultAbiCoder()
  const participantsHash = keccak256(coder.encode(participants.map(() => 'address'), participants))
  return keccak256(
    coder.encode(COMMITMENT_TYPES, [
      participantsHash, [r.kind, r.disputer, r.seq, r.timestamp, r.deadline, r.removals, r.stateHash],
    ]),
  ) as Hex
}

/**
 * The accused of a timeout record (its `removals` holds exactly that participant); throws on
 * another kind.
 *
 * @example if (accusedOf(record) === me) await respond(record, myMove)
 */
export function accusedOf(r: DisputeRecord): number {
  if (r.kind !== DisputeKind.Timeout || bitCount(r.removals) !== 1) {
    throw new UsageError('DISPUTE_NOT_TIMEOUT', `record of kind ${DisputeKind[r.kind]} has no accused`)
  }
  return bitIndices(r.removals)[0]!
}

/**
 * What `respond` sends of the accused's move: its timestamp, data and state hash. The contract
 * takes every other field from the dispute ({@link responseTransaction}), so a move signed with
 * another channel, fork, height, author or previous state fails the signature check.
 *
 * @example await manager.contract.respond(id, record, members, me, dispute, ...responseArgs(move), signature)
 */
export function responseArgs(move: Transaction): [timestamp: bigint, data: Hex, stateHash: Hex] {
  return [move.timestamp, move.data, move.stateHash]
}

/**
 * The transaction the contract checks and publishes (DisputeCancelled) for a response to the
 * timeout `r` on fork `fork` of `channelId`: `move`'s timestamp, data and state hash, at seq
 * `r.seq + 1`, by the accused (the highest bit of `r.removals`, as `Bitmap.index`: a timeout's
 * only one), on the candidate state `r.stateHash`.
 *
 * @example const t = responseTransaction(channelId, fork, dispute, move) // what the accused must have signed
 */
export function responseTransaction(channelId: Hex, fork: bigint, r: DisputeRecord, move: Transaction): Transaction {
  const actor = bitIndices(r.removals).at(-1) ?? 0
  return { channelId, fork, seq: r.seq + 1n, timestamp: move.timestamp, actor, previousStateHash: r.stateHash, data: move.data, stateHash: move.stateHash }
}

/** What the machine says about a new fork's genesis (after every `onRemove`). */
export interface GenesisFacts {
  /** isTerminal(genesis); `undefined` if the call failed. */
  terminal: boolean | undefined
  /** nextActor(genesis); `undefined` if the call failed. */
  nextActor: number | undefined
}

/**
 * Whether a resolving (non force-close) dispute settles the channel instead of starting a new
 * fork: fewer than two participants remain, the genesis is terminal, or its next actor is not
 * active. A machine error counts as "settle", so no machine can keep a channel stuck.
 *
 * @example mustSettle(0b011n, { terminal: false, nextActor: 2 }) === true // actor 2 was removed
 */
export function mustSettle(active: bigint, facts: GenesisFacts): boolean {
  if (bitCount(active) < 2) return true
  if (facts.terminal !== false) return true
  return facts.nextActor === undefined || !hasBit(active, facts.nextActor)
}

/** Channel funds as settlement sees them. */
export interface SettlementInput {
  /** machine.outcome(state), one entry per participant. */
  outcome: readonly bigint[]
  /** Locked deposits not yet paid out. */
  locked: bigint
  bond: bigint
  /** Active participants after the dispute's removals. */
  active: bigint
  /** Participants whose share is still owed: the active ones plus those removed right now. */
  unpaid: bigint
  slashed: bigint
  /** Beneficiary index of each slashed participant. */
  beneficiary: ReadonlyMap<number, number>
}

/** Per recipient index: the amount credited. */
export type Credits = Map<number, bigint>

function add(credits: Credits, to: number, amount: bigint): void {
  if (amount > 0n) credits.set(to, (credits.get(to) ?? 0n) + amount)
}

function payee(i: number, s: Pick<SettlementInput, 'slashed' | 'beneficiary'>): number {
  if (!hasBit(s.slashed, i)) return i
  const b = s.beneficiary.get(i)
  if (b === undefined) throw new RangeError(`slashed participant ${i} has no beneficiary`)
  return b
}

/** The outcome restricted to `unpaid` and its total; throws if it exceeds `locked` (as the contract reverts). */
function owed(s: Pick<SettlementInput, 'outcome' | 'locked' | 'unpaid'>): { payouts: bigint[]; total: bigint } {
  const payouts = s.outcome.map((p, i) => (hasBit(s.unpaid, i) ? p : 0n))
  const total = payouts.reduce((a, b) => a + b, 0n)
  if (total > s.locked) throw new RangeError(`OutcomeExceedsLocked: ${total} > ${s.locked}`)
  return { payouts, total }
}

/**
 * Credits of a settlement: each unpaid participant's outcome share and bond, and the remainder
 * of the locked deposits split equally among active participants (dust to the lowest active
 * index); a slashed participant's share and bond go to its beneficiary. Also returns the
 * `payouts` of the `ChannelClosed` event (shares with the remainder, without bonds).
 *
 * @example
 * settlementCredits({ outcome: [3n, 1n], locked: 5n, bond: 0n, active: 0b11n, unpaid: 0b11n,
 *   slashed: 0n, beneficiary: new Map() }).credits // Map { 0 => 4n, 1 => 1n }
 */
export function settlementCredits(s: SettlementInput): { credits: Credits; payouts: bigint[] } {
  const { payouts, total } = owed(s)
  const remainder = s.locked - total
  const k = BigInt(bitCount(s.active))
  if (remainder > 0n && k > 0n) {
    const each = remainder / k
    let dust = remainder - each * k
    for (let i = 0; i < payouts.length; i++) {
      if (!hasBit(s.active, i)) continue
      payouts[i]! += each + dust
      dust = 0n
    }
  }
  const credits: Credits = new Map()
  payouts.forEach((p, i) => add(credits, payee(i, s), p + (hasBit(s.unpaid, i) ? s.bond : 0n)))
  return { credits, payouts }
}

/**
 * Credits of a resolution that continues on a new fork: each participant in `removals` is paid
 * its outcome share of the new genesis and its bond (to its beneficiary if slashed); `paid`
 * (the shares) leaves the locked deposits.
 *
 * @example
 * removalCredits({ outcome: [3n, 1n, 2n], locked: 6n, bond: 1n, active: 0b011n, unpaid: 0b111n,
 *   slashed: 0n, beneficiary: new Map() }, 0b100n) // { credits: Map { 2 => 3n }, paid: 2n }
 */
export function removalCredits(s: SettlementInput, removals: bigint): { credits: Credits; paid: bigint } {
  const { payouts } = owed(s)
  const credits: Credits = new Map()
  let paid = 0n
  payouts.forEach((p, i) => {
    if (!hasBit(removals, i)) return
    paid += p
    add(credits, payee(i, s), p + s.bond)
  })
  return { credits, paid }
}
