/**
 * Gas accounting helpers: the intrinsic cost of a transaction and its calldata under the
 * contracts' EVM version (cancun: 21,000 base, 4 gas per zero byte, 16 per non-zero byte,
 * no EIP-7623 floor), and the measured gas of a view function sent as a real transaction.
 */
import { getBytes, type Signer } from 'ethers'
import { RuntimeError } from '../../src/errors/ParleyError.js'
import type { Hex } from '../../src/protocol/types.js'

/** Base cost of every transaction. */
export const TX_BASE_GAS = 21_000n

/** Calldata gas of `data` (EIP-2028). */
export function calldataGas(data: Hex): bigint {
  let gas = 0n
  for (const b of getBytes(data)) gas += b === 0 ? 4n : 16n
  return gas
}

/** Gas of one call, split into what the chain charges and what the contract executes. */
export interface CallGas {
  /** Receipt gasUsed of the transaction. */
  total: bigint
  /** Calldata share (4/16 gas per byte). */
  calldata: bigint
  /** total − 21,000 − calldata: the contract's own execution. */
  execution: bigint
}

/**
 * Sends `data` to `to` as a transaction and reads the receipt: the exact gas a caller pays
 * to run that call on-chain (works for view functions too; their result is discarded).
 */
export async function measureCall(signer: Signer, to: Hex, data: Hex): Promise<CallGas & { hash: Hex }> {
  const receipt = await (await signer.sendTransaction({ to, data })).wait()
  if (!receipt || receipt.status !== 1) throw new RuntimeError('BENCH_CALL_FAILED', `measured call to ${to} did not succeed`)
  const calldata = calldataGas(data)
  return { total: receipt.gasUsed, calldata, execution: receipt.gasUsed - TX_BASE_GAS - calldata, hash: receipt.hash as Hex }
}
