/**
 * EIP-712 typed data of the Parley protocol, identical to contracts/libraries/ParleyHash.sol.
 * Pure functions: no I/O. Struct hashes are computed directly (precomputed type hashes,
 * fixed-width words) because the client hashes every transaction it sees; tests check them
 * against ethers' generic encoder and against the deployed contract.
 */
import { hexlify, toUtf8Bytes } from 'ethers'
import { bytesToHex, hexToBytes, isHex } from './hex.js'
import { keccak256 } from './keccak.js'
import type { ChannelParams, Hex, Transaction } from './types.js'

/** Domain name and version shared with the contract's EIP712 constructor. */
export const DOMAIN_NAME = 'Parley'
export const DOMAIN_VERSION = '1'

/** The EIP-712 domain of one manager deployment. */
export interface Domain {
  chainId: bigint
  verifyingContract: Hex
}

/** EIP-712 type definitions (the shape ethers' `signTypedData` takes). */
export const TYPES = {
  Transaction: [
    { name: 'channelId', type: 'bytes32' },
    { name: 'fork', type: 'uint64' },
    { name: 'seq', type: 'uint64' },
    { name: 'timestamp', type: 'uint64' },
    { name: 'actor', type: 'uint16' },
    { name: 'previousStateHash', type: 'bytes32' },
    { name: 'data', type: 'bytes' },
    { name: 'stateHash', type: 'bytes32' },
  ],
  ChannelParams: [
    { name: 'participants', type: 'address[]' },
    { name: 'signers', type: 'address[]' },
    { name: 'machine', type: 'address' },
    { name: 'asset', type: 'address' },
    { name: 'deposits', type: 'uint256[]' },
    { name: 'bond', type: 'uint256' },
    { name: 'p2pTime', type: 'uint32' },
    { name: 'agreementTime', type: 'uint32' },
    { name: 'chainFallbackTime', type: 'uint32' },
    { name: 'challengeTime', type: 'uint32' },
    { name: 'salt', type: 'bytes32' },
    { name: 'initData', type: 'bytes' },
    { name: 'openDeadline', type: 'uint64' },
  ],
  CloseChannel: [
    { name: 'channelId', type: 'bytes32' },
    { name: 'fork', type: 'uint64' },
    { name: 'stateHash', type: 'bytes32' },
    { name: 'payouts', type: 'uint256[]' },
  ],
} as const

type TypeName = keyof typeof TYPES

function encodeType(name: TypeName): string {
  return `${name}(${TYPES[name].map((f) => `${f.type} ${f.name}`).join(',')})`
}

const typeHash = (name: TypeName): Uint8Array => keccak256(toUtf8Bytes(encodeType(name)))
const TX_TYPEHASH = typeHash('Transaction')
const PARAMS_TYPEHASH = typeHash('ChannelParams')
const CLOSE_TYPEHASH = typeHash('CloseChannel')
const DOMAIN_TYPEHASH = keccak256(toUtf8Bytes('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'))

/** Writes `value` as a big-endian 32-byte word at `offset` (uints and addresses). */
function putUint(buf: Uint8Array, offset: number, value: bigint): void {
  let v = value
  for (let i = 31; i >= 0 && v > 0n; i--) {
    buf[offset + i] = Number(v & 0xffn)
    v >>= 8n
  }
}

function putBytes32(buf: Buffer, offset: number, hex: Hex): void {
  if (!isHex(hex, 32)) throw new TypeError(`expected 32-byte 0x-hex, got ${String(hex).slice(0, 80)}`)
  buf.write(hex.slice(2), offset, 32, 'hex')
}

function words(count: number): Buffer {
  return Buffer.alloc(32 * count)
}

/** keccak256 of the domain separator for one deployment. */
export function domainSeparator(domain: Domain): Hex {
  const buf = words(5)
  buf.set(DOMAIN_TYPEHASH, 0)
  buf.set(keccak256(toUtf8Bytes(DOMAIN_NAME)), 32)
  buf.set(keccak256(toUtf8Bytes(DOMAIN_VERSION)), 64)
  putUint(buf, 96, domain.chainId)
  putUint(buf, 128, BigInt(domain.verifyingContract))
  return bytesToHex(keccak256(buf))
}

/** `keccak256("\x19\x01" ‖ domainSeparator ‖ structHash)`. */
export function typedDigest(separator: Hex, structHash: Hex): Hex {
  return digestOf(hexToBytes(separator), hexToBytes(structHash))
}

function digestOf(separator: Uint8Array, structHash: Uint8Array): Hex {
  const buf = new Uint8Array(66)
  buf[0] = 0x19
  buf[1] = 0x01
  buf.set(separator, 2)
  buf.set(structHash, 34)
  return bytesToHex(keccak256(buf))
}

/** hashStruct(Transaction). */
export function hashTransactionStruct(tx: Transaction): Hex {
  return bytesToHex(transactionStruct(tx))
}

