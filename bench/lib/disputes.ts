/**
 * The court's part of `npm run bench:gas`: gas of postTransaction, every dispute, challenge,
 * answer, extension, fraud proof and resolution at one channel size N, on a real anvil. Two
 * channels per N are opened and played (N moves, each signed by everyone): one whose head is
 * not terminal (timeouts, exits, answers, fraud) and one whose head is terminal (a timeout on it
 * is a Conclude). Every operation then starts from an evm_snapshot of its channel, so each figure
 * is the first dispute of a channel (which costs the same as later ones: a dispute writes no
 * storage slot that was empty). The report is in ./courtReport.ts.
 */
import { AbiCoder, keccak256, toUtf8Bytes, type TransactionReceipt, type Wallet } from 'ethers'
import type { Anvil } from '../../src/chain/anvil.js'
import { contractInterface } from '../../src/contracts/artifacts.js'
import { signOpenConsent } from '../../src/chain/consent.js'
import type { RpcStateMachine } from '../../src/chain/RpcStateMachine.js'
import type { LocalStack } from '../../src/chain/stack.js'
import { NO_DISPUTE } from '../../src/chain/ManagerBase.js'
import { channelStruct, NO_CHANNEL } from '../../src/chain/records.js'
import { RuntimeError } from '../../src/errors/ParleyError.js'
import { hashState, type ParleyHasher } from '../../src/protocol/eip712.js'
import { packSignedTransaction, signDigest } from '../../src/protocol/signatures.js'
import { openDeadline } from '../../src/protocol/timing.js'
import { ETH, type DisputeRecord, type Hex, type PackedSignedTransaction, type Transaction } from '../../src/protocol/types.js'
import { mineAt } from './clock.js'
import { calldataGas, type CallGas } from './gas.js'
import { progress } from './report.js'
import { traceGas, type GasBreakdown } from './trace.js'
import { defaultTimes } from '../../src/channel/params.js'

const abi = AbiCoder.defaultAbiCoder()
const iface = contractInterface('StateChannelManager')
const TIMES = { ...defaultTimes }
const POSTING_WINDOW = BigInt(TIMES.p2pTime + TIMES.agreementTime + TIMES.chainFallbackTime)
const DEPOSIT = 10n ** 18n
const BOND = 10n ** 17n
const inc = (k: number): Hex => abi.encode(['uint64'], [k]) as Hex

export interface DisputeCtx {
  anvil: Anvil
  stack: LocalStack
  hasher: ParleyHasher
  counter: RpcStateMachine
  /** Also split each operation's execution gas from its opcode trace (slower). */
  trace?: boolean
}

/** Every measured court operation (see docs/gas.md for what each one does). */
export const OPS = [
  'post', 'timeout', 'conclude', 'exit', 'forceClose',
  'respond', 'answerLie', 'refute', 'refuteGenesis', 'answer', 'extend',
  'proveInvalid', 'proveEquivocation', 'resolveTimeout', 'resolveForceClose', 'resolveFraud', 'resolveConclude',
] as const
export type Op = (typeof OPS)[number]
export type DisputeRow = { n: number; postBytes: number; traces: Partial<Record<Op, GasBreakdown>> } & Record<Op, CallGas>

interface Played {
  ws: Wallet[]
  channelId: Hex
  participants: Hex[]
  txs: Transaction[]
  /** states[k]: the state after k moves (states[0] = genesis). */
  states: Hex[]
  /** The fork's genesis time: every move is stamped with it, the earliest the contract accepts. */
  genesisTime: bigint
  manager: Hex
}

/**
 * Opens a Counter channel of `n` (terminal once the count reaches `target`; 0 = never) and plays
 * n moves (participant i moves at seq i+1), then lets the posting window pass so that a timeout
 * on the head may be raised.
 */
