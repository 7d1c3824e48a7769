/**
 * Command-line parsing on `node:util` parseArgs, with the CLI's conventions: `--help` anywhere
 * prints the command's usage, every parse failure is an {@link ArgumentError} (exit 2), and the
 * option groups shared by many commands are defined once here.
 */
import { parseArgs } from 'node:util'
import { argError, HelpShown } from './errors.js'
import { out } from './output.js'

type OptionSpec = { type: 'string' | 'boolean'; short?: string; multiple?: boolean }
export type Options = Record<string, OptionSpec>
export type Values = Record<string, string | boolean | string[] | undefined>

/** `--json` and `--help`, on every command. */
export const COMMON: Options = { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } }
/** Where the chain and the manager are. */
export const CHAIN: Options = { rpc: { type: 'string' }, manager: { type: 'string' }, deployment: { type: 'string' } }
/** Which key signs. */
export const KEY: Options = {
  key: { type: 'string' }, 'key-file': { type: 'string' }, account: { type: 'string' }, keystore: { type: 'string' }, 'password-file': { type: 'string' },
}

/** Help text of the shared option groups, appended to each command's usage. */
export const CHAIN_HELP = `  --rpc <url>          JSON-RPC endpoint (default: $PARLEY_RPC, the deployment file's, or http://127.0.0.1:8545)
  --manager <address>  StateChannelManager (default: the params file's, or the deployment file's)
  --deployment <file>  deployment file (default: $PARLEY_DEPLOYMENT, ./.parley/deployment.json, ./.parley/devnet.json)`
export const KEY_HELP = `  --key <hex>          private key (or --key-file <path>, or --account <n> for devnet key n, or $PARLEY_KEY)
  --keystore <file>    an encrypted JSON keystore instead (or $PARLEY_KEYSTORE); its password from
                       --password-file <path> or $PARLEY_KEYSTORE_PASSWORD, never on the command line`
export const JSON_HELP = `  --json               machine-readable output (bigints as decimal strings)
  -h, --help           this help`

export interface Parsed {
  values: Values
  positionals: string[]
}

/**
 * Parses `argv` against `options`; prints `usage` and throws {@link HelpShown} on `--help`.
 * @example const { values, positionals } = parse(argv, { ...COMMON, ...CHAIN }, usage, { min: 1, max: 1 })
 */
export function parse(argv: string[], options: Options, usage: string, counts: { min?: number; max?: number } = {}): Parsed {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(usage)
    throw new HelpShown()
  }
  let parsed: Parsed
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as Parsed
  } catch (e) {
    const code = (e as { code?: string }).code
    const message = (e as Error).message.split('\n')[0]!
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw argError('ARG_UNKNOWN', `${message} (see --help)`)
    throw argError('ARG_INVALID', `${message} (see --help)`)
  }
  const n = parsed.positionals.length
  const min = counts.min ?? 0
  const max = counts.max ?? 0
  if (n < min) throw argError('ARG_MISSING', `expected ${min === max ? min : `at least ${min}`} argument${min === 1 ? '' : 's'}, got ${n}\n${usage.split('\n')[0]}`)
  if (n > max) throw argError('ARG_UNEXPECTED', `unexpected argument ${JSON.stringify(parsed.positionals[max])} (see --help)`)
  return parsed
}

/** A string option's value (undefined when absent). */
export function str(values: Values, name: string): string | undefined {
  const v = values[name]
  return typeof v === 'string' ? v : undefined
}

/** A boolean flag. */
export function flag(values: Values, name: string): boolean {
  return values[name] === true
}

/** A repeatable option's values (each may also be a comma list). */
export function list(values: Values, name: string): string[] {
  const v = values[name]
  const items = Array.isArray(v) ? v : typeof v === 'string' ? [v] : []
  return items.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '')
}

/**
 * A non-negative integer option within bounds; ArgumentError `ARG_INVALID` otherwise.
 * @example const port = int(values, 'port', 8545, { max: 65535 })
 */
export function int(values: Values, name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
  const raw = str(values, name)
  if (raw === undefined) return fallback
  const n = Number(raw)
  const min = bounds.min ?? 0
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER
  if (!/^\d+$/.test(raw) || n < min || n > max) throw argError('ARG_INVALID', `--${name} must be an integer in ${min}..${max}, got ${JSON.stringify(raw)}`)
  return n
}
