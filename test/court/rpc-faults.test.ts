/**
 * Issue 11, the network between a client and its node: honest Alice and Bob run the real client
 * (Channel + attachCourt) and reach anvil only through a fault-injecting JSON-RPC proxy
 * (test/helpers/rpcProxy.ts) — their listeners, their courts' calls and their closes; Mallory
 * and the test's own chain control go to anvil directly. The proxy drops, loses, errors and
 * delays calls, answers as a node behind the head would, and reorders and duplicates answers.
 * Each test asserts the exact credits of every participant and the manager's solvency.
 */
import { after, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Wallet } from 'ethers'
import { startAnvil } from '../../src/chain/anvil.js'
import { NO_DISPUTE } from '../../src/chain/ManagerClient.js'
import { deployLocalStack } from '../../src/chain/stack.js'
import { ChannelPhase } from '../../src/channel/phase.js'
import { RuntimeError } from '../../src/errors/ParleyError.js'
import { hashState } from '../../src/protocol/eip712.js'
import { DisputeKind, type Hex, type PackedSignedTransaction, type Transaction } from '../../src/protocol/types.js'
import {
  ALICE, BOB, MALLORY, W, assertRemovedEnding, assertSlashedEnding, genesisHash, genesisTimestamp, heldTx, paymentsState, round, scene,
  type Scene, type SceneContext,
} from '../helpers/attackPlay.js'
import { anchoredList, nextBlockAt, signedHistory } from '../helpers/byzantine.js'
import { ETH1, move, pastDeadline, pay, travel } from '../helpers/courtPeers.js'
import { startRpcProxy, type RpcFault, type RpcProxy } from '../helpers/rpcProxy.js'

let ctx: SceneContext
let wallets: Wallet[]
let proxy: RpcProxy

before(async () => {
  const anvil = await startAnvil({ accounts: 5 })
  const stack = await deployLocalStack(anvil.wallets[0]!)
  ctx = { anvil, stack, hasher: await stack.manager.hasher() }
  wallets = anvil.wallets.slice(1, 4)
  proxy = await startRpcProxy({ target: anvil.url, seed: 11 })
})
after(async () => {
  await proxy.close()
  await ctx.anvil.stop()
})
beforeEach(() => proxy.clear())

/** A bad connection: a share of the calls dropped, errored or answered late. */
const FLAKY: RpcFault = { drop: 0.08, lose: 0.04, httpError: 0.04, rpcError: 0.08, delay: [0, 40] }

/** A scene whose honest participants reach the chain only through the proxy. */
function proxied(label: string): Promise<Scene> {
  return scene(ctx, wallets, label, { rpc: (i) => (i === MALLORY ? undefined : proxy.provider()), listener: { retry: { maxMs: 200 } } })
}

/** Resolves once the proxy has met `fault` on `method` `n` more times (the clients kept asking). */
async function served(method: string, fault: string, n: number): Promise<void> {
  const key = `${method}:${fault}`
  const target = (proxy.stats.faults[key] ?? 0) + n
  while ((proxy.stats.faults[key] ?? 0) < target) await new Promise((r) => setTimeout(r, 10))
}

/**
 * Resolves once every honest listener tried to read the chain up to its head now: it completed a
 * round there, or it failed `n` rounds (the node could not serve them).
 */
async function tried(s: Scene, n = 3): Promise<void> {
  const head = await ctx.anvil.provider.getBlockNumber()
  await Promise.all(s.c.roles.filter((r) => r.listener).map((r) => new Promise<void>((resolve) => {
    let failures = 0
    const offs = [
      r.listener!.on('tick', (b) => b.number >= head && done()),
      r.listener!.on('error', () => ++failures >= n && done()),
    ]
    function done(): void {
      offs.forEach((off) => off())
      resolve()
    }
  })))
}

/** Every honest listener completes a round on the node as it answers now (failed rounds are retried). */
async function readAll(s: Scene): Promise<void> {
  for (const r of s.c.roles) {
    if (!r.listener) continue
    for (;;) {
      try {
        await r.listener.poll()
        break
      } catch {
        await new Promise((res) => setTimeout(res, 10))
      }
    }
  }
}

/** Alice closes cooperatively; when her submission fails on the network, the courts submit the signed close after p2pTime. */
async function closeAnyway(s: Scene): Promise<void> {
  const closed = s.c.roles[ALICE]!.court!.next('closed')
  await s.c.roles[ALICE]!.channel.close().catch(async (e: unknown) => {
    if (!(e instanceof RuntimeError)) throw e
    await travel(ctx.anvil, s.c, s.c.params.p2pTime + 1)
  })
  await closed
}

