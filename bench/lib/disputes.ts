/**
 * The court's part of `npm run bench:gas`: gas of postTransaction, every dispute, challenge,
 * answer, fraud proof and resolution at one channel size N, on a real anvil. One channel per
 * N is opened and played (N moves, each signed by everyone); every operation then starts from
 * an evm_snapshot of that channel, so each figure is the first dispute of a channel (which
 * costs the same as later ones: a dispute writes no storage slot that was empty).
 */
import { AbiCoder, keccak256, toUtf8Bytes, type TransactionReceipt, type Wallet } from 'ethers'
import type { Anvil } from '../../src/chain/anvil.js'
import { contractInterface } from '../../src/chain/artifacts.js'
import { signOpenConsent } from '../../src/chain/consent.js'
import type { RpcStateMachine } from '../../src/chain/RpcStateMachine.js'
import type { LocalStack } from '../../src/chain/stack.js'
import { RuntimeError } from '../../src/errors/ParleyError.js'
import { NO_DISPUTE } from '../../src/chain/ManagerBase.js'
import { hashState, type ParleyHasher } from '../../src/protocol/eip712.js'
import { packSignedTransaction, signDigest } from '../../src/protocol/signatures.js'
import { ETH, type DisputeRecord, type Hex, type PackedSignedTransaction, type Transaction } from '../../src/protocol/types.js'
import { calldataGas, measureCall, type CallGas } from './gas.js'
import { progress } from './report.js'

const abi = AbiCoder.defaultAbiCoder()
const iface = contractInterface('StateChannelManager')
const TIMES = { p2pTime: 60, agreementTime: 30, chainFallbackTime: 120, challengeTime: 300 }
const TX_TIMESTAMP = 1_700_000_000n
const DEPOSIT = 10n ** 18n
const BOND = 10n ** 17n
const inc = (k: number): Hex => abi.encode(['uint64'], [k]) as Hex

export interface DisputeCtx { anvil: Anvil; stack: LocalStack; hasher: ParleyHasher; counter: RpcStateMachine }

/** Every measured court operation (see docs/gas.md for what each one does). */
export const OPS = [
  'post', 'timeout', 'exit', 'forceClose', 'respond', 'answerLie', 'refute', 'answer',
  'proveInvalid', 'proveEquivocation', 'resolveTimeout', 'resolveForceClose', 'resolveFraud',
] as const
export type Op = (typeof OPS)[number]
export type DisputeRow = { n: number; postBytes: number } & Record<Op, CallGas>

interface Played {
  ws: Wallet[]
  channelId: Hex
  participants: Hex[]
  txs: Transaction[]
  states: Hex[]
  manager: Hex
}

/** Opens a Counter channel of `n` and plays n moves (participant i moves at seq i+1). */
async function play(ctx: DisputeCtx, n: number): Promise<Played> {
  const ws = ctx.anvil.wallets.slice(1, n + 1)
  const params = {
    participants: ws.map((w) => w.address.toLowerCase() as Hex), machine: ctx.stack.machines.counter, asset: ETH,
    deposits: ws.map(() => DEPOSIT), bond: BOND, ...TIMES,
    salt: keccak256(toUtf8Bytes(`parley-bench-gas:disputes:${n}`)) as Hex, initData: abi.encode(['uint64'], [0]) as Hex, openDeadline: 1n << 40n,
  }
  for (const w of ws) await ctx.stack.manager.connect(w).deposit(ETH, DEPOSIT + BOND)
  const opened = await ctx.stack.manager.open(params, ws.map((w) => signOpenConsent(w.signingKey, ctx.hasher, params)))
  const states = [opened.genesis.state]
  const txs: Transaction[] = []
  for (let i = 0; i < n; i++) {
    const next = await ctx.counter.transition(states[i]!, i, inc(1), TX_TIMESTAMP)
    txs.push({
      channelId: opened.channelId, fork: 0n, seq: BigInt(i + 1), timestamp: TX_TIMESTAMP, actor: i,
      previousStateHash: hashState(states[i]!), data: inc(1), stateHash: hashState(next),
    })
    states.push(next)
  }
  return { ws, channelId: opened.channelId, participants: params.participants, txs, states, manager: ctx.stack.manager.address }
}

