/**
 * Runs the worked example of docs/cli.md as written, for the tests: its fenced blocks are
 * the script.
 *
 * - ```` ```sh devnet ```` / ```` ```sh testnet ````: a long-running service (started with
 *   `--json`; the devnet with `--port 0` so a test never collides with a real one);
 * - ```` ```sh ````: shell commands, run in order with bash in the walkthrough's folder;
 * - ```` ```sh <name> ````: `parley run` for participant `<name>` (with `--json`);
 * - ```` ```text <name> ````: lines typed into `<name>`'s run, one at a time: after a move,
 *   every running peer must show the new state; after `quit`, that peer exits 0; after
 *   `close`, every peer reports the on-chain settlement and exits 0;
 * - other blocks (output shown to the reader) are skipped.
 */
import { spawn } from 'node:child_process'
import { CLI, Running } from './harness.js'

export interface Block {
  lang: string
  role?: string
  body: string
}

/** The fenced blocks of a markdown text, with their info string split into language and role. */
export function blocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w+)(?:[ \t]+(\w+))?[ \t]*\n([\s\S]*?)^```[ \t]*$/gm)].map((m) => ({
    lang: m[1]!, ...(m[2] ? { role: m[2] } : {}), body: m[3]!,
  }))
}

/** What happened, for the test's own assertions. */
export interface WalkthroughLog {
  services: Map<string, Running>
  /** Every run, by participant name, in start order (a restart adds a second one). */
  runs: Map<string, Running[]>
  /** stdout of each shell block, in order. */
  shell: string[]
}

const CONTROL = new Set(['quit', 'exit', 'close', 'status', 'help', 'leave', 'force-close'])

/**
 * Plays `markdown`'s walkthrough in `cwd`. `onRun(name, run)` is awaited after each run is
 * ready. Services are left running (the caller stops them).
 */
export async function playWalkthrough(markdown: string, cwd: string, onRun?: (name: string, run: Running) => Promise<void> | void): Promise<WalkthroughLog> {
  const log: WalkthroughLog = { services: new Map(), runs: new Map(), shell: [] }
  const running = new Map<string, Running>()
  let seq = 0n
  for (const b of blocks(markdown)) {
    if (b.lang === 'sh' && (b.role === 'devnet' || b.role === 'testnet')) {
      const args = words(b.body)
      const service = new Running([...args, ...(b.role === 'devnet' ? ['--port', '0'] : []), '--json'], cwd)
      log.services.set(b.role, service)
      await service.when(() => true, 60_000)
    } else if (b.lang === 'sh' && b.role === undefined) {
      log.shell.push(await bash(b.body, cwd))
    } else if (b.lang === 'sh') {
      const args = words(b.body)
      if (args[0] !== 'run') throw new Error(`a \`sh ${b.role}\` block must be one \`parley run\`, got: ${b.body}`)
      const run = new Running([...args, '--json', '--poll', '200'], cwd)
      running.set(b.role!, run)
      log.runs.set(b.role!, [...(log.runs.get(b.role!) ?? []), run])
      await run.on('ready')
      await onRun?.(b.role!, run)
    } else if (b.lang === 'text' && b.role !== undefined) {
      const peer = running.get(b.role)
      if (!peer) throw new Error(`lines typed into ${b.role}, which is not running`)
      for (const line of b.body.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))) {
        peer.send(line)
        const verb = line.split(/\s+/)[0]!
        if (!CONTROL.has(verb)) {
          seq++
          await Promise.all([...running.values()].map((r) => r.on('state', { seq: String(seq) })))
        } else if (verb === 'quit') {
          const code = await peer.exited
          if (code !== 0) throw new Error(`${b.role} exited with ${code}: ${peer.stderr}`)
          running.delete(b.role)
        } else if (verb === 'close') {
          await Promise.all([...running.values()].map((r) => r.on('closed', {}, 60_000)))
          const codes = await Promise.all([...running.values()].map((r) => r.exited))
          if (codes.some((c) => c !== 0)) throw new Error(`runs exited with ${codes.join(', ')}`)
          running.clear()
        } else if (verb === 'status') {
          await peer.on('status')
        }
      }
    }
  }
  return log
}

/** The arguments of a one-line `parley …` command. */
function words(body: string): string[] {
  const [cmd, ...args] = body.trim().split(/\s+/)
  if (cmd !== 'parley' || body.trim().includes('\n')) throw new Error(`expected one \`parley …\` line, got: ${body}`)
  return args
}

/** Runs a shell block with `parley` bound to this checkout's executable; rejects on failure. */
export function bash(body: string, cwd: string): Promise<string> {
  const script = `set -euo pipefail\nparley() { "${process.execPath}" ${CLI.map((a) => `"${a}"`).join(' ')} "$@"; }\n${body}`
  return new Promise((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PARLEY_')))
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`shell block failed (${code}):\n${body}\n${stdout}\n${stderr}`))))
  })
}
