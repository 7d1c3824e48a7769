/**
 * What a failed court action means (a pure rule over the handler's `failed` event). Several
 * honest courts act on the same chain facts (docs/protocol.md §7.11), so one of two identical
 * calls usually reverts: that loss is not a failure when the chain already holds what the call
 * was for, and a record that changed first is only a reason to decide again. Anything else — a
 * refusal that could mean our defence did not land, a node failure — stays an error.
 */
import { ProtocolError } from '../errors/ParleyError.js'
import { hashState } from '../protocol/eip712.js'
import { DisputeKind, type DisputeRecord } from '../protocol/types.js'
import type { Action } from './types.js'

/**
 * - `record-changed`: the channel's or the dispute's record changed before our call landed
 *   (ChannelRecordMismatch, DisputeRecordMismatch); the court decides again on the new record.
 * - `done-by-another`: another court did it first; the chain already holds what the call was for.
 * - `error`: a real failure (or one we cannot tell from a race): report it.
 */
export type FailureOutcome = 'record-changed' | 'done-by-another' | 'error'

/** The handler's `failed` event (DisputeHandlerEvents['failed']). */
export interface FailedAction {
  action: Action
  error: unknown
  retried: boolean
  /** The dispute the chain holds open, read after a raise was refused with DisputeAlreadyOpen (when the read succeeded). */
  open?: DisputeRecord
}

const RECORD_CHANGED = new Set<string>(['CHANNEL_RECORD_MISMATCH', 'DISPUTE_RECORD_MISMATCH'])

/**
 * Classifies a failed court action:
 * - retried after ChannelRecordMismatch / DisputeRecordMismatch → `record-changed`;
 * - `resolve` refused with DisputeNotOpen → `done-by-another`: the court resolves only after the
 *   dispute's deadline, when nothing but a resolution ends a dispute (answers, responses and
 *   exits are refused after it, and a fraud proof replacing it leaves it open: a record
 *   mismatch), so the chain no longer holding it open means someone resolved it;
 * - a `timeout` or `concludeDispute` refused with DisputeAlreadyOpen while the open dispute
 *   (`open`) is the same raise — same kind, same candidate (hence the same accused) → `done-by-another`;
 *   any other open dispute is not what we asked for, and without `open` we cannot tell;
 * - an `answer` refused with CandidateNotLater → `done-by-another`: the record we supplied is the
 *   chain's (else DisputeRecordMismatch comes first) and its candidate is already at least as
 *   late as the final state we answered with — what the answer was for;
 * - everything else → `error` (a refute, extend, respond or fraud proof refused, an exit over
 *   another dispute, a node failure retried, …).
 * @example court.on('failed', (f) => classifyFailure(f) === 'error' ? alarm(f.error) : log(f))
 */
export function classifyFailure(f: FailedAction): FailureOutcome {
  const code = f.error instanceof ProtocolError ? f.error.code : undefined
  if (code === undefined) return 'error'
  if (RECORD_CHANGED.has(code)) return f.retried ? 'record-changed' : 'error'
  if (f.retried) return 'error'
  const a = f.action
  if (a.kind === 'resolve' && code === 'DISPUTE_NOT_OPEN') return 'done-by-another'
  if (a.kind === 'answer' && code === 'CANDIDATE_NOT_LATER') return 'done-by-another'
  if ((a.kind === 'timeout' || a.kind === 'concludeDispute') && code === 'DISPUTE_ALREADY_OPEN' && f.open && sameRaise(a, f.open)) return 'done-by-another'
  return 'error'
}

/** Whether `open` is the dispute our timeout or conclude would have raised: same kind, same candidate, same accused. */
function sameRaise(a: Extract<Action, { kind: 'timeout' | 'concludeDispute' }>, open: DisputeRecord): boolean {
  if (open.stateHash.toLowerCase() !== hashState(a.state)) return false
  if (a.kind === 'timeout') return open.kind === DisputeKind.Timeout && open.removals === 1n << BigInt(a.accused)
  return open.kind === DisputeKind.Conclude
}
