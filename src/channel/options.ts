/**
 * What Channel.create / Channel.restore take, and their validation: every mistake a caller
 * can make here becomes a UsageError with a stable code and a message that says what to fix.
 */
import { SigningKey, computeAddress, isAddress, type Signer } from 'ethers'
import { consentSignerFromSigner, type ConsentSigner } from '../wallet/ConsentSigner.js'
import { UsageError, type UsageCode } from '../errors/ParleyError.js'
import type { Clock } from '../clock/Clock.js'
import type { StateMachine } from '../machine/StateMachine.js'
import type { ParleyHasher } from '../protocol/eip712.js'
import { MAX_PARTICIPANTS, type ChannelParams, type Hex } from '../protocol/types.js'
import { defaultSkew } from '../protocol/timing.js'
import { hasSessionKeys, membersOf } from '../protocol/members.js'
import type { Store } from '../store/types.js'
import type { Transport } from '../transport/Transport.js'

/** Submits a cooperative close on-chain. `ManagerClient` (src/chain) implements it. */
export interface CloseSubmitter {
  close(channelId: Hex, members: readonly Hex[], state: Hex, payouts: readonly bigint[], signatures: ReadonlyMap<number, Hex>): Promise<{ hash: Hex }>
}

/** What both create and restore need. */
export interface ChannelRuntimeOptions {
  /**
   * Our participant account: its key — an ethers Wallet (anything with `signingKey`) or a
   * SigningKey — or an external wallet: any other ethers `Signer` (a `JsonRpcSigner`, a browser
   * wallet's) or a {@link ConsentSigner} (e.g. `consentSignerFromEip1193`). It signs our close
   * consents; a key signs our moves too unless `sessionKey` is given. An external wallet signs
   * consents only (asked asynchronously, once per close), so it needs a `sessionKey`.
   */
  signer: SigningKey | { signingKey: SigningKey } | Signer | ConsentSigner
  /**
   * Our session key (`params.signers[me]`): it signs our moves and confirmations, so the
   * account only signs consents. Required when the channel has session keys; must be absent
   * otherwise.
   */
  sessionKey?: SigningKey | { signingKey: SigningKey }
  /** The channel's state machine (EvmStateMachine, or RpcStateMachine for tools). */
  machine: StateMachine
  store: Store
  /** This channel's transport; its `me` must be our participant index. */
  transport: Transport
  clock: Clock
  /** The manager deployment's EIP-712 hasher (chain id + manager address). */
  hasher: ParleyHasher
  /** Submits the cooperative close on-chain as soon as it is signed, when we called close() (the court submits it otherwise). */
  chain?: CloseSubmitter
  /** Tolerated timestamp skew in seconds (default and maximum: agreementTime / 2, at least 1). */
  skew?: bigint
  /** Sign a peer's cooperative close request on a state final for us (default true). */
  autoAcceptClose?: boolean
}

export interface ChannelCreateOptions extends ChannelRuntimeOptions {
  params: ChannelParams
  /** If given, must equal `hasher.channelId(params)`. */
  channelId?: Hex
  /** The fork-0 genesis the chain set at open (the `StateSet` event: state and block time). */
  genesis: { state: Hex; timestamp: bigint }
}

export interface ChannelRestoreOptions extends ChannelRuntimeOptions {
  channelId: Hex
}

const fail = (code: UsageCode, message: string, details?: Record<string, unknown>) => new UsageError(code, message, details ? { details } : {})

/** Our account: its key in this process, or an external wallet (which signs consents only). */
export type Account = { key: SigningKey; address: Hex; wallet?: undefined } | { key?: undefined; address: Hex; wallet: ConsentSigner }

/**
 * Our account from the `signer` option: a SigningKey or anything with one (an ethers Wallet)
 * is a key; another ethers Signer (it sends transactions) or a ConsentSigner is an external
 * wallet, whose address is asked for. UsageError `SIGNER_INVALID` for anything else.
 */
