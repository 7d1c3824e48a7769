/**
 * The differential run's world: one anvil with the manager and the example machines, and the
 * channels the cases act on (Payments, TicTacToe, Counter; 2 to 4 participants; one on fork 1
 * after a removal). Each channel has an honest history H computed by the deployed machine (in the
 * client's EVM) and signed by its author, by "me" (the honest client whose verdicts are checked)
 * and by a fixed pattern of the others, then a withheld extension E of valid moves signed only by
 * the adversaries (everyone but me), which me has never seen.
 */
import type { Interface, SigningKey, Wallet } from 'ethers'
import { AbiCoder } from 'ethers'
import { EvmStateMachine } from '../../src/machine/EvmStateMachine.js'
import { machineCalls, type MachineCalls } from '../../src/protocol/admission/index.js'
import { bitIndices, fullBitmap } from '../../src/protocol/bitmap.js'
import { hashState, type ParleyHasher } from '../../src/protocol/eip712.js'
import { packSignatures, signDigest } from '../../src/protocol/signatures.js'
import { DisputeKind, type ChannelParams, type DisputeRecord, type Hex, type PackedSignedTransaction, type Transaction } from '../../src/protocol/types.js'
import { makeParams, openChannel, setup, type Fixture } from '../helpers/fixture.js'
import { Rpc } from './rpc.js'
import { recordArg } from '../helpers/records.js'

/** The channel record a client re-supplies, rebuilt from the channel's events on the chain as it is now. */
export const recordNow = (w: World, channelId: Hex): Promise<Record<string, unknown>> => recordArg(w.f.rawManager, channelId)

const abi = AbiCoder.defaultAbiCoder()

/** The example machines. */
export type MachineName = 'Counter' | 'Payments' | 'TicTacToe'

/** A transaction of a channel's history with its resulting state and every signature on it. */
export interface Move {
  tx: Transaction
  state: Hex
  sigs: Map<number, Hex>
  /** Part of E: me never saw it. */
  withheld: boolean
}

/** What defines a channel of the run. */
export interface ScenarioSpec {
  name: string
  machine: MachineName
  n: number
  me: number
  /** Length of H. */
  known: number
  /** At most this many withheld moves (E stops at me's turn or a terminal state). */
  withheld: number
  initData?: Hex
  /** Start on fork 1, after participant `removed` was timed out of fork 0. */
  removed?: number
}

/** A channel of the run, as the cases see it. */
export interface Scenario extends ScenarioSpec {
  params: ChannelParams
  channelId: Hex
  participants: Hex[]
  wallets: Wallet[]
  fork: bigint
  active: bigint
  genesis: Hex
  genesisHash: Hex
  genesisTs: bigint
  /** H then E: `moves[i].tx.seq === i + 1`. */
  moves: Move[]
  machineImpl: EvmStateMachine
  calls: MachineCalls
  /** Known state bytes by hash (genesis, every move's state, invented ones). */
  states: Map<string, Hex>
  /** Invented states: the head's with everything paid to an adversary (`theft`), and with payouts above the locked deposits (`excess`). */
  invented: { theft: Hex; excess: Hex }
}

/** The scenarios of a full run (the test file runs a subset). */
export const SCENARIOS: ScenarioSpec[] = [
  { name: 'payments-2', machine: 'Payments', n: 2, me: 0, known: 5, withheld: 1 },
  { name: 'tictactoe-2', machine: 'TicTacToe', n: 2, me: 1, known: 7, withheld: 0 },
  { name: 'counter-2-target', machine: 'Counter', n: 2, me: 1, known: 5, withheld: 0, initData: abi.encode(['uint64'], [5]) as Hex },
  { name: 'payments-3', machine: 'Payments', n: 3, me: 1, known: 6, withheld: 1 },
  { name: 'counter-4', machine: 'Counter', n: 4, me: 2, known: 7, withheld: 3 },
  { name: 'counter-3-fork1', machine: 'Counter', n: 3, me: 0, known: 5, withheld: 1, removed: 2 },
]

