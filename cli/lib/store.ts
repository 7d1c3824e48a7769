/**
 * A participant's local view of a channel, read straight from its SQLite store (the same file
 * `parley run` keeps): phase, fork, latest and latest final state. Read-only: safe next to a
 * running peer (SQLite WAL readers do not block the writer).
 */
import { existsSync } from 'node:fs'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import { bitIndices, bitmapOf } from '../../src/protocol/bitmap.js'
import { checkFinalityProof, latestFinal, proofLength } from '../../src/protocol/finality.js'
import { packSignedTransaction } from '../../src/protocol/signatures.js'
import type { Hex, PackedSignedTransaction } from '../../src/protocol/types.js'
import { argError } from './errors.js'

export interface LocalView {
  me: number
  phase: string
  fork: bigint
  active: bigint
  disputed: boolean
  seq: bigint
  state: Hex
  stateHash: Hex
  finalSeq: bigint
  finalState: Hex
  finalStateHash: Hex
}

/**
 * Opens an existing store (ArgumentError `FILE_NOT_FOUND` rather than creating an empty one).
 * @example const store = openExistingStore('alice.db')
 */
export function openExistingStore(path: string): SqliteStore {
  if (!existsSync(path)) throw argError('FILE_NOT_FOUND', `store ${path} does not exist (it is created by \`parley run --store\`)`, { path })
  return new SqliteStore(path)
}

/** The channel as the store holds it; undefined when the store does not know the channel. */
export function readLocalView(store: SqliteStore, channelId: Hex): LocalView | undefined {
  const record = store.getChannel(channelId)
  const fork = store.getForks(channelId).at(-1)
  if (!record || !fork) return undefined
  // The stored hint is a lower bound of the final seq (written with each tx); finality itself
  // follows from the signatures of the txs after it, by the protocol's rule.
  const hint = BigInt(store.getMeta(channelId, `final:${fork.fork}`) ?? '0')
  const run = store.getTxs(channelId, fork.fork, hint > 0n ? hint : 1n)
  const k = latestFinal(run.map((r) => bitmapOf(store.getSignatures(channelId, r.digest).keys())), fork.active)
  const final = k >= 0 ? run[k] : hint > 0n ? run[0] : undefined
  const finalSeq = final?.transaction.seq ?? 0n
  const head = run.at(-1)
  return {
    me: record.me, phase: store.getMeta(channelId, 'phase') ?? 'open', fork: fork.fork, active: fork.active, disputed: fork.disputed,
    seq: head?.transaction.seq ?? 0n, state: head?.state ?? fork.state, stateHash: head?.transaction.stateHash ?? fork.stateHash,
    finalSeq: final ? finalSeq : 0n, finalState: final?.state ?? fork.state, finalStateHash: final?.transaction.stateHash ?? fork.stateHash,
  }
}

/** A finality proof of the latest final transaction of the store's current fork. */
export interface StoredProof {
  fork: bigint
  seq: bigint
  state: Hex
  proof: PackedSignedTransaction[]
}

/**
 * The finality proof `conclude` needs, built from the store alone (no running peer): the latest
 * final transaction of the current fork and the linked ones after it whose signatures cover
 * every active participant, checked with the contract's rule before it is returned. Undefined
 * when no transaction of the fork is final yet (only its genesis).
 * @example const p = storedFinalityProof(store, channelId); if (p) await manager.conclude(id, participants, p.proof, p.state)
 */
export function storedFinalityProof(store: SqliteStore, channelId: Hex): StoredProof | undefined {
  const fork = store.getForks(channelId).at(-1)
  if (!fork) return undefined
  const run = store.getTxs(channelId, fork.fork, 1n)
  const signatures = run.map((r) => store.getSignatures(channelId, r.digest))
  const signers = signatures.map((sigs) => bitmapOf(sigs.keys()))
  const k = latestFinal(signers, fork.active)
  if (k < 0) return undefined
  const span = proofLength(signers, k, fork.active)
  const active = bitIndices(fork.active)
  const proof = run.slice(k, k + span).map((r, i) => packSignedTransaction({ transaction: r.transaction, signatures: signatures[k + i]! }, active))
  const verdict = checkFinalityProof({ channelId, fork: fork.fork, active: fork.active }, proof)
  if (!verdict.final) return undefined
  return { fork: fork.fork, seq: run[k]!.transaction.seq, state: run[k]!.state, proof }
}
