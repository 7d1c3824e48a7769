/**
 * The chain side of a command: which JSON-RPC node, which key, which manager — resolved from
 * flags, environment and the deployment file, each checked with a clear error before any
 * transaction is attempted.
 */
import { JsonRpcProvider, Network, Wallet, isAddress, isHexString } from 'ethers'
import { ManagerClient } from '../../src/chain/ManagerClient.js'
import { RuntimeError } from '../../src/errors/ParleyError.js'
import type { Hex } from '../../src/protocol/types.js'
import { str, type Values } from './args.js'
import { findDeployment, type Deployment } from './deployment.js'
import { argError } from './errors.js'
import { readText } from './files.js'
import { keystorePassword, readKeystore } from './keystore.js'

export const DEFAULT_RPC = 'http://127.0.0.1:8545'

/** A connected chain: provider, chain id, and the deployment file if one was found. */
export interface ChainContext {
  rpc: string
  chainId: bigint
  provider: JsonRpcProvider
  deployment?: Deployment
  deploymentPath?: string
  /** Stops the provider's timers (call before exiting). */
  close(): void
}

/**
 * Connects to `--rpc` (else $PARLEY_RPC, the deployment file's, the default): asks the node
 * for its chain id first, so a wrong URL is RuntimeError `RPC_UNREACHABLE` at once instead of
 * ethers retrying forever.
 * @example const chain = await connect(values)
 */
export async function connect(values: Values): Promise<ChainContext> {
  const found = findDeployment(values)
  const rpc = str(values, 'rpc') ?? process.env.PARLEY_RPC ?? found?.deployment.rpc ?? DEFAULT_RPC
  if (!/^https?:\/\//.test(rpc)) throw argError('RPC_INVALID', `--rpc must be an http(s) URL, got ${JSON.stringify(rpc)}`)
  const chainId = await chainIdOf(rpc)
  const loopback = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(rpc)
  const provider = new JsonRpcProvider(rpc, Network.from(chainId), { staticNetwork: true, cacheTimeout: -1, pollingInterval: loopback ? 200 : 2000 })
  return {
    rpc, chainId, provider,
    ...(found ? { deployment: found.deployment, deploymentPath: found.path } : {}),
    close: () => provider.destroy(),
  }
}

/** `eth_chainId` with a timeout; RuntimeError `RPC_UNREACHABLE` when the node does not answer. */
async function chainIdOf(rpc: string): Promise<bigint> {
  let body: { result?: string; error?: { message?: string } }
  try {
    const res = await fetch(rpc, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }), signal: AbortSignal.timeout(10_000),
    })
    body = (await res.json()) as typeof body
  } catch (cause) {
    throw new RuntimeError('RPC_UNREACHABLE', `no JSON-RPC node answers at ${rpc} (is \`parley devnet\` running? see --rpc)`, { cause, details: { rpc } })
  }
  if (typeof body.result !== 'string') throw new RuntimeError('RPC_UNREACHABLE', `${rpc} did not return a chain id: ${body.error?.message ?? 'no result'}`, { details: { rpc } })
  return BigInt(body.result)
}

/**
 * The signing key: `--key`, `--key-file`, `--account <n>` (a devnet key from the deployment
 * file), `--keystore` (an encrypted JSON keystore, cli/lib/keystore.ts), $PARLEY_KEY or
 * $PARLEY_KEYSTORE, connected to the chain's provider when given.
 * @example const wallet = loadWallet(values, chain)
 */
