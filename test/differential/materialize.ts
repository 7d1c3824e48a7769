/**
 * Turns a recipe into a concrete call on the world: the base transaction or list the entry point
 * usually takes in this situation (the court's own lists: finality proofs, candidate lists,
 * checkpoints; the accused's move; the disputer's later signature; a forged or equivocating
 * move), then the recipe's edits (./builder.ts).
 */
import { bitIndices, hasBit } from '../../src/protocol/bitmap.js'
import { packSignatures } from '../../src/protocol/signatures.js'
import type { Caller, EntryCall } from '../../src/protocol/admission/index.js'
import { DisputeKind, type DisputeRecord, type Hex, type PackedSignedTransaction, type Transaction } from '../../src/protocol/types.js'
import { Builder, type Draft } from './builder.js'
import { clamp } from './mutate.js'
import { DELAYS, type CaseRecipe, type PeerRecipe } from './recipes.js'
import { adversaries, finalityProof, latestFinalKnown, type ChainState } from './situations.js'
import type { Scenario, World } from './world.js'

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!

/** A concrete call, ready to be judged. */
export interface Materialized {
  call: EntryCall
  /** msg.sender. */
  from: Hex
  /** The judging block's time. */
  time: bigint
  /** Transactions of a proof call that the contract judges invalid or equivocal (the client must not accept them as valid). */
  fraud: PackedSignedTransaction[]
}

/** The record of the open dispute (or NO_DISPUTE), as re-supplied, or altered. */
function recordArg(cs: ChainState, mode: CaseRecipe['record']): DisputeRecord {
  return mode === 'same' ? cs.record : { ...cs.record, deadline: cs.record.deadline + 1n }
}

/** The candidate hash a list names: the first entry (finality) or the last (anchored); the genesis when empty. */
function named(list: readonly PackedSignedTransaction[], anchored: boolean, genesisHash: Hex): Hex {
  if (list.length === 0) return genesisHash
  return (anchored ? list.at(-1)! : list[0]!).transaction.stateHash
}