export interface World {
  f: Fixture
  rpc: Rpc
  iface: Interface
  manager: Hex
  hasher: ParleyHasher
  scenarios: Scenario[]
  /** A key of nobody in any channel (SignerNotParticipant). */
  outsider: SigningKey
  /** The chain's time at the base snapshot. */
  baseNow: bigint
  /** Reverts the chain to the base (every channel open, nothing disputed) and snapshots it again. */
  reset(): Promise<void>
  stop(): Promise<void>
}

/** Move data the machine may accept, in order of preference, and data it refuses. */
export function moveData(machine: MachineName, actor: number, n: number): { good: Hex[]; bad: Hex[] } {
  const inc = (k: number) => abi.encode(['uint64'], [k]) as Hex
  const pay = (to: number, amount: bigint) => abi.encode(['uint16', 'uint256'], [to, amount]) as Hex
  const cell = (c: number) => abi.encode(['uint256'], [c]) as Hex
  if (machine === 'Counter') return { good: [inc(1), inc(2), inc(3)], bad: [inc(0), '0x'] }
  if (machine === 'Payments') {
    const to = (actor + 1) % n
    return { good: [pay(to, 10n ** 15n), '0x', pay(to, 2n * 10n ** 15n)], bad: [pay(actor, 1n), pay(to, 10n ** 30n), '0x01'] }
  }
  return { good: Array.from({ length: 9 }, (_, c) => cell(c)), bad: [cell(9), '0x'] }
}

/** The first good data the machine accepts at `state` for `actor`, with its result. */
async function firstValid(m: EvmStateMachine, spec: ScenarioSpec, state: Hex, actor: number, ts: bigint): Promise<{ data: Hex; next: Hex } | undefined> {
  for (const data of moveData(spec.machine, actor, spec.n).good) {
    try {
      return { data, next: await m.transition(state, actor, data, ts) }
    } catch {
      // try the next one
    }
  }
  return undefined
}

/** `tx` signed by participants `who` (keys of `wallets`). */
export function sign(hasher: ParleyHasher, wallets: readonly Wallet[], tx: Transaction, who: Iterable<number>): Map<number, Hex> {
  const digest = hasher.transaction(tx)
  return new Map([...who].sort((a, b) => a - b).map((i) => [i, signDigest(wallets[i]!.signingKey, digest)]))
}

/** A packed entry of `m` with the signatures of `who` it has. */
export function packed(m: { tx: Transaction; sigs: ReadonlyMap<number, Hex> }, who?: (i: number) => boolean): PackedSignedTransaction {
  return { transaction: m.tx, ...packSignatures(new Map([...m.sigs].filter(([i]) => !who || who(i)))) }
}

/** Starts anvil, deploys, opens every scenario's channel and builds its history. */
export async function createWorld(specs: readonly ScenarioSpec[] = SCENARIOS): Promise<World> {
  const f = await setup(10)
  const rpc = new Rpc(f.anvil.url)
  const manager = (await f.manager.getAddress()).toLowerCase() as Hex
  const scenarios: Scenario[] = []
  // Forks after a removal first: their fork-0 dispute takes a challenge time of chain time.
  const ordered = [...specs].sort((a, b) => Number(b.removed !== undefined) - Number(a.removed !== undefined))
  for (const [k, spec] of ordered.entries()) scenarios.push(await openScenario(f, rpc, manager, spec, k))
  // Every history starts together, so every head is recent at the base.
  const anchor = (await rpc.now()) + 5n
  let end = anchor
  for (const s of scenarios) end = maxOf(end, await buildHistory(f, s, anchor))
  await rpc.mineAt(end + 2n)
  const baseNow = await rpc.now()
  let base = await rpc.snapshot()
  const byName = new Map(scenarios.map((s) => [s.name, s]))
  return {
    f, rpc, iface: f.manager.interface, manager, hasher: f.hasher, scenarios: specs.map((s) => byName.get(s.name)!),
    outsider: f.wallets[9]!.signingKey, baseNow,
    async reset() {
      await rpc.revert(base)
      base = await rpc.snapshot()
    },
    stop: () => f.stop(),
  }
}

