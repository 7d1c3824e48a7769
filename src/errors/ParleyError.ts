/**
 * One error hierarchy for all of Parley. Every error has a stable `code` (safe to match on),
 * a short message, optional `details`, and the `cause` chain.
 *
 * Two families matter to applications (after go-perun):
 * - {@link ProtocolError}: a peer or the chain input broke a rule; may carry evidence for a dispute.
 * - {@link RuntimeError}: something around us failed (RPC down, socket closed, disk full).
 *
 * Codes are typed per family (errors/codes.ts): after `e instanceof UsageError`, `e.code` is a
 * {@link UsageCode}, and comparing it with a code that family does not have fails to compile.
 *
 * @example
 * try { await channel.propose(move) } catch (e) {
 *   if (e instanceof UsageError && e.code === 'NOT_YOUR_TURN') showWait()
 * }
 */
import type { ParleyCode, ProtocolCode, RuntimeCode, UsageCode } from './codes.js'

export type { ParleyCode, ProtocolCode, RuntimeCode, UsageCode, ContractErrorCode, MachineFailureCode } from './codes.js'
export class ParleyError extends Error {
  override name = 'ParleyError'
  /** Stable, machine-readable code, e.g. `SIGNATURE_INVALID`. */
  readonly code: ParleyCode
  /** Extra structured context for logs and tooling. */
  readonly details?: Record<string, unknown>

  constructor(code: ParleyCode, message: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.code = code
    if (opts.details !== undefined) this.details = opts.details
  }
}

/** Bad input from the caller of an SDK function (wrong type, out of range, wrong phase). */
export class UsageError extends ParleyError {
  override name = 'UsageError'
  declare readonly code: UsageCode
  constructor(code: UsageCode, message: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, opts)
  }
}

/** A rule of the protocol was broken by a peer or by data we were given. */
export class ProtocolError extends ParleyError {
  override name = 'ProtocolError'
  declare readonly code: ProtocolCode
  constructor(code: ProtocolCode, message: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, opts)
  }
}

/** An I/O or environment failure: RPC, socket, disk, process. */
export class RuntimeError extends ParleyError {
  override name = 'RuntimeError'
  declare readonly code: RuntimeCode
  constructor(code: RuntimeCode, message: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(code, message, opts)
  }
}