/** Measures every court operation for one channel size `n`. */
export async function measureDisputes(ctx: DisputeCtx, n: number): Promise<DisputeRow> {
  progress(`N=${n}: court — open and play ${n} moves`)
  const p = await play(ctx, n)
  const { ws, channelId, participants, txs, states } = p
  const all = ws.map((_, i) => i)
  const sig = (t: Transaction, i: number) => signDigest(ws[i]!.signingKey, ctx.hasher.transaction(t))
  const signed = (t: Transaction, signers: readonly number[]): PackedSignedTransaction =>
    packSignedTransaction({ transaction: t, signatures: new Map(signers.map((i) => [i, sig(t, i)])) })
  const final = (seq: number, signers: readonly number[] = all) => [signed(txs[seq - 1]!, signers)]
  const head = n
  const moveTx = async (actor: number, k: number): Promise<Transaction> => {
    const next = await ctx.counter.transition(states[head]!, actor, inc(k), TX_TIMESTAMP + 1n)
    return { ...txs[head - 1]!, seq: BigInt(head + 1), actor, previousStateHash: hashState(states[head]!), data: inc(k), stateHash: hashState(next), timestamp: TX_TIMESTAMP + 1n }
  }
  const send = async (from: number, method: string, args: unknown[]): Promise<{ gas: CallGas; receipt: TransactionReceipt }> => {
    const data = iface.encodeFunctionData(method, args) as Hex
    const receipt = await (await ws[from]!.sendTransaction({ to: p.manager, data })).wait()
    if (!receipt || receipt.status !== 1) throw new RuntimeError('BENCH_CALL_FAILED', `N=${n}: ${method} failed`)
    const calldata = calldataGas(data)
    return { gas: { total: receipt.gasUsed, calldata, execution: receipt.gasUsed - 21_000n - calldata }, receipt }
  }
  const recordOf = (r: TransactionReceipt): DisputeRecord => {
    for (const log of r.logs) {
      const ev = iface.parseLog(log)
      if (ev?.name === 'DisputeRaised' || ev?.name === 'DisputeAnswered') return ev.args.dispute.toObject() as DisputeRecord
    }
    throw new RuntimeError('BENCH_NO_RECORD', `N=${n}: no dispute record in the receipt`)
  }
  const pastDeadline = async (r: DisputeRecord) => {
    const now = BigInt(await ctx.anvil.now())
    await ctx.anvil.increaseTime(Number(BigInt(r.deadline) - now) + 1)
  }
  const base = (await ctx.anvil.provider.send('evm_snapshot', [])) as string
  let snap = base
  const fresh = async () => {
    await ctx.anvil.provider.send('evm_revert', [snap])
    snap = (await ctx.anvil.provider.send('evm_snapshot', [])) as string
  }
  const row = { n } as DisputeRow
  const last = n - 1 // signed every move; authored the head

  progress(`N=${n}: court — post, timeout, respond, exit, answers`)
  const move = await moveTx(0, 1)
  const postData = iface.encodeFunctionData('postTransaction', [channelId, participants, move, sig(move, 0)]) as Hex
  row.postBytes = (postData.length - 2) / 2
  row.post = await measureCall(ws[0]!, p.manager, postData)

  await fresh()
  const timeout = await send(last, 'disputeTimeout', [channelId, participants, last, final(head), states[head]])
  row.timeout = timeout.gas
  row.respond = (await send(1 % n, 'respond', [channelId, participants, 1 % n, recordOf(timeout.receipt), move, sig(move, 0)])).gas
  await fresh()
  const t2 = await send(last, 'disputeTimeout', [channelId, participants, last, final(head), states[head]])
  await pastDeadline(recordOf(t2.receipt))
  row.resolveTimeout = (await send(1 % n, 'resolve', [channelId, participants, recordOf(t2.receipt), states[head]])).gas

  // A lie: participant 0 disputes at seq n-1 (accusing n-1) although it signed tx n.
  await fresh()
  const lie = await send(0, 'disputeTimeout', [channelId, participants, 0, final(head - 1), states[head - 1]])
  row.answerLie = (await send(last, 'answer', [channelId, participants, last, recordOf(lie.receipt), final(head)])).gas
  await fresh()
  const lie2 = await send(0, 'disputeTimeout', [channelId, participants, 0, final(head - 1), states[head - 1]])
  row.refute = (await send(last, 'refute', [channelId, participants, last, recordOf(lie2.receipt), txs[head - 1], sig(txs[head - 1]!, 0)])).gas

  await fresh()
  row.exit = (await send(0, 'exit', [channelId, participants, 0, NO_DISPUTE, final(head), true])).gas
  await fresh()
  const fc = await send(0, 'exit', [channelId, participants, 0, NO_DISPUTE, final(head - 1), false])
  row.forceClose = fc.gas
  const answered = await send(last, 'answer', [channelId, participants, last, recordOf(fc.receipt), final(head)])
  row.answer = answered.gas
  await pastDeadline(recordOf(answered.receipt))
  row.resolveForceClose = (await send(0, 'resolve', [channelId, participants, recordOf(answered.receipt), states[head]])).gas

  progress(`N=${n}: court — fraud proofs`)
  // Participant 0 (the next actor) cheats; participant n-1 proves it, checkpoint = tx n
  // signed by everyone (the culprit stays in the active set until resolution).
  const none: DisputeRecord = { kind: 0, disputer: 0, seq: 0n, timestamp: 0n, deadline: 0n, removals: 0n, stateHash: `0x${'00'.repeat(32)}` }
  const bad = { ...move, data: inc(0) } // a zero increment: the machine reverts
  await fresh()
  const fraud = await send(last, 'proveInvalidTransition', [channelId, participants, last, none, signed(bad, [0]), states[head], final(head)])
  row.proveInvalid = fraud.gas
  await pastDeadline(recordOf(fraud.receipt))
  row.resolveFraud = (await send(last, 'resolve', [channelId, participants, recordOf(fraud.receipt), states[head]])).gas
  await fresh()
  const move2 = await moveTx(0, 2)
  row.proveEquivocation = (await send(last, 'proveEquivocation', [channelId, participants, last, none, signed(move, [0]), signed(move2, [0]), final(head)])).gas

  await ctx.anvil.provider.send('evm_revert', [snap])
  return row
}