const maxOf = (a: bigint, b: bigint): bigint => (a > b ? a : b)

async function openScenario(f: Fixture, rpc: Rpc, manager: Hex, spec: ScenarioSpec, k: number): Promise<Scenario> {
  const wallets = f.wallets.slice(1, spec.n + 1)
  const contract = spec.machine === 'Counter' ? f.counter : spec.machine === 'Payments' ? f.payments : f.tictactoe
  const address = (await contract.getAddress()).toLowerCase() as Hex
  const params = makeParams(wallets, address, {
    bond: 10n ** 17n, salt: `0x${(k + 1).toString(16).padStart(64, '0')}` as Hex, ...(spec.initData ? { initData: spec.initData } : {}),
  })
  const { channelId, genesis, timestamp } = await openChannel(f, wallets, params)
  const machineImpl = await EvmStateMachine.fromChain({ provider: f.anvil.provider, address })
  const s: Scenario = {
    ...spec, params, channelId, participants: params.participants, wallets, fork: 0n, active: fullBitmap(spec.n),
    genesis, genesisHash: hashState(genesis), genesisTs: timestamp, moves: [], machineImpl, calls: machineCalls(machineImpl), states: new Map(),
    invented: { theft: genesis, excess: genesis },
  }
  if (spec.removed !== undefined) await removeParticipant(f, rpc, manager, s, spec.removed)
  s.states.set(s.genesisHash, s.genesis)
  return s
}

/**
 * Times participant `removed` out of fork 0: two moves everyone signs, a timeout on the second
 * (whose next actor must be `removed`), its deadline waited out, resolved into fork 1.
 */
async function removeParticipant(f: Fixture, rpc: Rpc, manager: Hex, s: Scenario, removed: number): Promise<void> {
  let state = s.genesis
  let ts = s.genesisTs
  const txs: PackedSignedTransaction[] = []
  for (let seq = 1n; (await s.machineImpl.nextActor(state)) !== removed; seq++) {
    const actor = await s.machineImpl.nextActor(state)
    ts += 1n
    const { data, next } = (await firstValid(s.machineImpl, s, state, actor, ts))!
    const tx: Transaction = { channelId: s.channelId, fork: 0n, seq, timestamp: ts, actor, previousStateHash: hashState(state), data, stateHash: hashState(next) }
    txs.push(packed({ tx, sigs: sign(f.hasher, s.wallets, tx, bitIndices(s.active)) }))
    state = next
  }
  const disputer = bitIndices(s.active).find((i) => i !== removed)!
  const from = s.participants[disputer]!
  const raisedAt = ts + 211n
  const raise = await rpc.send(from, manager, f.manager.interface.encodeFunctionData('disputeTimeout', [s.channelId, await recordArg(f.rawManager, s.channelId), s.participants, disputer, txs.slice(-1), state]) as Hex, raisedAt)
  const record = recordOf(f.manager.interface, raise.logs, 'DisputeRaised')!
  const resolved = await rpc.send(from, manager, f.manager.interface.encodeFunctionData('resolve', [s.channelId, await recordArg(f.rawManager, s.channelId), s.participants, record, state]) as Hex, record.deadline + 1n)
  const set = resolved.logs.map((l) => f.manager.interface.parseLog(l)).find((e) => e?.name === 'StateSet')!
  Object.assign(s, {
    fork: BigInt(set.args.fork), genesis: String(set.args.state).toLowerCase() as Hex, genesisTs: BigInt(set.args.timestamp), active: BigInt(set.args.active),
  })
  s.genesisHash = hashState(s.genesis)
}

/** The record of the last `name` event among `logs`. */
export function recordOf(iface: Interface, logs: readonly { topics: string[]; data: string }[], ...names: string[]): DisputeRecord | undefined {
  let out: DisputeRecord | undefined
  for (const l of logs) {
    const e = iface.parseLog(l)
    if (!e || !names.includes(e.name)) continue
    const r = e.args.dispute
    out = {
      kind: Number(r.kind) as DisputeKind, disputer: Number(r.disputer), seq: BigInt(r.seq), timestamp: BigInt(r.timestamp),
      deadline: BigInt(r.deadline), removals: BigInt(r.removals), stateHash: String(r.stateHash).toLowerCase() as Hex,
    }
  }
  return out
}

