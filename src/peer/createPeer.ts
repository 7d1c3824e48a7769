/**
 * createPeer: one participant's complete client for one channel, wired from the public parts
 * the way every application needs them — the machine's deployed bytecode in the local EVM
 * under the chain's hardfork (detected at start, checked against the caller's), a
 * logical clock that follows the chain's blocks, a P2PManager and HyperswarmTransport for the
 * peers, the Channel (created from the chain's genesis, or restored from the store), and a
 * ChainListener with the court attached, so chain events reach the channel and disputes are
 * raised, answered and resolved by themselves. The CLI's `parley run` and the demo use it.
 */
import { BrowserProvider, SigningKey, concat, keccak256, toUtf8Bytes, type Provider, type Signer, type Wallet } from 'ethers'
import { ChainListener } from '../chain/ChainListener.js'
import { defaultConfirmations } from '../chain/confirmations.js'
import { findGenesis, type Genesis } from '../chain/genesis.js'
import type { ManagerClient } from '../chain/ManagerClient.js'
import { Channel } from '../channel/Channel.js'
import { sessionKeyOf } from '../channel/options.js'
import type { Clock } from '../clock/Clock.js'
import { LogicalClock } from '../clock/LogicalClock.js'
import { attachCourt, type Court, type CourtOptions } from '../dispute/attachCourt.js'
import { RuntimeError, UsageError } from '../errors/ParleyError.js'
import type { Hardfork } from '../chain/hardfork.js'
import type { EvmStateMachine } from '../machine/EvmStateMachine.js'
import { HyperswarmTransport } from '../net/HyperswarmTransport.js'
import { P2PManager, type P2PManagerOptions } from '../net/P2PManager.js'
import { membersOf } from '../protocol/members.js'
import type { ChannelParams, Hex } from '../protocol/types.js'
import type { Store } from '../store/types.js'
import { loadMachine } from './loadMachine.js'
import { consentSignerFromEip1193, type ConsentSigner, type Eip1193Provider } from '../wallet/ConsentSigner.js'

/** An account behind an EIP-1193 provider (a browser wallet's `window.ethereum`, a node's unlocked account). */
export interface Eip1193Account {
  eip1193: Eip1193Provider
  /** The account's address (e.g. `(await eip1193.request({ method: 'eth_requestAccounts' }))[0]`). */
  address: string
}

export interface CreatePeerOptions {
  /**
   * Our participant key, connected to a provider: it sends (and pays for) our court calls,
   * signs our close consents, and signs our moves too when the channel has no session keys.
   * Give either this or `account`.
   */
  wallet?: Wallet
  /**
   * Our participant account as an external wallet, instead of `wallet`: an ethers `Signer`
   * connected to a provider (a `JsonRpcSigner`, `await new BrowserProvider(window.ethereum).getSigner()`,
   * a hardware signer), or an EIP-1193 provider and the account's address. It sends our court
   * calls and signs our close consents (`eth_signTypedData_v4`, asked once per close, without
   * holding the channel); it never signs a move, so `sessionKey` is required and the channel
   * must have been opened with session keys (UsageError `SIGNER_REQUIRED` otherwise).
   */
  account?: Signer | Eip1193Account
  /**
   * Our session key (`params.signers[me]`, see `createSessionKey`): it signs our moves and
   * confirmations and proves our identity to the peers, so the wallet signs only on-chain
   * transactions and consents. Required when the channel has session keys.
   */
  sessionKey?: Wallet | SigningKey
  /** The manager the channel lives on (connected to `wallet` here). */
  manager: ManagerClient
  channelId: Hex
  /** The channel's params; required unless the store already holds the channel. */
  params?: ChannelParams
  /** The fork-0 genesis (the open's `StateSet`); read from the chain when absent. */
  genesis?: Genesis
  /** Where the channel lives (the caller owns it and closes it after {@link Peer.stop}). */
  store: Store
  /** Network options; `seed` defaults to one derived from our key and the channel. */
  net?: P2PManagerOptions
  /** keccak256 of the machine's runtime code, checked against the chain's. */
  machineCodeHash?: Hex
  /**
   * The hardfork the caller expects the chain to run (e.g. the deployment file's). The peer
   * always detects the chain's and runs the machine under it; when this is given and differs,
   * it refuses to start (`HARDFORK_MISMATCH`) rather than trust either side.
   */
  hardfork?: Hardfork
  /** Default: a {@link LogicalClock} fed by the listener's blocks. */
  clock?: Clock
  /** Chain poll interval in ms (default 1000). */
  pollMs?: number
  /**
   * Largest block range of one `eth_getLogs` (default 2000): the listener's scans and the court's
   * reads of the channel's record stay within it. Public RPCs often cap it lower (e.g. 500 or 1000).
   */
  maxBlockRange?: number
  /**
   * Blocks on top of an event's block before the client acts on it, and of the open's block
   * before a new channel is played on (default: {@link defaultConfirmations} of the chain: 0 on
   * anvil and hardhat, 12 elsewhere).
   */
  confirmations?: number
  /**
   * First block to search for the channel's opening (default 0); the listener starts at the
   * open's block (or here, for a restored channel whose store holds no cursor).
   */
  fromBlock?: number
  /** Court behaviour: `policy` (post, timeout, relayAfter, autoWithdraw) and `autoMove`. */
  court?: Pick<CourtOptions, 'policy' | 'autoMove'>
}

