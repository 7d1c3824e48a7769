/**
 * `parley devnet`: a local chain to try Parley on. Starts anvil on loopback, deploys the
 * manager, the example machines and a test token, funds every account with test tokens
 * (approved to the manager), writes the deployment file with the funded keys, and keeps
 * running until Ctrl-C. A heartbeat mines an empty block every second so block timestamps —
 * which the peers' clocks follow — stay current while nobody transacts.
 */
import { startAnvil } from '../../src/chain/anvil.js'
import { DEFAULT_HARDFORK, HARDFORKS, detectHardfork, isHardfork } from '../../src/chain/hardfork.js'
import { deployLocalStack } from '../../src/chain/stack.js'
import type { Hex } from '../../src/protocol/types.js'
import { COMMON, JSON_HELP, flag, int, parse, str } from '../lib/args.js'
import { untilSignal, type Command } from '../lib/command.js'
import { argError, portHint } from '../lib/errors.js'
import { DEVNET_FILE, removeStateFile, writeDeployment, type Deployment } from '../lib/deployment.js'
import { out, progress, table, toJson } from '../lib/output.js'

const usage = `parley devnet [--accounts N] [--port P] [--hardfork H] [--heartbeat S] [-o FILE] [--json]

Starts a local chain (anvil on 127.0.0.1), deploys Parley and the example machines, and keeps
running until Ctrl-C (then stops anvil and removes the deployment file).

  --accounts <n>       funded accounts, 2..100 (default 10); account 0 deploys
  --port <p>           RPC port on 127.0.0.1 (default 8545; 0 = any free port)
  --hardfork <h>       the chain's hardfork: ${HARDFORKS.join(', ')} (default ${DEFAULT_HARDFORK}); peers
                       run the machines under it
  --heartbeat <s>      mine an empty block every s seconds, 0 = never (default 1): peers'
                       clocks follow block timestamps, which must stay current
  --tokens <amount>    test tokens minted to each account and approved to the manager (default 1000)
  -o, --out <file>     deployment file (default ${DEVNET_FILE})
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      ...COMMON, accounts: { type: 'string' }, port: { type: 'string' }, hardfork: { type: 'string' }, heartbeat: { type: 'string' }, tokens: { type: 'string' },
      out: { type: 'string', short: 'o' },
    }, usage)
    const accounts = int(values, 'accounts', 10, { min: 2, max: 100 })
    const port = int(values, 'port', 8545, { max: 65535 })
    const heartbeat = int(values, 'heartbeat', 1, { max: 3600 })
    const tokens = BigInt(int(values, 'tokens', 1000)) * 10n ** 18n
    const file = str(values, 'out') ?? DEVNET_FILE
    const wanted = str(values, 'hardfork') ?? DEFAULT_HARDFORK
    if (!isHardfork(wanted)) throw argError('HARDFORK_INVALID', `--hardfork must be one of ${HARDFORKS.join(', ')}, got ${JSON.stringify(wanted)}`)

    progress(`devnet: starting anvil (${wanted}) with ${accounts} accounts…`)
    const anvil = await startAnvil({ accounts, port, hardfork: wanted }).catch((e: unknown) => {
      throw portHint(e, 'devnet')
    })
    let timer: NodeJS.Timeout | undefined
    let written = false
    try {
      progress(`devnet: anvil listening on ${anvil.url}; deploying…`)
      const stack = await deployLocalStack(anvil.wallets[0]!)
      if (tokens > 0n) {
        progress(`devnet: minting test tokens to ${accounts} accounts…`)
        for (const w of anvil.wallets) await stack.mintAndApprove(w, tokens)
      }
      const { chainId } = await anvil.provider.getNetwork()
      // Recorded as the chain answers, like `parley deploy` does, not as we asked anvil.
      const hardfork = await detectHardfork(anvil.provider)
      const deployment: Deployment = {
        rpc: anvil.url, chainId: String(chainId), hardfork, manager: stack.manager.address, machines: stack.machines, token: stack.token.address,
        deployer: anvil.wallets[0]!.address.toLowerCase() as Hex,
        accounts: anvil.wallets.map((w) => ({ address: w.address.toLowerCase() as Hex, key: w.privateKey as Hex })),
      }
      writeDeployment(file, deployment)
      written = true
      // Listening before the ready output: a caller may signal as soon as it reads it.
      const signalled = untilSignal()
      if (heartbeat > 0) {
        timer = setInterval(() => void anvil.mine().catch(() => {}), heartbeat * 1000)
      }
      if (flag(values, 'json')) out(toJson({ ...deployment, file }))
      else {
        out(table([
          ['rpc', deployment.rpc], ['chain id', deployment.chainId], ['hardfork', hardfork], ['manager', deployment.manager],
          ['payments', deployment.machines.payments], ['tictactoe', deployment.machines.tictactoe], ['counter', deployment.machines.counter],
          ['token', `${deployment.token} (TEST, ${tokens / 10n ** 18n} per account, approved)`], ['file', file],
        ]))
        out('\naccounts (10000 ETH each; use --account <n> or @n in other commands):')
        for (const [i, a] of deployment.accounts!.entries()) out(`  ${String(i).padStart(2)}  ${a.address}  ${a.key}`)
      }
      progress('devnet: running — Ctrl-C to stop')
      await signalled
      progress('devnet: stopping…')
    } finally {
      if (timer) clearInterval(timer)
      await anvil.stop()
      if (written) removeStateFile(file)
    }
    return 0
  },
}
