/**
 * Hex ↔ bytes for the hot path, on Node's Buffer codec (ethers' getBytes/hexlify parse and
 * print byte by byte in JavaScript). Input is validated first: Buffer alone would stop
 * silently at the first non-hex digit. Pure.
 */
import type { Hex } from './types.js'

const HEX = /^0x(?:[0-9a-fA-F]{2})*$/

/** Whether `v` is 0x-prefixed hex of whole bytes (of exactly `bytes` bytes if given). */
export function isHex(v: unknown, bytes?: number): v is Hex {
  return typeof v === 'string' && (bytes === undefined || v.length === 2 + 2 * bytes) && HEX.test(v)
}

/**
 * The bytes of 0x-hex. Throws TypeError for anything else (as ethers' `getBytes` does).
 * @example hexToBytes('0x0102') // Buffer <01 02>
 */
export function hexToBytes(hex: Hex): Buffer {
  if (!isHex(hex)) throw new TypeError(`not 0x-prefixed hex of whole bytes: ${String(hex).slice(0, 80)}`)
  return Buffer.from(hex.slice(2), 'hex')
}

/**
 * Lowercase 0x-hex of `bytes` (no copy of the bytes).
 * @example bytesToHex(new Uint8Array([1, 255])) // '0x01ff'
 */
export function bytesToHex(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}
