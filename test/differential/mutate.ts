/**
 * Pure edits of transactions and signature sets (the field-by-field mutations of the
 * differential run, usable by any search): every field to values around its bounds, and every
 * way a signature set can be wrong.
 */
import type { SigningKey } from 'ethers'
import { hasBit } from '../../src/protocol/bitmap.js'
import { packSignatures, signDigest } from '../../src/protocol/signatures.js'
import type { Hex, PackedSignedTransaction, Transaction } from '../../src/protocol/types.js'
import { highS, withV } from '../helpers/sigs.js'
import { TIMESTAMPS, type Mutation, type SigEdit } from './recipes.js'

const U64 = (1n << 64n) - 1n

/** What a transaction's special values are computed from. */
export interface Bounds {
  /** Another open channel's id. */
  otherChannelId: Hex
  n: number
  me: number
  active: bigint
  genesisTs: bigint
  genesisHash: Hex
  /** The timestamp the transaction's floor is (its parent's, or the previous list entry's). */
  parentTs: bigint
  blockTime: bigint
  /** blockTime + the channel's skew. */
  latest: bigint
  /** The hash of the state two moves back (or the genesis'). */
  grandparentHash: Hex
  /** A real state's hash other than this transaction's. */
  otherStateHash: Hex
  /** The hash of bytes no machine decodes ({@link GARBAGE}). */
  garbageHash: Hex
  /** Hashes of invented states (a theft of every payout; payouts above the locked deposits). */
  inventedHashes: readonly Hex[]
  /** Move data the machine accepts here, and data it refuses. */
  goodData: readonly Hex[]
  badData: readonly Hex[]
}

/** State bytes no example machine decodes. */
export const GARBAGE: Hex = '0xdeadbeef'

const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!
/** `v` within uint64. */
export const clamp = (v: bigint): bigint => (v < 0n ? 0n : v > U64 ? U64 : v)

/** The `variant`-th special timestamp (see TIMESTAMPS). */
export function timestampOf(variant: number, t: Transaction, b: Bounds): bigint {
  const at: Record<(typeof TIMESTAMPS)[number], bigint> = {
    parentMinus1: b.parentTs - 1n, parent: b.parentTs, genesisMinus1: b.genesisTs - 1n, genesis: b.genesisTs,
    latest: b.latest, latestPlus1: b.latest + 1n, max: U64, zero: 0n, blockTime: b.blockTime, plus1: t.timestamp + 1n,
  }
  return clamp(at[pick(TIMESTAMPS, variant)])
}

/** `t` with one field set to its `variant`-th special value. */
export function mutateTransaction(t: Transaction, m: Extract<Mutation, { kind: 'field' }>, b: Bounds): Transaction {
  const v = m.variant
  const firstInactive = Array.from({ length: b.n }, (_, i) => i).find((i) => !hasBit(b.active, i)) ?? b.n
  switch (m.field) {
    case 'channelId':
      return { ...t, channelId: pick([b.otherChannelId, `0x${'ab'.repeat(32)}` as Hex], v) }
    case 'fork':
      return { ...t, fork: clamp(pick([t.fork + 1n, t.fork === 0n ? 2n : t.fork - 1n, U64], v)) }
    case 'seq':
      return { ...t, seq: clamp(pick([0n, t.seq + 1n, t.seq === 0n ? 0n : t.seq - 1n, U64, t.seq + 2n], v)) }
    case 'timestamp':
      return { ...t, timestamp: timestampOf(v, t, b) }
    case 'actor':
      // The last variant: another adversary as author, on a parent nobody knows (a height held by another author, on an unknown branch).
      if (v % 6 === 5) {
        const other = Array.from({ length: b.n }, (_, k) => (t.actor + 1 + k) % b.n).find((i) => i !== t.actor && i !== b.me && hasBit(b.active, i))
        return { ...t, actor: other ?? (t.actor + 1) % b.n, previousStateHash: `0x${'cd'.repeat(32)}` }
      }
      return { ...t, actor: pick([(t.actor + 1) % b.n, firstInactive, b.n, 65535, b.me], v) }
    case 'previousStateHash':
      return { ...t, previousStateHash: pick([`0x${'cd'.repeat(32)}` as Hex, b.genesisHash, b.grandparentHash, t.stateHash], v) }
    case 'data':
      return { ...t, data: pick([`0x${'a5'.repeat(4096)}` as Hex, `0x${'a5'.repeat(4097)}` as Hex, ...b.goodData, ...b.badData, '0x' as Hex], v) }
    case 'stateHash':
      return { ...t, stateHash: pick([`0x${'ef'.repeat(32)}` as Hex, b.otherStateHash, b.garbageHash, b.genesisHash, ...b.inventedHashes], v) }
  }
}

/** Keys the signature edits sign with. */
export interface SigKeys {
  /** By participant index (every participant of the channel, removed ones included). */
  participants: readonly SigningKey[]
  /** Nobody's key in this channel. */
  outsider: SigningKey
  me: number
  active: bigint
}

/**
 * The packed signature set of `tx` after `edit` of `sigs` (valid signatures by index). `who`
 * picks which signer or which extra participant.
 */
export function mutateSignatures(tx: Transaction, digest: Hex, sigs: ReadonlyMap<number, Hex>, edit: SigEdit, who: number, k: SigKeys): PackedSignedTransaction {
  const out = new Map(sigs)
  const present = [...out.keys()].sort((a, b) => a - b)
  const target = present.length ? pick(present, who) : undefined
  const n = k.participants.length
  const base = (): PackedSignedTransaction => ({ transaction: tx, ...packSignatures(out) })
  switch (edit) {
    case 'dropAuthor':
      out.delete(tx.actor)
      return base()
    case 'addSigner': {
      const extra = Array.from({ length: n }, (_, i) => i).filter((i) => hasBit(k.active, i) && i !== k.me && !out.has(i))
      if (extra.length) out.set(pick(extra, who), signDigest(k.participants[pick(extra, who)]!, digest))
      return base()
    }
    case 'addInactive': {
      // A removed participant's valid signature, or (none removed) a bit past the last participant.
      const removed = Array.from({ length: n }, (_, i) => i).find((i) => !hasBit(k.active, i))
      const i = removed ?? n
      const p = base()
      const sig = signDigest(removed === undefined ? k.outsider : k.participants[i]!, digest)
      if (removed !== undefined) {
        out.set(i, sig)
        return base()
      }
      return { transaction: tx, signers: p.signers | (1n << BigInt(i)), signatures: `${p.signatures}${sig.slice(2)}` as Hex }
    }
    case 'wrongKey':
      if (target !== undefined) out.set(target, signDigest(k.participants[(target + 1) % n]!, digest))
      return base()
    case 'foreignKey':
      if (target !== undefined) out.set(target, signDigest(k.outsider, digest))
      return base()
    case 'malleable':
      if (target !== undefined) out.set(target, highS(out.get(target)!))
      return base()
    case 'badV':
      if (target !== undefined) out.set(target, withV(out.get(target)!, 29))
      return base()
    case 'truncate': {
      const p = base()
      return { ...p, signatures: (p.signatures.length > 2 ? p.signatures.slice(0, -2) : '0x00') as Hex }
    }
    case 'dropAll':
      return { transaction: tx, signers: 0n, signatures: '0x' }
  }
}
