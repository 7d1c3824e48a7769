/**
 * Performs one chain action of the dispute handler through the ManagerClient (imperative
 * shell; the decision was taken by ./decide.ts). `moveNeeded` is not a chain call and is
 * handled by the DisputeHandler itself.
 */
import type { ManagerClient, TxResult } from '../chain/ManagerClient.js'
import { ProtocolError, UsageError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import type { Action } from './types.js'

/**
 * Sends `action` for channel `channelId` and waits for its receipt.
 * @example const { hash } = await perform(manager, channelId, participants, action)
 */
export async function perform(manager: ManagerClient, channelId: Hex, participants: readonly Hex[], a: Action): Promise<TxResult> {
  switch (a.kind) {
    case 'post':
      return manager.postTransaction(channelId, participants, a.transaction, a.signature)
    case 'close':
      return manager.close(channelId, participants, a.state, a.payouts, a.signatures)
    case 'timeout':
    case 'concludeDispute':
      return manager.disputeTimeout(channelId, participants, a.txs, a.state)
    case 'conclude':
      return manager.conclude(channelId, participants, a.proof, a.state)
    case 'respond':
      return manager.respond(channelId, participants, a.record, a.transaction, a.signature)
    case 'answer':
      return manager.answer(channelId, participants, a.record, a.proof, a.state)
    case 'extend':
      return manager.extend(channelId, participants, a.record, a.txs, a.state)
    case 'refute':
      return manager.refute(channelId, participants, a.record, a.transaction, a.signature, a.checkpoint, a.state)
    case 'proveInvalidTransition':
      return manager.proveInvalidTransition(channelId, participants, a.record, a.fraud, a.previousState, a.checkpoint, a.state)
    case 'proveEquivocation':
      return manager.proveEquivocation(channelId, participants, a.record, a.first, a.second, a.checkpoint, a.state)
    case 'resolve':
      return manager.resolve(channelId, participants, a.record, a.state)
    case 'exit':
      return manager.exit(channelId, participants, a.proof, a.leave, a.state, a.record)
    case 'withdraw':
      return manager.withdraw(a.asset, a.amount)
    case 'moveNeeded':
      throw new UsageError('ACTION_NOT_CHAIN', 'moveNeeded is not a chain call')
  }
}

/**
 * Whether a failed action is given up (the chain refused it: a revert that stays true, or our own
 * input was wrong) rather than decided again on a later tick. A record mismatch is not a refusal:
 * ChannelRecordMismatch / DisputeRecordMismatch say only that the channel record or the dispute
 * record we supplied is not the one the chain commits to now — someone changed it first (a
 * timeout raised and answered in one block, another prover joining a fraud dispute) — so the
 * action is decided again against the new record (docs/protocol.md §7.11). RPC and node failures
 * are retried too.
 * @example if (refusedForGood(error)) markFailed(action)
 */
export function refusedForGood(error: unknown): boolean {
  if (error instanceof ProtocolError) return !STALE_RECORD.has(error.code)
  return error instanceof UsageError
}

const STALE_RECORD = new Set<string>(['CHANNEL_RECORD_MISMATCH', 'DISPUTE_RECORD_MISMATCH'])
