/**
 * Scripted roles for end-to-end court tests (go-perun style): a Payments channel opened on
 * anvil with bonds, one Channel per participant on an in-memory hub, and — for the honest
 * ones — a ChainListener and an attached court that defends the channel by itself. Clocks
 * follow the chain (ManualClock fed by each peer's listener), so time travel on anvil moves
 * everyone's deadlines. Mallory is a plain Channel the test drives (or silences) by hand.
 */
import assert from 'node:assert/strict'
import { AbiCoder, keccak256, toUtf8Bytes, type Contract, type Provider, type Wallet } from 'ethers'
import type { Anvil } from '../../src/chain/anvil.js'
import type { Hardfork } from '../../src/chain/hardfork.js'
import { ChainListener, type ChainListenerOptions } from '../../src/chain/ChainListener.js'
import type { ManagerClient } from '../../src/chain/ManagerClient.js'
import type { LocalStack } from '../../src/chain/stack.js'
import { signOpenConsent } from '../../src/chain/consent.js'
import { Channel } from '../../src/channel/Channel.js'
import type { CloseSubmitter } from '../../src/channel/options.js'
import { ManualClock } from '../../src/clock/ManualClock.js'
import { attachCourt, type Court, type CourtOptions } from '../../src/dispute/attachCourt.js'
import { EvmStateMachine } from '../../src/machine/EvmStateMachine.js'
import type { StateMachine } from '../../src/machine/StateMachine.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { ETH, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import { join } from 'node:path'
import { MemoryStore } from '../../src/store/MemoryStore.js'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import type { Store } from '../../src/store/types.js'
import { MemoryHub } from '../../src/transport/MemoryHub.js'
import type { Transport } from '../../src/transport/Transport.js'
import { assertSolvent } from './solvency.js'
import type { Fixture } from './fixture.js'
import { defaultTimes } from '../../src/channel/params.js'
import { createSessionKey } from '../../src/wallet/createSessionKey.js'

const abi = AbiCoder.defaultAbiCoder()
export const ETH1 = 10n ** 18n
export const BOND = ETH1 / 10n

/** Payments move: pay `amount` to `to`. */
export const pay = (to: number, amount: bigint): Hex => abi.encode(['uint16', 'uint256'], [to, amount]) as Hex

export interface Role {
  wallet: Wallet
  /** The participant's session key (CourtChannelOptions.sessionKeys), which signs its moves. */
  sessionKey?: Wallet
  channel: Channel
  store: Store
  clock: ManualClock
  manager: ManagerClient
  listener?: ChainListener
  court?: Court
}

export interface CourtChannel {
  roles: Role[]
  params: ChannelParams
  channelId: Hex
  openBlock: number
  hub: MemoryHub
  machine(): Promise<StateMachine>
  /** Attaches a court (and listener) to participant `i`. */
  attach(i: number, opts?: Partial<CourtOptions>): Court
  /** Detaches every court, stops every listener, disposes every channel. */
  close(): Promise<void>
}

export interface CourtChannelOptions {
  anvil: Anvil
  stack: LocalStack
  hasher: ParleyHasher
  wallets: Wallet[]
  label: string
  /** Participants whose court is attached at once (default: none). */
  honest?: number[]
  deposits?: bigint[]
  /** Transports (default: the in-memory hub). */
  transport?: (i: number, ctx: { hub: MemoryHub; channelId: Hex; participants: Hex[] }) => Transport | Promise<Transport>
  pollMs?: number
  /** SQLite stores in this directory (default: in memory). */
  sqliteDir?: string
  /** The channel's machine (default: the stack's Payments). */
  machine?: Hex
  /** The chain's hardfork, which every client's EVM runs (default: the contracts' evmVersion). */
  hardfork?: Hardfork
  /** Participant i's channel submits its cooperative close through this (default: its manager). */
  chain?: (i: number, manager: ManagerClient) => CloseSubmitter
  /**
   * Participant i's own node: its listener, its court's calls and its close go through this
   * provider (default, or when it returns undefined: anvil's). Deposits and the open do not.
   */
  rpc?: (i: number) => Provider | undefined
  /** More options of every listener (e.g. a shorter retry). */
  listener?: Partial<Omit<ChainListenerOptions, 'provider' | 'manager' | 'clock'>>
  /** Give every participant a session key (params.signers): the keys sign moves, the wallets consents and calls. */
  sessionKeys?: boolean
  /**
   * Mine the open with its parent block's timestamp: anvil_reorg re-mines a replaced block with
   * its parent's time, so only then does the same open put back by a reorg keep its genesis time.
   */
  openAtParentTime?: boolean
}

