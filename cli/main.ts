/**
 * The `parley` command line: dispatches to one module per command (loaded on demand, so a
 * quick command does not pay for the EVM and networking stacks), prints every failure as one
 * line with its error code, and returns the exit status: 0 success, 1 failure, 2 usage.
 */
import { HelpShown, argError, errorLine, exitCodeOf } from './lib/errors.js'
import type { Command } from './lib/command.js'
import { out } from './lib/output.js'

type Loader = () => Promise<{ command: Command }>

/** Every command, its one-line summary and its module. */
export const COMMANDS: Record<string, { summary: string; load: Loader }> = {
  devnet: { summary: 'start a local chain with Parley deployed (until Ctrl-C)', load: () => import('./commands/devnet.js') },
  testnet: { summary: 'start a local HyperDHT testnet for peers on this host (until Ctrl-C)', load: () => import('./commands/testnet.js') },
  deploy: { summary: 'deploy Parley and the example machines to a chain', load: () => import('./commands/deploy.js') },
  machine: { summary: 'deploy your own state machine from a .sol or an artifact (machine deploy …)', load: () => import('./commands/machine.js') },
  keystore: { summary: 'encrypt a key into a JSON keystore file (for --keystore)', load: () => import('./commands/keystore.js') },
  'session-key': { summary: 'a new session key file: signs one channel\'s moves (params new --signers, run --session-key-file)', load: () => import('./commands/sessionKey.js') },
  balance: { summary: "an account's manager and wallet balance", load: () => import('./commands/balance.js') },
  deposit: { summary: 'deposit into the manager balance', load: () => import('./commands/deposit.js') },
  fund: { summary: "fund this key's share straight into a channel before it opens", load: () => import('./commands/fund.js') },
  withdraw: { summary: 'withdraw from the manager balance', load: () => import('./commands/withdraw.js') },
  params: { summary: 'write a channel params file (params new …)', load: () => import('./commands/params.js') },
  consent: { summary: "print this key's consent signature to open a channel", load: () => import('./commands/consent.js') },
  open: { summary: 'open a channel on-chain with every consent', load: () => import('./commands/open.js') },
  run: { summary: "run this participant's peer: moves from stdin, events as they happen", load: () => import('./commands/run.js') },
  conclude: { summary: 'settle from a terminal final state in a store (no peer needed)', load: () => import('./commands/conclude.js') },
  status: { summary: 'a channel on-chain and in a local store', load: () => import('./commands/status.js') },
}

const USAGE = `parley <command> [options] — peer-to-peer state channels on an EVM chain

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`).join('\n')}

\`parley <command> --help\` describes a command. Every command takes --json for
machine-readable output. Errors print one line \`error CODE: message\` on stderr; exit status
0 = success, 1 = the operation failed, 2 = bad command line or input file.
Keys: --key, --key-file, --keystore, --account (devnet) or $PARLEY_KEY. Chain: --rpc (or $PARLEY_RPC).
Walkthrough: docs/cli.md.`

/**
 * Runs one command line; resolves with the exit status.
 * @example process.exitCode = await main(['balance', '--account', '1'])
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  const json = argv.includes('--json')
  try {
    if (name === undefined) {
      process.stderr.write(`${USAGE}\n`)
      return 2
    }
    if (name === '--help' || name === '-h' || name === 'help') {
      out(USAGE)
      return 0
    }
    const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
    if (!entry) throw argError('COMMAND_UNKNOWN', `unknown command ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(', ')})`)
    const { command } = await entry.load()
    return (await command.run(rest)) ?? 0
  } catch (e) {
    if (e instanceof HelpShown) return 0
    process.stderr.write(`${errorLine(e, json)}\n`)
    if (process.env.PARLEY_DEBUG && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`)
    return exitCodeOf(e)
  }
}
