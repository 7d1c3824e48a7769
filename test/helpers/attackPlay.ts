/**
 * Shared plays of the end-to-end attack tests (test/court/attacks*.test.ts): a Payments ledger
 * mirrored move by move, three-party channels with honest Alice and Bob (courts attached) and a
 * byzantine Mallory (a plain Channel plus a {@link Byzantine}), TicTacToe duels, and the endings
 * every scenario needs — Mallory slashed or timed out, then Alice and Bob play on the new fork
 * and close — with exact credits (manager balance deltas) and solvency.
 */
import assert from 'node:assert/strict'
import type { Wallet } from 'ethers'
import type { Anvil } from '../../src/chain/anvil.js'
import type { Hardfork } from '../../src/chain/hardfork.js'
import type { LocalStack } from '../../src/chain/stack.js'
import { ChannelPhase } from '../../src/channel/phase.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { DisputeKind, type DisputeRecord, type Hex, type Transaction } from '../../src/protocol/types.js'
import { Byzantine } from './byzantine.js'
import { BOND, ETH1, balances, move, openCourtChannel, pastDeadline, pay, solvent, travel, type CourtChannel, type CourtChannelOptions } from './courtPeers.js'
import { abi } from './fixture.js'

export const [ALICE, BOB, MALLORY] = [0, 1, 2]
/** The default params' windows: postingWindow W = p2p + agreement + fallback, challenge time C. */
export const W = 60 + 30 + 120
export const C = 300

/** A Payments mirror: balances by participant as the moves go. */
export class Ledger {
  constructor(public bal: bigint[]) {}
  pay(from: number, to: number, amount: bigint): bigint {
    this.bal[from]! -= amount
    this.bal[to]! += amount
    return amount
  }
}

/** A Payments state (`active` bitmap, whose turn, balances) as the machine encodes it. */
export const paymentsState = (active: bigint, turn: number, bal: bigint[]): Hex =>
  abi.encode(['tuple(uint64,uint16,uint256[])'], [[active, turn, bal]]) as Hex

/** TicTacToe move data: mark `cell` (0..8). */
export const cell = (c: number): Hex => abi.encode(['uint256'], [c]) as Hex

/** A running attack scene: the channel, Mallory's toolkit, the ledger and the balances before the channel opened. */
export interface Scene {
  c: CourtChannel
  m: Ledger
  mallory: Byzantine
  before: bigint[]
}

export interface SceneContext {
  anvil: Anvil
  stack: LocalStack
  hasher: ParleyHasher
  /** The chain's hardfork (the clients' EVM runs it). */
  hardfork?: Hardfork
}

/**
 * Opens a channel of `wallets` (Alice, Bob honest with courts unless `honest` says otherwise;
 * the last one byzantine) with Mallory's toolkit; Payments deposits 1, 2, 3 ETH by default.
 */
export async function scene(ctx: SceneContext, wallets: Wallet[], label: string, over: Partial<CourtChannelOptions> = {}): Promise<Scene> {
  const before = await balances(ctx.stack, wallets)
  const c = await openCourtChannel({ anvil: ctx.anvil, stack: ctx.stack, hasher: ctx.hasher, ...(ctx.hardfork ? { hardfork: ctx.hardfork } : {}), wallets, label: `${label}-${Date.now()}`, honest: [ALICE, BOB].filter((i) => i < wallets.length - 1), ...over })
  const m = new Ledger([...c.params.deposits])
  const last = c.roles.length - 1
  const sessionKey = c.roles[last]!.sessionKey
  const mallory = new Byzantine({ wallet: c.roles[last]!.wallet, ...(sessionKey ? { sessionKey } : {}), params: c.params, hasher: ctx.hasher, manager: ctx.stack.manager, machine: await c.machine() })
  return { c, m, mallory, before }
}

/**
 * One round of payments (or its first `moves` moves): each participant in turn pays the next
 * 0.1 ETH (or `amount(who)`), everyone sees every move, all of them final; `gap` seconds of chain time pass
 * before each participant in `slowBefore` moves.
 */
export async function round(ctx: SceneContext, s: Scene, o: { gap?: number; slowBefore?: number[]; moves?: number; amount?: (who: number) => bigint } = {}): Promise<bigint> {
  const all = s.c.roles.map((r) => r.channel)
  const n = all.length
  let last = 0n
  for (let k = 0; k < (o.moves ?? n); k++) {
    const who = Number(all[0]!.state.nextActor)
    if (o.slowBefore?.includes(who)) await travel(ctx.anvil, s.c, o.gap ?? 40)
    last = await move(all[who]!, pay((who + 1) % n, s.m.pay(who, (who + 1) % n, o.amount?.(who) ?? ETH1 / 10n)), all)
  }
  await Promise.all(all.map((ch) => ch.waitFinal(last)))
  return last
}

/** The manager balance deltas of every participant since `before`. */
export async function deltas(ctx: SceneContext, s: Scene): Promise<bigint[]> {
  const now = await balances(ctx.stack, s.c.roles.map((r) => r.wallet))
  return now.map((b, i) => b - s.before[i]!)
}

