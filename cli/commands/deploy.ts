/**
 * `parley deploy`: deploys the manager, the example machines and the test token to any chain
 * from the given key, and writes the deployment file other commands read.
 */
import type { Hex } from '../../src/protocol/types.js'
import { detectHardfork } from '../../src/chain/hardfork.js'
import { deployLocalStack } from '../../src/chain/stack.js'
import { CHAIN_HELP, COMMON, JSON_HELP, KEY, KEY_HELP, flag, parse, str } from '../lib/args.js'
import { connect, loadWallet } from '../lib/chain.js'
import type { Command } from '../lib/command.js'
import { DEPLOYMENT_FILE, writeDeployment, type Deployment } from '../lib/deployment.js'
import { out, progress, table, toJson } from '../lib/output.js'

const usage = `parley deploy [--rpc URL] [--key HEX] [-o FILE] [--json]

Deploys StateChannelManager, the example machines (Payments, TicTacToe, Counter) and
TestToken from the key's account, and writes a deployment file (with the chain's hardfork,
detected first: peers run the machines under it).

  -o, --out <file>     deployment file (default ${DEPLOYMENT_FILE})
${CHAIN_HELP.split('\n')[0]}
${KEY_HELP}
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values } = parse(argv, { ...COMMON, rpc: { type: 'string' }, ...KEY, out: { type: 'string', short: 'o' } }, usage)
    const file = str(values, 'out') ?? DEPLOYMENT_FILE
    const chain = await connect(values)
    try {
      const wallet = loadWallet(values, chain)
      // Before spending gas: a chain the client EVM cannot follow is no place for channels.
      const hardfork = await detectHardfork(chain.provider)
      progress(`deploy: deploying from ${wallet.address} to chain ${chain.chainId} (${chain.rpc}, ${hardfork})…`)
      const stack = await deployLocalStack(wallet)
      const deployment: Deployment = {
        rpc: chain.rpc, chainId: String(chain.chainId), hardfork, manager: stack.manager.address, machines: stack.machines, token: stack.token.address,
        deployer: wallet.address.toLowerCase() as Hex,
      }
      writeDeployment(file, deployment)
      const gas = Object.values(stack.deployGas).reduce((a, b) => a + b, 0n)
      if (flag(values, 'json')) out(toJson({ ...deployment, file, gasUsed: gas }))
      else {
        out(table([
          ['chain id', deployment.chainId], ['hardfork', hardfork], ['manager', deployment.manager], ['payments', deployment.machines.payments],
          ['tictactoe', deployment.machines.tictactoe], ['counter', deployment.machines.counter], ['token', deployment.token],
          ['gas used', String(gas)], ['file', file],
        ]))
      }
      return 0
    } finally {
      chain.close()
    }
  },
}
