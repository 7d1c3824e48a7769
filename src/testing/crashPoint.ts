/**
 * Fault injection for crash tests: `crashPoint(name)` kills this process with SIGKILL when the
 * environment variable `PARLEY_CRASH_AT` names the point — `name` (its first pass) or `name:n`
 * (its n-th pass); several comma-separated entries arm several points. Unarmed (the variable
 * absent, the normal case) a call is one Map lookup on an empty Map. The points and what a
 * restart must recover from each are listed in docs/protocol.md §7.12.
 */
import { writeSync } from 'node:fs'

/** Every point the client passes, for tests and the crash-matrix script. */
export const CRASH_POINTS = [
  'tx.persisted', 'confirm.persisted', 'signatures.unsaved', 'close.persisted', 'close.signed',
  'court.post', 'court.timeout', 'court.respond', 'court.answer', 'court.exit', 'court.close',
  'court.resolve', 'court.resolve.mined', 'court.close.mined',
] as const

/** `PARLEY_CRASH_AT` parsed: point name → the pass that kills (1 = the first). */
export function parseCrashSpec(spec: string | undefined): Map<string, number> {
  const armed = new Map<string, number>()
  for (const entry of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([\w.-]+?)(?::(\d+))?$/.exec(entry)
    if (m) armed.set(m[1]!, m[2] ? Math.max(1, Number(m[2])) : 1)
  }
  return armed
}

const armed = parseCrashSpec(process.env.PARLEY_CRASH_AT)
const passes = new Map<string, number>()

/**
 * Dies here (SIGKILL, no cleanup: a `kill -9` at this exact point) if `PARLEY_CRASH_AT` arms
 * `name` for this pass; otherwise does nothing.
 * @example crashPoint('tx.persisted') // after the store write, before the broadcast
 */
export function crashPoint(name: string): void {
  const at = armed.get(name)
  if (at === undefined) return
  const pass = (passes.get(name) ?? 0) + 1
  passes.set(name, pass)
  if (pass !== at) return
  try {
    writeSync(2, `crash point ${name}${at > 1 ? `:${at}` : ''}: SIGKILL\n`)
  } catch {
    // stderr gone: die anyway
  }
  process.kill(process.pid, 'SIGKILL')
}
