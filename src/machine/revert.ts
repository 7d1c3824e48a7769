/**
 * Decodes a machine's revert data into its custom error: first with the machine's own ABI
 * (when the caller supplied it), then with AStateMachine's errors, then with every error of
 * the contracts Parley ships (example machines, manager) and Solidity's `Error`/`Panic`.
 * Unknown selectors keep only the raw data.
 */
import { Interface, Result, type ErrorDescription } from 'ethers'
import { decodeRevert } from '../contracts/revert.js'
import type { Hex } from '../protocol/types.js'
import { MACHINE_INTERFACE } from './abi.js'

/** A machine revert, decoded as far as the known ABIs allow. */
export interface MachineRevert {
  /** Custom error name (`PaymentsInsufficientBalance`, `Panic`, …); absent when unknown. */
  errorName?: string
  /** Full signature, e.g. `MachineNotYourTurn(uint16,uint16)`. */
  signature?: string
  /** Arguments by parameter name (by position when unnamed). */
  args?: Record<string, unknown>
  /** The raw revert data. */
  data: Hex
}

function plain(v: unknown): unknown {
  return v instanceof Result ? v.toArray(true) : v
}

function fromDescription(d: ErrorDescription, data: Hex): MachineRevert {
  const args: Record<string, unknown> = {}
  d.fragment.inputs.forEach((p, i) => (args[p.name || String(i)] = plain(d.args[i])))
  return { errorName: d.name, signature: d.signature, args, data }
}

function tryParse(iface: Interface, data: Hex): ErrorDescription | undefined {
  try {
    return iface.parseError(data) ?? undefined
  } catch {
    return undefined // selector known but the arguments do not decode
  }
}

/**
 * @example
 * const r = decodeMachineRevert(returnData, new Interface(paymentsAbi))
 * r.errorName // 'PaymentsInsufficientBalance'
 */
export function decodeMachineRevert(revertData: Uint8Array, machineAbi?: Interface): MachineRevert {
  const data = `0x${Buffer.from(revertData.buffer, revertData.byteOffset, revertData.length).toString('hex')}` as Hex
  if (revertData.length < 4) return { data }
  for (const iface of machineAbi ? [machineAbi, MACHINE_INTERFACE] : [MACHINE_INTERFACE]) {
    const d = tryParse(iface, data)
    if (d) return fromDescription(d, data)
  }
  let known
  try {
    known = decodeRevert(data)
  } catch {
    known = undefined // artifacts not built: decode with what we have
  }
  return known ? { errorName: known.name, signature: known.signature, args: known.args, data } : { data }
}
