/**
 * `npm run bench:gas`: gas of every on-chain operation (channel lifecycle, finality proofs, and
 * the court: posts, disputes, challenges, fraud proofs, resolution) at N = 2 … 64 on a real
 * anvil, plus the marginal gas per extra participant, and side by side with Nitro's adjudicator
 * deployed on the same anvil in the same run (bench/lib/nitro.ts; `-- --json FILE` writes the
 * paired figures as `[{ op, n, parley, nitro, ratio }]`). `-- --court` runs the court part only,
 * `-- --channels` all but the court, `-- --n 2,8` only those channel sizes, `-- --trace` adds
 * each operation's execution gas split by opcode trace (bench/lib/trace.ts). Progress goes to
 * stderr; stdout is a markdown report (machine, date, parameters, tables, target verdict) for
 * docs/gas.md. The chain clock is fixed (bench/lib/clock.ts), so every run gives the same figures.
 *
 * Every figure is a receipt's gasUsed of a real transaction; finality-proof verification (a
 * view) is sent as a transaction too, and split into base, calldata and execution gas.
 */
import { AbiCoder, keccak256, toUtf8Bytes, type Contract, type Wallet } from 'ethers'
import { startAnvil, type Anvil } from '../src/chain/anvil.js'
import { signCloseConsent, signOpenConsent } from '../src/chain/consent.js'
import { RpcStateMachine } from '../src/chain/RpcStateMachine.js'
import { deployLocalStack, type LocalStack } from '../src/chain/stack.js'
import { channelStruct } from '../src/chain/records.js'
import { RuntimeError } from '../src/errors/ParleyError.js'
import { closePayouts } from '../src/protocol/close.js'
import { hashState, type ParleyHasher } from '../src/protocol/eip712.js'
import { packSignedTransaction, signDigest } from '../src/protocol/signatures.js'
import { ETH, type ChannelParams, type Hex, type PackedSignedTransaction, type Transaction } from '../src/protocol/types.js'
import { openDeadline } from '../src/protocol/timing.js'
import { CLOCK_ARGS, fixClock, mineAt, sectionStart } from './lib/clock.js'
import { measureCall, type CallGas } from './lib/gas.js'
import { machineLine } from './lib/machine.js'
import { fmt, marginal, progress, table } from './lib/report.js'
import { traceGas, type GasBreakdown } from './lib/trace.js'
import { courtTraces, disputesReport, traceReport } from './lib/courtReport.js'
import { measureDisputes, type DisputeRow } from './lib/disputes.js'
import { deployNitro, measureNitro, nitroVersion, type NitroRow } from './lib/nitro.js'
import { compare, nitroReport, type ParleyFigures } from './lib/nitroReport.js'
import { writeFileSync } from 'node:fs'
import { defaultTimes } from '../src/channel/params.js'

const ALL_NS = [2, 3, 5, 8, 16, 32, 64] as const
/** The channel sizes to measure: all, or those named by `--n 2,8`. */
const NS: readonly number[] = (() => {
  const i = process.argv.indexOf('--n')
  if (i < 0) return ALL_NS
  const ns = (process.argv[i + 1] ?? '').split(',').map(Number)
  if (ns.length === 0 || ns.some((n) => !Number.isInteger(n) || n < 2 || n > 64)) throw new RuntimeError('BENCH_USAGE', '--n takes channel sizes in 2..64, e.g. --n 2,8')
  return ns
})()
const DEPOSIT = 10n ** 18n
const TIMES = { ...defaultTimes }
const TARGET = 5_000
const abi = AbiCoder.defaultAbiCoder()

interface Ctx { anvil: Anvil; stack: LocalStack; hasher: ParleyHasher; counter: RpcStateMachine; submitter: Wallet; trace: boolean }

/** The lifecycle operations `--trace` splits. */
type Traced = 'open' | 'verify' | 'verifyChain' | 'close' | 'closeAndPay' | 'closeToClaims' | 'conclude' | 'concludeToClaims'
const TRACED_LABEL: Record<Traced, string> = {
  open: 'open', verify: 'verifyFinalityProof (1 tx × N sigs)', verifyChain: 'verifyFinalityProof (N txs × 1 sig)', close: 'close', closeAndPay: 'closeAndPay', closeToClaims: 'closeToClaims', conclude: 'conclude', concludeToClaims: 'concludeToClaims',
}