/** A running peer. */
export interface Peer {
  channel: Channel
  court: Court
  transport: HyperswarmTransport
  listener: ChainListener
  p2p: P2PManager
  machine: EvmStateMachine
  clock: Clock
  /** True when the channel was restored from the store (a restart). */
  restored: boolean
  /**
   * Our next move, by the right road (the court's `propose`): to the peers while our broadcast
   * window is open, posted on-chain after it, or as our answer when a timeout accuses us.
   * `via` says which. (`channel.propose` is the off-chain road alone: it throws UsageError
   * `BROADCAST_WINDOW_PASSED` once the window has passed.)
   */
  propose: Court['propose']
  /** Stops the court, the listener, the channel and the network (not the store). Idempotent. */
  stop(): Promise<void>
}

/**
 * Starts our peer of `channelId`. Everything started is stopped again if a later step fails.
 * Errors: UsageError `OPTIONS_INVALID` (not exactly one of `wallet` and `account`),
 * `WALLET_INVALID` (an account that is neither form), `SIGNER_REQUIRED` (an external account
 * without a session key, or on a channel without session keys), `PARAMS_REQUIRED` (a new channel without params), `CHANNEL_ID_MISMATCH`,
 * `CHANNEL_NOT_OPENED`, `HARDFORK_INVALID`, the Channel's and the network's own; ProtocolError
 * `MACHINE_CODE_MISMATCH` when the chain's machine is not the expected code, `HARDFORK_MISMATCH`
 * (`details`: `{ expected, chain }`) when the chain does not run `hardfork`; RuntimeError
 * `HARDFORK_UNSUPPORTED` when the client EVM cannot run the chain's hardfork.
 *
 * @example
 * const peer = await createPeer({
 *   wallet, manager, channelId, params, store: new SqliteStore('alice.db'),
 *   net: { bootstrap: testnet.bootstrap, host: '127.0.0.1' },
 * })
 * peer.channel.on('final', (f) => console.log('final', f.seq))
 * peer.court.on('slashed', ({ index }) => console.log(`participant ${index} slashed`))
 * const { transaction, via } = await peer.propose(move)   // via: 'peers' | 'chain' | 'response'
 * // A browser wallet as the account (it sends the court's calls and signs the close consent):
 * // createPeer({ account: await new BrowserProvider(window.ethereum).getSigner(), sessionKey, manager, channelId, params, store })
 * // … later
 * await peer.stop()
 */