/** Past `deadline` the courts resolve by themselves; when the channel goes on (a new fork), Alice and Bob play a round and close. */
async function resolveAndFinish(s: Scene, deadline: bigint, ending: 'closed' | 'fork'): Promise<void> {
  const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
  if (ending === 'closed') {
    const closed = alice.court!.next('closed')
    await pastDeadline(ctx.anvil, s.c, { deadline })
    await closed
    return
  }
  const fork = alice.channel.state.fork + 1n
  const forked = Promise.all([alice, bob].map((r) => (r.channel.state.fork >= fork ? undefined : r.channel.next('fork'))))
  await pastDeadline(ctx.anvil, s.c, { deadline })
  await forked
  for (const r of [alice, bob]) assert.deepEqual([r.channel.state.active, r.channel.phase], [0b011n, ChannelPhase.Open])
  const first = alice.channel.state.isMyTurn ? alice.channel : bob.channel
  const second = first === alice.channel ? bob.channel : alice.channel
  await move(first, pay(second.me, s.m.pay(first.me, second.me, ETH1 / 50n)), [second])
  const last = await move(second, pay(first.me, s.m.pay(second.me, first.me, ETH1 / 40n)), [first])
  await Promise.all([alice.channel.waitFinal(last), bob.channel.waitFinal(last)])
  await closeAnyway(s)
}

/** Mallory pays 1 ETH in a round (the opening state would give it back to her); every listener read the head. */
async function played(s: Scene): Promise<void> {
  await round(ctx, s, { amount: (who) => (who === MALLORY ? ETH1 : ETH1 / 10n) })
  await readAll(s)
}

/** Mallory force-closes from the opening state (direct to anvil). */
function staleForceClose(s: Scene) {
  return s.mallory.call('exit', [NO_DISPUTE, [], false, s.c.roles[ALICE]!.court!.chain.genesis.state])
}

/** Mallory's conflicting transaction at seq 3 (her turn: an equivocation) to a made-up state, backdated, in an anchored list (as in attacks.test.ts). */
function conflictingCandidate(s: Scene): { list: PackedSignedTransaction[]; state: Hex; raiseAt: bigint } {
  const parent = heldTx(s, 2n).transaction
  const total = s.c.params.deposits.reduce((a, b) => a + b)
  const state = paymentsState(0b111n, ALICE, [0n, 0n, total])
  const fake: Transaction = s.mallory.tx(parent, { stateHash: hashState(state) })
  const history = signedHistory(s.c.roles[MALLORY]!.store, s.c.channelId, 0n, 1n, 2n)
  const list = anchoredList([...history, { transaction: fake, signatures: new Map([[MALLORY, s.mallory.sign(fake)]]) }], { genesisHash: genesisHash(s), active: 0b111n })
  void genesisTimestamp
  return { list, state, raiseAt: parent.timestamp + BigInt(W) + 1n }
}

describe('the proxy', () => {
  test('answers as a node behind would, errors and drops on demand', { timeout: 30_000 }, async () => {
    const p = proxy.provider()
    await ctx.anvil.mine()
    await ctx.anvil.mine()
    const head = await ctx.anvil.provider.getBlock('latest')
    proxy.set('*', { stale: 2 })
    assert.equal(await p.getBlockNumber(), head!.number - 2)
    assert.equal(await p.getBlock(head!.number), null, 'no block above its head')
    await assert.rejects(p.getLogs({ blockHash: head!.hash! }), /unknown block/)
    proxy.set('*', { rpcError: 1 })
    await assert.rejects(p.getBlockNumber(), /header not found/)
    proxy.set('*', { drop: 1 })
    await assert.rejects(p.getBlockNumber())
    proxy.set('*', undefined)
    assert.equal(await p.getBlockNumber(), head!.number)
  })
})