interface Row {
  n: number
  depositEth: bigint[]
  depositToken: bigint[]
  /** The N `fund`s of channel B, each participant funding its own share in order. */
  fundEth: bigint[]
  /** open of channel B, from its funding (nothing taken from balances). */
  open: bigint
  /** open of channel A, every share taken from its participant's balance. */
  openFromBalances: bigint
  close: bigint
  /** close paying every participant in the same transaction. */
  closeAndPay: bigint
  /** close recording the payouts as claims, and one claim paying every participant. */
  closeToClaims: bigint
  claimAll: bigint
  conclude: bigint
  concludeToClaims: bigint
  withdrawEth: bigint[]
  withdrawToken: bigint[]
  /** verifyFinalityProof of 1 transaction signed by all N. */
  verify: CallGas
  /** verifyFinalityProof of N linked transactions, each signed by its author only. */
  verifyChain: CallGas
  /** verifySignatures with one signature, by participant 0 and by participant N-1. */
  lone: [CallGas, CallGas]
  traces: Partial<Record<Traced, GasBreakdown>>
}

function params(ws: readonly Wallet[], machine: Hex, tag: string, target: number, now: bigint): ChannelParams {
  return {
    participants: ws.map((w) => w.address.toLowerCase() as Hex), machine, asset: ETH,
    deposits: ws.map(() => DEPOSIT), bond: 0n, ...TIMES,
    // Fixed salts keep calldata, and so gas, identical from run to run.
    salt: keccak256(toUtf8Bytes(`parley-bench-gas:${ws.length}:${tag}`)) as Hex,
    initData: abi.encode(['uint64'], [target]) as Hex, // the state is terminal once count ≥ target
    openDeadline: openDeadline(now), // what the client signs: valid for a day
  }
}

