/**
 * How the CLI reports failure: every error becomes one line with its stable code, and an exit
 * status — 2 when the command line or an input file is wrong (nothing was attempted), 1 when
 * the operation itself failed (a revert, the network, the protocol).
 */
import { ParleyError, RuntimeError, UsageError, type UsageCode } from '../../src/errors/ParleyError.js'
import { toJson } from './output.js'

/** A mistake in the command line or in an input file: exit status 2. */
export class ArgumentError extends UsageError {
  override name = 'UsageError'
}

/**
 * Shorthand for an {@link ArgumentError}.
 * @example throw argError('AMOUNT_INVALID', `not an amount: ${text}`)
 */
export function argError(code: UsageCode, message: string, details?: Record<string, unknown>): ArgumentError {
  return new ArgumentError(code, message, details ? { details } : {})
}

/**
 * A busy port, reworded for the command line: it names `--port` (a PORT_IN_USE RuntimeError
 * from startAnvil / startTestnet keeps its code); other errors pass through.
 * @example await startAnvil({ port }).catch((e) => { throw portHint(e, 'devnet') })
 */
export function portHint(e: unknown, command: string): unknown {
  if (!(e instanceof RuntimeError && e.code === 'PORT_IN_USE')) return e
  return new RuntimeError('PORT_IN_USE', `${e.message}: stop it, or start ${command} with another --port (0 = any free port)`, { cause: e, ...(e.details ? { details: e.details } : {}) })
}

/** Thrown by argument parsing after printing `--help`: exit status 0. */
export class HelpShown extends Error {}

/** Exit status for `e`. */
export function exitCodeOf(e: unknown): number {
  return e instanceof ArgumentError ? 2 : 1
}

/**
 * The one line printed for `e` on stderr: `error CODE: message`, or a JSON object with `--json`.
 * Unexpected (non-Parley) errors get the code `INTERNAL`; PARLEY_DEBUG=1 adds the stack.
 */
export function errorLine(e: unknown, json: boolean): string {
  const known = e instanceof ParleyError
  const code = known ? e.code : 'INTERNAL'
  const name = known ? e.name : e instanceof Error ? e.name : 'Error'
  const raw = e instanceof Error ? e.message : String(e)
  const message = oneLine(known ? raw : `${raw} (unexpected: please report it)`)
  if (json) return toJson({ error: { code, name, message, ...(known && e.details ? { details: e.details } : {}) } })
  return `error ${code}: ${message}`
}

/** Collapses whitespace runs (newlines included), so an error is always one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim()
}
