/**
 * Assets and amounts: ETH or an ERC-20 (symbol and decimals read from the token), amounts
 * parsed from decimal text ("1.5") and printed back the same way.
 */
import { Contract, formatUnits, parseUnits, type ContractRunner, type Provider } from 'ethers'
import { ETH, type Hex } from '../../src/protocol/types.js'
import { RuntimeError } from '../../src/errors/ParleyError.js'
import type { Deployment } from './deployment.js'
import { parseAddress } from './chain.js'
import { argError } from './errors.js'

export interface Asset {
  address: Hex
  symbol: string
  decimals: number
}

export const ETH_ASSET: Asset = { address: ETH, symbol: 'ETH', decimals: 18 }

const ERC20 = [
  'function symbol() view returns (string)', 'function decimals() view returns (uint8)',
  'function balanceOf(address) view returns (uint256)', 'function allowance(address,address) view returns (uint256)',
  'function approve(address,uint256) returns (bool)',
]

/** A bound ERC-20 (for balances and approvals). */
export function erc20(address: Hex, runner: ContractRunner): Contract {
  return new Contract(address, ERC20, runner)
}

/**
 * The asset of `--token` (an address, `@n`, or `test` for the deployment's TestToken); ETH
 * when absent. RuntimeError `TOKEN_INVALID` when the address is not an ERC-20.
 * @example const asset = await resolveAsset(str(values, 'token'), chain.provider, chain.deployment)
 */
export async function resolveAsset(token: string | undefined, provider: Provider, deployment?: Deployment): Promise<Asset> {
  if (token === undefined || token.toLowerCase() === 'eth') return ETH_ASSET
  let address: Hex
  if (token === 'test') {
    if (!deployment) throw argError('DEPLOYMENT_REQUIRED', '--token test needs a deployment file (run `parley devnet` or `parley deploy`)')
    address = deployment.token.toLowerCase() as Hex
  } else {
    address = parseAddress(token, deployment, '--token')
  }
  return assetAt(address, provider)
}

/** Symbol and decimals of the asset at `address` (ETH for the zero address). */
export async function assetAt(address: Hex, provider: Provider): Promise<Asset> {
  if (BigInt(address) === 0n) return ETH_ASSET
  const c = erc20(address, provider)
  try {
    const [symbol, decimals] = await Promise.all([c.getFunction('symbol')(), c.getFunction('decimals')()])
    return { address, symbol: String(symbol), decimals: Number(decimals) }
  } catch (cause) {
    throw new RuntimeError('TOKEN_INVALID', `${address} does not answer as an ERC-20 token (symbol, decimals)`, { cause, details: { address } })
  }
}

/**
 * Parses a decimal amount ("1", "0.25") in the asset's units; ArgumentError `AMOUNT_INVALID`.
 * @example parseAmount('1.5', ETH_ASSET) // 1500000000000000000n
 */
export function parseAmount(text: string, asset: Asset, what = 'amount'): bigint {
  if (!/^\d+(\.\d+)?$/.test(text)) throw argError('AMOUNT_INVALID', `${what} must be a decimal number like 1 or 0.25, got ${JSON.stringify(text)}`)
  try {
    return parseUnits(text, asset.decimals)
  } catch {
    throw argError('AMOUNT_INVALID', `${what} ${text} has more than ${asset.decimals} decimals`)
  }
}

/** `1.5 ETH` for 1500000000000000000n. */
export function formatAmount(amount: bigint, asset: Asset): string {
  const text = formatUnits(amount, asset.decimals)
  return `${text.endsWith('.0') ? text.slice(0, -2) : text} ${asset.symbol}`
}