/** Measures every operation for one channel size `n` (participants = anvil accounts 1…n). */
async function measure(ctx: Ctx, n: number): Promise<Row> {
  const { stack, hasher, counter, submitter } = ctx
  const ws = ctx.anvil.wallets.slice(1, n + 1)
  const manager = stack.manager.connect(submitter)
  const token = stack.token.address
  const none: CallGas = { total: 0n, calldata: 0n, execution: 0n }
  const row: Row = { n, depositEth: [], depositToken: [], fundEth: [], open: 0n, openFromBalances: 0n, close: 0n, closeAndPay: 0n, closeToClaims: 0n, claimAll: 0n, conclude: 0n, concludeToClaims: 0n, withdrawEth: [], withdrawToken: [], verify: none, verifyChain: none, lone: [none, none], traces: {} }
  const trace = async (op: Traced, hash: Hex) => {
    if (ctx.trace) row.traces[op] = await traceGas(ctx.anvil.provider, hash)
  }

  progress(`N=${n}: ${n} ETH deposits, ${n} ERC-20 deposits and withdrawals`)
  for (const w of ws) row.depositEth.push((await stack.manager.connect(w).deposit(ETH, DEPOSIT)).gasUsed)
  for (const w of ws) {
    await (await (stack.token.connect(w) as Contract).getFunction('approve')(manager.address, DEPOSIT)).wait()
    row.depositToken.push((await stack.manager.connect(w).deposit(token, DEPOSIT)).gasUsed)
  }
  for (const w of ws) row.withdrawToken.push((await stack.manager.connect(w).withdraw(token, DEPOSIT)).gasUsed)
  const inc = abi.encode(['uint64'], [1]) as Hex
  const sign = (t: Transaction, signers: readonly number[]) => {
    const digest = hasher.transaction(t)
    return packSignedTransaction({ transaction: t, signatures: new Map(signers.map((i) => [i, signDigest(ws[i]!.signingKey, digest)])) })
  }

  // Channel A (target N): N moves, one per participant; the finality proof of tx 1 is the
  // N linked transactions, each carrying only its author's signature (virtual voting); then
  // a cooperative close on the terminal state.
  progress(`N=${n}: open, ${n} moves, verifyFinalityProof (${n} txs × 1 signature), close`)
  // Moves are stamped with the fork's genesis time: the earliest the contract accepts.
  const pa = params(ws, stack.machines.counter, 'close', n, BigInt(await ctx.anvil.now()))
  const a = await manager.open(pa, ws.map((w) => signOpenConsent(w.signingKey, hasher, pa)))
  row.openFromBalances = a.gasUsed
  const chain: PackedSignedTransaction[] = []
  let state = a.genesis.state
  for (let i = 0; i < n; i++) {
    const next = await counter.transition(state, i, inc, a.genesis.timestamp)
    const t: Transaction = { channelId: a.channelId, fork: 0n, seq: BigInt(i + 1), timestamp: a.genesis.timestamp, actor: i, previousStateHash: hashState(state), data: inc, stateHash: hashState(next) }
    chain.push(sign(t, [i]))
    state = next
  }
  const verifyChain = await measureVerify(ctx, a.channelId, pa.participants, chain, 1n)
  row.verifyChain = verifyChain
  await trace('verifyChain', verifyChain.hash)
  // The close's payouts: the machine's outcome of the state (every participant active).
  const payouts = closePayouts(await counter.outcome(state), (1n << BigInt(n)) - 1n)
  const closeSigs = new Map(ws.map((w, i) => [i, signCloseConsent(w.signingKey, hasher, a.channelId, 0n, state, payouts)]))
  // The same close paying every participant in the same transaction (then taken back).
  const snapshot = (await ctx.anvil.provider.send('evm_snapshot', [])) as string
  const paid = await manager.closeAndPay(a.channelId, pa.participants, state, payouts, closeSigs)
  if (paid.sent !== (1n << BigInt(n)) - 1n) throw new RuntimeError('BENCH_WRONG_RESULT', `N=${n}: closeAndPay credited instead of paying`)
  row.closeAndPay = paid.gasUsed
  await trace('closeAndPay', paid.hash)
  await ctx.anvil.provider.send('evm_revert', [snapshot])
  // The same close recording the payouts as claims, then one claim paying everyone (taken back).
  const snapshot2 = (await ctx.anvil.provider.send('evm_snapshot', [])) as string
  const recorded = await manager.closeToClaims(a.channelId, pa.participants, state, payouts, closeSigs)
  row.closeToClaims = recorded.gasUsed
  await trace('closeToClaims', recorded.hash)
  const claimed = await manager.claim(a.channelId, pa.participants, recorded.closed.payouts, 0n, (1n << BigInt(n)) - 1n)
  if (claimed.sent !== (1n << BigInt(n)) - 1n) throw new RuntimeError('BENCH_WRONG_RESULT', `N=${n}: claim credited instead of paying`)
  row.claimAll = claimed.gasUsed
  await ctx.anvil.provider.send('evm_revert', [snapshot2])
  const closed = await manager.close(a.channelId, pa.participants, state, payouts, closeSigs)
  row.close = closed.gasUsed
  await trace('close', closed.hash)

  // Channel B (target 1): one move signed by all N proves itself final; conclude settles.
  progress(`N=${n}: ${n} funds, open, 1 move, verifyFinalityProof (1 tx × ${n} signatures), conclude`)
  const pb = params(ws, stack.machines.counter, 'conclude', 1, BigInt(await ctx.anvil.now()))
  for (const [i, w] of ws.entries()) {
    const funded = await stack.manager.connect(w).fundShare(pb, i)
    if (!funded) throw new RuntimeError('BENCH_WRONG_RESULT', `N=${n}: participant ${i}'s share was already funded`)
    row.fundEth.push(funded.gasUsed)
  }
  const before = await Promise.all(pb.participants.map((p) => manager.balanceOf(p, ETH)))
  const b = await manager.open(pb, ws.map((w) => signOpenConsent(w.signingKey, hasher, pb)))
  const after = await Promise.all(pb.participants.map((p) => manager.balanceOf(p, ETH)))
  if (after.some((v, i) => v !== before[i])) throw new RuntimeError('BENCH_WRONG_RESULT', `N=${n}: the open from funding took from a balance`)
  row.open = b.gasUsed
  await trace('open', b.hash)
  const stateB = await counter.transition(b.genesis.state, 0, inc, b.genesis.timestamp)
  const tx: Transaction = {
    channelId: b.channelId, fork: 0n, seq: 1n, timestamp: b.genesis.timestamp, actor: 0,
    previousStateHash: b.genesis.stateHash, data: inc, stateHash: hashState(stateB),
  }
  const proof = [sign(tx, ws.map((_, i) => i))]
  const verify = await measureVerify(ctx, b.channelId, pb.participants, proof, 1n)
  row.verify = verify
  await trace('verify', verify.hash)
  // The cost of one signature by its signer's index (the bitmap walk), on any digest.
  const lone = async (i: number) => {
    const d = keccak256(toUtf8Bytes('parley-bench-gas:lone')) as Hex
    const args = [b.channelId, channelStruct((await manager.track(b.channelId))!.record), pb.participants, d, 1n << BigInt(i), signDigest(ws[i]!.signingKey, d), 1]
    return measureCall(submitter, manager.address, manager.contract.interface.encodeFunctionData('verifySignatures', args) as Hex)
  }
  row.lone = [await lone(0), await lone(n - 1)]
  // The same conclude recording the payouts as claims (taken back).
  const snapshot3 = (await ctx.anvil.provider.send('evm_snapshot', [])) as string
  const recordedB = await manager.concludeToClaims(b.channelId, pb.participants, proof, stateB)
  row.concludeToClaims = recordedB.gasUsed
  await trace('concludeToClaims', recordedB.hash)
  await ctx.anvil.provider.send('evm_revert', [snapshot3])
  const concluded = await manager.conclude(b.channelId, pb.participants, proof, stateB)
  row.conclude = concluded.gasUsed
  await trace('conclude', concluded.hash)

  progress(`N=${n}: ${n} ETH withdrawals`)
  // Each withdrawal empties the balance (both channels' payouts), as before channels were funded.
  for (const w of ws) {
    const all = await stack.manager.balanceOf(w.address.toLowerCase() as Hex, ETH)
    row.withdrawEth.push((await stack.manager.connect(w).withdraw(ETH, all)).gasUsed)
  }
  return row
}

