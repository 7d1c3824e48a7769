/**
 * One error hierarchy for all of Parley. Every error has a stable `code` (safe to match on),
 * a short message, optional `details`, and the `cause` chain.
 *
 * Two families matter to applications (after go-perun):
 * - {@link ProtocolError}: a peer or the chain input broke a rule; may carry evidence for a dispute.
 * - {@link RuntimeError}: something around us failed (RPC down, socket closed, disk full).
 *
 * @example
 * try { await channel.propose(move) } catch (e) {
 *   if (e instanceof ParleyError && e.code === 'NOT_YOUR_TURN') showWait()
 * }
 */
export class ParleyError extends Error {
  override name = 'ParleyError'
  /** Stable, machine-readable code, e.g. `SIGNATURE_INVALID`. */
  readonly code: string
  /** Extra structured context for logs and tooling. */
  readonly details?: Record<string, unknown>

  constructor(code: string, message: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.code = code
    if (opts.details !== undefined) this.details = opts.details
  }
}

/** Bad input from the caller of an SDK function (wrong type, out of range, wrong phase). */
export class UsageError extends ParleyError {
  override name = 'UsageError'
}

/** A rule of the protocol was broken by a peer or by data we were given. */
export class ProtocolError extends ParleyError {
  override name = 'ProtocolError'
}

/** An I/O or environment failure: RPC, socket, disk, process. */
export class RuntimeError extends ParleyError {
  override name = 'RuntimeError'
}
