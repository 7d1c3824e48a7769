/**
 * Shared test fixture: a real anvil, the deployed manager, example machines and a token,
 * plus helpers to build, sign and open channels.
 */
import { Contract, type Wallet, AbiCoder, hexlify, randomBytes } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deploy } from '../../src/chain/deploy.js'
import { ParleyHasher, hashState } from '../../src/protocol/eip712.js'
import { signDigest, packSignatures } from '../../src/protocol/signatures.js'
import { ETH, type ChannelParams, type Hex, type Transaction } from '../../src/protocol/types.js'
import { defaultTimes } from '../../src/channel/params.js'
import { withRecords } from './records.js'

export interface Fixture {
  anvil: Anvil
  /** The manager, its channel calls given the record rebuilt from the events (test/helpers/records.ts). */
  manager: Contract
  /** The same manager without that: every channel call takes the record as its second argument. */
  rawManager: Contract
  counter: Contract
  payments: Contract
  tictactoe: Contract
  token: Contract
  hasher: ParleyHasher
  wallets: Wallet[]
  stop(): Promise<void>
}

export const abi = AbiCoder.defaultAbiCoder()

/** Starts anvil and deploys everything. `accounts` funded wallets (default 10). */
export async function setup(accounts = 10): Promise<Fixture> {
  const anvil = await startAnvil({ accounts })
  const deployer = anvil.wallets[0]!
  const rawManager = (await deploy('StateChannelManager', deployer)) as unknown as Contract
  const manager = withRecords(rawManager)
  const counter = (await deploy('Counter', deployer)) as unknown as Contract
  const payments = (await deploy('Payments', deployer)) as unknown as Contract
  const tictactoe = (await deploy('TicTacToe', deployer)) as unknown as Contract
  const token = (await deploy('TestToken', deployer)) as unknown as Contract
  const { chainId } = await anvil.provider.getNetwork()
  const hasher = new ParleyHasher({ chainId, verifyingContract: (await manager.getAddress()).toLowerCase() as Hex })
  return { anvil, manager, rawManager, counter, payments, tictactoe, token, hasher, wallets: anvil.wallets, stop: () => anvil.stop() }
}

/** Default channel parameters for `wallets` on `machine` (ETH, 1 ETH deposits unless given). */
export function makeParams(wallets: Wallet[], machine: Hex, over: Partial<ChannelParams> = {}): ChannelParams {
  return {
    participants: wallets.map((w) => w.address.toLowerCase() as Hex),
    signers: [],
    machine,
    asset: ETH,
    deposits: wallets.map(() => 10n ** 18n),
    bond: 0n,
    ...defaultTimes,
    salt: hexlify(randomBytes(32)) as Hex,
    initData: '0x', openDeadline: 1n << 40n,
    ...over,
  }
}

/** Every participant's consent signature over the channel id, concatenated in order. */
export function signOpen(f: Fixture, wallets: Wallet[], params: ChannelParams): Hex {
  const id = f.hasher.channelId(params)
  return hexlify(Buffer.concat(wallets.map((w) => Buffer.from(signDigest(w.signingKey, id).slice(2), 'hex')))) as Hex
}

/** Deposits each participant's deposit + bond into the manager from its own wallet. */
export async function fund(f: Fixture, wallets: Wallet[], params: ChannelParams): Promise<void> {
  for (const [i, w] of wallets.entries()) {
    const amount = params.deposits[i]! + params.bond
    if (amount === 0n) continue
    const m = f.manager.connect(w) as Contract
    if (params.asset === ETH) {
      await (await m.getFunction('deposit')(ETH, w.address, amount, { value: amount })).wait()
    } else {
      await (await (f.token.connect(w) as Contract).getFunction('mint')(w.address, amount)).wait()
      await (await (f.token.connect(w) as Contract).getFunction('approve')(await f.manager.getAddress(), amount)).wait()
      await (await m.getFunction('deposit')(params.asset, w.address, amount)).wait()
    }
  }
}

/**
 * Funds, signs and opens; returns the channel id, the genesis state bytes and the genesis
 * timestamp (the open block's time: the earliest timestamp any transaction of fork 0 may carry).
 */
export async function openChannel(
  f: Fixture,
  wallets: Wallet[],
  params: ChannelParams,
): Promise<{ channelId: Hex; genesis: Hex; timestamp: bigint }> {
  await fund(f, wallets, params)
  const receipt = await (await f.manager.getFunction('open')(params, signOpen(f, wallets, params))).wait()
  const ev = receipt.logs.map((l: { topics: string[]; data: string }) => f.manager.interface.parseLog(l)).find((e: { name: string } | null) => e?.name === 'StateSet')
  return { channelId: f.hasher.channelId(params), genesis: ev!.args.state as Hex, timestamp: BigInt(ev!.args.timestamp) }
}

/** The latest block's time (anvil may have been time-travelled: never use the wall clock). */
export async function chainNow(f: Pick<Fixture, 'anvil'>): Promise<bigint> {
  return BigInt(await f.anvil.now())
}

/**
 * Mines the next block at exactly `t` (for the bounds of timestamps and deadlines). A call sent
 * next is estimated, and if it does not revert mined, in a block stamped `t`.
 */
export async function atTime(f: Pick<Fixture, 'anvil'>, t: bigint): Promise<void> {
  await f.anvil.provider.send('evm_setNextBlockTimestamp', [Number(t)])
}

/** Signs `tx` by the given participant indices; returns the packed on-chain form. */
export function signTx(f: Fixture, wallets: Wallet[], tx: Transaction, signers: number[]) {
  const digest = f.hasher.transaction(tx)
  const sigs = new Map<number, Hex>(signers.map((i) => [i, signDigest(wallets[i]!.signingKey, digest)]))
  return { transaction: tx, ...packSignatures(sigs) }
}

/**
 * Computes a transaction on `machine` from `state` via eth_call (the chain's own result),
 * stamped `timestamp` or, by default, the chain's latest block time (the contract refuses
 * timestamps after block time + skew, and anvil's clock need not be the wall clock).
 */
export async function step(
  machine: Contract,
  channelId: Hex,
  prev: { state: Hex; seq: bigint },
  actor: number,
  data: Hex,
  fork = 0n,
  timestamp?: bigint,
): Promise<{ tx: Transaction; state: Hex }> {
  timestamp ??= BigInt((await machine.runner!.provider!.getBlock('latest'))!.timestamp)
  const state = (await machine.getFunction('transition')(prev.state, actor, data, timestamp)) as Hex
  const tx: Transaction = {
    channelId,
    fork,
    seq: prev.seq + 1n,
    timestamp,
    actor,
    previousStateHash: hashState(prev.state),
    data,
    stateHash: hashState(state),
  }
  return { tx, state }
}

/** Decodes a revert into its custom error name (or rethrows). */
export async function revertName(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    const err = e as { revert?: { name: string }; data?: string; info?: { error?: { data?: string } } }
    if (err.revert?.name) return err.revert.name
    throw e
  }
  throw new Error('expected a revert, but the call succeeded')
}

/**
 * Takes an anvil snapshot; the returned function reverts the chain to it. Use one per test case
 * (`evm_revert` consumes the snapshot) to isolate cases on one anvil.
 */
export async function snapshot(f: Fixture): Promise<() => Promise<void>> {
  const id = (await f.anvil.provider.send('evm_snapshot', [])) as string
  return async () => {
    const ok = (await f.anvil.provider.send('evm_revert', [id])) as boolean
    if (!ok) throw new Error(`evm_revert(${id}) failed`)
  }
}
