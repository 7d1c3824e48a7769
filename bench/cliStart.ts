/**
 * `npm run bench:cli`: start-up time of the `parley` executable — `parley --help` (cli/bin.mjs,
 * the compiled CLI in dist/) next to the same command through tsx (`npm run cli`'s way), each run
 * as a fresh OS process. Builds dist/ first. Prints min / p50 / max wall time and the load average.
 */
import { spawnSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const RUNS = Number(process.argv[2] ?? 15)

function time(args: string[]): number[] {
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`)
    times.push(ms)
  }
  return times.sort((a, b) => a - b)
}

const row = (name: string, t: number[]) =>
  `| ${name} | ${t[0]!.toFixed(0)} | ${t[Math.floor(t.length / 2)]!.toFixed(0)} | ${t[t.length - 1]!.toFixed(0)} |`

const compiled = time([join(root, 'cli/bin.mjs'), '--help'])
const viaTsx = time(['--import', 'tsx', join(root, 'cli/index.ts'), '--help'])
console.log(`parley --help, ${RUNS} runs each, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`)
console.log('| entry | min ms | p50 ms | max ms |\n|---|---|---|---|')
console.log(row('cli/bin.mjs (dist/, compiled)', compiled))
console.log(row('cli/index.ts through tsx', viaTsx))