export async function createPeer(o: CreatePeerOptions): Promise<Peer> {
  const { sender, consents } = await accountOf(o)
  const provider = sender.provider
  if (!provider) throw new UsageError('PROVIDER_REQUIRED', `createPeer needs ${o.wallet ? 'a wallet' : 'an account'} connected to a provider`)
  if (typeof o.channelId !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(o.channelId)) throw new UsageError('CHANNEL_ID_INVALID', 'channelId must be 32-byte hex')
  const channelId = o.channelId.toLowerCase() as Hex
  const record = o.store.getChannel(channelId)
  const params = record?.params ?? o.params
  if (!params) throw new UsageError('PARAMS_REQUIRED', `the store holds no channel ${channelId}: pass its params to create it`)
  const manager = o.manager.connect(sender)
  const hasher = await manager.hasher()
  if (hasher.channelId(params) !== channelId) {
    throw new UsageError('CHANNEL_ID_MISMATCH', 'channelId does not match the params on this manager and chain', { details: { channelId } })
  }
  const address = await addressOf(sender)
  const me = params.participants.findIndex((p) => p.toLowerCase() === address)
  if (me < 0) throw new UsageError('SIGNER_NOT_PARTICIPANT', `${address} is not a participant of channel ${channelId}`)
  // Our in-channel signer: the session key (checked against params.signers[me]) or the wallet's key.
  const sessionKey = sessionKeyOf(o.sessionKey, params, me, o.wallet?.signingKey)

  const cleanup: (() => Promise<void> | void)[] = []
  const stop = async () => {
    for (const f of cleanup.splice(0).reverse()) await Promise.resolve(f()).catch(() => {})
  }
  try {
    // First: nothing else is worth starting if the local EVM cannot follow the chain.
    const machine = await loadMachine({
      provider, address: params.machine,
      ...(o.machineCodeHash ? { expectedCodeHash: o.machineCodeHash } : {}), ...(o.hardfork !== undefined ? { hardfork: o.hardfork } : {}),
    })
    const confirmations = o.confirmations ?? defaultConfirmations((await provider.getNetwork()).chainId)
    if (!Number.isInteger(confirmations) || confirmations < 0) throw new UsageError('OPTIONS_INVALID', 'confirmations must be a non-negative integer')
    const genesis = record ? undefined : (o.genesis ?? (await findGenesis(manager, channelId, o.fromBlock ?? 0)))
    // A channel is played on only once its open is as deep as the events the court acts on.
    if (genesis?.blockNumber !== undefined) await untilDeep(provider, genesis.blockNumber, confirmations)
    const clock = o.clock ?? new LogicalClock()
    const head = await provider.getBlock('latest').catch((cause: unknown) => {
      throw new RuntimeError('RPC_FAILED', `eth_getBlockByNumber failed: ${(cause as Error).message}`, { cause })
    })
    if (head) clock.observeBlock(BigInt(head.timestamp))

    const p2p = new P2PManager({ seed: noiseSeed(o.wallet?.signingKey ?? sessionKey, channelId), ...o.net })
    cleanup.push(() => p2p.close())
    // The peers know each other by their in-channel signers (session keys, or the accounts).
    const transport = await HyperswarmTransport.join(p2p, { channelId, participants: membersOf(params), me, signer: sessionKey })
    cleanup.push(() => transport.close())

    const runtime = { signer: o.wallet ?? consents!, ...(o.sessionKey ? { sessionKey } : {}), machine, store: o.store, transport, clock, hasher, chain: manager }
    const channel = record
      ? await Channel.restore({ ...runtime, channelId })
      : await Channel.create({ ...runtime, params, channelId, genesis: { state: genesis!.state, timestamp: genesis!.timestamp } })
    cleanup.push(() => channel.dispose())

    const listener = new ChainListener({
      provider, manager: manager.address, clock,
      ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}), ...(o.maxBlockRange !== undefined ? { maxBlockRange: o.maxBlockRange } : {}), confirmations,
    })
    cleanup.push(() => listener.close())
    const fromBlock = genesis?.blockNumber ?? o.fromBlock
    const court = attachCourt(channel, { listener, manager, ...(fromBlock !== undefined ? { fromBlock } : {}), ...o.court })
    cleanup.push(() => court.detach())
    return { channel, court, transport, listener, p2p, machine, clock, restored: record !== undefined, propose: (data) => court.propose(data), stop }
  } catch (e) {
    await stop()
    throw e
  }
}

