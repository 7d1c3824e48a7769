/**
 * Assertions on reverts and events: the exact custom error (name and arguments) of a failed
 * call, and the decoded events of a receipt.
 */
import assert from 'node:assert/strict'
import type { Contract, Interface, TransactionReceipt } from 'ethers'
import { contractInterface, type ContractName } from '../../src/contracts/artifacts.js'

const KNOWN = ['StateChannelManager', 'Counter', 'Payments', 'TicTacToe', 'TestToken', 'ReentrantReceiver', 'Relay', 'QuirkyMachine'] as ContractName[]
let known: Interface[] | undefined

/** A decoded custom error. */
export interface DecodedRevert {
  name: string
  args: unknown[]
}

/**
 * Awaits `p`, which must revert with a custom error of one of the project's contracts or of
 * `extra` interfaces; returns it decoded. (A sent transaction's estimateGas failure carries only
 * the raw revert data, so decoding does not rely on the called contract's interface.)
 */
export async function decodeRevert(p: Promise<unknown>, ...extra: Interface[]): Promise<DecodedRevert> {
  try {
    await p
  } catch (e) {
    const err = e as { revert?: { name: string; args: unknown[] } | null; data?: string | null }
    if (err.revert?.name) return { name: err.revert.name, args: [...err.revert.args] }
    if (typeof err.data === 'string' && err.data.length >= 10) {
      known ??= KNOWN.map(contractInterface)
      for (const iface of [...extra, ...known]) {
        const parsed = iface.parseError(err.data)
        if (parsed) return { name: parsed.name, args: [...parsed.args] }
      }
    }
    throw e
  }
  assert.fail('expected a revert, but the call succeeded')
}

/**
 * Asserts that `p` reverts with custom error `name`; when `args` is given, also that the
 * error's arguments equal it (addresses compared case-insensitively, numbers as bigint).
 */
export async function expectRevert(p: Promise<unknown>, name: string, args?: unknown[], ...extra: Interface[]): Promise<DecodedRevert> {
  const r = await decodeRevert(p, ...extra)
  assert.equal(r.name, name, `expected ${name}, got ${r.name}(${r.args.map(String).join(', ')})`)
  if (args) assert.deepEqual(r.args.map(norm), args.map(norm), `arguments of ${name}`)
  return r
}

/** Normalises values for comparison: hex strings lowercased, numbers to bigint, arrays deep. */
export function norm(v: unknown): unknown {
  if (typeof v === 'string') return v.toLowerCase()
  if (typeof v === 'number') return BigInt(v)
  if (typeof v === 'boolean' || typeof v === 'bigint' || v === null || v === undefined) return v
  if (Array.isArray(v) || (typeof v === 'object' && Symbol.iterator in (v as object))) return [...(v as Iterable<unknown>)].map(norm)
  return v
}

/** Decoded events named `name` emitted by `contract` in `receipt`, in log order. */
export function eventsOf(receipt: TransactionReceipt, contract: Contract, name: string): unknown[][] {
  const address = contract.target.toString().toLowerCase()
  const out: unknown[][] = []
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address) continue
    const parsed = contract.interface.parseLog(log)
    if (parsed?.name === name) out.push([...parsed.args])
  }
  return out
}

/** Asserts that `receipt` has exactly these `name` events (arguments normalised as in expectRevert). */
export function expectEvents(receipt: TransactionReceipt, contract: Contract, name: string, expected: unknown[][]): void {
  assert.deepEqual(eventsOf(receipt, contract, name).map(norm), expected.map(norm), `${name} events`)
}
