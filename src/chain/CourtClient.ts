/**
 * The court's entry points (docs/protocol.md §7, §10) as typed calls: each returns the
 * transaction and the events it emitted, decoded. The caller's participant index is found from
 * the signer's address. Part of {@link ManagerClient}.
 */
import { UsageError } from '../errors/ParleyError.js'
import { responseArgs, responseTransaction } from '../protocol/disputes.js'
import { Phase } from '../protocol/types.js'
import type {
  DisputeAnswered, DisputeCancelled, DisputeRecord, Hex, PackedSignedTransaction, ParticipantSlashed, Transaction, TransactionPosted,
} from '../protocol/types.js'
import { latestDispute, type OpenDispute } from './disputeLog.js'
import { toParleyError } from './errors.js'
import { ManagerBase, NO_DISPUTE, type CourtResult, type RaiseResult, type ResolveResult } from './ManagerBase.js'

/** The court calls of the manager binding (use {@link ManagerClient}). */
export class CourtClient extends ManagerBase {

  /**
   * Posts `transaction` with its author's `signature` as calldata (data availability); peers
   * treat it like a broadcast one. Anyone may send it.
   * @example await manager.postTransaction(channelId, memberList(params), tx, signature)
   */
  async postTransaction(channelId: Hex, participants: readonly Hex[], transaction: Transaction, signature: Hex): Promise<CourtResult & { posted: TransactionPosted }> {
    const r = await this.court('postTransaction', [channelId, await this.recordArg(channelId), participants, transaction, signature])
    return { ...r, posted: this.one(r, 'TransactionPosted') }
  }

  /**
   * Raises a timeout against the next actor of the candidate: `txs` is empty (the fork genesis)
   * or an anchored list ending with the latest transaction the caller signed; `state` is the
   * candidate's bytes.
   * @example const { raised } = await manager.disputeTimeout(channelId, participants, anchor, state)
   */
  async disputeTimeout(channelId: Hex, participants: readonly Hex[], txs: readonly PackedSignedTransaction[], state: Hex): Promise<RaiseResult> {
    return this.raise(await this.court('disputeTimeout', [channelId, await this.recordArg(channelId), participants, await this.callerIndex(participants), txs, state]))
  }

  /**
   * Leaves (`leave = true`) or force-closes (`false`) from the caller's latest final state
   * (`proof` empty = the fork genesis; `state` its bytes). Either way the caller is removed
   * through the machine's onRemove; a force-close then settles everyone. `dispute` is an open
   * timeout's record, which the exit replaces (any other open dispute must be resolved first).
   * @example await manager.exit(channelId, participants, channel.finalityProof(), false, channel.state.finalState)
   */
  async exit(channelId: Hex, participants: readonly Hex[], proof: readonly PackedSignedTransaction[], leave: boolean, state: Hex, dispute?: DisputeRecord): Promise<RaiseResult> {
    return this.raise(await this.court('exit', [channelId, await this.recordArg(channelId), participants, await this.callerIndex(participants), dispute ?? NO_DISPUTE, proof, leave, state]))
  }

  /**
   * Cancels a timeout with the accused's move at the candidate's seq + 1 (ours or relayed). Only
   * its timestamp, data and state hash are sent: the contract takes the rest from `dispute`.
   * @example await manager.respond(channelId, participants, record, move, moveSignature)
   */
  async respond(channelId: Hex, participants: readonly Hex[], dispute: DisputeRecord, transaction: Transaction, signature: Hex): Promise<CourtResult & { cancelled: DisputeCancelled }> {
    // The contract checks the signature on the move it builds from the dispute: another move would fail there, as a forged signature.
    const t = responseTransaction(channelId.toLowerCase() as Hex, transaction.fork, dispute, transaction)
    if (t.channelId !== transaction.channelId.toLowerCase() || t.seq !== transaction.seq || t.actor !== transaction.actor || t.previousStateHash.toLowerCase() !== transaction.previousStateHash.toLowerCase()) {
      throw new UsageError('RESPONSE_MISMATCH', `the move is not the accused's at seq ${t.seq} on the candidate (actor ${t.actor})`, {
        details: { seq: transaction.seq, actor: transaction.actor, expectedSeq: t.seq, expectedActor: t.actor },
      })
    }
    const r = await this.court('respond', [channelId, await this.recordArg(channelId), participants, await this.callerIndex(participants), dispute, ...responseArgs(transaction), signature])
    return { ...r, cancelled: this.one(r, 'DisputeCancelled') }
  }

  /**
   * Answers a dispute with a later final state (`proof` is its finality proof, `state` the bytes
   * of proof[0]); on a timeout or conclude this convicts the disputer.
   * @example await manager.answer(channelId, participants, record, channel.finalityProof(), channel.state.finalState)
   */
  async answer(channelId: Hex, participants: readonly Hex[], dispute: DisputeRecord, proof: readonly PackedSignedTransaction[], state: Hex): Promise<CourtResult & { answered: DisputeAnswered; slashed: ParticipantSlashed[] }> {
    const r = await this.court('answer', [channelId, await this.recordArg(channelId), participants, await this.callerIndex(participants), dispute, proof, state])
    return { ...r, answered: this.one(r, 'DisputeAnswered'), slashed: this.all(r, 'ParticipantSlashed') }
  }

