/**
 * How a client takes one signed transaction the chain published (a post, a response, an entry of
 * a dispute's list): through the verification pipeline with the chain's clock, whatever its
 * height, and — when it is rejected — with the widest evidence the chain would convict on. One
 * function for the client (Engine.chainList) and the differential test, so what is tested is
 * what runs.
 */
import { ProtocolError } from '../errors/ParleyError.js'
import type { Hex, SignedTransaction, Transaction } from '../protocol/types.js'
import type { ChannelRecords } from '../store/ChannelRecords.js'
import { evidenceOf, reject, withSigners, type Evidence } from './evidence.js'
import type { ReceiveResult, Recorder, StateManager } from './StateManager.js'

/** What became of a chain-published transaction. */
export type ChainOutcome =
  | { kind: 'accepted'; result: Extract<ReceiveResult, { kind: 'accepted' }> }
  | { kind: 'held' | 'duplicate' | 'ahead' | 'skipped' }
  | { kind: 'rejected'; error: ProtocolError; evidence?: Evidence }

/**
 * Runs `entry` (with every signature the chain published on it) through `sm` as a chain
 * transaction stamped by a block at `chainTime`; what it accepts goes to `record` (the
 * Engine's; by default stored alone). A rejection's evidence covers every signer
 * (`withSigners`); a transaction at a height we hold that differs from ours and was rejected
 * without evidence (another author on a parent we do not know, say) is equivocation by whoever
 * signed both, when someone did.
 *
 * @example const out = await fromChain(sm, records, entry, ev.blockTimestamp)
 */
export async function fromChain(sm: StateManager, records: ChannelRecords, entry: SignedTransaction, chainTime?: bigint, record?: Recorder): Promise<ChainOutcome> {
  const t = entry.transaction
  const author = entry.signatures.get(t.actor)
  if (!author) return { kind: 'skipped' }
  const result = await sm.receive({ transaction: t, signature: author }, { source: 'chain', ...(chainTime === undefined ? {} : { chainTime }) }, record)
  switch (result.kind) {
    case 'accepted':
      return { kind: 'accepted', result }
    case 'held':
    case 'duplicate':
    case 'ahead':
      return { kind: result.kind }
    case 'rejected': {
      const err = result.error
      const widened = withSigners(err, entry, (d) => records.signatures(d)) as ProtocolError
      const evidence = evidenceOf(widened) ?? commonSigner(sm, records, entry)
      if (!evidence) return { kind: 'rejected', error: widened }
      const error = evidenceOf(widened) ? widened : reject('TX_EQUIVOCATION', `participant ${evidence.culprit} signed two transactions at seq ${t.seq}`, { culprit: evidence.culprit, evidence }, err)
      return { kind: 'rejected', error, evidence }
    }
  }
}

/** Equivocation by a participant that signed both our transaction at `entry`'s height and `entry`. */
function commonSigner(sm: StateManager, records: ChannelRecords, entry: SignedTransaction): Evidence | undefined {
  const t = entry.transaction
  if (t.fork !== sm.ledger.fork.fork || t.seq < 1n || t.seq > sm.ledger.head.seq) return undefined
  const held = sm.signedAt(t.seq)
  if (!held || same(held.signed.transaction, t)) return undefined
  const ours = records.signatures(held.digest)
  const culprit = [...entry.signatures.keys()].filter((i) => ours.has(i)).sort((a, b) => a - b)[0]
  if (culprit === undefined) return undefined
  return {
    kind: 'Equivocation', culprit, a: held.signed, b: { transaction: t, signature: entry.signatures.get(t.actor)! },
    aSignatures: ours, bSignatures: entry.signatures,
  }
}

function same(a: Transaction, b: Transaction): boolean {
  return a.channelId === b.channelId && a.fork === b.fork && a.seq === b.seq && a.timestamp === b.timestamp && a.actor === b.actor &&
    a.previousStateHash === b.previousStateHash && a.data.toLowerCase() === b.data.toLowerCase() && a.stateHash === b.stateHash
}
