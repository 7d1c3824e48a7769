/**
 * The EIP-712 typed data of every consent a participant's wallet signs (pure): the open
 * consent (the channel's params, whose digest is the channel id) and the close consent
 * (CloseChannel). A wallet shows these fields to its user and signs them with the standard
 * `eth_signTypedData_v4`; the digest it signs is the one the manager checks.
 */
import { DOMAIN_NAME, DOMAIN_VERSION, TYPES, hashState, type Domain } from '../protocol/eip712.js'
import type { ChannelParams, Hex } from '../protocol/types.js'

/** One field of an EIP-712 struct type. */
export interface TypedDataField {
  name: string
  type: string
}

/** The EIP-712 domain a wallet sees: Parley's name and version, the chain and the manager. */
export interface TypedDataDomain {
  name: string
  version: string
  chainId: bigint
  verifyingContract: Hex
}

/**
 * Typed data in the shape ethers' `Signer.signTypedData(domain, types, message)` takes (types
 * without `EIP712Domain`); {@link toEip712Json} turns it into the `eth_signTypedData_v4` form.
 */
export interface ConsentTypedData<P extends ConsentType = ConsentType> {
  domain: TypedDataDomain
  types: Record<string, TypedDataField[]>
  primaryType: P
  message: Record<string, unknown>
}

/** The struct types a wallet signs. */
export type ConsentType = 'ChannelParams' | 'CloseChannel'

/** The EIP-712 domain of a manager deployment (`ParleyHasher.domain`, or `{ chainId, verifyingContract }`). */
export function typedDataDomain(domain: Domain): TypedDataDomain {
  return { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId: domain.chainId, verifyingContract: domain.verifyingContract }
}

const fields = (name: ConsentType): TypedDataField[] => TYPES[name].map((f) => ({ name: f.name, type: f.type }))

/**
 * The open consent: the channel's params as typed data. Its digest is the channel id; every
 * participant's wallet signs it once, authorizing the session keys in `params.signers`.
 * @example
 * const { domain, types, message } = openConsentTypedData(hasher.domain, params)
 * const consent = normalizeSignature(await signer.signTypedData(domain, types, message))
 */
export function openConsentTypedData(domain: Domain, params: ChannelParams): ConsentTypedData<'ChannelParams'> {
  return {
    domain: typedDataDomain(domain),
    types: { ChannelParams: fields('ChannelParams') },
    primaryType: 'ChannelParams',
    message: {
      participants: [...params.participants], signers: [...(params.signers ?? [])], machine: params.machine, asset: params.asset,
      deposits: [...params.deposits], bond: params.bond, p2pTime: params.p2pTime, agreementTime: params.agreementTime,
      chainFallbackTime: params.chainFallbackTime, challengeTime: params.challengeTime, salt: params.salt, initData: params.initData,
      openDeadline: params.openDeadline,
    },
  }
}

/**
 * The close consent: settle channel `channelId` on `fork` from `state` (its bytes), paying
 * participant i `payouts[i]` of the locked deposits (see `closePayouts`; a wallet shows them).
 * An honest client signs no transaction on that fork afterwards.
 * @example const data = closeConsentTypedData(hasher.domain, channelId, 0n, finalState, [60n, 40n])
 */
export function closeConsentTypedData(domain: Domain, channelId: Hex, fork: bigint, state: Hex, payouts: readonly bigint[]): ConsentTypedData<'CloseChannel'> {
  return {
    domain: typedDataDomain(domain),
    types: { CloseChannel: fields('CloseChannel') },
    primaryType: 'CloseChannel',
    message: { channelId, fork, stateHash: hashState(state), payouts: [...payouts] },
  }
}

/**
 * The JSON `eth_signTypedData_v4` takes: the types with `EIP712Domain`, every integer as a
 * decimal string (JSON has no bigint).
 * @example await provider.request({ method: 'eth_signTypedData_v4', params: [account, toEip712Json(data)] })
 */
export function toEip712Json(data: ConsentTypedData): string {
  const json = {
    types: {
      EIP712Domain: [
        { name: 'name', type: 'string' }, { name: 'version', type: 'string' },
        { name: 'chainId', type: 'uint256' }, { name: 'verifyingContract', type: 'address' },
      ],
      ...data.types,
    },
    primaryType: data.primaryType,
    domain: data.domain,
    message: data.message,
  }
  return JSON.stringify(json, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
}
