/**
 * Revert data decoded against the custom errors of every contract Parley ships (the manager, the
 * example machines, the test token) and Solidity's `Error` / `Panic`: used by the chain side to
 * report a reverted call and by the machine side to name a machine's failure.
 */
import { ErrorFragment, Interface, type Result } from 'ethers'
import type { Hex } from '../protocol/types.js'
import { loadArtifact, type ContractName } from './artifacts.js'

/** A revert decoded against the custom errors of every Parley contract. */
export interface DecodedRevert {
  /** Custom error name, e.g. `ProofNotFinal`; `Error` / `Panic` for Solidity's built-ins. */
  name: string
  /** Full signature, e.g. `ProofNotFinal(uint64)`. */
  signature: string
  /** Arguments by name (by position when unnamed). */
  args: Record<string, unknown>
  /** For `MachineCallFailed`: the machine's own revert, decoded. */
  inner?: DecodedRevert
  /** The raw revert data. */
  data: Hex
}

/** Contracts whose custom errors the decoder knows (the manager, example machines, token). */
const KNOWN: readonly ContractName[] = ['StateChannelManager', 'Counter', 'Payments', 'TicTacToe', 'TestToken']

let known: Interface | undefined

/** One Interface holding every custom error of the known contracts (deduplicated). */
function errorInterface(): Interface {
  if (known) return known
  const seen = new Set<string>()
  const fragments: ErrorFragment[] = []
  for (const name of KNOWN) {
    for (const f of new Interface(loadArtifact(name).abi as never).fragments) {
      if (f instanceof ErrorFragment && !seen.has(f.selector)) {
        seen.add(f.selector)
        fragments.push(f)
      }
    }
  }
  known = new Interface(fragments)
  return known
}

/** `ProofNotFinal` → `PROOF_NOT_FINAL`, `SafeERC20FailedOperation` → `SAFE_ERC20_FAILED_OPERATION`. */
export function errorCode(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toUpperCase()
}

function namedArgs(inputs: readonly { name: string }[], values: Result): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  inputs.forEach((p, i) => (out[p.name || String(i)] = values[i]))
  return out
}

/**
 * Decodes revert data against every known Parley error, or returns undefined when the
 * selector is unknown.
 * @example decodeRevert(e.data)?.name === 'ProofNotFinal'
 */
export function decodeRevert(data: Hex): DecodedRevert | undefined {
  if (data.length < 10) return undefined
  let parsed
  try {
    parsed = errorInterface().parseError(data)
  } catch {
    return undefined
  }
  if (!parsed) return undefined
  const decoded: DecodedRevert = {
    name: parsed.name,
    signature: parsed.signature,
    args: namedArgs(parsed.fragment.inputs, parsed.args),
    data: data.toLowerCase() as Hex,
  }
  if (parsed.name === 'MachineCallFailed') {
    const inner = decodeRevert(parsed.args[1] as Hex)
    if (inner) decoded.inner = inner
  }
  return decoded
}
