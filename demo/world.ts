/**
 * The demo's world: a running anvil, a local HyperDHT testnet, the deployed stack, the named
 * wallets, and a temporary folder for the peers' SQLite stores. Every scenario starts here and
 * opens its channel with {@link openChannel}.
 */
import { hexlify, randomBytes, type Wallet } from 'ethers'
import type createTestnet from '@hyperswarm/testnet'
import type { Anvil } from '../src/chain/anvil.js'
import { signOpenConsent } from '../src/chain/consent.js'
import type { OpenResult } from '../src/chain/ManagerBase.js'
import { deployLocalStack, type LocalStack } from '../src/chain/stack.js'
import type { ParleyHasher } from '../src/protocol/eip712.js'
import { openDeadline } from '../src/protocol/timing.js'
import { ETH, type ChannelParams, type Hex } from '../src/protocol/types.js'
import { eth, short, type BalanceRow, type Timeline } from './timeline.js'
import { defaultTimes } from '../src/channel/params.js'
import type { Peer } from '../src/peer/createPeer.js'
import type { SqliteStore } from '../src/store/SqliteStore.js'

export type Testnet = Awaited<ReturnType<typeof createTestnet>>

export interface World {
  anvil: Anvil
  testnet: Testnet
  stack: LocalStack
  hasher: ParleyHasher
  timeline: Timeline
  /** Wallets by name (anvil accounts 1…). */
  wallets: Record<string, Wallet>
  /** Where the peers' SQLite stores live (removed on exit). */
  dir: string
  /** With `--ui`: shows a scenario's clients once they are connected (demo/ui.ts). */
  show?: (clients: readonly Client[], params: ChannelParams, channelId: Hex) => void
}

/** A running participant: its peer and store (demo/clients.ts starts them). */
export interface Client extends Member {
  index: number
  peer: Peer
  store: SqliteStore
  /** Stops the client and closes its store. Idempotent. */
  stop(): Promise<void>
}

/** A named participant of one channel. */
export interface Member {
  name: string
  wallet: Wallet
}

/** Deploys the stack from anvil's account 0 and names anvil's accounts 1… after `names`. */
export async function setupWorld(anvil: Anvil, testnet: Testnet, timeline: Timeline, names: readonly string[], dir: string): Promise<World> {
  const { chainId } = await anvil.provider.getNetwork()
  timeline.step('chain', `anvil listening on ${anvil.url} (chain id ${chainId})`)
  const nodes = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(', ')
  timeline.step('dht', `local HyperDHT testnet of ${testnet.nodes.length} nodes on 127.0.0.1 (bootstrap ${nodes})`)
  const stack = await deployLocalStack(anvil.wallets[0]!)
  const addresses: Record<string, Hex> = {
    StateChannelManager: stack.manager.address, Counter: stack.machines.counter, Payments: stack.machines.payments,
    TicTacToe: stack.machines.tictactoe, TestToken: stack.token.address,
  }
  for (const [name, g] of Object.entries(stack.deployGas)) timeline.chain('deployer', `deployed ${name} at ${short(addresses[name] ?? '')}`, g)
  const wallets = Object.fromEntries(names.map((n, i) => [n, anvil.wallets[i + 1]!]))
  return { anvil, testnet, stack, hasher: await stack.manager.hasher(), timeline, wallets, dir }
}

export function addressOf(w: Wallet): Hex {
  return w.address.toLowerCase() as Hex
}

/**
 * Every member deposits its amount, signs its consent (EIP-712 over the params), and the
 * first submits `open` on the Payments machine.
 */
export async function openChannel(world: World, members: readonly Member[], deposits: readonly bigint[], bond: bigint): Promise<{ params: ChannelParams; opened: OpenResult }> {
  const { stack, hasher, timeline: tl } = world
  for (const [i, m] of members.entries()) {
    const r = await stack.manager.connect(m.wallet).deposit(ETH, deposits[i]! + bond)
    tl.chain(m.name, `deposited ${eth(deposits[i]! + bond)} ETH into the manager${bond > 0n ? ' (deposit + bond)' : ''}`, r.gasUsed)
  }
  const params: ChannelParams = {
    participants: members.map((m) => addressOf(m.wallet)), machine: stack.machines.payments, asset: ETH,
    deposits: [...deposits], bond, ...defaultTimes,
    salt: hexlify(randomBytes(32)) as Hex, initData: '0x', openDeadline: openDeadline(BigInt(await world.anvil.now())),
  }
  const consents = members.map((m) => signOpenConsent(m.wallet.signingKey, hasher, params))
  tl.step('all', `signed consent to open channel ${short(hasher.channelId(params))} (EIP-712 over the channel params)`)
  const opened = await stack.manager.connect(members[0]!.wallet).open(params, consents)
  const bondText = bond > 0n ? `, bond ${eth(bond)} ETH` : ''
  tl.chain(members[0]!.name, `opened the channel on Payments (N=${members.length}, ETH${bondText}, fork 0)`, opened.gasUsed)
  tl.note(`genesis state ${short(opened.genesis.stateHash)} from the StateSet event; deposits are now locked`)
  return { params, opened }
}

/** Balance rows for `members`: off-chain share (if given), manager balance, wallet. */
export async function balanceRows(world: World, members: readonly Member[], offchain?: readonly bigint[]): Promise<BalanceRow[]> {
  return Promise.all(
    members.map(async (m, i) => ({
      name: m.name,
      ...(offchain ? { offchain: offchain[i]! } : {}),
      manager: await world.stack.manager.balanceOf(addressOf(m.wallet), ETH),
      wallet: await world.anvil.provider.getBalance(m.wallet.address),
    })),
  )
}
