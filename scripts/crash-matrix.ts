/**
 * The crash matrix, long and randomized (issue 11): K runs of a 3-participant Payments channel
 * played by three `parley run` processes (test/crash/world.ts), each run with a random role
 * killed with SIGKILL — at a random crash point (and pass) of the client, or by an external
 * `kill -9` at a random moment — and restarted on its store; random payments and a random
 * ending (cooperative close, force-close, timeout answered then close). Every run must end
 * with the exact on-chain credits and the manager solvent.
 *
 *   npm run crash-matrix -- [--runs K] [--seed S] [--minutes M] [--ending close|force-close|timeout] [--verbose]
 *
 * Prints the machine, the parameters, one line per run and the totals; exits 1 on any wrong
 * balance or stuck run. Figures: docs/crash-matrix.md.
 */
import { cpus, totalmem } from 'node:os'
import { parseArgs } from 'node:util'
import { prng } from '../test/helpers/prng.js'
import { playRun, startWorld, type Ending, type RunSpec } from '../test/crash/world.js'

const { values } = parseArgs({ options: { runs: { type: 'string' }, seed: { type: 'string' }, minutes: { type: 'string' }, verbose: { type: 'boolean' }, ending: { type: 'string' } } })
const runs = Number(values.runs ?? 20)
const seed = Number(values.seed ?? Date.now() % 1_000_000)
const minutes = Number(values.minutes ?? 0)

const rand = prng(seed)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!

/** Which points a role reaches in a run ending so (each is passed at least once there). */
function pointsFor(ending: Ending, role: number, payments: number): string[] {
  const authored = Array.from({ length: payments }, (_, k) => k % 3).filter((a) => a === role).length
  const accused = payments % 3
  const closer = ending === 'timeout' ? (accused === 0 ? 1 : 0) : 0
  const p = ['confirm.persisted', 'signatures.unsaved']
  if (authored > 0) p.push(`tx.persisted:${1 + Math.floor(rand() * authored)}`)
  if (ending !== 'force-close') p.push(role === closer ? 'close.signed' : 'close.persisted')
  if (ending === 'force-close') p.push('court.exit', 'court.resolve', 'court.resolve.mined')
  if (ending === 'timeout') p.push(role === accused ? 'court.respond' : 'court.timeout')
  return p
}

function spec(): RunSpec {
  const n = 2 + Math.floor(rand() * 5)
  const payments = Array.from({ length: n }, (_, k): [number, number] => [(k % 3 + 1 + Math.floor(rand() * 2)) % 3, 1 + Math.floor(rand() * 20)])
  const ending = (values.ending as Ending | undefined) ?? pick<Ending>(['close', 'force-close', 'timeout'])
  const role = Math.floor(rand() * 3)
  const external = rand() < 0.3
  const s: RunSpec = { payments, ending, role, stepMs: 60_000 }
  if (external) Object.assign(s, { killAfterMs: 1_000 + Math.floor(rand() * 9_000), retype: true })
  else s.crashAt = pick(pointsFor(ending, role, n))
  // The force-close is raised by the killed role; alone (the others quit) half the time.
  if (ending === 'force-close' && rand() < 0.5) s.alone = true
  return s
}

const fmt = (wei: bigint) => (Number(wei) / 1e18).toFixed(2)
const cpu = cpus()
console.log(`machine   ${cpu[0]?.model ?? '?'} × ${cpu.length}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, node ${process.version}`)
console.log(`params    runs ${runs}${minutes ? ` (or ${minutes} min)` : ''}, seed ${seed}; 3 parley run processes per run, anvil --block-time 1, poll 250 ms`)
const w = await startWorld()
const t0 = Date.now()
let wrong = 0
let stuck = 0
let killed = 0
let done = 0
try {
  for (let k = 1; k <= runs; k++) {
    if (minutes && Date.now() - t0 > minutes * 60_000) break
    const s = spec()
    const how = s.crashAt ? `at ${s.crashAt}` : `kill -9 after ${s.killAfterMs} ms`
    const what = `#${String(k).padStart(3)} ${s.ending.padEnd(11)} ${s.payments.length} pays, role #${s.role} ${how}${s.alone ? ' (alone)' : ''}`
    try {
      const r = await playRun(w, { ...s, ...(values.verbose ? { log: (l: string) => console.log(l) } : {}) })
      done++
      const ok = r.credits.every((c, i) => c === r.expected[i])
      if (!ok) wrong++
      if (r.killed) killed++
      console.log(`${what.padEnd(72)} ${ok ? 'ok   ' : 'WRONG'} ${r.killed ? 'killed' : 'not reached'} ${(r.ms / 1000).toFixed(1)} s  credits ${r.credits.map(fmt).join('/')}${ok ? '' : ` expected ${r.expected.map(fmt).join('/')}`}`)
    } catch (e) {
      done++
      stuck++
      console.log(`${what.padEnd(72)} STUCK ${(e as Error).message.split('\n')[0]}`)
      if (values.verbose) console.log((e as Error).message)
    }
  }
} finally {
  await w.stop()
}
const ms = Date.now() - t0
console.log(`totals    ${done} runs in ${(ms / 60_000).toFixed(1)} min (${(ms / Math.max(1, done) / 1000).toFixed(1)} s per run): ${killed} with the role killed and restarted, ${wrong} wrong balances, ${stuck} stuck`)
process.exit(wrong + stuck > 0 ? 1 : 0)
