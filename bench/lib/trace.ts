/**
 * Where a transaction's execution gas goes, from anvil's opcode trace (debug_traceTransaction):
 * the manager's fallback around the court's delegatecall, machine calls, ecrecover, storage,
 * logs, hashing and everything else (ABI decoding, checks, memory). Used by
 * `npm run bench:gas -- --trace` to explain the court's figures (docs/gas.md).
 *
 * Each step's cost is the gas between it and the next step of the same frame, so a call's cost
 * includes everything its callee spent. The court's own code runs in the frame the manager's
 * fallback delegatecalls (depth 2), or at depth 1 for calls the manager serves itself.
 */
import type { JsonRpcProvider } from 'ethers'
import { RuntimeError } from '../../src/errors/ParleyError.js'
import type { Hex } from '../../src/protocol/types.js'
import { calldataGas, TX_BASE_GAS } from './gas.js'

/** Execution gas of one transaction by where it went (all in gas). */
export interface GasBreakdown {
  /** The manager's frame around the delegatecall: dispatch, copying calldata and return data,
   * the DELEGATECALL itself (cold court address: 2,600). 0 when the manager served the call. */
  fallback: number
  /** STATICCALLs into the channel's machine, with all they spent inside. */
  machine: number
  machineCalls: number
  /** STATICCALLs to the ecrecover precompile (100 + 3,000 each). */
  ecrecover: number
  /** SLOAD (2,100 cold, 100 warm) and SSTORE, before refunds. */
  sload: number
  coldSloads: number
  sstore: number
  /** LOG0…LOG4: 375 + 375 per topic + 8 per data byte + memory expansion. */
  logs: number
  logBytes: number
  /** KECCAK256 (EIP-712 hashes, state hashes, record commitments). */
  keccak: number
  /** Everything else in the court's frame: ABI decoding, checks, copies, memory. */
  other: number
  /** Gas refunded at the end (SSTORE refunds), subtracted from the receipt's gasUsed. */
  refund: number
}

interface Step { op: string; gas: number; gasCost: number; depth: number; stack?: string[] }

/**
 * Traces transaction `hash` (which must still be on the chain: trace before reverting a
 * snapshot; anvil must run with --steps-tracing) and splits its execution gas. The parts add up
 * to the traced gas, which is the receipt's execution gas plus the refund.
 */
export async function traceGas(provider: JsonRpcProvider, hash: string): Promise<GasBreakdown> {
  const [tx, receipt] = await Promise.all([provider.getTransaction(hash), provider.getTransactionReceipt(hash)])
  if (!tx || !receipt) throw new RuntimeError('BENCH_TRACE_FAILED', `transaction ${hash} is not on the chain`)
  const trace = (await provider.send('debug_traceTransaction', [hash, { disableMemory: true, disableStorage: true }])) as { structLogs: Step[] }
  const steps = trace.structLogs
  if (steps.length === 0) throw new RuntimeError('BENCH_TRACE_FAILED', `no opcode steps for ${hash}: start anvil with --steps-tracing`)
  const cost = costs(steps)
  const b: GasBreakdown = { fallback: 0, machine: 0, machineCalls: 0, ecrecover: 0, sload: 0, coldSloads: 0, sstore: 0, logs: 0, logBytes: 0, keccak: 0, other: 0, refund: 0 }
  // The court's code runs one frame below the manager's when the manager delegatecalls it.
  const own = steps.some((s) => s.depth === 1 && s.op === 'DELEGATECALL') ? 2 : 1
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!
    const c = cost[i]!
    if (s.depth < own) {
      // The fallback: count the DELEGATECALL without what the court spent under it.
      b.fallback += s.op === 'DELEGATECALL' ? c - childGas(steps, i) : c
      continue
    }
    if (s.depth > own) continue // inside a machine call, counted with the call
    if (s.op === 'STATICCALL') {
      const target = BigInt(s.stack?.[s.stack.length - 2] ?? '0x0')
      if (target === 1n) b.ecrecover += c
      else { b.machine += c; b.machineCalls++ }
    } else if (s.op === 'SLOAD') {
      b.sload += c
      if (c >= 2100) b.coldSloads++
    } else if (s.op === 'SSTORE') b.sstore += c
    else if (s.op.startsWith('LOG')) {
      b.logs += c
      b.logBytes += Number(BigInt(s.stack?.[s.stack.length - 2] ?? '0x0'))
    } else if (s.op === 'KECCAK256') b.keccak += c
    else b.other += c
  }
  const executed = steps.length === 0 ? 0 : steps[0]!.gas - (steps[steps.length - 1]!.gas - steps[steps.length - 1]!.gasCost)
  const execution = Number(receipt.gasUsed - TX_BASE_GAS - calldataGas(tx.data as Hex))
  b.refund = executed - execution
  const parts = b.fallback + b.machine + b.ecrecover + b.sload + b.sstore + b.logs + b.keccak + b.other
  if (parts !== executed) throw new RuntimeError('BENCH_TRACE_FAILED', `trace of ${hash}: the parts (${parts}) do not add up to the traced gas (${executed})`)
  return b
}

/** Each step's gas: up to the next step of its frame (a call includes its callee), or its own cost at a frame's end. */
function costs(steps: readonly Step[]): number[] {
  const out = new Array<number>(steps.length).fill(0)
  const pending = new Map<number, number>()
  steps.forEach((s, i) => {
    for (const [d, j] of pending) {
      if (d > s.depth) {
        out[j] = steps[j]!.gasCost
        pending.delete(d)
      }
    }
    const j = pending.get(s.depth)
    if (j !== undefined) out[j] = steps[j]!.gas - s.gas
    pending.set(s.depth, i)
  })
  for (const j of pending.values()) out[j] = steps[j]!.gasCost
  return out
}

/** Gas spent by the frame that call step `i` opened (0 if it ran no code). */
function childGas(steps: readonly Step[], i: number): number {
  const depth = steps[i]!.depth
  let j = i + 1
  if (j >= steps.length || steps[j]!.depth <= depth) return 0
  const start = steps[j]!.gas
  let lastOfChild = j
  for (; j < steps.length && steps[j]!.depth > depth; j++) if (steps[j]!.depth === depth + 1) lastOfChild = j
  const last = steps[lastOfChild]!
  return start - (last.gas - last.gasCost)
}