/** Nitro's adjudicator, own run (issue 3): challenge at N = 2 and 8, checkpoint at N = 2. */
const NITRO = { challenge: new Map([[2, 93_300n], [8, 149_900n]]), checkpoint: new Map([[2, 54_900n]]) }
/**
 * Which Nitro figure each operation is held to: raising a dispute registers a candidate state
 * like Nitro's challenge; respond and answer replace it with a later state like its checkpoint;
 * refute and an answer to a timeout do that and convict the disputer, so both are shown.
 */
const COMPARE: [Op, ('challenge' | 'checkpoint')[]][] = [
  ['timeout', ['challenge']], ['exit', ['challenge']], ['forceClose', ['challenge']],
  ['respond', ['checkpoint']], ['answer', ['checkpoint']], ['refute', ['challenge', 'checkpoint']], ['answerLie', ['challenge', 'checkpoint']],
]
const LABEL: Record<Op, string> = {
  post: 'postTransaction', timeout: 'disputeTimeout', exit: 'exit (leave)', forceClose: 'exit (force-close)',
  respond: 'respond', answerLie: 'answer (timeout: lie)', refute: 'refute', answer: 'answer (force-close)',
  proveInvalid: 'proveInvalidTransition', proveEquivocation: 'proveEquivocation', resolveTimeout: 'resolve (timeout)',
  resolveForceClose: 'resolve (force-close)', resolveFraud: 'resolve (fraud)',
}

type Fmt = (n: bigint | number) => string
type Table = (h: readonly string[], r: readonly (readonly string[])[]) => string

/** The markdown section of the court's figures and targets. */
export function disputesReport(rows: readonly DisputeRow[], fmt: Fmt, table: Table): string {
  const out: string[] = []
  const cols = (ops: readonly Op[]) => table(['N', ...ops.map((o) => LABEL[o])], rows.map((r) => [String(r.n), ...ops.map((o) => fmt(r[o].total))]))
  out.push('### Court: posts, disputes, challenges and answers', '')
  out.push(cols(['post', 'timeout', 'exit', 'forceClose', 'respond', 'answerLie', 'refute', 'answer']), '')
  out.push('### Court: fraud proofs and resolution', '')
  out.push(cols(['proveInvalid', 'proveEquivocation', 'resolveTimeout', 'resolveForceClose', 'resolveFraud']), '')
  const first = rows[0]!
  out.push(`Split at N = ${first.n} (base 21,000 + calldata + execution):`, '')
  out.push(table(['operation', 'total', 'calldata', 'execution'], OPS.map((o) => [LABEL[o], fmt(first[o].total), fmt(first[o].calldata), fmt(first[o].execution)])), '')
  const pairs = rows.slice(1).map((r, i) => [rows[i]!, r] as const)
  const key: Op[] = ['post', 'timeout', 'answer', 'refute', 'proveInvalid', 'resolveTimeout', 'resolveForceClose']
  out.push('Marginal gas per extra participant:', '')
  out.push(table(['N → N′', ...key.map((o) => LABEL[o])],
    pairs.map(([a, b]) => [`${a.n} → ${b.n}`, ...key.map((o) => fmt(Math.round(Number(b[o].total - a[o].total) / (b.n - a.n))))])), '')

  out.push('### Targets', '')
  out.push('Posting calldata ≤ 21,000 + 16 gas per calldata byte + 25,000:', '')
  out.push(table(['N', 'calldata bytes', 'gas', 'bound', 'execution', 'met'], rows.map((r) => {
    const bound = 46_000n + 16n * BigInt(r.postBytes)
    return [String(r.n), fmt(r.postBytes), fmt(r.post.total), fmt(bound), fmt(r.post.execution), r.post.total <= bound ? 'yes' : 'no']
  })), '')
  out.push('Disputes and challenges ≤ 0.8 × the Nitro adjudicator figure at the same N:', '')
  const verdict: string[][] = []
  for (const r of rows) {
    for (const [o, refs] of COMPARE) {
      for (const name of refs) {
        const ref = NITRO[name].get(r.n)
        if (ref === undefined) continue
        const ratio = Number(r[o].total) / Number(ref)
        verdict.push([String(r.n), LABEL[o], fmt(r[o].total), `${name} ${fmt(ref)}`, ratio.toFixed(2), ratio <= 0.8 ? 'yes' : 'no'])
      }
    }
  }
  out.push(table(['N', 'operation', 'gas', 'Nitro', 'ratio', '≤ 0.8'], verdict))
  return out.join('\n')
}