/** Deposits, opens a Payments channel with bonds and starts one Channel per wallet. */
export async function openCourtChannel(o: CourtChannelOptions): Promise<CourtChannel> {
  const n = o.wallets.length
  const deposits = o.deposits ?? o.wallets.map((_, i) => BigInt(i + 1) * ETH1)
  const keys = o.sessionKeys ? o.wallets.map(() => createSessionKey()) : undefined
  const params: ChannelParams = {
    participants: o.wallets.map((w) => w.address.toLowerCase() as Hex), ...(keys ? { signers: keys.map((k) => k.address.toLowerCase() as Hex) } : {}), machine: o.machine ?? o.stack.machines.payments, asset: ETH,
    deposits, bond: BOND, ...defaultTimes,
    salt: keccak256(toUtf8Bytes(o.label)) as Hex, initData: '0x', openDeadline: 1n << 40n,
  }
  for (const [i, w] of o.wallets.entries()) await o.stack.manager.connect(w).deposit(ETH, deposits[i]! + BOND)
  if (o.openAtParentTime) await o.anvil.provider.send('evm_setNextBlockTimestamp', [(await o.anvil.provider.getBlock('latest'))!.timestamp])
  const opened = await o.stack.manager.open(params, o.wallets.map((w) => signOpenConsent(w.signingKey, o.hasher, params)))
  const genesis = { state: opened.genesis.state, timestamp: opened.genesis.timestamp }
  const hub = new MemoryHub()
  const machine = () => EvmStateMachine.fromChain({ provider: o.anvil.provider, address: params.machine, ...(o.hardfork ? { hardfork: o.hardfork } : {}) })
  const roles: Role[] = []
  const rpcs: (Provider | undefined)[] = []
  for (let i = 0; i < n; i++) {
    const store = o.sqliteDir ? new SqliteStore(join(o.sqliteDir, `${o.label}-${i}.db`)) : new MemoryStore()
    const clock = new ManualClock(genesis.timestamp, { followBlocks: true })
    const rpc = (rpcs[i] = o.rpc?.(i))
    const manager = o.stack.manager.connect(rpc ? o.wallets[i]!.connect(rpc) : o.wallets[i]!)
    const transport = o.transport ? await o.transport(i, { hub, channelId: opened.channelId, participants: params.participants }) : hub.connect(i)
    const chain = o.chain ? o.chain(i, manager) : manager
    const sessionKey = keys?.[i]
    const channel = await Channel.create({ params, genesis, signer: o.wallets[i]!, ...(sessionKey ? { sessionKey } : {}), machine: await machine(), store, transport, clock, hasher: o.hasher, chain })
    roles.push({ wallet: o.wallets[i]!, ...(sessionKey ? { sessionKey } : {}), channel, store, clock, manager })
  }
  const attach = (i: number, extra: Partial<CourtOptions> = {}): Court => {
    const r = roles[i]!
    r.listener ??= new ChainListener({ provider: rpcs[i] ?? o.anvil.provider, manager: o.stack.manager.address, pollMs: o.pollMs ?? 30, clock: r.clock, ...o.listener })
    r.court = attachCourt(r.channel, { listener: r.listener, manager: r.manager, fromBlock: opened.blockNumber, ...extra })
    if (process.env.COURT_DEBUG) {
      r.court.on('submitted', (x) => console.log(`[${i}] submitted ${x.action.kind} ${x.action.key}: ${x.action.why}`))
      r.court.on('failed', (x) => console.log(`[${i}] failed ${x.action.kind} ${x.action.key}: ${(x.error as Error).message}`))
      r.court.on('error', (x) => console.log(`[${i}] error ${(x.error as Error).message}`))
      r.channel.on('error', (x) => console.log(`[${i}] channel error ${(x.error as Error).message}`))
      r.listener.on('error', (x) => console.log(`[${i}] listener error ${(x.error as Error).message}`))
    }
    return r.court
  }
  for (const i of o.honest ?? []) attach(i)
  return {
    roles, params, channelId: opened.channelId, openBlock: opened.blockNumber, hub, machine, attach,
    async close() {
      for (const r of roles) {
        await r.court?.detach()
        await r.listener?.close()
        await r.channel.dispose()
      }
    },
  }
}

/**
 * Advances the chain by `seconds` (one block) and every participant's clock to the new block
 * time at once (their listeners would do it a poll later, each at its own moment).
 */
export async function travel(anvil: Anvil, c: CourtChannel, seconds: number): Promise<bigint> {
  await anvil.increaseTime(seconds)
  const now = BigInt(await anvil.now())
  for (const r of c.roles) r.clock.observeBlock(now)
  return now
}

/** Advances the chain (and every clock) to one second past a dispute's deadline. */
export async function pastDeadline(anvil: Anvil, c: CourtChannel, record: { deadline: bigint }): Promise<bigint> {
  const now = BigInt(await anvil.now())
  return travel(anvil, c, now > record.deadline ? 1 : Number(record.deadline - now) + 1)
}

/** Resolves when `channel` holds a state at `seq` or later on its current fork. */
export function reach(channel: Channel, seq: bigint): Promise<void> {
  return new Promise((resolve) => {
    const off = channel.on('state', (s) => s.seq >= seq && (off(), resolve()))
    if (channel.state.seq >= seq) (off(), resolve())
  })
}

/** `who` proposes `data`; resolves when every channel in `watchers` has the new state. */
export async function move(who: Channel, data: Hex, watchers: Channel[]): Promise<bigint> {
  assert.ok(who.state.isMyTurn, `not participant ${who.me}'s turn (next: ${who.state.nextActor})`)
  const { seq } = await who.propose(data)
  await Promise.all(watchers.map((c) => reach(c, seq)))
  return seq
}

/** A Fixture view of the stack, for assertSolvent. */
export function solvencyFixture(anvil: Anvil, stack: LocalStack): Fixture {
  return { anvil, manager: stack.manager.contract, token: stack.token as unknown as Contract } as unknown as Fixture
}

/** Asserts the manager's solvency invariant over ETH. */
export function solvent(anvil: Anvil, stack: LocalStack): Promise<unknown> {
  return assertSolvent(solvencyFixture(anvil, stack), [ETH])
}

/** Balances in the manager of each wallet. */
export function balances(stack: LocalStack, wallets: Wallet[]): Promise<bigint[]> {
  return Promise.all(wallets.map((w) => stack.manager.balanceOf(w.address.toLowerCase() as Hex, ETH)))
}
