/**
 * The manager's stored channel record (contract struct `Channel`) as a typed value.
 */
import type { Hex, Phase } from '../protocol/types.js'

/** The stored record of a channel (contract struct `Channel`). */
export interface ChannelRecord {
  machine: Hex
  fork: bigint
  phase: Phase
  n: number
  /** p2pTime + agreementTime + chainFallbackTime. */
  postingWindow: number
  asset: Hex
  p2pTime: number
  agreementTime: number
  chainFallbackTime: number
  active: bigint
  slashed: bigint
  genesisTimestamp: bigint
  challengeTime: number
  /** The latest move the chain has seen on this fork (a response that cancelled a timeout). */
  latestSeq: bigint
  /** keccak256 of the participant list; while a dispute is open, the commitment to it (see protocol/disputes). */
  participantsHash: Hex
  genesisStateHash: Hex
  locked: bigint
  bond: bigint
}

/** Converts the decoded `getChannel` result. */
export function toChannelRecord(c: Record<string, unknown>): ChannelRecord {
  const lower = (v: unknown) => String(v).toLowerCase() as Hex
  return {
    machine: lower(c.machine), fork: BigInt(c.fork as bigint), phase: Number(c.phase) as Phase, n: Number(c.n),
    postingWindow: Number(c.postingWindow), asset: lower(c.asset), p2pTime: Number(c.p2pTime), agreementTime: Number(c.agreementTime),
    chainFallbackTime: Number(c.chainFallbackTime), active: BigInt(c.active as bigint),
    slashed: BigInt(c.slashed as bigint), genesisTimestamp: BigInt(c.genesisTimestamp as bigint),
    challengeTime: Number(c.challengeTime), latestSeq: BigInt(c.latestSeq as bigint), participantsHash: lower(c.participantsHash),
    genesisStateHash: lower(c.genesisStateHash), locked: BigInt(c.locked as bigint), bond: BigInt(c.bond as bigint),
  }
}
