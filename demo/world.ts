/**
 * The demo's world: a running anvil, the deployed stack, and the named participants. Every
 * scenario starts from here.
 */
import type { Anvil } from '../src/chain/anvil.js'
import { RpcStateMachine } from '../src/chain/RpcStateMachine.js'
import { deployLocalStack, type LocalStack } from '../src/chain/stack.js'
import type { ParleyHasher } from '../src/protocol/eip712.js'
import { ETH, type Hex } from '../src/protocol/types.js'
import { DemoPeer } from './peer.js'
import { short, type BalanceRow, type Timeline } from './timeline.js'

export interface World {
  anvil: Anvil
  stack: LocalStack
  hasher: ParleyHasher
  peers: DemoPeer[]
  timeline: Timeline
}

/** Deploys the stack from anvil's account 0 and creates one peer per name (accounts 1…). */
export async function setupWorld(anvil: Anvil, timeline: Timeline, names: readonly string[]): Promise<World> {
  const { chainId } = await anvil.provider.getNetwork()
  timeline.step('chain', `anvil listening on ${anvil.url} (chain id ${chainId})`)
  const stack = await deployLocalStack(anvil.wallets[0]!)
  const addresses: Record<string, Hex> = {
    StateChannelManager: stack.manager.address, Counter: stack.machines.counter, Payments: stack.machines.payments,
    TicTacToe: stack.machines.tictactoe, TestToken: stack.token.address,
  }
  for (const [name, g] of Object.entries(stack.deployGas)) timeline.chain('deployer', `deployed ${name} at ${short(addresses[name] ?? '')}`, g)
  const machine = new RpcStateMachine(stack.machines.payments, anvil.provider)
  const peers = names.map((name, i) => new DemoPeer(name, i, anvil.wallets[i + 1]!, machine))
  return { anvil, stack, hasher: await stack.manager.hasher(), peers, timeline }
}

/** Balance rows for every peer: off-chain share (if given), manager balance, wallet. */
export async function balanceRows(world: World, offchain?: readonly bigint[]): Promise<BalanceRow[]> {
  return Promise.all(
    world.peers.map(async (p, i) => ({
      name: p.name,
      ...(offchain ? { offchain: offchain[i]! } : {}),
      manager: await world.stack.manager.balanceOf(p.address, ETH),
      wallet: await world.anvil.provider.getBalance(p.address),
    })),
  )
}
