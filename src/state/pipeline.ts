/**
 * The verification pipeline: the steps of ./steps.ts in order, plus the one step that needs
 * the machine (execute and compare `stateHash`). Reads only what the context gives it and
 * writes nothing: persisting and signing happen after it returns (StateManager).
 */
import { ProtocolError, RuntimeError } from '../errors/ParleyError.js'
import { hashState, type ParleyHasher } from '../protocol/eip712.js'
import type { Hex } from '../protocol/types.js'
import type { StateMachine } from '../machine/StateMachine.js'
import { isMachineFailure, nextActorOf } from '../machine/failure.js'
import { reject, type AuthoredTransaction, type Evidence } from './evidence.js'
import type { Anchor } from './ledger.js'
import {
  checkActor, checkAuthorSignature, checkChannel, checkDuplicate, checkFork, checkPreviousHash,
  checkSeq, checkStateHash, checkTimestamp, checkWellFormed, type Timing, type TxSource,
} from './steps.js'

/** What the pipeline needs to know about the channel at this moment. */
export interface PipelineContext {
  channelId: Hex
  participants: readonly Hex[]
  fork: bigint
  active: bigint
  head: Anchor
  /** The tx we hold at `seq` ≤ head.seq, with its author's signature. */
  historic(seq: bigint): { signed: AuthoredTransaction; digest: Hex } | undefined
  /** The state bytes at `seq` ≤ head.seq (seq 0 = fork genesis). */
  stateAt(seq: bigint): Hex | undefined
  hasher: ParleyHasher
  machine: StateMachine
  timing: Timing
  /** Our clock now and when the tx arrived (seconds). */
  now: bigint
  receivedAt: bigint
  source: TxSource
  /** For a tx from the chain: the timestamp of the block that published it (its upper bound is this plus the channel's skew). */
  chainTime?: bigint
}

/** A transaction that passed every step. */
export interface VerifiedTransaction extends AuthoredTransaction {
  digest: Hex
  /** The resulting state. */
  state: Hex
  /** `nextActor(state)`. */
  nextActor: number
}

/**
 * Runs every step; resolves with the verified tx or rejects with the first step's
 * ProtocolError (code per step, evidence when the violation is provable). Machine or I/O
 * failures that are not the author's fault are rethrown unchanged.
 *
 * @example
 * const v = await verifyTransaction(ctx, { transaction, signature })
 */
export async function verifyTransaction(ctx: PipelineContext, input: unknown): Promise<VerifiedTransaction> {
  const signed = checkWellFormed(input, ctx.participants.length)
  const t = signed.transaction
  checkChannel(t, ctx.channelId)
  checkFork(t, ctx.fork)
  const kind = checkSeq(t, ctx.head.seq)
  const known = kind === 'historic' ? ctx.historic(t.seq) : undefined
  if (kind === 'historic' && !known) throw new RuntimeError('STORE_INCOMPLETE', `no stored transaction at seq ${t.seq}`)
  const expected = known ? known.signed.transaction.actor : ctx.head.nextActor
  const digest = ctx.hasher.transaction(t)
  try {
    checkActor(t, expected, ctx.active)
  } catch (e) {
    // The turn rule is `nextActor(parent)`: for the next height on a parent we do not hold it
    // says nothing (another branch may have another next actor), so the unknown parent is the reason.
    if (kind === 'next') checkPreviousHash(t, ctx.head.stateHash)
    throw withActorEvidence(e as ProtocolError, ctx, signed, digest, expected)
  }
  checkAuthorSignature(t, digest, signed.signature, ctx.participants)
  if (known) checkDuplicate(signed, digest, known)
  checkTimestamp(t, { parentTimestamp: ctx.head.timestamp, now: ctx.now, receivedAt: ctx.receivedAt, source: ctx.source, timing: ctx.timing, ...(ctx.chainTime === undefined ? {} : { chainTime: ctx.chainTime }) })
  checkPreviousHash(t, ctx.head.stateHash)

  const previousState = ctx.head.state
  const fraud = (reason: 'reverted' | 'stateHash'): Evidence => ({ kind: 'InvalidTransition', reason, culprit: t.actor, signed, previousState })
  let state: Hex
  try {
    state = await ctx.machine.transition(previousState, t.actor, t.data, t.timestamp)
  } catch (e) {
    // A revert, the gas cap, or a result that is no valid state: the manager's _isInvalid too.
    if (isMachineFailure(e)) {
      throw reject('TX_INVALID_TRANSITION', `the machine rejects transaction ${t.seq}: ${e.message}`, { machine: e.details, evidence: fraud('reverted') }, e)
    }
    throw e
  }
  try {
    checkStateHash(t, hashState(state))
  } catch (e) {
    throw addEvidence(e as ProtocolError, fraud('stateHash'))
  }
  // A state whose nextActor fails is still valid; nobody can move on it (NO_ACTOR).
  const nextActor = await nextActorOf(ctx.machine, state)
  return { ...signed, digest, state, nextActor }
}

/** A wrong actor is provable when the author really signed it and we know the state it extends. */
function withActorEvidence(e: ProtocolError, ctx: PipelineContext, signed: AuthoredTransaction, digest: Hex, expected: number): ProtocolError {
  const t = signed.transaction
  if (t.actor === expected) return e // inactive author: not a machine-rule violation
  try {
    checkAuthorSignature(t, digest, signed.signature, ctx.participants)
  } catch {
    return e
  }
  const previousState = ctx.stateAt(t.seq - 1n)
  if (previousState === undefined || hashState(previousState) !== t.previousStateHash) return e
  return addEvidence(e, { kind: 'InvalidTransition', reason: 'actor', culprit: t.actor, signed, previousState })
}

function addEvidence(e: ProtocolError, evidence: Evidence): ProtocolError {
  return new ProtocolError(e.code, e.message, { details: { ...e.details, evidence }, ...(e.cause === undefined ? {} : { cause: e.cause }) })
}
