/**
 * Test harness for the CLI: runs `parley` (cli/index.ts, the entry point of the `parley`
 * executable, through tsx so that tests run the sources, not a stale build) as child processes — to completion, or long-running (devnet, testnet, run) with their JSON event
 * lines collected and awaitable.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

/** `node …CLI <command>` runs the CLI from source, whatever the working directory. */
export const CLI = ['--import', import.meta.resolve('tsx'), join(import.meta.dirname, 'index.ts')]

/** The environment for a child: this one without PARLEY_* variables (tests pass flags). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PARLEY_')))
}

export interface Result {
  code: number | null
  stdout: string
  stderr: string
  /** stdout parsed as one JSON value (undefined when it is not JSON). */
  json: Record<string, unknown> | undefined
}

/**
 * Runs `parley …args` in `cwd` to completion, with `env` added to the cleaned environment.
 * @example const r = await parley(['balance', '@1', '--json'], dir)
 */
export function parley(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, ...args], { cwd, env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      let json: Record<string, unknown> | undefined
      try {
        json = JSON.parse(stdout) as Record<string, unknown>
      } catch {
        json = undefined
      }
      resolve({ code, stdout, stderr, json })
    })
  })
}

/** A long-running `parley` process: JSON lines from stdout, stdin for commands. */
export class Running {
  readonly child: ChildProcess
  readonly events: Record<string, unknown>[] = []
  readonly exited: Promise<number | null>
  stderr = ''
  private readonly waiters: { pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = []

  /** `env`: variables added to the child's (cleaned) environment, e.g. `{ PARLEY_CRASH_AT: 'close.signed' }`. */
  constructor(args: string[], cwd: string, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [...CLI, ...args], { cwd, env: { ...cleanEnv(), ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()))
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let e: Record<string, unknown>
      try {
        e = JSON.parse(line) as Record<string, unknown>
      } catch {
        e = { event: 'text', line }
      }
      this.events.push(e)
      for (const w of [...this.waiters]) if (w.pred(e)) (this.waiters.splice(this.waiters.indexOf(w), 1), w.resolve(e))
    })
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)))
  }

  /** The first event matching `pred` (already seen or future); fails with the output after `ms`. */
  when(pred: (e: Record<string, unknown>) => boolean, ms = 30_000): Promise<Record<string, unknown>> {
    const seen = this.events.find(pred)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${ms} ms\nevents: ${this.events.map((e) => JSON.stringify(e)).join('\n')}\nstderr: ${this.stderr}`)), ms)
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) })
    })
  }

  /** The first event named `event` whose fields include `fields`. */
  on(event: string, fields: Record<string, unknown> = {}, ms?: number): Promise<Record<string, unknown>> {
    return this.when((e) => e.event === event && Object.entries(fields).every(([k, v]) => e[k] === v), ms)
  }

  /** Writes one command line to stdin. */
  send(line: string): void {
    this.child.stdin!.write(`${line}\n`)
  }

  /** Sends `signal` and waits for the exit status. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal)
    return this.exited
  }
}