/**
 * H (signed by the author, me, and participant j on seq k when (j + k) % 3 ≠ 0) then E (valid
 * moves while it is not me's turn, signed by the author and the adversaries j with (j + k) even),
 * stamped `anchor + 4k`. Returns the last timestamp.
 */
async function buildHistory(f: Fixture, s: Scenario, anchor: bigint): Promise<bigint> {
  let state = s.genesis
  let ts = maxOf(anchor, s.genesisTs)
  const active = bitIndices(s.active)
  for (let k = 1; k <= s.known + s.withheld; k++) {
    const withheld = k > s.known
    const actor = await s.machineImpl.nextActor(state)
    if (withheld && (actor === s.me || (await s.machineImpl.isTerminal(state)))) break
    ts += 4n
    const move = await firstValid(s.machineImpl, s, state, actor, ts)
    if (!move) throw new Error(`${s.name}: no valid move at seq ${k}`)
    const tx: Transaction = {
      channelId: s.channelId, fork: s.fork, seq: BigInt(k), timestamp: ts, actor, previousStateHash: hashState(state), data: move.data, stateHash: hashState(move.next),
    }
    const who = active.filter((j) => j === actor || (withheld ? j !== s.me && (j + k) % 2 === 0 : j === s.me || (j + k) % 3 !== 0))
    s.moves.push({ tx, state: move.next, sigs: sign(f.hasher, s.wallets, tx, who), withheld })
    s.states.set(tx.stateHash, move.next)
    state = move.next
  }
  s.invented = invent(s, s.moves.filter((m) => !m.withheld).at(-1)?.state ?? s.genesis)
  for (const x of Object.values(s.invented)) s.states.set(hashState(x), x)
  return ts
}

const COUNTER = 'tuple(uint64,uint16,uint64,uint64,uint256[])'
const PAYMENTS = 'tuple(uint64,uint16,uint256[])'
const TICTACTOE = 'tuple(uint8[9],uint16,uint8,uint256[2])'

/**
 * States nobody reached, with me to move (so a timeout on them accuses me, as in issue 16's
 * theft): `state` with every payout going to the first adversary, and with payouts doubled past
 * the locked deposits.
 */
function invent(s: Scenario, state: Hex): { theft: Hex; excess: Hex } {
  const thief = bitIndices(s.active).find((i) => i !== s.me)!
  const all = (xs: readonly bigint[]) => xs.map((_, i) => (i === thief ? xs.reduce((a, b) => a + b, 0n) : 0n))
  const twice = (xs: readonly bigint[]) => xs.map((x) => 2n * x + 1n)
  const enc = (type: string, v: unknown[]) => abi.encode([type], [v]) as Hex
  if (s.machine === 'Counter') {
    const [a, , c, g, d] = abi.decode([COUNTER], state)[0] as unknown as [bigint, bigint, bigint, bigint, bigint[]]
    return { theft: enc(COUNTER, [a, s.me, c, g, all([...d])]), excess: enc(COUNTER, [a, s.me, c, g, twice([...d])]) }
  }
  if (s.machine === 'Payments') {
    const [a, , b] = abi.decode([PAYMENTS], state)[0] as unknown as [bigint, bigint, bigint[]]
    return { theft: enc(PAYMENTS, [a, s.me, all([...b])]), excess: enc(PAYMENTS, [a, s.me, twice([...b])]) }
  }
  const [board, , , stakes] = abi.decode([TICTACTOE], state)[0] as unknown as [bigint[], bigint, bigint, bigint[]]
  return { theft: enc(TICTACTOE, [[...board], s.me, thief === 0 ? 1 : 2, [...stakes]]), excess: enc(TICTACTOE, [[...board], s.me, 0, twice([...stakes])]) }
}
