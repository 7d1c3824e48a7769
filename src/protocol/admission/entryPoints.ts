/**
 * The admission verdict of every manager entry point a signed transaction can enter through,
 * check by check in the contract's order (contracts/manager/ADisputes.sol, AFraud.sol,
 * AFinality.sol), from the shared checks of ./rules.ts.
 */
import { hasBit } from '../bitmap.js'
import { responseTransaction } from '../disputes.js'
import { DisputeKind, MAX_STATE_BYTES, Phase, type DisputeRecord, type Hex, type PackedSignedTransaction } from '../types.js'
import {
  Refusal, candidate, challengeable, checkMove, checkTransaction, convicts, isInvalid, must, openChannel, openForDispute,
  openOrDisputed, refuse, requireOutcome, requireResolvable, requireStateHash, signersOf, verifyFinality, verifySignatures,
} from './rules.js'
import type { AdmissionVerdict, Caller, ChainFacts, EntryArgs, EntryCall, EntryPoint, MachineCalls } from './types.js'

type Judge<K extends EntryPoint> = (f: ChainFacts, a: EntryArgs[K], m: MachineCalls) => Promise<void> | void

const bit = (i: number): bigint => (i < 64 ? 1n << BigInt(i) : 0n)
const bytes = (h: Hex): number => (h.length - 2) / 2

const JUDGES: { [K in EntryPoint]: Judge<K> } = {
  postTransaction(f, a) {
    openChannel(f, a.participants)
    checkMove(f, a.participants, a.transaction, a.signature, f.genesisTimestamp)
  },

  async disputeTimeout(f, a, m) {
    openForDispute(f, a.participants, a.caller)
    if (bytes(a.state) > MAX_STATE_BYTES) refuse('StateTooLarge')
    const c = candidate(f, a.participants, a.txs, true)
    if (a.txs.length !== 0 && !hasBit(c.lastSigners, a.caller.index)) refuse('DisputerNotSigned')
    requireStateHash(a.state, c.stateHash)
    if (c.seq < f.latestSeq) refuse('DisputeStale')
    const terminal = must(await m.isTerminal(a.state))
    let removals = 0n
    if (!terminal) {
      const next = await m.nextActor(a.state)
      if (!next.ok) refuse('AccusedInvalid')
      const accused = next.value
      if (accused === a.caller.index || accused >= 64 || !hasBit(f.active, accused)) refuse('AccusedInvalid')
      // The accused had until the candidate's posting deadline (docs/protocol.md, timeoutDeadline).
      if (f.blockTime <= c.timestamp + f.postingWindow) refuse('DisputeTooEarly')
      removals = bit(accused)
    }
    await requireResolvable(f, m, removals, a.state)
  },

  async exit(f, a, m) {
    openOrDisputed(f, a.participants, a.caller, a.record)
    if (f.phase === Phase.Disputed) {
      // An exit replaces an open timeout, but only before its deadline (its accused must not dodge removal).
      if (a.record.kind !== DisputeKind.Timeout) refuse('DisputeAlreadyOpen')
      if (f.blockTime > a.record.deadline) refuse('DisputeExpired')
    }
    const c = candidate(f, a.participants, a.proof, false)
    requireStateHash(a.state, c.stateHash)
    await requireResolvable(f, m, bit(a.caller.index), a.state)
  },

  respond(f, a) {
    challengeable(f, a.participants, a.caller, a.record)
    const r = a.record
    if (r.kind !== DisputeKind.Timeout) refuse('DisputeKindInvalid')
    // The contract takes only the move's timestamp, data and state hash; the rest is the dispute's.
    checkMove(f, a.participants, responseTransaction(f.channelId, f.fork, r, a.transaction), a.signature, r.timestamp)
  },

  async answer(f, a, m) {
    challengeable(f, a.participants, a.caller, a.record)
    const c = candidate(f, a.participants, a.proof, false)
    if (c.seq <= a.record.seq) refuse('CandidateNotLater')
    requireStateHash(a.state, c.stateHash)
    let removals = a.record.removals
    if (convicts(a.record.kind)) removals = convict(a.caller, a.record)
    await requireResolvable(f, m, removals, a.state)
  },

  async extend(f, a, m) {
    challengeable(f, a.participants, a.caller, a.record)
    const r = a.record
    if (r.kind !== DisputeKind.Exit && r.kind !== DisputeKind.ForceClose) refuse('DisputeKindInvalid')
    if (f.blockTime > r.deadline - f.challengeTime) refuse('AnswerWindowClosed')
    if (bytes(a.state) > MAX_STATE_BYTES) refuse('StateTooLarge')
    const c = candidate(f, a.participants, a.txs, true)
    if (c.seq <= r.seq) refuse('CandidateNotLater')
    requireStateHash(a.state, c.stateHash)
    await requireResolvable(f, m, r.removals, a.state)
  },

  async refute(f, a, m) {
    challengeable(f, a.participants, a.caller, a.record)
    const r = a.record
    if (!convicts(r.kind)) refuse('DisputeKindInvalid')
    if (a.transaction.seq <= r.seq) refuse('CandidateNotLater')
    const digest = checkTransaction(f, a.transaction, f.genesisTimestamp)
    verifySignatures(digest, signersOf(f, a.participants), bit(r.disputer), a.signature)
    const c = candidate(f, a.participants, a.checkpoint, false)
    requireStateHash(a.state, c.stateHash)
    await requireResolvable(f, m, convict(a.caller, r), a.state)
  },

  async proveInvalidTransition(f, a, m) {
    openOrDisputed(f, a.participants, a.caller, a.record)
    const t = a.fraud.transaction
    verifySignatures(checkTransaction(f, t, f.genesisTimestamp), signersOf(f, a.participants), a.fraud.signers, a.fraud.signatures)
    requireStateHash(a.previousState, t.previousStateHash)
    if (!(await isInvalid(m, a.previousState, t))) refuse('FraudNotProven')
    await fraud(f, m, a, a.fraud.signers)
  },

  async proveEquivocation(f, a, m) {
    openOrDisputed(f, a.participants, a.caller, a.record)
    const x = checkTransaction(f, a.first.transaction, f.genesisTimestamp)
    const y = checkTransaction(f, a.second.transaction, f.genesisTimestamp)
    if (x === y || a.first.transaction.seq !== a.second.transaction.seq) refuse('EquivocationInvalid')
    verifySignatures(x, signersOf(f, a.participants), a.first.signers, a.first.signatures)
    verifySignatures(y, signersOf(f, a.participants), a.second.signers, a.second.signatures)
    await fraud(f, m, a, a.first.signers & a.second.signers)
  },

  async conclude(f, a, m) {
    openChannel(f, a.participants)
    verifyFinality(f, a.participants, a.proof)
    requireStateHash(a.state, a.proof[0]!.transaction.stateHash)
    if (!must(await m.isTerminal(a.state))) refuse('StateNotTerminal')
    await requireOutcome(f, m, a.state)
  },

  verifyFinalityProof(f, a) {
    openChannel(f, a.participants)
    verifyFinality(f, a.participants, a.proof)
  },
}