async function play(ctx: DisputeCtx, n: number, target: number, tag: string): Promise<Played> {
  const ws = ctx.anvil.wallets.slice(1, n + 1)
  const params = {
    participants: ws.map((w) => w.address.toLowerCase() as Hex), machine: ctx.stack.machines.counter, asset: ETH,
    deposits: ws.map(() => DEPOSIT), bond: BOND, ...TIMES,
    salt: keccak256(toUtf8Bytes(`parley-bench-gas:disputes:${tag}:${n}`)) as Hex, initData: abi.encode(['uint64'], [target]) as Hex,
    openDeadline: openDeadline(BigInt(await ctx.anvil.now())),
  }
  for (const w of ws) await ctx.stack.manager.connect(w).deposit(ETH, DEPOSIT + BOND)
  const opened = await ctx.stack.manager.open(params, ws.map((w) => signOpenConsent(w.signingKey, ctx.hasher, params)))
  const genesisTime = opened.genesis.timestamp
  const states = [opened.genesis.state]
  const txs: Transaction[] = []
  for (let i = 0; i < n; i++) {
    const next = await ctx.counter.transition(states[i]!, i, inc(1), genesisTime)
    txs.push({
      channelId: opened.channelId, fork: 0n, seq: BigInt(i + 1), timestamp: genesisTime, actor: i,
      previousStateHash: hashState(states[i]!), data: inc(1), stateHash: hashState(next),
    })
    states.push(next)
  }
  await mineAt(ctx.anvil, genesisTime + POSTING_WINDOW + 1n)
  return { ws, channelId: opened.channelId, participants: params.participants, txs, states, genesisTime, manager: ctx.stack.manager.address }
}