function transactionStruct(tx: Transaction): Uint8Array {
  const buf = words(9)
  buf.set(TX_TYPEHASH, 0)
  putBytes32(buf, 32, tx.channelId)
  putUint(buf, 64, tx.fork)
  putUint(buf, 96, tx.seq)
  putUint(buf, 128, tx.timestamp)
  putUint(buf, 160, BigInt(tx.actor))
  putBytes32(buf, 192, tx.previousStateHash)
  buf.set(keccak256(hexToBytes(tx.data)), 224)
  putBytes32(buf, 256, tx.stateHash)
  return keccak256(buf)
}

/** hashStruct(ChannelParams); arrays hash as keccak256 of their 32-byte-padded elements. */
export function hashParamsStruct(p: ChannelParams): Hex {
  return bytesToHex(paramsStruct(p))
}

function paramsStruct(p: ChannelParams): Uint8Array {
  const deps = amountWords(p.deposits)
  const buf = words(14)
  buf.set(PARAMS_TYPEHASH, 0)
  buf.set(keccak256(addressWords(p.participants)), 32)
  buf.set(keccak256(addressWords(p.signers ?? [])), 64)
  putUint(buf, 96, BigInt(p.machine))
  putUint(buf, 128, BigInt(p.asset))
  buf.set(keccak256(deps), 160)
  putUint(buf, 192, p.bond)
  putUint(buf, 224, BigInt(p.p2pTime))
  putUint(buf, 256, BigInt(p.agreementTime))
  putUint(buf, 288, BigInt(p.chainFallbackTime))
  putUint(buf, 320, BigInt(p.challengeTime))
  putBytes32(buf, 352, p.salt)
  buf.set(keccak256(hexToBytes(p.initData)), 384)
  putUint(buf, 416, p.openDeadline)
  return keccak256(buf)
}

/** A uint256[] as EIP-712 encodes it before hashing: one 32-byte word per amount. */
function amountWords(list: readonly bigint[]): Buffer {
  const buf = words(list.length)
  list.forEach((v, i) => putUint(buf, 32 * i, v))
  return buf
}

/** An address[] as EIP-712 encodes it before hashing: one 32-byte word per address. */
function addressWords(list: readonly Hex[]): Buffer {
  const buf = words(list.length)
  list.forEach((a, i) => putUint(buf, 32 * i, BigInt(a)))
  return buf
}

/** hashStruct(CloseChannel). */
export function hashCloseStruct(channelId: Hex, fork: bigint, stateHash: Hex, payouts: readonly bigint[]): Hex {
  return bytesToHex(closeStruct(channelId, fork, stateHash, payouts))
}

function closeStruct(channelId: Hex, fork: bigint, stateHash: Hex, payouts: readonly bigint[]): Uint8Array {
  const buf = words(5)
  buf.set(CLOSE_TYPEHASH, 0)
  putBytes32(buf, 32, channelId)
  putUint(buf, 64, fork)
  putBytes32(buf, 96, stateHash)
  for (const v of payouts) if (typeof v !== 'bigint' || v < 0n || v >= 1n << 256n) throw new TypeError(`expected uint256 payouts, got ${String(v)}`)
  buf.set(keccak256(amountWords(payouts)), 128)
  return keccak256(buf)
}

/**
 * Digests of one manager deployment. Create once per manager and reuse: the domain
 * separator is computed a single time.
 *
 * @example
 * const h = new ParleyHasher({ chainId: 31337n, verifyingContract: manager })
 * const channelId = h.channelId(params)      // what every participant signs to open
 * const digest = h.transaction(tx)            // what author and confirmers sign
 */
export class ParleyHasher {
  readonly separator: Hex
  private readonly separatorBytes: Uint8Array
  constructor(readonly domain: Domain) {
    this.separator = domainSeparator(domain)
    this.separatorBytes = hexToBytes(this.separator)
  }
  /** The channel id = EIP-712 digest of the params. */
  channelId(params: ChannelParams): Hex {
    return digestOf(this.separatorBytes, paramsStruct(params))
  }
  /** The digest every signer of `tx` signs. */
  transaction(tx: Transaction): Hex {
    return digestOf(this.separatorBytes, transactionStruct(tx))
  }
  /** The digest of CloseChannel(channelId, fork, stateHash, payouts): a close consent. */
  close(channelId: Hex, fork: bigint, stateHash: Hex, payouts: readonly bigint[]): Hex {
    return digestOf(this.separatorBytes, closeStruct(channelId, fork, stateHash, payouts))
  }
}

/** keccak256 of state bytes: the `stateHash` of a state. */
export function hashState(state: Hex | Uint8Array): Hex {
  return bytesToHex(keccak256(typeof state === 'string' ? hexToBytes(state) : state))
}

/** Normalises bytes to lowercase 0x-hex. */
export function toHex(b: Uint8Array | Hex): Hex {
  return hexlify(b).toLowerCase() as Hex
}