/** Materializes a case recipe in situation `cs`. */
export async function materialize(w: World, s: Scenario, cs: ChainState, r: CaseRecipe): Promise<Materialized> {
  const b = new Builder(w, s, cs, BigInt(DELAYS[r.delay]!))
  const rec = recordArg(cs, r.record)
  const advs = adversaries(s).filter((i) => !hasBit(cs.record.kind === DisputeKind.Fraud ? cs.record.removals : 0n, i))
  const latestFinal = latestFinalKnown(s)
  const last = s.moves.length
  const authored = s.moves.filter((m) => m.tx.actor !== s.me)
  const caller = (def: number): { caller: Caller; from: Hex } => {
    const index = r.caller === 'default' ? def : r.caller === 'me' ? s.me : r.caller === 'other' ? pick(advs.length ? advs : [def], def + 1) : def
    const from = s.participants[r.caller === 'wrongIndex' ? (index + 1) % s.n : index]!
    return { caller: { index, address: from }, from }
  }
  const base = { participants: s.participants }
  const out = (call: EntryCall, from: Hex, fraud: PackedSignedTransaction[] = []): Materialized => ({ call, from, time: b.time, fraud })
  const sigOf = (d: Draft, signer: number): Hex => {
    if (d.raw) return d.raw.signatures
    const only = new Map([...d.sigs].filter(([i]) => i === signer))
    return packSignatures(only.size ? only : d.sigs).signatures
  }

  switch (r.point) {
    case 'postTransaction': {
      const withheld = s.moves.find((m) => m.withheld)
      const d = await b.single(r.tx, async () => (withheld ? b.fromMove(withheld, [withheld.tx.actor]) : b.fresh(BigInt(last))))
      return out({ point: r.point, args: { ...base, transaction: d.tx, signature: sigOf(d, d.tx.actor) } }, pick(s.participants, r.tx.at))
    }
    case 'disputeTimeout': {
      const txs = await b.list(r.list, 'anchored', last)
      const signers = txs.length ? bitIndices(txs.at(-1)!.signers).filter((i) => i !== s.me) : []
      const c = caller(signers[0] ?? advs[0] ?? 0)
      return out({ point: r.point, args: { ...base, ...c, txs, state: b.stateArg(r.state, named(txs, true, s.genesisHash)) } }, c.from)
    }
    case 'exit': {
      const proof = await b.list(r.list, 'proof', latestFinal)
      const c = caller(advs[0] ?? 0)
      return out({ point: r.point, args: { ...base, ...c, record: rec, proof, leave: r.leave, state: b.stateArg(r.state, named(proof, false, s.genesisHash)) } }, c.from)
    }
    case 'respond': {
      const accused = bitIndices(cs.record.removals)[0] ?? 0
      const def = async (): Promise<Draft> => {
        const m = s.moves[Number(cs.record.seq)]
        if (m && m.tx.actor === accused && m.tx.previousStateHash === cs.record.stateHash) return b.fromMove(m, [accused])
        return b.fresh(cs.record.seq, cs.candidateState ?? b.stateAt(cs.record.seq), cs.record.timestamp)
      }
      const d = await b.single(r.tx, def)
      const c = caller(s.me)
      return out({ point: r.point, args: { ...base, ...c, record: rec, transaction: d.tx, signature: sigOf(d, d.tx.actor) } }, c.from)
    }
    case 'answer': {
      const later = s.moves.map((_, i) => i + 1).find((k) => BigInt(k) > cs.record.seq && finalityProof(s, k)) ?? latestFinal
      const proof = await b.list(r.list, 'proof', later)
      const c = caller(s.me)
      return out({ point: r.point, args: { ...base, ...c, record: rec, proof, state: b.stateArg(r.state, named(proof, false, s.genesisHash)) } }, c.from)
    }
    case 'extend': {
      const txs = await b.list(r.list, 'anchored', last)
      const c = caller(s.me)
      return out({ point: r.point, args: { ...base, ...c, record: rec, txs, state: b.stateArg(r.state, named(txs, true, s.genesisHash)) } }, c.from)
    }
    case 'refute': {
      const disputer = cs.record.disputer
      const def = async (): Promise<Draft> => {
        const m = s.moves.find((x) => x.tx.seq > cs.record.seq && x.sigs.has(disputer))
        return m ? b.fromMove(m, [disputer]) : b.fresh(cs.record.seq, cs.candidateState ?? b.stateAt(cs.record.seq), cs.record.timestamp, disputer)
      }
      const d = await b.single(r.tx, def)
      const checkpoint = await b.list(r.list, 'proof', latestFinal)
      const c = caller(s.me)
      const args = { ...base, ...c, record: rec, transaction: d.tx, signature: sigOf(d, disputer), checkpoint, state: b.stateArg(r.state, named(checkpoint, false, s.genesisHash)) }
      return out({ point: r.point, args }, c.from)
    }
    case 'proveInvalidTransition': {
      const def = async (): Promise<Draft> => {
        const m = authored.length ? pick(authored, r.tx.at) : s.moves[0]!
        const d = b.fromMove(m, [m.tx.actor])
        return b.resign(d, { ...d.tx, stateHash: `0x${'ef'.repeat(32)}` })
      }
      const d = await b.single(r.tx, def)
      const checkpoint = await b.list(r.list, 'proof', latestFinal)
      const fraud = b.pack(d)
      const c = caller(s.me)
      const args = {
        ...base, ...c, record: rec, fraud, previousState: r.state === 'other' ? b.stateArg('other', d.tx.previousStateHash) : b.bytesOf(d.tx.previousStateHash),
        checkpoint, state: joined(b, cs, checkpoint, r),
      }
      return out({ point: r.point, args }, c.from, [fraud])
    }
    case 'proveEquivocation': {
      const m = authored.length ? pick(authored, r.tx.at) : s.moves[0]!
      const first = await b.single(r.tx, async () => b.fromMove(m, [m.tx.actor]))
      const second = await b.single(r.second, async () => b.resign(first, { ...first.tx, timestamp: clamp(first.tx.timestamp + 1n) }))
      const checkpoint = await b.list(r.list, 'proof', latestFinal)
      const c = caller(s.me)
      const pair = [b.pack(first), b.pack(second)]
      const args = { ...base, ...c, record: rec, first: pair[0]!, second: pair[1]!, checkpoint, state: joined(b, cs, checkpoint, r) }
      return out({ point: r.point, args }, c.from, pair)
    }
    case 'conclude': {
      let terminal = 0
      for (const [i, m] of s.moves.entries()) if (terminal === 0 && (await s.machineImpl.isTerminal(m.state).catch(() => false))) terminal = i + 1
      const proof = await b.list(r.list, 'proof', terminal || latestFinal)
      return out({ point: r.point, args: { ...base, proof, state: b.stateArg(r.state, named(proof, false, s.genesisHash)) } }, pick(s.participants, r.tx.at))
    }
    case 'verifyFinalityProof': {
      const proof = await b.list(r.list, 'proof', latestFinal || 1)
      return out({ point: r.point, args: { ...base, proof } }, pick(s.participants, r.tx.at))
    }
  }
}

/** A fraud proof's `state`: the checkpoint's, or (joining an open fraud dispute with a later candidate) that candidate's. */
function joined(b: Builder, cs: ChainState, checkpoint: PackedSignedTransaction[], r: CaseRecipe): Hex {
  const seq = checkpoint[0]?.transaction.seq ?? 0n
  if (r.state === 'candidate' && cs.record.kind === DisputeKind.Fraud && cs.record.seq >= seq && cs.candidateState) return cs.candidateState
  return b.stateArg(r.state, named(checkpoint, false, b.s.genesisHash))
}

/** A peer's transaction: the recipe's base (default: the next move on me's head — a withheld one if any), with its edits. */
export async function materializePeer(w: World, s: Scenario, cs: ChainState, r: PeerRecipe): Promise<{ tx: Transaction; signature: Hex; clock: bigint }> {
  const b = new Builder(w, s, cs, BigInt(r.clock))
  // An honest peer's next move, stamped with the client's clock.
  const known = s.moves.filter((m) => !m.withheld).length
  const d = await b.single(r.tx, async () => b.fresh(BigInt(known)))
  const signature = d.raw ? d.raw.signatures : packSignatures(new Map([...d.sigs].filter(([i]) => i === d.tx.actor))).signatures
  return { tx: d.tx, signature: signature.length === 132 ? signature : (`0x${'00'.repeat(65)}` as Hex), clock: b.time }
}
