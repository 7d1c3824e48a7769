/**
 * Time of one state-machine transition in the local EVM (EvmStateMachine.transition: encode,
 * run the machine bytecode, decode), for the example machines. Prints the machine it ran on,
 * the parameters, and p50 / p99 / mean per transition, next to a baseline: ethereumjs as it
 * comes (stock interpreter, `runCall`, ethers encoding) on a reused EVM.
 *
 * Usage: tsx bench/transition.ts [--iterations 3000] [--warmup 1000] [--baseline-iterations 300]
 */
import { loadavg } from 'node:os'
import { AbiCoder, Interface } from 'ethers'
import { createEVM } from '@ethereumjs/evm'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createAddressFromString } from '@ethereumjs/util'
import { loadArtifact, type ContractName } from '../src/contracts/artifacts.js'
import { machineLine } from './lib/machine.js'
import { progress, table } from './lib/report.js'
import { EvmStateMachine } from '../src/machine/EvmStateMachine.js'
import type { Hex } from '../src/protocol/types.js'

const abi = AbiCoder.defaultAbiCoder()

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const ITERATIONS = arg('iterations', 3000)
const WARMUP = arg('warmup', 1000)
const BASELINE_ITERATIONS = arg('baseline-iterations', 300)

/** One benchmark case: a machine, its participants, and an endless supply of valid moves. */
interface Case {
  name: string
  machine: ContractName
  n: number
  initData: Hex
  /** The move the actor makes from `state` (the k-th move of the run). */
  move(actor: number, k: number): Hex
}

const cases: Case[] = [
  { name: 'Counter N=2', machine: 'Counter', n: 2, initData: '0x', move: () => abi.encode(['uint64'], [1]) as Hex },
  ...[2, 8, 64].map((n): Case => ({
    name: `Payments N=${n}`,
    machine: 'Payments',
    n,
    initData: '0x',
    move: (actor) => abi.encode(['uint16', 'uint256'], [(actor + 1) % n, 1]) as Hex,
  })),
  // X takes the top row: cells 0, 3, 1, 4, 2 (five moves, then a new game).
  { name: 'TicTacToe', machine: 'TicTacToe', n: 2, initData: '0x', move: (_a, k) => abi.encode(['uint8'], [[0, 3, 1, 4, 2][k % 5]!]) as Hex },
]

interface Stats { p50: number; p99: number; mean: number }

function stats(samplesNs: bigint[]): Stats {
  const us = samplesNs.map((x) => Number(x) / 1000).sort((a, b) => a - b)
  const at = (q: number) => us[Math.min(us.length - 1, Math.floor(q * us.length))]!
  return { p50: at(0.5), p99: at(0.99), mean: us.reduce((a, b) => a + b, 0) / us.length }
}

/** Runs `iterations` transitions (after `warmup`), restarting from genesis when a game ends. */
async function measure(c: Case, step: (state: Hex, actor: number, data: Hex, ts: bigint) => Promise<Hex>, genesis: Hex, warmup: number, iterations: number): Promise<Stats> {
  const samples: bigint[] = []
  let state = genesis
  let k = 0
  for (let i = 0; i < warmup + iterations; i++) {
    const actor = k % c.n
    const data = c.move(actor, k)
    const t0 = process.hrtime.bigint()
    state = await step(state, actor, data, 1_700_000_000n + BigInt(i))
    const t1 = process.hrtime.bigint()
    if (i >= warmup) samples.push(t1 - t0)
    k++
    if (c.machine === 'TicTacToe' && k % 5 === 0) {
      state = genesis
      k = 0
    }
  }
  return stats(samples)
}

/** ethereumjs as it comes: stock interpreter, runCall, ethers encoding, one reused EVM. */
async function baseline(c: Case, deployed: Uint8Array, iface: Interface) {
  const evm = await createEVM({ common: new Common({ chain: Mainnet, hardfork: Hardfork.Cancun }) })
  const to = createAddressFromString('0x000000000000000000000000000000000000ba5e')
  await evm.stateManager.putCode(to, deployed)
  return async (state: Hex, actor: number, data: Hex, ts: bigint): Promise<Hex> => {
    const r = await evm.runCall({ to, data: Buffer.from(iface.encodeFunctionData('transition', [state, actor, data, ts]).slice(2), 'hex'), gasLimit: 5_000_000n, isStatic: true })
    if (r.execResult.exceptionError) throw new Error(`baseline ${c.name}: ${r.execResult.exceptionError.error}`)
    return iface.decodeFunctionResult('transition', r.execResult.returnValue)[0] as Hex
  }
}

console.log('# EVM transition benchmark\n')
console.log(machineLine())
console.log(`Load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on the machine inflates p99 most)`)
console.log(`Parameters: ${ITERATIONS} timed transitions after ${WARMUP} warm-up per machine (stock baseline: ${BASELINE_ITERATIONS} after ${Math.min(WARMUP, 200)}); gas cap 5,000,000; deposits 1 ETH each\n`)

const rows: string[][] = []
for (const c of cases) {
  const art = loadArtifact(c.machine)
  const machine = await EvmStateMachine.fromBytecode(art.deployedBytecode, art.abi as never)
  if (!machine.fastRun) console.warn(`warning: fast interpreter loop unavailable for ${c.name}; measuring the stock loop`)
  const genesis = await machine.initialState(Array.from({ length: c.n }, () => 10n ** 18n), c.initData)
  const ours = await measure(c, (s, a, d, t) => machine.transition(s, a, d, t), genesis, WARMUP, ITERATIONS)
  const base = await measure(c, await baseline(c, Buffer.from(art.deployedBytecode.slice(2), 'hex'), new Interface(art.abi as never)), genesis, Math.min(WARMUP, 200), BASELINE_ITERATIONS)
  const f = (x: number) => x.toFixed(1)
  rows.push([c.name, f(ours.p50), f(ours.p99), f(ours.mean), f(base.p50), f(base.mean), (base.p50 / ours.p50).toFixed(1)])
  progress(`done: ${c.name}`)
}
console.log(table(['machine', 'p50 µs', 'p99 µs', 'mean µs', 'stock p50 µs', 'stock mean µs', 'p50 speed-up ×'], rows))
console.log('\nTarget: one transition ≤ 200 µs (EvmStateMachine.transition: encode, run, decode).')