/**
 * After a dispute whose resolution removes Mallory: past `deadline`, the courts resolve by
 * themselves; Alice and Bob (the only ones left) are on the new fork, play a round and close.
 */
export async function honestCarryOn(ctx: SceneContext, s: Scene, deadline: bigint): Promise<void> {
  const [alice, bob] = [s.c.roles[ALICE]!.channel, s.c.roles[BOB]!.channel]
  const fork = alice.state.fork + 1n
  const forked = Promise.all([alice, bob].map((ch) => (ch.state.fork >= fork ? undefined : ch.next('fork'))))
  const now = BigInt(await ctx.anvil.now())
  await travel(ctx.anvil, s.c, Number(deadline - now) + 1)
  await forked
  await playAndClose(s)
}

/** Alice and Bob, the only ones left on a new fork, play a round and close. */
export async function playAndClose(s: Scene): Promise<void> {
  const [alice, bob] = [s.c.roles[ALICE]!.channel, s.c.roles[BOB]!.channel]
  for (const ch of [alice, bob]) assert.deepEqual([ch.state.active, ch.phase], [0b011n, ChannelPhase.Open], `participant ${ch.me} on the new fork`)
  const first = alice.state.isMyTurn ? alice : bob
  const second = first === alice ? bob : alice
  await move(first, pay(second.me, s.m.pay(first.me, second.me, ETH1 / 50n)), [second])
  const last = await move(second, pay(first.me, s.m.pay(second.me, first.me, ETH1 / 40n)), [first])
  await Promise.all([alice.waitFinal(last), bob.waitFinal(last)])
  const closed = s.c.roles[ALICE]!.court!.next('closed')
  await alice.close()
  await closed
}

/**
 * The credits after Mallory was slashed (her `share` at the candidate and her bond to
 * `beneficiary`) and Alice and Bob closed: everyone else's ledger balance plus bond, and
 * solvency.
 */
export async function assertSlashedEnding(ctx: SceneContext, s: Scene, share: bigint, beneficiary: number): Promise<void> {
  const n = s.c.roles.length
  const expected = s.m.bal.map((b, i) => (i === n - 1 ? 0n : b + BOND))
  expected[beneficiary]! += share + BOND
  assert.deepEqual(await deltas(ctx, s), expected)
  await solvent(ctx.anvil, ctx.stack)
}

/** The credits after Mallory was timed out or left (paid her ledger balance + bond) and the others closed: everyone's balance plus bond; solvency. */
export async function assertRemovedEnding(ctx: SceneContext, s: Scene): Promise<void> {
  assert.deepEqual(await deltas(ctx, s), s.m.bal.map((b) => b + BOND))
  await solvent(ctx.anvil, ctx.stack)
}

/**
 * Mallory (the last participant, whose turn it is) goes silent: past the head's posting window
 * the honest courts accuse her by themselves; resolves with their timeout's record.
 */
export async function timeOutMallory(ctx: SceneContext, s: Scene): Promise<DisputeRecord> {
  const last = s.c.roles.length - 1
  s.c.hub.filter = (from, to) => from !== last && to !== last
  const alice = s.c.roles[ALICE]!
  assert.equal(alice.channel.state.nextActor, last, 'Mallory is to move')
  const raised = alice.court!.next('dispute', { filter: (d) => d.record.kind === DisputeKind.Timeout && d.record.removals === 1n << BigInt(last) })
  const due = alice.channel.state.timestamp + BigInt(W) + 1n
  const now = BigInt(await ctx.anvil.now())
  await travel(ctx.anvil, s.c, due > now ? Number(due - now) : 1)
  return (await raised).record
}

/** The fork's genesis hash as Mallory's store recorded it. */
export function genesisHash(s: Scene): Hex {
  const last = s.c.roles.at(-1)!
  const forks = last.store.getForks(s.c.channelId)
  return forks.at(-1)!.stateHash
}

/** The fork's genesis timestamp as Mallory's store recorded it. */
export function genesisTimestamp(s: Scene): bigint {
  return s.c.roles.at(-1)!.store.getForks(s.c.channelId).at(-1)!.timestamp
}

/** Mallory's transaction record at `seq` of fork 0, from her own store. */
export function heldTx(s: Scene, seq: bigint): { transaction: Transaction; state: Hex } {
  const r = s.c.roles.at(-1)!.store.getTx(s.c.channelId, 0n, seq)
  if (!r) throw new Error(`Mallory holds no transaction at seq ${seq}`)
  return r
}

/** Past `deadline`, the honest courts resolve by themselves and the channel settles (Alice's court sees it closed). */
export async function settledAfter(ctx: SceneContext, s: Scene, deadline: bigint): Promise<void> {
  const closed = s.c.roles[ALICE]!.court!.next('closed')
  await pastDeadline(ctx.anvil, s.c, { deadline })
  await closed
}
