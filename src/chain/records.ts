/**
 * A channel's record (contract struct `Channel`) as a typed value, and the pure rules a client
 * keeps it by: the manager stores only one word per channel, a commitment to the record (with
 * the phase in its two low bits), and every call about the channel re-supplies the record. The
 * client rebuilds it from the channel's events — `ChannelOpened` carries it at the open and every
 * later change is in an event — with `applyRecordEvent` (./recordEvents.ts), and {@link channelWordOf} gives the
 * word the chain must hold for it (docs/contracts.md, "One word per channel").
 */
import { AbiCoder, keccak256 } from 'ethers'
import { Phase, type DisputeRecord, type Hex } from '../protocol/types.js'

/** A channel's record (contract struct `Channel`). */
export interface ChannelRecord {
  machine: Hex
  fork: bigint
  phase: Phase
  n: number
  /** p2pTime + agreementTime + chainFallbackTime (derived; not part of the contract struct). */
  postingWindow: number
  asset: Hex
  p2pTime: number
  agreementTime: number
  chainFallbackTime: number
  challengeTime: number
  active: bigint
  slashed: bigint
  genesisTimestamp: bigint
  /** The latest move the chain has seen on this fork (a response that cancelled a timeout). */
  latestSeq: bigint
  /** keccak256 of the member list (participants ‖ session keys) every call passes. */
  participantsHash: Hex
  genesisStateHash: Hex
  locked: bigint
  bond: bigint
}

/** A channel as its events describe it: the record, and what the chain's word also commits to. */
export interface ChannelTrack {
  record: ChannelRecord
  /** The open dispute's record (phase Disputed). */
  dispute?: DisputeRecord
  /** The payouts of the latest `ChannelClosed`. */
  payouts?: bigint[]
  /** Claims recorded by `closeToClaims` / `concludeToClaims`: the payouts and the bitmap claimed so far. */
  claims?: { payouts: bigint[]; claimed: bigint }
  /** Block of the `ChannelOpened` event. */
  openedAt: number
}

const ZERO32 = `0x${'00'.repeat(32)}` as Hex
const ZERO20 = `0x${'00'.repeat(20)}` as Hex

/** The record of a channel that does not exist (phase None, every field zero). */
export const NO_CHANNEL: ChannelRecord = {
  machine: ZERO20, fork: 0n, phase: Phase.None, n: 0, postingWindow: 0, asset: ZERO20, p2pTime: 0, agreementTime: 0,
  chainFallbackTime: 0, challengeTime: 0, active: 0n, slashed: 0n, genesisTimestamp: 0n, latestSeq: 0n,
  participantsHash: ZERO32, genesisStateHash: ZERO32, locked: 0n, bond: 0n,
}

const FIELDS = [
  'machine', 'fork', 'phase', 'n', 'asset', 'p2pTime', 'agreementTime', 'chainFallbackTime', 'challengeTime', 'active', 'slashed',
  'genesisTimestamp', 'latestSeq', 'participantsHash', 'genesisStateHash', 'locked', 'bond',
] as const
/** The ABI type of the contract struct `Channel` (field order of the contract). */
export const CHANNEL_TUPLE = 'tuple(address,uint40,uint8,uint8,address,uint32,uint32,uint32,uint32,uint64,uint64,uint40,uint64,bytes32,bytes32,uint128,uint128)'
const DISPUTE_TUPLE = 'tuple(uint8,uint16,uint64,uint64,uint64,uint64,bytes32)'

/**
 * The record as the contract takes it (an ethers struct argument: the contract's fields only).
 * @example await manager.contract.getFunction('close')(id, channelStruct(record), members, state, signers, sigs)
 */
export function channelStruct(r: ChannelRecord): Record<(typeof FIELDS)[number], unknown> {
  return Object.fromEntries(FIELDS.map((k) => [k, r[k]])) as Record<(typeof FIELDS)[number], unknown>
}

/** Converts a decoded `Channel` struct (an event argument). */
export function toChannelRecord(c: Record<string, unknown>): ChannelRecord {
  const lower = (v: unknown) => String(v).toLowerCase() as Hex
  const p2pTime = Number(c.p2pTime)
  const agreementTime = Number(c.agreementTime)
  const chainFallbackTime = Number(c.chainFallbackTime)
  return {
    machine: lower(c.machine), fork: BigInt(c.fork as bigint), phase: Number(c.phase) as Phase, n: Number(c.n),
    postingWindow: p2pTime + agreementTime + chainFallbackTime, asset: lower(c.asset), p2pTime, agreementTime, chainFallbackTime,
    challengeTime: Number(c.challengeTime), active: BigInt(c.active as bigint), slashed: BigInt(c.slashed as bigint),
    genesisTimestamp: BigInt(c.genesisTimestamp as bigint), latestSeq: BigInt(c.latestSeq as bigint),
    participantsHash: lower(c.participantsHash), genesisStateHash: lower(c.genesisStateHash),
    locked: BigInt(c.locked as bigint), bond: BigInt(c.bond as bigint),
  }
}

/**
 * keccak256(abi.encode(record)) (contract `ACore._hash`).
 * @example const h = hashChannelRecord(track.record)
 */
export function hashChannelRecord(r: ChannelRecord): Hex {
  return keccak256(AbiCoder.defaultAbiCoder().encode([CHANNEL_TUPLE], [FIELDS.map((k) => r[k])])) as Hex
}

/** `hash` with its two low bits replaced by `phase` (contract `ACore._word`). */
function word(hash: string, phase: Phase): Hex {
  return `0x${((BigInt(hash) & ~3n) | BigInt(phase)).toString(16).padStart(64, '0')}` as Hex
}

/**
 * The word the manager must store for a tracked channel (compare with `channelWord(channelId)`):
 * the record's hash; while a dispute is open, the hash of that and the dispute record; after
 * claims were recorded, the hash of that, the payouts and the claimed bitmap — with the phase in
 * the low two bits.
 * @example assert.equal(channelWordOf(track), (await manager.channelWord(id)).word)
 */
export function channelWordOf(t: Pick<ChannelTrack, 'record' | 'dispute' | 'claims'>): Hex {
  const coder = AbiCoder.defaultAbiCoder()
  const h = hashChannelRecord(t.record)
  if (t.record.phase === Phase.Disputed && t.dispute) {
    const d = t.dispute
    return word(keccak256(coder.encode(['bytes32', DISPUTE_TUPLE], [h, [d.kind, d.disputer, d.seq, d.timestamp, d.deadline, d.removals, d.stateHash]])), Phase.Disputed)
  }
  if (t.record.phase === Phase.Closed && t.claims) {
    return word(keccak256(coder.encode(['bytes32', 'uint256[]', 'uint64'], [h, t.claims.payouts, t.claims.claimed])), Phase.Closed)
  }
  return word(h, t.record.phase)
}
