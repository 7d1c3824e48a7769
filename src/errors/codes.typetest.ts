/**
 * Compile-time checks of the error code unions, run by `tsc` (npm run typecheck) and by
 * codes.test.ts. Each `@ts-expect-error` line must fail to compile: a misspelt code, or a code
 * of another family. (Not a runtime test: nothing here is called.)
 */
import { ParleyError, ProtocolError, RuntimeError, UsageError } from './ParleyError.js'

export function checks(e: unknown): string[] {
  const seen: string[] = []
  if (e instanceof UsageError && e.code === 'NOT_YOUR_TURN') seen.push('usage')
  if (e instanceof ProtocolError && e.code === 'PROOF_NOT_FINAL') seen.push('contract')
  if (e instanceof ProtocolError && e.code === 'STATE_HASH_MISMATCH') seen.push('pipeline')
  if (e instanceof RuntimeError && e.code === 'RPC_FAILED') seen.push('runtime')
  if (e instanceof ParleyError && e.code === 'CHANNEL_NOT_OPEN') seen.push('any')
  // @ts-expect-error a misspelt usage code
  if (e instanceof UsageError && e.code === 'NOT_YOUR_TRUN') seen.push('x')
  // @ts-expect-error a usage code is not a runtime code
  if (e instanceof RuntimeError && e.code === 'NOT_YOUR_TURN') seen.push('x')
  // @ts-expect-error not a code of any family
  if (e instanceof ParleyError && e.code === 'SOMETHING_ELSE') seen.push('x')
  // @ts-expect-error a contract error that does not exist
  if (e instanceof ProtocolError && e.code === 'PROOF_NOT_FINALIZED') seen.push('x')
  return seen
}

export const made = [
  new UsageError('PARAMS_INVALID', 'ok'),
  // @ts-expect-error throwing an unlisted code does not compile either
  new RuntimeError('DISK_ON_FIRE', 'no'),
  // @ts-expect-error nor a code of another family
  new UsageError('RPC_FAILED', 'no'),
]