export function loadWallet(values: Values, chain?: Pick<ChainContext, 'provider' | 'deployment'>): Wallet {
  const given = (['key', 'key-file', 'account', 'keystore'] as const).filter((k) => str(values, k) !== undefined)
  if (given.length > 1) throw argError('ARG_CONFLICT', `give only one of --key, --key-file, --account, --keystore (got ${given.map((k) => `--${k}`).join(', ')})`)
  let key: string | undefined
  let source: string
  // $PARLEY_KEYSTORE stands in for --keystore only when no key is given any other way.
  const keystore = str(values, 'keystore') ?? (given.length === 0 && !process.env.PARLEY_KEY ? process.env.PARLEY_KEYSTORE : undefined)
  if (keystore === undefined && str(values, 'password-file') !== undefined) throw argError('ARG_UNEXPECTED', '--password-file goes with --keystore (or $PARLEY_KEYSTORE)')
  if (keystore !== undefined) {
    key = readKeystore(keystore, keystorePassword(values)).privateKey
    source = `keystore ${keystore}`
  } else if (str(values, 'key') !== undefined) {
    key = str(values, 'key')
    source = '--key'
  } else if (str(values, 'key-file') !== undefined) {
    key = readText(str(values, 'key-file')!, 'key file').trim()
    source = `key file ${str(values, 'key-file')}`
  } else if (str(values, 'account') !== undefined) {
    const raw = str(values, 'account')!
    const accounts = chain?.deployment?.accounts ?? findDeployment(values)?.deployment.accounts
    if (!accounts) throw argError('ACCOUNT_UNAVAILABLE', '--account needs a devnet deployment file with funded keys (run `parley devnet`)')
    const i = Number(raw)
    if (!/^\d+$/.test(raw) || i >= accounts.length) throw argError('ACCOUNT_INVALID', `--account must be 0..${accounts.length - 1}, got ${JSON.stringify(raw)}`)
    key = accounts[i]!.key
    source = `devnet account ${i}`
  } else {
    key = process.env.PARLEY_KEY
    source = '$PARLEY_KEY'
  }
  if (key === undefined || key === '') throw argError('KEY_REQUIRED', 'this command signs: pass --key, --key-file, --account or --keystore, or set PARLEY_KEY or PARLEY_KEYSTORE')
  const hex = key.startsWith('0x') ? key : `0x${key}`
  if (!isHexString(hex, 32)) throw argError('KEY_INVALID', `${source} is not a 32-byte hex private key`)
  try {
    return new Wallet(hex, chain?.provider ?? null)
  } catch {
    throw argError('KEY_INVALID', `${source} is not a valid secp256k1 private key`)
  }
}

/**
 * The manager: `--manager`, else `hint` (the params file's), else the deployment file's —
 * checked to have code on this chain. `runner` signs when given (else read-only).
 * @example const manager = await resolveManager(chain, values, wallet)
 */
export async function resolveManager(chain: ChainContext, values: Values, runner?: Wallet, hint?: Hex): Promise<ManagerClient> {
  const flagged = str(values, 'manager')
  let address: string | undefined = flagged ?? hint
  if (address === undefined && chain.deployment) {
    if (BigInt(chain.deployment.chainId) !== chain.chainId) {
      throw argError('DEPLOYMENT_CHAIN_MISMATCH', `${chain.deploymentPath} is for chain ${chain.deployment.chainId}, but ${chain.rpc} is chain ${chain.chainId}: pass --manager or --deployment`)
    }
    address = chain.deployment.manager
  }
  if (address === undefined) throw argError('MANAGER_REQUIRED', 'no manager: pass --manager, or run `parley devnet` / `parley deploy` to write a deployment file')
  if (!isAddress(address)) throw argError('ADDRESS_INVALID', `manager ${JSON.stringify(address)} is not an address`)
  const code = await chain.provider.getCode(address).catch((cause: unknown) => {
    throw new RuntimeError('RPC_FAILED', `eth_getCode failed at ${chain.rpc}: ${(cause as Error).message}`, { cause })
  })
  if (code === '0x') throw new RuntimeError('MANAGER_NOT_FOUND', `no contract at ${address} on chain ${chain.chainId} (${chain.rpc}): wrong --rpc, or the devnet was restarted?`)
  return new ManagerClient(address, runner ?? chain.provider)
}

/**
 * An address argument: `0x…`, or `@n` for devnet account n.
 * @example const to = parseAddress('@2', chain.deployment, '--to')
 */
export function parseAddress(text: string, deployment: Deployment | undefined, what: string): Hex {
  const m = /^@(\d+)$/.exec(text)
  if (m) {
    const account = deployment?.accounts?.[Number(m[1])]
    if (!account) throw argError('ACCOUNT_INVALID', `${what}: ${text} needs a devnet deployment file with an account ${m[1]}`)
    return account.address.toLowerCase() as Hex
  }
  if (!isAddress(text)) throw argError('ADDRESS_INVALID', `${what}: ${JSON.stringify(text)} is not an address (0x… or @n for devnet account n)`)
  return text.toLowerCase() as Hex
}
