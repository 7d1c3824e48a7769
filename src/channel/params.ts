/**
 * Channel parameters with documented defaults: one place for the time parameters
 * (docs/protocol.md §5) instead of a copy in every caller.
 */
import { getAddress, hexlify, isHexString, randomBytes } from 'ethers'
import { UsageError } from '../errors/ParleyError.js'
import { openDeadline as deadlineFrom } from '../protocol/timing.js'
import { ETH, MAX_PARTICIPANTS, type ChannelParams, type Hex } from '../protocol/types.js'

/** The four time parameters of a channel, in seconds. */
export type ChannelTimes = Pick<ChannelParams, 'p2pTime' | 'agreementTime' | 'chainFallbackTime' | 'challengeTime'>

/**
 * Default time parameters (seconds): 60 s for the next actor to broadcast its move, 30 s more
 * for the confirmations, 120 s more to post it on-chain, and a 300 s challenge period. Fit for
 * people on a chain with blocks every few seconds; a bot-driven channel can go much lower, a
 * slow or congested chain needs a longer `chainFallbackTime` and `challengeTime`.
 * @example const params = channelParams({ ..., times: { ...defaultTimes, challengeTime: 3600 } })
 */
export const defaultTimes: Readonly<ChannelTimes> = Object.freeze({ p2pTime: 60, agreementTime: 30, chainFallbackTime: 120, challengeTime: 300 })

/** What {@link channelParams} needs; everything but the participants, machine and deposits has a default. */
export interface ChannelParamsInput {
  /** Participant addresses in order: the index is each one's identity in the channel. */
  participants: readonly string[]
  /** The state machine contract. */
  machine: string
  /** Each participant's deposit, in the asset's smallest unit. */
  deposits: readonly bigint[]
  /** ETH (default) or an ERC-20 token address. */
  asset?: string
  /** Locked by every participant on top of its deposit, slashed from a cheater (default 0). */
  bond?: bigint
  /** Time parameters; each missing one is {@link defaultTimes}'. */
  times?: Partial<ChannelTimes>
  /** 32 bytes that make the channel id unique (default: random). */
  salt?: string
  /** The machine's `initialState` input (default `0x`). */
  initData?: string
  /**
   * Chain time (seconds) now; the consents are valid until `now + CONSENT_VALIDITY` (one day).
   * Default: this computer's clock. Pass the latest block's timestamp when the chain's time
   * differs (a devnet after time travel).
   */
  now?: bigint
  /** The open deadline itself, instead of one computed from `now`. */
  openDeadline?: bigint
  /**
   * Session keys, one per participant (`createSessionKey().address`): they sign the moves and
   * confirmations, the participants' wallets only the consents. Default: none (each wallet
   * signs everything itself).
   */
  signers?: readonly string[]
}

const isUint = (n: unknown, max: number) => Number.isInteger(n) && (n as number) > 0 && (n as number) <= max

function address(what: string, value: unknown): Hex {
  if (typeof value !== 'string' || !isHexString(value, 20)) throw new UsageError('PARAMS_INVALID', `${what} must be a 20-byte hex address, got ${JSON.stringify(value)}`)
  return getAddress(value).toLowerCase() as Hex
}

/**
 * Channel params with documented defaults, checked: 2..64 distinct participants, one
 * non-negative deposit each, positive integer times (UsageError `PARAMS_INVALID`).
 * @example
 * const params = channelParams({ participants: [alice.address, bob.address], machine: payments, deposits: [ONE, ONE] })
 * // ETH, no bond, defaultTimes, a random salt, consents valid for a day
 */
export function channelParams(input: ChannelParamsInput): ChannelParams {
  if (!input || typeof input !== 'object') throw new UsageError('PARAMS_INVALID', 'channelParams needs { participants, machine, deposits }')
  const { participants: ps, deposits } = input
  if (!Array.isArray(ps) || ps.length < 2 || ps.length > MAX_PARTICIPANTS) {
    throw new UsageError('PARAMS_INVALID', `a channel has 2..${MAX_PARTICIPANTS} participants, got ${Array.isArray(ps) ? ps.length : typeof ps}`)
  }
  const participants = ps.map((p, i) => address(`participant #${i}`, p))
  if (new Set(participants).size !== participants.length) throw new UsageError('PARAMS_INVALID', 'a participant appears twice')
  if (!Array.isArray(deposits) || deposits.length !== participants.length) {
    throw new UsageError('PARAMS_INVALID', `one deposit per participant: ${participants.length} participants, ${Array.isArray(deposits) ? deposits.length : 0} deposits`)
  }
  deposits.forEach((d, i) => {
    if (typeof d !== 'bigint' || d < 0n) throw new UsageError('PARAMS_INVALID', `deposit #${i} must be a non-negative bigint, got ${String(d)}`)
  })
  const bond = input.bond ?? 0n
  if (typeof bond !== 'bigint' || bond < 0n) throw new UsageError('PARAMS_INVALID', `bond must be a non-negative bigint, got ${String(bond)}`)
  const times = { ...defaultTimes, ...(input.times ?? {}) }
  for (const [k, v] of Object.entries(times)) {
    if (!isUint(v, 0xffffffff)) throw new UsageError('PARAMS_INVALID', `${k} must be a positive integer number of seconds, got ${String(v)}`)
  }
  const salt = input.salt ?? hexlify(randomBytes(32))
  if (!isHexString(salt, 32)) throw new UsageError('PARAMS_INVALID', `salt must be 32 bytes of hex, got ${JSON.stringify(salt)}`)
  const initData = input.initData ?? '0x'
  if (!isHexString(initData)) throw new UsageError('PARAMS_INVALID', `initData must be hex, got ${JSON.stringify(initData)}`)
  const signers = (input.signers ?? []).map((p, i) => address(`signer #${i}`, p))
  if (signers.length !== 0 && signers.length !== participants.length) {
    throw new UsageError('PARAMS_INVALID', `one signer per participant or none: ${participants.length} participants, ${signers.length} signers`)
  }
  if (new Set([...participants, ...signers]).size !== participants.length + signers.length) {
    throw new UsageError('PARAMS_INVALID', 'a signer is a participant or appears twice')
  }
  const deadline = input.openDeadline ?? deadlineFrom(input.now ?? BigInt(Math.floor(Date.now() / 1000)))
  return {
    participants,
    ...(signers.length > 0 ? { signers } : {}),
    machine: address('machine', input.machine),
    asset: input.asset === undefined ? ETH : address('asset', input.asset),
    deposits: [...deposits],
    bond,
    p2pTime: times.p2pTime,
    agreementTime: times.agreementTime,
    chainFallbackTime: times.chainFallbackTime,
    challengeTime: times.challengeTime,
    salt: salt.toLowerCase() as Hex,
    initData: initData.toLowerCase() as Hex,
    openDeadline: deadline,
  }
}