export async function accountOf(signer: ChannelRuntimeOptions['signer']): Promise<Account> {
  const key = signer instanceof SigningKey ? signer : (signer as { signingKey?: unknown } | undefined)?.signingKey
  if (key instanceof SigningKey) return { key, address: computeAddress(key.publicKey).toLowerCase() as Hex }
  const s = signer as Partial<Signer & ConsentSigner> | undefined
  if (!s || typeof s.getAddress !== 'function' || typeof s.signTypedData !== 'function') {
    throw fail('SIGNER_INVALID', 'signer must be an ethers Wallet or SigningKey, another ethers Signer, or a ConsentSigner')
  }
  const wallet = typeof s.sendTransaction === 'function' ? consentSignerFromSigner(s as Signer) : (s as ConsentSigner)
  let address: string
  try {
    address = await wallet.getAddress()
  } catch (cause) {
    throw fail('SIGNER_INVALID', `the wallet did not give its account's address: ${(cause as Error)?.message ?? String(cause)}`)
  }
  if (!isAddress(address)) throw fail('SIGNER_INVALID', `the wallet's address is not an address: ${String(address)}`)
  return { wallet, address: address.toLowerCase() as Hex }
}

/** Validates the runtime collaborators and resolves our account. */
export async function checkRuntime(o: ChannelRuntimeOptions): Promise<Account> {
  if (typeof o !== 'object' || o === null) throw fail('OPTIONS_INVALID', 'options must be an object')
  const account = await accountOf(o.signer)
  const m = o.machine as Partial<StateMachine> | undefined
  if (!m || typeof m.transition !== 'function' || typeof m.nextActor !== 'function' || typeof m.initialState !== 'function') {
    throw fail('MACHINE_INVALID', 'machine must implement StateMachine (e.g. an EvmStateMachine)')
  }
  const s = o.store as Partial<Store> | undefined
  if (!s || typeof s.putTx !== 'function' || typeof s.transaction !== 'function') throw fail('STORE_INVALID', 'store must be a SqliteStore or MemoryStore')
  const t = o.transport as Partial<Transport> | undefined
  if (!t || typeof t.send !== 'function' || typeof t.onMessage !== 'function' || !Number.isInteger(t.me)) {
    throw fail('TRANSPORT_INVALID', 'transport must implement Transport (e.g. MemoryHub.connect(index))')
  }
  if (!o.clock || typeof o.clock.now !== 'function') throw fail('CLOCK_INVALID', 'clock must implement Clock (e.g. LogicalClock)')
  const h = o.hasher as Partial<ParleyHasher> | undefined
  if (!h || typeof h.transaction !== 'function' || typeof h.channelId !== 'function') {
    throw fail('HASHER_INVALID', 'hasher must be the ParleyHasher of the manager deployment')
  }
  if (o.skew !== undefined && (typeof o.skew !== 'bigint' || o.skew < 1n)) throw fail('SKEW_INVALID', 'skew must be a bigint ≥ 1 (seconds)')
  return account
}

/** Validates channel parameters as the contract would at open (so mistakes surface early). */
export function checkParams(p: ChannelParams): void {
  if (typeof p !== 'object' || p === null) throw fail('PARAMS_INVALID', 'params must be a ChannelParams object')
  const n = Array.isArray(p.participants) ? p.participants.length : -1
  if (n < 2 || n > MAX_PARTICIPANTS) throw fail('PARAMS_INVALID', `a channel has 2..${MAX_PARTICIPANTS} participants, got ${n}`, { field: 'participants' })
  const seen = new Set<string>()
  p.participants.forEach((a, i) => {
    if (!isAddress(a) || BigInt(a) === 0n) throw fail('PARAMS_INVALID', `participant ${i} is not a non-zero address`, { field: 'participants', index: i })
    if (seen.has(a.toLowerCase())) throw fail('PARAMS_INVALID', `participant ${i} appears twice`, { field: 'participants', index: i })
    seen.add(a.toLowerCase())
  })
  const signers = p.signers ?? []
  if (!Array.isArray(signers) || (signers.length !== 0 && signers.length !== n)) {
    throw fail('PARAMS_INVALID', `signers must be empty or one per participant (${n})`, { field: 'signers' })
  }
  signers.forEach((a, i) => {
    if (!isAddress(a) || BigInt(a) === 0n) throw fail('PARAMS_INVALID', `signer ${i} is not a non-zero address`, { field: 'signers', index: i })
    if (seen.has(a.toLowerCase())) throw fail('PARAMS_INVALID', `signer ${i} is a participant or another participant's signer`, { field: 'signers', index: i })
    seen.add(a.toLowerCase())
  })
  if (!isAddress(p.machine)) throw fail('PARAMS_INVALID', 'machine must be an address', { field: 'machine' })
  if (!isAddress(p.asset)) throw fail('PARAMS_INVALID', 'asset must be an address (0x0 for ETH)', { field: 'asset' })
  if (!Array.isArray(p.deposits) || p.deposits.length !== n || p.deposits.some((d) => typeof d !== 'bigint' || d < 0n)) {
    throw fail('PARAMS_INVALID', `deposits must be ${n} non-negative bigints`, { field: 'deposits' })
  }
  if (typeof p.bond !== 'bigint' || p.bond < 0n) throw fail('PARAMS_INVALID', 'bond must be a non-negative bigint', { field: 'bond' })
  for (const f of ['p2pTime', 'agreementTime', 'chainFallbackTime', 'challengeTime'] as const) {
    if (!Number.isInteger(p[f]) || p[f] < 1 || p[f] > 30 * 86400) throw fail('PARAMS_INVALID', `${f} must be 1 s .. 30 days, got ${p[f]}`, { field: f })
  }
  if (typeof p.salt !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(p.salt)) throw fail('PARAMS_INVALID', 'salt must be 32-byte hex', { field: 'salt' })
  if (typeof p.initData !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(p.initData)) throw fail('PARAMS_INVALID', 'initData must be hex', { field: 'initData' })
  if (typeof p.openDeadline !== 'bigint' || p.openDeadline < 0n || p.openDeadline >= 1n << 64n) {
    throw fail('PARAMS_INVALID', 'openDeadline must be a uint64 bigint (seconds)', { field: 'openDeadline' })
  }
}

