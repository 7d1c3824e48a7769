/**
 * Turns what ethers throws for a failed call or transaction into a {@link ParleyError}:
 * a contract's custom error becomes a ProtocolError whose `code` is the error name in
 * UPPER_SNAKE_CASE (`ProofNotFinal` → `PROOF_NOT_FINAL`) and whose `details` carry the name
 * and the decoded arguments; anything that is not a revert (RPC down, no funds for gas)
 * becomes a RuntimeError.
 */
import { ParleyError, ProtocolError, RuntimeError, type ContractErrorCode } from '../errors/ParleyError.js'
import { decodeRevert, errorCode, type DecodedRevert } from '../contracts/revert.js'
import type { Hex } from '../protocol/types.js'

export { decodeRevert, errorCode, type DecodedRevert }

/** Finds revert data in the nested error objects ethers and JSON-RPC produce. */
export function findRevertData(error: unknown, depth = 0): Hex | undefined {
  if (depth > 5 || error === null || typeof error !== 'object') return undefined
  const e = error as Record<string, unknown>
  if (typeof e.data === 'string' && /^0x[0-9a-fA-F]{8}/.test(e.data)) return e.data as Hex
  for (const key of ['error', 'info', 'cause', 'data']) {
    const found = findRevertData(e[key], depth + 1)
    if (found) return found
  }
  return undefined
}

/** Whether any message in the nested error objects matches `pattern` (e.g. the node's "OutOfGas"). */
export function errorMentions(error: unknown, pattern: RegExp, depth = 0): boolean {
  if (depth > 5 || error === null || typeof error !== 'object') return false
  const e = error as Record<string, unknown>
  if (typeof e.message === 'string' && pattern.test(e.message)) return true
  return ['error', 'info', 'cause'].some((key) => errorMentions(e[key], pattern, depth + 1))
}

/** Execution failures as nodes word them (anvil "EVM error OutOfGas", geth "invalid opcode: …", both "execution reverted"). */
const EXECUTION_FAILED = /revert|EVM error|out of gas|gas required exceeds|invalid opcode|invalid jump|stack (?:under|over)flow|write protection/i

/**
 * Whether `error` is the EVM refusing a call or transaction (a revert or another execution
 * failure) rather than the node failing to answer. ethers reports every JSON-RPC error of
 * `eth_call` and `eth_estimateGas` as CALL_EXCEPTION — a load balancer's "header not found" or a
 * rate limit included — so only revert data, a mined transaction's failed receipt, or a node
 * message that names an execution failure count.
 * @example if (!isExecutionFailure(e)) retryLater() // the node, not the contract, said no
 */
export function isExecutionFailure(error: unknown): boolean {
  if (findRevertData(error)) return true
  if ((error as { code?: unknown })?.code !== 'CALL_EXCEPTION') return false
  const rpc = (error as { info?: { error?: { message?: unknown } } }).info?.error
  // Raised by ethers itself (no node error): a transaction mined with status 0.
  if (rpc === undefined || rpc === null) return true
  return typeof rpc.message === 'string' && EXECUTION_FAILED.test(rpc.message)
}

/** The node's own words in a JSON-RPC error ethers wrapped, if any. */
function nodeMessage(error: unknown): string | undefined {
  const m = (error as { info?: { error?: { message?: unknown } } })?.info?.error?.message
  return typeof m === 'string' ? m : undefined
}

function describe(d: DecodedRevert): string {
  const args = Object.entries(d.args).map(([k, v]) => `${k}=${String(v)}`).join(', ')
  return `${d.name}(${args})${d.inner ? ` ← ${describe(d.inner)}` : ''}`
}

/**
 * Wraps a failure of `action` (e.g. `open`) as a ParleyError; ParleyErrors pass through.
 * - custom error → ProtocolError, code from the error name, `details.error` / `details.args`;
 * - `Error(string)`, `Panic`, an empty revert or another execution failure → ProtocolError
 *   `CONTRACT_REVERTED` (see {@link isExecutionFailure});
 * - everything else → RuntimeError `RPC_FAILED` (or `INSUFFICIENT_FUNDS` for gas money), also a
 *   JSON-RPC error ethers reported as CALL_EXCEPTION without the EVM having refused anything.
 *
 * @example
 * try { await manager.conclude(id, parts, proof, state) } catch (e) {
 *   if (e instanceof ProtocolError && e.code === 'PROOF_NOT_FINAL') askForMoreSignatures()
 * }
 */
export function toParleyError(error: unknown, action: string): ParleyError {
  if (error instanceof ParleyError) return error
  const data = findRevertData(error)
  const decoded = data ? decodeRevert(data) : undefined
  if (decoded && decoded.name !== 'Error' && decoded.name !== 'Panic') {
    // decodeRevert knows only the listed contracts' errors: the code is one of theirs.
    return new ProtocolError(errorCode(decoded.name) as ContractErrorCode, `${action} reverted: ${describe(decoded)}`, {
      details: { action, error: decoded.name, args: decoded.args, ...(decoded.inner ? { inner: decoded.inner } : {}) },
      cause: error,
    })
  }
  const code = (error as { code?: unknown })?.code
  const message = (error as { shortMessage?: string; message?: string })?.shortMessage ?? String(error)
  if (decoded || (code === 'CALL_EXCEPTION' && isExecutionFailure(error))) {
    return new ProtocolError('CONTRACT_REVERTED', `${action} reverted: ${message}`, {
      details: { action, ...(data ? { data } : {}), ...(decoded ? { error: decoded.name, args: decoded.args } : {}) },
      cause: error,
    })
  }
  if (code === 'INSUFFICIENT_FUNDS') {
    return new RuntimeError('INSUFFICIENT_FUNDS', `${action}: the sender cannot pay for gas and value`, { details: { action }, cause: error })
  }
  const node = code === 'CALL_EXCEPTION' ? nodeMessage(error) : undefined
  return new RuntimeError('RPC_FAILED', `${action} failed: ${node ? `the node answered "${node}"` : message}`, { details: { action }, cause: error })
}
