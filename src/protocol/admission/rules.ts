/**
 * The checks every entry point is built from, as the manager applies them (AProofs,
 * ADisputeBase, AMachineCalls) and composed from the client's own rules: `checkList` and
 * `checkFinalityProof` for lists, `latestTimestamp` for the time bound, `recoverSigner` for
 * signatures, `disputeCommitment` for the record, `canRaiseTimeout` for the posting window.
 * Each check returns, or throws a {@link Refusal} carrying the contract's error name.
 */
import { bitIndices, hasBit } from '../bitmap.js'
import { disputeCommitment } from '../disputes.js'
import { hashState } from '../eip712.js'
import { checkList, type ListContext } from '../finality.js'
import { latestTimestamp } from '../timing.js'
import { DisputeKind, MAX_DATA_BYTES, Phase, type DisputeRecord, type Hex, type PackedSignedTransaction, type Transaction } from '../types.js'
import { signaturesVerdict } from './signatures.js'
import type { Caller, ChainFacts, MachineCalls, MachineResult } from './types.js'

/** A refusal: the contract's custom error name. Thrown by the checks, caught by the entry points. */
export class Refusal extends Error {
  constructor(readonly error: string) {
    super(error)
  }
}

/** Throws the refusal `error`. */
export function refuse(error: string): never {
  throw new Refusal(error)
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()
const sameList = (a: readonly Hex[], b: readonly Hex[]): boolean => a.length === b.length && a.every((x, i) => same(x, b[i]!))
const bytes = (h: Hex): number => (h.length - 2) / 2

/** `latest`: the block's time plus the channel's skew. */
export function latestOf(f: ChainFacts): bigint {
  return latestTimestamp(f.blockTime, f.agreementTime)
}

/** AChannels `_openChannel`: phase Open and the committed participant list. */
export function openChannel(f: ChainFacts, participants: readonly Hex[]): void {
  if (f.phase !== Phase.Open) refuse('ChannelNotOpen')
  if (!sameList(participants, f.participants)) refuse('ChannelParticipantsMismatch')
}

/** The channel's participant count (the member list is twice as long with session keys). */
export function countOf(f: ChainFacts): number {
  return f.n ?? f.participants.length
}

/** `_signersOf`: the in-channel signers of a member list — its last n entries. */
export function signersOf(f: ChainFacts, members: readonly Hex[]): readonly Hex[] {
  return members.slice(members.length - countOf(f))
}

/** `_requireCaller`: `participants[index]` is the sender, active and not slashed. */
export function requireCaller(f: ChainFacts, participants: readonly Hex[], c: Caller): void {
  if (c.index >= participants.length || !same(participants[c.index]!, c.address)) refuse('CallerNotParticipant')
  if (!hasBit(f.active, c.index)) refuse('CallerInactive')
  if (hasBit(f.slashed, c.index)) refuse('CallerSlashed')
}

/**
 * `_disputed`: phase Disputed, the committed dispute record (with the channel record, which the
 * caller re-supplies as the chain committed to it), then the member list against the record.
 */
export function disputed(f: ChainFacts, participants: readonly Hex[], record: DisputeRecord): void {
  if (f.phase !== Phase.Disputed || !f.record) refuse('DisputeNotOpen')
  if (disputeCommitment(f.participants, record) !== disputeCommitment(f.participants, f.record)) refuse('DisputeRecordMismatch')
  if (!sameList(participants, f.participants)) refuse('ChannelParticipantsMismatch')
}

/** `_openForDispute`: no dispute open, an open channel, a valid caller. */
export function openForDispute(f: ChainFacts, participants: readonly Hex[], c: Caller): void {
  if (f.phase === Phase.Disputed) refuse('DisputeAlreadyOpen')
  openChannel(f, participants)
  requireCaller(f, participants, c)
}

/** `_openOrDisputed`: open, or disputed with `record` its record; a valid caller. */
export function openOrDisputed(f: ChainFacts, participants: readonly Hex[], c: Caller, record: DisputeRecord): void {
  if (f.phase === Phase.Disputed) disputed(f, participants, record)
  else openChannel(f, participants)
  requireCaller(f, participants, c)
}

/** `_challengeable`: disputed, before the deadline, a valid caller. */
export function challengeable(f: ChainFacts, participants: readonly Hex[], c: Caller, record: DisputeRecord): void {
  disputed(f, participants, record)
  if (f.blockTime > record.deadline) refuse('DisputeExpired')
  requireCaller(f, participants, c)
}

/** Signatures.verify: every signer's signature valid. */
export function verifySignatures(digest: Hex, participants: readonly Hex[], signers: bigint, signatures: Hex): void {
  const v = signaturesVerdict(digest, participants, signers, signatures)
  if (v !== 'ok') refuse(v)
}

/** `_checkTransaction`: channel, fork, data size, timestamp in [earliest, latest]; returns the digest. */
export function checkTransaction(f: ChainFacts, t: Transaction, earliest: bigint): Hex {
  if (!same(t.channelId, f.channelId)) refuse('TransactionChannelMismatch')
  if (t.fork !== f.fork) refuse('TransactionForkMismatch')
  if (bytes(t.data) > MAX_DATA_BYTES) refuse('TransactionDataTooLarge')
  if (t.timestamp < earliest || t.timestamp > latestOf(f)) refuse('TransactionTimestampInvalid')
  return f.digest(t)
}

/** `_checkMove`: an active author, {@link checkTransaction}, the author's signature. */
export function checkMove(f: ChainFacts, participants: readonly Hex[], t: Transaction, signature: Hex, earliest: bigint): void {
  if (!hasBit(f.active, t.actor)) refuse('TransactionActorInvalid')
  const digest = checkTransaction(f, t, earliest)
  verifySignatures(digest, signersOf(f, participants), 1n << BigInt(t.actor), signature)
}

/**
 * `_verifyList`: {@link checkList} with the genesis and `latest` bounds, and each entry's
 * signatures checked right after that entry's other rules (the first failing entry decides).
 * Returns the union of the signers and the last entry's.
 */
export function verifyList(f: ChainFacts, participants: readonly Hex[], list: readonly PackedSignedTransaction[]): { support: bigint; last: bigint } {
  const ctx: ListContext = { channelId: f.channelId, fork: f.fork, active: f.active, earliest: f.genesisTimestamp, latest: latestOf(f) }
  const v = checkList(ctx, list)
  if (!v.ok && v.fault === 'ProofLengthInvalid') refuse(v.fault)
  const checked = v.ok ? list.length : v.index
  const keys = signersOf(f, participants)
  for (let i = 0; i < checked; i++) verifySignatures(f.digest(list[i]!.transaction), keys, list[i]!.signers, list[i]!.signatures)
  if (!v.ok) refuse(v.fault)
  return { support: v.support, last: v.last }
}

/** A candidate: height, timestamp, state hash; and the last entry's signers. */
export interface Candidate {
  seq: bigint
  timestamp: bigint
  stateHash: Hex
  lastSigners: bigint
}

/**
 * `_candidate`: empty = the fork genesis; otherwise a finality proof of its first entry (the
 * candidate), or, when `anchored`, a list from the genesis (seq 1 on the genesis hash) whose
 * last entry is the candidate.
 */
export function candidate(f: ChainFacts, participants: readonly Hex[], txs: readonly PackedSignedTransaction[], anchored: boolean): Candidate {
  if (txs.length === 0) return { seq: 0n, timestamp: f.genesisTimestamp, stateHash: f.genesisStateHash, lastSigners: 0n }
  const { support, last } = verifyList(f, participants, txs)
  const first = txs[0]!.transaction
  if (support !== f.active) {
    if (!anchored) refuse('ProofNotFinal')
    if (first.seq !== 1n || !same(first.previousStateHash, f.genesisStateHash)) refuse('CandidateNotAnchored')
  }
  const c = anchored ? txs[txs.length - 1]!.transaction : first
  return { seq: c.seq, timestamp: c.timestamp, stateHash: c.stateHash.toLowerCase() as Hex, lastSigners: last }
}

/** `_verifyFinality`: a non-empty list whose signers cover the active set. */
export function verifyFinality(f: ChainFacts, participants: readonly Hex[], proof: readonly PackedSignedTransaction[]): void {
  if (proof.length === 0) refuse('ProofLengthInvalid')
  const { support } = verifyList(f, participants, proof)
  if (support !== f.active) refuse('ProofNotFinal')
}

/** `_requireStateHash`. */
export function requireStateHash(state: Hex, expected: Hex): void {
  if (!same(hashState(state), expected)) refuse('StateHashMismatch')
}

/** The value of a reverting machine call (`_state`, `_isTerminal`, `_payouts`), or its refusal. */
export function must<T>(r: MachineResult<T>): T {
  if (!r.ok) refuse(r.error)
  return r.value
}

/**
 * `_requireResolvable`: onRemove for every removal (ascending) succeeds and the outcome of the
 * result has n entries whose active shares fit the locked deposits. (The settle-or-continue
 * choice only makes try-calls: it cannot revert.)
 */
export async function requireResolvable(f: ChainFacts, m: MachineCalls, removals: bigint, state: Hex): Promise<void> {
  let g = state
  for (const i of bitIndices(removals)) g = must(await m.onRemove(g, i))
  await requireOutcome(f, m, g)
}

/** `_outcome(state, active)`: exactly n entries (more is an over-long, failed call) within the locked deposits. */
export async function requireOutcome(f: ChainFacts, m: MachineCalls, state: Hex): Promise<void> {
  const payouts = must(await m.outcome(state))
  const n = countOf(f)
  if (payouts.length > n) refuse('MachineCallFailed')
  if (payouts.length < n) refuse('OutcomeLengthInvalid')
  const total = payouts.reduce((sum, p, i) => (hasBit(f.active, i) ? sum + p : sum), 0n)
  if (total > f.locked) refuse('OutcomeExceedsLocked')
}

/**
 * AFraud `_isInvalid`: nextActor(previous) fails or is not the actor, the transition fails, or
 * its result does not hash to `stateHash`.
 */
export async function isInvalid(m: MachineCalls, previousState: Hex, t: Transaction): Promise<boolean> {
  const next = await m.nextActor(previousState)
  if (!next.ok || next.value !== t.actor) return true
  const r = await m.transition(previousState, t.actor, t.data, t.timestamp)
  return !r.ok || !same(hashState(r.value), t.stateHash)
}

/** Dispute kinds an answer convicts the disputer of (it claimed a stale latest state). */
export function convicts(kind: DisputeKind): boolean {
  return kind === DisputeKind.Timeout || kind === DisputeKind.Conclude
}
