/**
 * Deploys a complete local Parley stack: the manager, the example machines and a test
 * token. For the demo, benchmarks and tests on anvil; production deploys the manager once
 * and reuses it.
 */
import { Contract, type Signer } from 'ethers'
import type { Hex } from '../protocol/types.js'
import { deploy } from './deploy.js'
import { toParleyError } from './errors.js'
import { ManagerClient } from './ManagerClient.js'

/** Addresses of the example machines (contracts/examples). */
export interface ExampleMachines {
  counter: Hex
  payments: Hex
  tictactoe: Hex
}

/** What {@link deployLocalStack} returns. */
export interface LocalStack {
  manager: ManagerClient
  machines: ExampleMachines
  /** TestToken (open mint): an ERC-20 for token channels. */
  token: Contract & { address: Hex }
  /** Gas used by each deployment, by contract name. */
  deployGas: Record<string, bigint>
  /** Mints `amount` test tokens to `signer` and approves them to the manager. */
  mintAndApprove(signer: Signer, amount: bigint): Promise<void>
}

/**
 * Deploys StateChannelManager, Counter, Payments, TicTacToe and TestToken from `signer`.
 * @example
 * const stack = await deployLocalStack(anvil.wallets[0]!)
 * await stack.manager.connect(alice).deposit(ETH, 10n ** 18n)
 */
export async function deployLocalStack(signer: Signer): Promise<LocalStack> {
  const deployGas: Record<string, bigint> = {}
  const one = async (name: 'StateChannelManager' | 'Counter' | 'Payments' | 'TicTacToe' | 'TestToken') => {
    try {
      const c = await deploy(name, signer)
      const receipt = await c.deploymentTransaction()?.wait()
      deployGas[name] = receipt?.gasUsed ?? 0n
      return c
    } catch (e) {
      throw toParleyError(e, `deploy ${name}`)
    }
  }
  const manager = new ManagerClient((await one('StateChannelManager')).address, signer)
  const machines: ExampleMachines = {
    counter: (await one('Counter')).address,
    payments: (await one('Payments')).address,
    tictactoe: (await one('TicTacToe')).address,
  }
  const token = (await one('TestToken')) as unknown as Contract & { address: Hex }
  return {
    manager,
    machines,
    token,
    deployGas,
    async mintAndApprove(holder, amount) {
      const t = token.connect(holder) as Contract
      try {
        await (await t.getFunction('mint')(await holder.getAddress(), amount)).wait()
        await (await t.getFunction('approve')(manager.address, amount)).wait()
      } catch (e) {
        throw toParleyError(e, 'mint and approve test tokens')
      }
    },
  }
}
