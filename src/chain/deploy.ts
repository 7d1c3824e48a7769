/**
 * Deploys compiled contracts with ethers.
 */
import { ContractFactory, type BaseContract, type Signer } from 'ethers'
import { loadArtifact, type ContractName } from '../contracts/artifacts.js'
import type { Hex } from '../protocol/types.js'

/**
 * Deploys `name` from its artifact and waits for the receipt. A StateChannelManager without
 * constructor arguments gets a freshly deployed StateChannelCourt (the code serving its dispute
 * functions, see contracts/StateChannelManager.sol).
 * @example const manager = await deploy('StateChannelManager', wallet)
 */
export async function deploy(name: ContractName, signer: Signer, args: unknown[] = []): Promise<BaseContract & { address: Hex }> {
  if (name === 'StateChannelManager' && args.length === 0) args = [(await deploy('StateChannelCourt', signer)).address]
  const { abi, bytecode } = loadArtifact(name)
  const factory = new ContractFactory(abi as never, bytecode, signer)
  const c = await factory.deploy(...args)
  await c.waitForDeployment()
  return Object.assign(c, { address: (await c.getAddress()).toLowerCase() as Hex })
}