/** Checks with eth_call that `proof` proves `seq` final, then measures it as a transaction. */
async function measureVerify(ctx: Ctx, channelId: Hex, participants: readonly Hex[], proof: readonly PackedSignedTransaction[], seq: bigint): Promise<CallGas & { hash: Hex }> {
  const manager = ctx.stack.manager
  const proven = await manager.verifyFinalityProof(channelId, participants, proof)
  if (proven.stateHash !== proof[0]!.transaction.stateHash || proven.seq !== seq) {
    throw new RuntimeError('BENCH_WRONG_RESULT', `N=${participants.length}: the proof proved something else`)
  }
  const calldata = manager.contract.interface.encodeFunctionData('verifyFinalityProof', [channelId, channelStruct((await manager.track(channelId))!.record), participants, proof]) as Hex
  return measureCall(ctx.submitter, manager.address, calldata)
}

const max = (values: readonly bigint[]) => values.reduce((m, v) => (v > m ? v : m))
const min = (values: readonly bigint[]) => values.reduce((m, v) => (v < m ? v : m))

function report(rows: readonly Row[], started: Date): string {
  const out: string[] = []
  const pairs = rows.slice(1).map((r, i) => [rows[i]!, r] as const)
  const m = (f: (r: Row) => bigint) => pairs.map(([p, q]) => marginal(f(p), p.n, f(q), q.n))
  const label = ([p, q]: readonly [Row, Row]) => `${p.n} → ${q.n}`
  out.push(machineLine(), '', `Date: ${started.toISOString()}`, '')
  out.push(`Parameters: N = ${NS.join(', ')}; channels in ETH, deposit 1 ETH per participant, Counter machine; ` +
    `lifecycle channels with bond 0, every call sent by a non-participant account; court channels with bond 0.1 ETH, ` +
    `every call sent by a participant; ERC-20 = TestToken (OpenZeppelin ERC20); figures are receipt gasUsed (refunds applied).`, '')

  out.push('### Channel lifecycle', '')
  out.push(table(
    ['N', 'deposit ETH', 'deposit ERC-20', 'fund ETH: first', 'fund ETH: each later', 'open (funded)', 'open (from balances)', 'close', 'closeAndPay', 'closeToClaims', 'claim (all N)', 'conclude', 'concludeToClaims', 'withdraw ETH', 'withdraw ERC-20'],
    rows.map((r) => [String(r.n), fmt(max(r.depositEth)), fmt(max(r.depositToken)), fmt(r.fundEth[0]!), fmt(max(r.fundEth.slice(1))), fmt(r.open), fmt(r.openFromBalances), fmt(r.close), fmt(r.closeAndPay), fmt(r.closeToClaims), fmt(r.claimAll), fmt(r.conclude), fmt(r.concludeToClaims),
      fmt(max(r.withdrawEth)), fmt(max(r.withdrawToken))]),
  ), '')
  const all = (f: (r: Row) => bigint[]) => rows.flatMap(f)
  const spread = Math.max(...[all((r) => r.depositEth), all((r) => r.depositToken), all((r) => r.withdrawEth), all((r) => r.withdrawToken)].map((v) => Number(max(v) - min(v))))
  out.push(`Deposits and withdrawals are per participant (the largest of the N is shown; they differ by at most ` +
    `${spread} gas, from zero bytes in addresses) and do not depend on N: each extra participant adds one deposit ` +
    `and one withdrawal. \`fund\` is per participant too: the first writes the channel's funding slot, each later one ` +
    `updates it (the largest is shown). \`open (funded)\` opens a channel every participant funded with \`fund\` ` +
    `(channel B, then concluded); \`open (from balances)\` one whose shares come from the participants' balances ` +
    `(channel A, then closed).`, '')
  out.push('Marginal gas per extra participant:', '')
  const life = [m((r) => r.open), m((r) => r.close), m((r) => r.closeAndPay), m((r) => r.closeToClaims), m((r) => r.claimAll), m((r) => r.conclude), m((r) => r.concludeToClaims)]
  out.push(table(['N → N′', 'open', 'close', 'closeAndPay', 'closeToClaims', 'claim (all N)', 'conclude', 'concludeToClaims'], pairs.map((pq, i) => [label(pq), ...life.map((c) => fmt(c[i]!))])), '')

  out.push('### Finality-proof verification (verifyFinalityProof sent as a transaction)', '')
  out.push(table(
    ['N', '1 tx × N sigs: total', 'calldata', 'execution', 'N txs × 1 sig: total', 'calldata', 'execution'],
    rows.map((r) => [String(r.n), ...[r.verify, r.verifyChain].flatMap((g) => [fmt(g.total), fmt(g.calldata), fmt(g.execution)])]),
  ), '')
  out.push('Marginal gas per extra participant:', '')
  const ver = [m((r) => r.verify.total), m((r) => r.verify.calldata), m((r) => r.verify.execution),
    m((r) => r.verifyChain.total), m((r) => r.verifyChain.calldata), m((r) => r.verifyChain.execution)]
  out.push(table(
    ['N → N′', '1 tx × N sigs: total', 'calldata', 'execution', 'N txs × 1 sig: total', 'calldata', 'execution'],
    pairs.map((pq, i) => [label(pq), ...ver.map((c) => fmt(c[i]!))]),
  ), '')
  const last = rows[rows.length - 1]!
  const [lo, hi] = last.lone
  out.push(`One signature alone (\`verifySignatures\`, N = ${last.n}): ${fmt(lo.execution)} gas of execution from ` +
    `participant 0, ${fmt(hi.execution)} from participant ${last.n - 1}, i.e. ` +
    `${fmt(marginal(lo.execution, 0, hi.execution, last.n - 1))} gas per bit of the signer bitmap below the signer.`, '')
  const worst = Math.max(...ver[0]!)
  const worstExec = Math.max(...ver[2]!)
  out.push(`### Target: finality-proof verification ≤ ${fmt(TARGET)} gas per extra participant`, '')
  out.push(`A finality proof of one transaction signed by all N costs at most ${fmt(worstExec)} gas of contract ` +
    `execution per extra participant, and ${fmt(worst)} gas per extra participant for the whole transaction ` +
    `(calldata included). Target ${worst <= TARGET ? 'met, calldata included' : worstExec <= TARGET ? 'met for execution; not met once calldata is counted' : 'not met'}.`)
  return out.join('\n')
}