  /**
   * Moves an exit or force-close forward, during its answer window, to the state after valid
   * moves that are not final yet: `txs` is a finality proof of its first entry (or starts at the
   * genesis) and its last entry becomes the candidate, with `state` its bytes.
   * @example await manager.extend(channelId, participants, record, [...finalityProof, myMove], stateAfterMyMove)
   */
  async extend(channelId: Hex, participants: readonly Hex[], dispute: DisputeRecord, txs: readonly PackedSignedTransaction[], state: Hex): Promise<CourtResult & { answered: DisputeAnswered }> {
    const r = await this.court('extend', [channelId, await this.recordArg(channelId), participants, await this.callerIndex(participants), dispute, txs, state])
    return { ...r, answered: this.one(r, 'DisputeAnswered') }
  }

  /**
   * Convicts a timeout's or conclude's disputer with its own `signature` on a `transaction`
   * later than the candidate; the dispute continues from `checkpoint` (the caller's latest
   * finality proof, empty = fork genesis) with `state` its bytes.
   * @example await manager.refute(channelId, participants, record, laterTx, disputerSignature, channel.finalityProof(), finalState)
   */
  async refute(
    channelId: Hex, participants: readonly Hex[], dispute: DisputeRecord, transaction: Transaction, signature: Hex,
    checkpoint: readonly PackedSignedTransaction[], state: Hex,
  ): Promise<CourtResult & { answered: DisputeAnswered; slashed: ParticipantSlashed[] }> {
    const index = await this.callerIndex(participants)
    const r = await this.court('refute', [channelId, await this.recordArg(channelId), participants, index, dispute, transaction, signature, checkpoint, state])
    return { ...r, answered: this.one(r, 'DisputeAnswered'), slashed: this.all(r, 'ParticipantSlashed') }
  }

  /**
   * Proves that `fraud` is not a valid transition of `previousState`; `checkpoint` is the
   * caller's latest finality proof (empty = fork genesis); `dispute` the open record, if any;
   * `state` the bytes of the resulting candidate (the checkpoint's, or the open fraud dispute's
   * when that is later).
   * @example await manager.proveInvalidTransition(channelId, participants, undefined, packed, previousState, channel.finalityProof(), finalState)
   */
  async proveInvalidTransition(
    channelId: Hex, participants: readonly Hex[], dispute: DisputeRecord | undefined, fraud: PackedSignedTransaction, previousState: Hex,
    checkpoint: readonly PackedSignedTransaction[], state: Hex,
  ): Promise<RaiseResult> {
    const index = await this.callerIndex(participants)
    return this.raise(await this.court('proveInvalidTransition', [channelId, await this.recordArg(channelId), participants, index, dispute ?? NO_DISPUTE, fraud, previousState, checkpoint, state]))
  }

  /**
   * Proves equivocation: two different signed transactions at one height of the current fork
   * (`checkpoint` and `state` as for proveInvalidTransition).
   * @example await manager.proveEquivocation(channelId, participants, undefined, a, b, channel.finalityProof(), finalState)
   */
  async proveEquivocation(
    channelId: Hex, participants: readonly Hex[], dispute: DisputeRecord | undefined, first: PackedSignedTransaction, second: PackedSignedTransaction,
    checkpoint: readonly PackedSignedTransaction[], state: Hex,
  ): Promise<RaiseResult> {
    const index = await this.callerIndex(participants)
    return this.raise(await this.court('proveEquivocation', [channelId, await this.recordArg(channelId), participants, index, dispute ?? NO_DISPUTE, first, second, checkpoint, state]))
  }

  /**
   * Resolves a dispute after its deadline from the candidate's `state` (anyone may call).
   * @example const { stateSet, closed } = await manager.resolve(channelId, participants, record, candidateState)
   */
  async resolve(channelId: Hex, participants: readonly Hex[], dispute: DisputeRecord, state: Hex): Promise<ResolveResult> {
    const r = await this.court('resolve', [channelId, await this.recordArg(channelId), participants, dispute, state])
    const stateSet = this.all(r, 'StateSet')[0]
    const closed = this.all(r, 'ChannelClosed')[0]
    return {
      ...r, resolved: this.one(r, 'DisputeResolved'), removed: this.all(r, 'ParticipantRemoved').map((e) => e.index),
      ...(stateSet ? { stateSet } : {}), ...(closed ? { closed } : {}), credits: this.all(r, 'Credited'),
    }
  }

  /**
   * The one word the manager stores for a channel: its phase and the commitment to its record
   * (and to the open dispute or the recorded claims). `channelWordOf(await manager.track(id))`
   * must equal `word`: the record rebuilt from the events is the chain's.
   * @example const { phase, word } = await manager.channelWord(channelId)
   */
  async channelWord(channelId: Hex): Promise<{ phase: Phase; word: Hex }> {
    const [phase, word] = (await this.read('channelWord', [channelId])) as [bigint, string]
    return { phase: Number(phase) as Phase, word: word.toLowerCase() as Hex }
  }

  /**
   * The open dispute of a channel, read from the events since `fromBlock`, or undefined.
   * @example const open = await manager.currentDispute(channelId); if (open) await manager.resolve(channelId, participants, open.record, state)
   */
  async currentDispute(channelId: Hex, opts: { fromBlock?: number } = {}): Promise<OpenDispute | undefined> {
    const provider = this.runner.provider
    if (!provider) throw new UsageError('PROVIDER_REQUIRED', 'the runner has no provider to read events from')
    try {
      return await latestDispute(provider, this.contract.interface, this.address, channelId.toLowerCase() as Hex, opts.fromBlock ?? 0)
    } catch (e) {
      throw toParleyError(e, 'currentDispute')
    }
  }
}