/**
 * Our clock tolerance for peers' timestamps: at most the channel's skew, which the contract
 * applies to block time, so nothing we accept from a peer is refused on-chain for its time.
 */
export function checkSkew(skew: bigint | undefined, p: ChannelParams): bigint {
  const max = defaultSkew(p.agreementTime)
  if (skew === undefined) return max
  if (skew > max) throw fail('SKEW_TOO_LARGE', `skew ${skew} s exceeds the channel's ${max} s (agreementTime / 2): the chain would refuse what we accept`, { skew, max })
  return skew
}

/**
 * The key that signs our moves and confirmations: `sessionKey`, which must be
 * `params.signers[me]`, or our account's `key` when the channel has no session keys
 * (UsageError `SIGNER_MISMATCH`, `SIGNER_REQUIRED`, `SIGNER_INVALID`).
 */
export function sessionKeyOf(option: ChannelRuntimeOptions['sessionKey'], params: ChannelParams, me: number, key: SigningKey | undefined): SigningKey {
  const expected = membersOf(params)[me]!
  if (key === undefined && !hasSessionKeys(params)) {
    throw fail('SIGNER_REQUIRED', 'our account is an external wallet, which signs consents only, and this channel has no session keys (params.signers) to sign its moves: open it with session keys, or give the account as a key', { expected })
  }
  if (option === undefined) {
    if (hasSessionKeys(params)) {
      const why = key === undefined ? ' (an external wallet signs consents only, not the moves)' : ''
      throw fail('SIGNER_REQUIRED', `this channel has session keys: pass participant ${me}'s (${expected}) as sessionKey${why}`, { expected })
    }
    return key!
  }
  const session = option instanceof SigningKey ? option : (option as { signingKey?: unknown } | undefined)?.signingKey
  if (!(session instanceof SigningKey)) throw fail('SIGNER_INVALID', 'sessionKey must be an ethers Wallet or SigningKey')
  const address = computeAddress(session.publicKey).toLowerCase()
  if (address !== expected) throw fail('SIGNER_MISMATCH', `the session key ${address} is not participant ${me}'s signer (${expected})`, { expected, address })
  return session
}

/** Our index in the participant list; UsageError `SIGNER_NOT_PARTICIPANT` if absent. */
export function indexOf(params: ChannelParams, address: Hex): number {
  const me = params.participants.findIndex((p) => p.toLowerCase() === address)
  if (me < 0) throw fail('SIGNER_NOT_PARTICIPANT', `the signer ${address} is not a participant of this channel`, { address })
  return me
}

/** Validates the genesis shape. */
export function checkGenesis(g: ChannelCreateOptions['genesis']): void {
  if (typeof g !== 'object' || g === null || typeof g.state !== 'string' || !/^0x([0-9a-fA-F]{2})*$/.test(g.state) || typeof g.timestamp !== 'bigint') {
    throw fail('GENESIS_INVALID', 'genesis must be { state: Hex, timestamp: bigint } — the StateSet event of the open')
  }
}