/** Measures every court operation for one channel size `n`. */
export async function measureDisputes(ctx: DisputeCtx, n: number): Promise<DisputeRow> {
  progress(`N=${n}: court — open and play ${n} moves on two channels`)
  const p = await play(ctx, n, 0, 'open')
  const q = await play(ctx, n, n, 'terminal')
  const { ws, channelId, participants, txs, states } = p
  const all = ws.map((_, i) => i)
  const sig = (t: Transaction, i: number) => signDigest(ws[i]!.signingKey, ctx.hasher.transaction(t))
  const signed = (t: Transaction, signers: readonly number[]): PackedSignedTransaction =>
    packSignedTransaction({ transaction: t, signatures: new Map(signers.map((i) => [i, sig(t, i)])) })
  const final = (seq: number, of: Played = p) => [signed(of.txs[seq - 1]!, all)]
  const head = n
  // A move on the head, one second after the genesis (a response must not predate the candidate).
  const moveTx = async (actor: number, k: number): Promise<Transaction> => {
    const timestamp = p.genesisTime + 1n
    const next = await ctx.counter.transition(states[head]!, actor, inc(k), timestamp)
    return { ...txs[head - 1]!, seq: BigInt(head + 1), actor, previousStateHash: hashState(states[head]!), data: inc(k), stateHash: hashState(next), timestamp }
  }
  const row = { n, traces: {} } as DisputeRow
  // Sends one court call; `op` names the figure it measures (traced before any snapshot revert
  // removes the transaction from the chain).
  // The channel's record, as a client re-supplies it (rebuilt from the channel's events).
  const record = async (id: Hex) => channelStruct((await ctx.stack.manager.track(id))?.record ?? NO_CHANNEL)
  const send = async (from: number, method: string, args: unknown[], op?: Op): Promise<{ gas: CallGas; receipt: TransactionReceipt }> => {
    const data = iface.encodeFunctionData(method, [args[0], await record(args[0] as Hex), ...args.slice(1)]) as Hex
    const receipt = await (await ws[from]!.sendTransaction({ to: p.manager, data })).wait()
    if (!receipt || receipt.status !== 1) throw new RuntimeError('BENCH_CALL_FAILED', `N=${n}: ${method} failed`)
    const calldata = calldataGas(data)
    const gas = { total: receipt.gasUsed, calldata, execution: receipt.gasUsed - 21_000n - calldata }
    if (op) {
      row[op] = gas
      if (ctx.trace) row.traces[op] = await traceGas(ctx.anvil.provider, receipt.hash)
    }
    return { gas, receipt }
  }
  const recordOf = (r: TransactionReceipt): DisputeRecord => {
    for (const log of r.logs) {
      const ev = iface.parseLog(log)
      if (ev?.name === 'DisputeRaised' || ev?.name === 'DisputeAnswered') return ev.args.dispute.toObject() as DisputeRecord
    }
    throw new RuntimeError('BENCH_NO_RECORD', `N=${n}: no dispute record in the receipt`)
  }
  const pastDeadline = (r: DisputeRecord) => mineAt(ctx.anvil, BigInt(r.deadline) + 1n)
  const base = (await ctx.anvil.provider.send('evm_snapshot', [])) as string
  let snap = base
  const fresh = async () => {
    await ctx.anvil.provider.send('evm_revert', [snap])
    snap = (await ctx.anvil.provider.send('evm_snapshot', [])) as string
  }
  const last = n - 1 // signed every move; authored the head

  progress(`N=${n}: court — post, timeout, respond, conclude`)
  const move = await moveTx(0, 1)
  const postData = iface.encodeFunctionData('postTransaction', [channelId, await record(channelId), participants, move, sig(move, 0)]) as Hex
  row.postBytes = (postData.length - 2) / 2
  await send(0, 'postTransaction', [channelId, participants, move, sig(move, 0)], 'post')

  // The head, final (signed by all), accuses participant 0 (its next actor), who signed it.
  await fresh()
  const timeout = await send(last, 'disputeTimeout', [channelId, participants, last, final(head), states[head]], 'timeout')
  await send(1 % n, 'respond', [channelId, participants, 1 % n, recordOf(timeout.receipt), move.timestamp, move.data, move.stateHash, sig(move, 0)], 'respond')
  await fresh()
  const t2 = await send(last, 'disputeTimeout', [channelId, participants, last, final(head), states[head]])
  await pastDeadline(recordOf(t2.receipt))
  await send(1 % n, 'resolve', [channelId, participants, recordOf(t2.receipt), states[head]], 'resolveTimeout')

  // The same call on the terminal channel's head: a Conclude, settled from it at resolution.
  await fresh()
  const concluded = await send(last, 'disputeTimeout', [q.channelId, q.participants, last, final(head, q), q.states[head]], 'conclude')
  await pastDeadline(recordOf(concluded.receipt))
  await send(0, 'resolve', [q.channelId, q.participants, recordOf(concluded.receipt), q.states[head]], 'resolveConclude')

  progress(`N=${n}: court — lies, exits, answers, extensions`)
  // A lie: participant 0 disputes at seq n-1 (accusing n-1) although it signed tx n. Both
  // convictions continue from the challenger's latest final state (tx n); refute may also
  // continue from the genesis (an empty checkpoint: no signatures to check).
  await fresh()
  const lie = await send(0, 'disputeTimeout', [channelId, participants, 0, final(head - 1), states[head - 1]])
  await send(last, 'answer', [channelId, participants, last, recordOf(lie.receipt), final(head), states[head]], 'answerLie')
  const liar = txs[head - 1]!
  await fresh()
  const lie2 = await send(0, 'disputeTimeout', [channelId, participants, 0, final(head - 1), states[head - 1]])
  await send(last, 'refute', [channelId, participants, last, recordOf(lie2.receipt), liar, sig(liar, 0), final(head), states[head]], 'refute')
  await fresh()
  const lie3 = await send(0, 'disputeTimeout', [channelId, participants, 0, final(head - 1), states[head - 1]])
  await send(last, 'refute', [channelId, participants, last, recordOf(lie3.receipt), liar, sig(liar, 0), [], states[0]], 'refuteGenesis')

  await fresh()
  await send(0, 'exit', [channelId, participants, 0, NO_DISPUTE, final(head), true, states[head]], 'exit')
  await fresh()
  const fc = await send(0, 'exit', [channelId, participants, 0, NO_DISPUTE, final(head - 1), false, states[head - 1]], 'forceClose')
  const answered = await send(last, 'answer', [channelId, participants, last, recordOf(fc.receipt), final(head), states[head]], 'answer')
  await pastDeadline(recordOf(answered.receipt))
  await send(0, 'resolve', [channelId, participants, recordOf(answered.receipt), states[head]], 'resolveForceClose')
  // The same force-close moved forward by a move that is not final: tx n-1 signed by all (a
  // finality proof of it), then tx n signed by its author only; tx n becomes the candidate.
  await fresh()
  const fc2 = await send(0, 'exit', [channelId, participants, 0, NO_DISPUTE, final(head - 1), false, states[head - 1]])
  const extension = [signed(txs[head - 2]!, all), signed(txs[head - 1]!, [last])]
  await send(last, 'extend', [channelId, participants, last, recordOf(fc2.receipt), extension, states[head]], 'extend')

  progress(`N=${n}: court — fraud proofs`)
  // Participant 0 (the next actor) cheats; participant n-1 proves it, checkpoint = tx n
  // signed by everyone (the culprit stays in the active set until resolution).
  const bad = { ...move, data: inc(0) } // a zero increment: the machine reverts
  await fresh()
  const fraud = await send(last, 'proveInvalidTransition', [channelId, participants, last, NO_DISPUTE, signed(bad, [0]), states[head], final(head), states[head]], 'proveInvalid')
  await pastDeadline(recordOf(fraud.receipt))
  await send(last, 'resolve', [channelId, participants, recordOf(fraud.receipt), states[head]], 'resolveFraud')
  await fresh()
  const move2 = await moveTx(0, 2)
  await send(last, 'proveEquivocation', [channelId, participants, last, NO_DISPUTE, signed(move, [0]), signed(move2, [0]), final(head), states[head]], 'proveEquivocation')

  await ctx.anvil.provider.send('evm_revert', [snap])
  return row
}