/** Resolves once block `block` has `confirmations` blocks on top (polls every second). */
async function untilDeep(provider: Provider, block: number, confirmations: number): Promise<void> {
  for (;;) {
    const head = await provider.getBlockNumber().catch((cause: unknown) => {
      throw new RuntimeError('RPC_FAILED', `eth_blockNumber failed: ${(cause as Error).message}`, { cause })
    })
    if (head - block >= confirmations) return
    await new Promise((resolve) => setTimeout(resolve, 1000))
  }
}

/**
 * The Noise key seed: derived from our key (the account's, or with an external wallet the session
 * key's) and the channel, so a restarted peer keeps its network identity (peers recognise the
 * reconnection) and two channels of one key do not share a DHT identity. One-way: the seed
 * reveals nothing about the key.
 */
function noiseSeed(key: SigningKey, channelId: Hex): Hex {
  return keccak256(concat([toUtf8Bytes('parley/peer/noise-seed'), key.privateKey, channelId])) as Hex
}

/**
 * Who sends our court calls, and who signs our consents when that is an external wallet
 * (undefined for `wallet`: its key signs them). UsageError `OPTIONS_INVALID` for both or
 * neither of `wallet` and `account`, `WALLET_INVALID` for an account that is neither form.
 */
async function accountOf(o: CreatePeerOptions): Promise<{ sender: Signer; consents?: Signer | ConsentSigner }> {
  if (typeof o !== 'object' || o === null) throw new UsageError('OPTIONS_INVALID', 'options must be an object')
  if ((o.wallet === undefined) === (o.account === undefined)) {
    throw new UsageError('OPTIONS_INVALID', 'give createPeer one account: `wallet` (a key) or `account` (an external wallet)')
  }
  if (o.wallet !== undefined) {
    if (!(o.wallet.signingKey instanceof SigningKey)) throw new UsageError('SIGNER_INVALID', 'wallet must be an ethers Wallet (for another Signer, use `account`)')
    return { sender: o.wallet }
  }
  const a = o.account as Partial<Signer & Eip1193Account>
  if (a && typeof a.eip1193 === 'object' && a.eip1193 !== null) {
    const consents = consentSignerFromEip1193(a.eip1193, a.address!)
    const sender = await new BrowserProvider(a.eip1193).getSigner(a.address!).catch((cause: unknown) => {
      throw new UsageError('WALLET_INVALID', `the EIP-1193 provider does not give account ${a.address}: ${(cause as Error)?.message ?? String(cause)}`, { cause })
    })
    return { sender, consents }
  }
  if (!a || typeof a.sendTransaction !== 'function' || typeof a.signTypedData !== 'function' || typeof a.getAddress !== 'function') {
    // A ConsentSigner alone signs consents but cannot send the court's transactions.
    throw new UsageError('WALLET_INVALID', 'account must be an ethers Signer (sendTransaction, signTypedData) or { eip1193, address }: the account also sends the court\'s transactions, which a ConsentSigner alone cannot')
  }
  return { sender: a as Signer, consents: a as Signer }
}

async function addressOf(signer: Signer): Promise<Hex> {
  try {
    return (await signer.getAddress()).toLowerCase() as Hex
  } catch (cause) {
    throw new UsageError('WALLET_INVALID', `the account did not give its address: ${(cause as Error)?.message ?? String(cause)}`, { cause })
  }
}
