/**
 * A participant's wallet as Parley uses it: an account that signs typed-data consents. Adapters
 * for an ethers `Signer` (any: a `Wallet`, a `JsonRpcSigner`, a hardware signer) and for an
 * EIP-1193 provider (a browser wallet, or a node's unlocked account) through the standard
 * `eth_signTypedData_v4`. Whatever form the wallet returns — v = 0 / 1, or a 64-byte EIP-2098
 * compact signature — comes back as the 65-byte form the manager takes.
 */
import type { Signer } from 'ethers'
import { RuntimeError, UsageError } from '../errors/ParleyError.js'
import { normalizeSignature } from '../protocol/signatures.js'
import type { Hex } from '../protocol/types.js'
import { toEip712Json, type ConsentTypedData } from './typedData.js'

/** Anything that signs a consent's typed data for one account. */
export interface ConsentSigner {
  /** The signing account, lowercase. */
  getAddress(): Promise<Hex>
  /** The account's 65-byte signature (v ∈ {27, 28}) over `data`'s EIP-712 digest. */
  signTypedData(data: ConsentTypedData): Promise<Hex>
}

/** The EIP-1193 request interface (`window.ethereum`, or any provider with `request`). */
export interface Eip1193Provider {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>
}

/**
 * A consent signer over an ethers `Signer` (its `signTypedData`).
 * @example const wallet = consentSignerFromSigner(await browserProvider.getSigner())
 */
export function consentSignerFromSigner(signer: Signer): ConsentSigner {
  if (!signer || typeof signer.signTypedData !== 'function' || typeof signer.getAddress !== 'function') {
    throw new UsageError('WALLET_INVALID', 'expected an ethers Signer (with getAddress and signTypedData)')
  }
  return {
    getAddress: async () => (await signer.getAddress()).toLowerCase() as Hex,
    signTypedData: async (data) =>
      normalizeSignature(await walletCall(() => signer.signTypedData(data.domain, data.types, data.message), data.primaryType)),
  }
}

/**
 * A consent signer over an EIP-1193 provider's `eth_signTypedData_v4` for `account`.
 * @example const wallet = consentSignerFromEip1193(window.ethereum, (await window.ethereum.request({ method: 'eth_requestAccounts' }))[0])
 */
export function consentSignerFromEip1193(provider: Eip1193Provider, account: string): ConsentSigner {
  if (!provider || typeof provider.request !== 'function') throw new UsageError('WALLET_INVALID', 'expected an EIP-1193 provider (with request)')
  if (typeof account !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(account)) throw new UsageError('WALLET_INVALID', `account must be an address, got ${String(account)}`)
  const address = account.toLowerCase() as Hex
  return {
    getAddress: () => Promise.resolve(address),
    signTypedData: async (data) => {
      const signature = await walletCall(() => provider.request({ method: 'eth_signTypedData_v4', params: [address, toEip712Json(data)] }), data.primaryType)
      if (typeof signature !== 'string') throw new RuntimeError('WALLET_REJECTED', `the wallet returned no signature for ${data.primaryType}`)
      return normalizeSignature(signature)
    },
  }
}

/** Runs a wallet request; a refusal or failure becomes RuntimeError `WALLET_REJECTED` (cause kept). */
async function walletCall<T>(call: () => Promise<T>, what: string): Promise<T> {
  try {
    return await call()
  } catch (cause) {
    throw new RuntimeError('WALLET_REJECTED', `the wallet did not sign the ${what} consent: ${(cause as Error)?.message ?? String(cause)}`, { cause })
  }
}