/** `_convictDisputer`: the caller may not convict itself; the disputer is the one removal. */
function convict(caller: Caller, r: DisputeRecord): bigint {
  if (caller.index === r.disputer) refuse('CallerIsDisputer')
  return bit(r.disputer)
}

/** AFraud `_convict`: culprits, the prover, the checkpoint (or an open fraud's later candidate), resolvability. */
async function fraud(
  f: ChainFacts,
  m: MachineCalls,
  a: { caller: Caller; participants: readonly Hex[]; record: DisputeRecord; checkpoint: readonly PackedSignedTransaction[]; state: Hex },
  signers: bigint,
): Promise<void> {
  const culprits = signers & f.active & ~f.slashed
  if (culprits === 0n) refuse('FraudNoCulprit')
  if (hasBit(culprits, a.caller.index)) refuse('FraudProverSigned')
  const joins = f.phase === Phase.Disputed && a.record.kind === DisputeKind.Fraud
  const c = candidate(f, a.participants, a.checkpoint, false)
  let removals = culprits
  let stateHash = c.stateHash
  if (joins) {
    removals |= a.record.removals
    if (c.seq <= a.record.seq) stateHash = a.record.stateHash
  }
  requireStateHash(a.state, stateHash)
  await requireResolvable(f, m, removals, a.state)
}

/**
 * The manager's verdict on `call` in a block with the facts `f`: `'ok'` when it would be
 * accepted, else the name of the custom error it reverts with. Composed from the client's
 * rules (see ./rules.ts); `m` answers the machine calls the entry point makes.
 *
 * @example
 * const v = await admission(facts, { point: 'disputeTimeout', args: { caller, participants, txs, state } }, machineCalls(machine))
 * if (v !== 'ok') console.log(`the manager would revert ${v}`)
 */
export async function admission(f: ChainFacts, call: EntryCall, m: MachineCalls): Promise<AdmissionVerdict> {
  try {
    await (JUDGES[call.point] as Judge<typeof call.point>)(f, call.args as never, m)
    return 'ok'
  } catch (e) {
    if (e instanceof Refusal) return e.error
    throw e
  }
}