async function main(): Promise<void> {
  const started = new Date()
  progress(machineLine())
  const trace = process.argv.includes('--trace')
  // --steps-tracing: anvil records opcode steps only when asked (debug_traceTransaction).
  const anvil = await startAnvil({ accounts: Math.max(...ALL_NS) + 1, args: [...CLOCK_ARGS, ...(trace ? ['--steps-tracing'] : [])] })
  try {
    await fixClock(anvil)
    const submitter = anvil.wallets[0]!
    const stack = await deployLocalStack(submitter)
    const ctx: Ctx = { anvil, stack, hasher: await stack.manager.hasher(), counter: new RpcStateMachine(stack.machines.counter, anvil.provider), submitter, trace }
    // Steady state for ERC-20: the manager already holds the token and every participant keeps
    // a token balance, so no measured deposit or withdrawal pays for a first-ever storage slot.
    await stack.mintAndApprove(submitter, 1n)
    await stack.manager.deposit(stack.token.address, 1n)
    progress(`minting test tokens to ${Math.max(...ALL_NS)} participants`)
    for (const w of anvil.wallets.slice(1)) await (await (stack.token.connect(submitter) as Contract).getFunction('mint')(w.address, 2n * DEPOSIT)).wait()
    // `--court` measures the dispute operations only, `--channels` everything but them (quicker
    // runs while tuning one part).
    const courtOnly = process.argv.includes('--court')
    const channelsOnly = process.argv.includes('--channels')
    const rows: Row[] = []
    if (!courtOnly) {
      for (const n of NS) {
        await mineAt(anvil, sectionStart(0, n))
        rows.push(await measure(ctx, n))
      }
    }
    const court: DisputeRow[] = []
    if (!channelsOnly) {
      for (const n of NS) {
        await mineAt(anvil, sectionStart(1, n))
        court.push(await measureDisputes(ctx, n))
      }
    }
    progress(`deploying Nitro ${nitroVersion()} from its npm artifacts`)
    const nitroCtx = { anvil, submitter }
    const nitroAt = await deployNitro(nitroCtx)
    const nitro: NitroRow[] = []
    for (const n of NS) nitro.push(await measureNitro(nitroCtx, nitroAt, n, DEPOSIT))
    const sum = (v: readonly bigint[]) => v.reduce((a, b) => a + b, 0n)
    const figures: ParleyFigures[] = NS.map((n) => {
      const r = rows.find((x) => x.n === n)
      const c = court.find((x) => x.n === n)
      return {
        n,
        ...(r ? { open: r.open + sum(r.fundEth), close: r.closeToClaims, conclude: r.concludeToClaims, 'close+payout': r.closeAndPay } : {}),
        ...(c ? { respond: c.respond.total, answer: c.answer.total, refute: c.refute.total, timeout: c.timeout.total } : {}),
      }
    })
    const compared = compare(figures, nitro)
    const jsonAt = process.argv.indexOf('--json')
    if (jsonAt >= 0) {
      const file = process.argv[jsonAt + 1]
      if (!file) throw new RuntimeError('BENCH_USAGE', '--json takes a file name')
      writeFileSync(file, JSON.stringify(compared, null, 2) + '\n')
      progress(`wrote ${compared.length} rows to ${file}`)
    }
    if (!courtOnly) process.stdout.write(report(rows, started) + '\n\n')
    else process.stdout.write(`${machineLine()}\n\nDate: ${started.toISOString()}\n\n`)
    if (!channelsOnly) process.stdout.write(disputesReport(court, nitro, fmt, table) + '\n')
    process.stdout.write('\n' + nitroReport(compared, nitro, nitroVersion(), fmt, table) + '\n')
    if (trace) {
      process.stdout.write('\n### Execution gas by opcode trace\n\n')
      for (const n of NS) {
        const traced = rows.find((r) => r.n === n)?.traces ?? {}
        const lifecycle = (Object.keys(TRACED_LABEL) as Traced[]).flatMap((op) => (traced[op] ? [[TRACED_LABEL[op], traced[op]] as [string, GasBreakdown]] : []))
        const disputes = courtTraces(court.find((r) => r.n === n) ?? { traces: {} } as DisputeRow)
        process.stdout.write(traceReport(n, [...lifecycle, ...disputes], fmt, table) + '\n\n')
      }
    }
    progress('done')
  } finally {
    await anvil.stop()
  }
}

main().catch((e: unknown) => {
  const err = e as { name?: string; code?: string; message?: string }
  console.error(`bench:gas failed: ${err.name ?? 'Error'} ${err.code ?? ''}: ${err.message ?? String(e)}`)
  process.exitCode = 1
})
