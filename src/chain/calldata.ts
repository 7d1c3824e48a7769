/**
 * The signed transactions a court call carried in its calldata (a timeout's candidate list, an
 * exit's or answer's finality proof, a fraud proof's checkpoint). Events publish only the
 * candidate's hash and, for a timeout, its state; the transactions themselves are in the call's
 * input, where a client that fell behind finds the moves it missed.
 */
import type { Interface, Provider } from 'ethers'
import { unpackSignatures } from '../protocol/signatures.js'
import type { Hex, SignedTransaction } from '../protocol/types.js'
import { toTransaction } from './decode.js'

/** The argument holding the transaction list, per court entry point. */
const LISTS: Record<string, string> = {
  disputeTimeout: 'txs', exit: 'proof', answer: 'proof', proveInvalidTransition: 'checkpoint', proveEquivocation: 'checkpoint',
}

/**
 * The signed transactions in the input of court transaction `hash` (empty for other calls).
 * @example for (const t of await calldataTransactions(provider, manager.contract.interface, ev.transactionHash)) feed(t)
 */
export async function calldataTransactions(provider: Provider, iface: Interface, hash: string): Promise<SignedTransaction[]> {
  const tx = await provider.getTransaction(hash)
  if (!tx) return []
  let parsed
  try {
    parsed = iface.parseTransaction({ data: tx.data })
  } catch {
    return [] // relayed through another contract: nothing to read here
  }
  const arg = parsed ? LISTS[parsed.name] : undefined
  if (!parsed || !arg) return []
  const list = parsed.args.getValue(arg) as { toObject(deep: boolean): Record<string, unknown> }[]
  return [...list].map((p) => {
    const o = p.toObject(true) as { transaction: Record<string, unknown>; signers: bigint; signatures: string }
    return { transaction: toTransaction(o.transaction), signatures: unpackSignatures(BigInt(o.signers), o.signatures as Hex) }
  })
}