describe('issue 11: a faulty RPC between the honest clients and the chain', () => {
  test('11.6 a force-close from the opening state while every estimate fails for a moment and then calls drop, fail and lag: the courts retry and answer with the latest final state; exact payouts', { timeout: 60_000 }, async () => {
    const s = await proxied('11.6-rpc-errors')
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    try {
      await played(s)
      proxy.set('*', FLAKY)
      proxy.set('eth_estimateGas', { rpcError: 1 }) // a node that fails every estimate (e.g. "header not found" behind a load balancer)
      const failed = [alice, bob].map((r) => r.court!.next('failed', { filter: (x) => x.action.kind === 'answer' }))
      const answered = alice.court!.next('answered')
      await staleForceClose(s)
      for (const f of await Promise.all(failed)) assert.equal(f.retried, true, `an RPC failure is retried, not taken for the chain's refusal: ${(f.error as Error).message}`)
      proxy.set('eth_estimateGas', undefined)
      const { record } = await answered
      assert.deepEqual([record.kind, record.seq], [DisputeKind.ForceClose, 3n], 'answered with the latest final state')
      await resolveAndFinish(s, record.deadline, 'closed')
      assert.ok(Object.keys(proxy.stats.faults).length > 3, `faults met: ${JSON.stringify(proxy.stats.faults)}`)
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
    }
  })
  test('11.7 a conflicting timeout (Mallory equivocates at seq 3, backdated, to a made-up state) while calls drop, get lost, fail and lag: proven from its event, Mallory slashed, Alice and Bob play on and close; exact payouts', { timeout: 60_000 }, async () => {
    const s = await proxied('11.7-rpc-fraud')
    const alice = s.c.roles[ALICE]!
    try {
      const head = await round(ctx, s, { slowBefore: [MALLORY] })
      await readAll(s)
      const share = s.m.bal[MALLORY]!
      proxy.set('*', FLAKY)
      const { list, state, raiseAt } = conflictingCandidate(s)
      const slashed = alice.court!.next('slashed')
      const proven = alice.court!.next('dispute', { filter: (d) => d.record.kind === DisputeKind.Fraud })
      await nextBlockAt(ctx.anvil.provider, raiseAt)
      await s.mallory.call('disputeTimeout', [list, state])
      const { index, beneficiary } = await slashed
      assert.equal(index, MALLORY)
      const fraud = (await proven).record
      assert.deepEqual([fraud.seq, fraud.removals], [head, 1n << BigInt(MALLORY)])
      await resolveAndFinish(s, fraud.deadline, 'fork')
      await assertSlashedEnding(ctx, s, share, beneficiary)
    } finally {
      await s.c.close()
    }
  })

  test('11.8 a lagging node: first behind the blocks the listeners already read (not a reorganisation), then with a fresh head but logs from a node behind, while Mallory force-closes from the opening state; once it catches up nothing was missed: the courts answer; exact payouts', { timeout: 60_000 }, async () => {
    const s = await proxied('11.8-rpc-lagging')
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    const reorgs: number[] = []
    try {
      await played(s)
      for (const r of [alice, bob]) r.listener!.on('reorg', (x) => reorgs.push(x.ancestor))
      const answered = alice.court!.next('answered')
      proxy.set('*', { stale: 3 }) // the whole node 3 blocks behind what the listeners read
      await staleForceClose(s)
      await ctx.anvil.mine()
      await served('eth_getBlockByNumber', 'stale', 6)
      proxy.set('*', undefined)
      proxy.set('eth_getLogs', { stale: 3 }) // a fresh head, logs from a node 3 blocks behind
      await ctx.anvil.mine()
      await tried(s)
      proxy.clear() // caught up
      await readAll(s)
      for (const r of [alice, bob]) assert.equal(r.court!.chain.phase, 'disputed', `participant ${r.channel.me}'s court saw the force-close`)
      const { record } = await answered
      assert.deepEqual([record.kind, record.seq], [DisputeKind.ForceClose, 3n], 'answered with the latest final state')
      await resolveAndFinish(s, record.deadline, 'closed')
      assert.deepEqual(reorgs, [], 'a node behind is not a reorganisation')
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
    }
  })

  test('11.9 a load balancer whose estimates and calls land on a node behind: the court\'s answer, refused there, is not taken for the chain\'s word; it answers once the node caught up; exact payouts', { timeout: 60_000 }, async () => {
    const s = await proxied('11.9-rpc-stale-estimate')
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    try {
      await played(s)
      proxy.set('eth_estimateGas', { stale: 3 })
      proxy.set('eth_call', { stale: 3 })
      const failed = [alice, bob].map((r) => r.court!.next('failed', { filter: (x) => x.action.kind === 'answer' }))
      const answered = alice.court!.next('answered')
      await staleForceClose(s)
      for (const f of await Promise.all(failed)) assert.equal(f.retried, true, `a refusal by a node behind is retried: ${(f.error as Error).message}`)
      proxy.clear()
      const { record } = await answered
      assert.deepEqual([record.kind, record.seq], [DisputeKind.ForceClose, 3n])
      await resolveAndFinish(s, record.deadline, 'closed')
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
    }
  })

  test('11.10 reordered and duplicated answers (batch answers shuffled with a repeat, concurrent answers released newest first, every log twice and shuffled) during a conflicting timeout and a force-close: the courts act on each event once and in order; exact payouts', { timeout: 60_000 }, async () => {
    const s = await proxied('11.10-rpc-reorder')
    const alice = s.c.roles[ALICE]!
    try {
      proxy.reorder = { batch: true, holdMs: 15 }
      proxy.set('eth_getLogs', { duplicateLogs: true })
      const head = await round(ctx, s, { slowBefore: [MALLORY] })
      await readAll(s)
      const share = s.m.bal[MALLORY]!
      const { list, state, raiseAt } = conflictingCandidate(s)
      const slashed = alice.court!.next('slashed')
      const proven = alice.court!.next('dispute', { filter: (d) => d.record.kind === DisputeKind.Fraud })
      await nextBlockAt(ctx.anvil.provider, raiseAt)
      await s.mallory.call('disputeTimeout', [list, state])
      const { beneficiary } = await slashed
      const fraud = (await proven).record
      assert.equal(fraud.seq, head)
      await resolveAndFinish(s, fraud.deadline, 'fork')
      assert.ok((proxy.stats.faults['eth_getLogs:duplicateLogs'] ?? 0) > 0)
      await assertSlashedEnding(ctx, s, share, beneficiary)
    } finally {
      await s.c.close()
    }
  })
})
