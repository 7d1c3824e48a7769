/**
 * Liveness of the honest court now that every call re-supplies the channel's record (h12: one
 * word per channel). The record is rebuilt from the channel's events at call time
 * (src/chain/recordLog.ts), while the court decides from what its listener read. These tests
 * look for the places where the two disagree, or where a cheap change of the record by a
 * byzantine participant turns an honest defence into a call the court gives up for good — a
 * missed deadline rather than a call retried.
 *
 * Three ways it did, tests that assert that asserts what an honest client must achieve and that
 * failed on h12 before its fix in this branch (a fourth, the same churn against a force-close,
 * held on h12 already: the exit's key names latestSeq, so the court raises it again):
 * - logs from a node a block behind the listener: the response (or answer) built on them was
 *   refused for its record and given up for good — the accused removed; a stale force-close from
 *   the opening state settled, Alice 0.9 ETH short and Mallory 0.9 ETH up (fixed: the record is
 *   checked against the stored word first, RECORD_STALE, retried);
 * - a two-transaction churn by Mallory (a timeout answered in the same block) front-running the
 *   honest timeouts against her: refused with ChannelRecordMismatch, given up for good, Mallory
 *   never timed out (fixed: ChannelRecordMismatch is retried);
 * - a node that caps eth_getLogs ranges and a channel older than the cap: no call could read
 *   the record, a stale force-close went unanswered (fixed: the logs are read in ranges, as large
 *   as the listener's maxBlockRange).
 */
import { after, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JsonRpcProvider, type TransactionResponse, type Wallet } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { ChannelPhase } from '../../src/channel/phase.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { NO_DISPUTE } from '../../src/chain/ManagerClient.js'
import { channelStruct } from '../../src/chain/records.js'
import { memberList } from '../../src/protocol/members.js'
import { responseArgs } from '../../src/protocol/disputes.js'
import { DisputeKind, Phase, type DisputeRecord, type Hex } from '../../src/protocol/types.js'
import { BOND, ETH1, move, openCourtChannel, pastDeadline, pay, solvent, travel } from '../helpers/courtPeers.js'
import { Ledger, ALICE, BOB, C, MALLORY, W, assertRemovedEnding, deltas, heldTx, honestCarryOn, round, scene, settledAfter, type Scene, type SceneContext } from '../helpers/attackPlay.js'
import { manualMining, nextBlockAt } from '../helpers/byzantine.js'
import { startRpcProxy, type RpcProxy } from '../helpers/rpcProxy.js'

let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let wallets: Wallet[]
let proxy: RpcProxy

before(async () => {
  anvil = await startAnvil({ accounts: 5 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  wallets = anvil.wallets.slice(1, 4)
  proxy = await startRpcProxy({ target: anvil.url, seed: 12 })
})
after(async () => {
  await proxy.close()
  await anvil.stop()
})
beforeEach(() => proxy.clear())

describe('a record rebuilt from logs that lag the listener', () => {
  test('the accused\'s response, built while its log node is a block behind, is retried once the node caught up: the accused is not removed', { timeout: 120_000 }, async () => {
    // Bob reaches the chain through the proxy (his listener, his court's calls); Alice and
    // Mallory go to anvil directly. Bob is slow: Alice's court accuses him, his court answers
    // with a fresh move (autoMove) — which only his court holds (he is cut off from his peers),
    // so nobody can relay it for him.
    const c = await openCourtChannel({ anvil, stack, hasher, wallets, label: `record-lag-${Date.now()}`, honest: [ALICE], rpc: (i) => (i === BOB ? proxy.provider() : undefined), listener: { retry: { maxMs: 200 } } })
    const m = new Ledger([ETH1, 2n * ETH1, 3n * ETH1])
    const bobPays = m.pay(BOB, MALLORY, ETH1 / 3n)
    c.attach(BOB, { autoMove: () => pay(MALLORY, bobPays) })
    const [alice, bob] = [c.roles[ALICE]!, c.roles[BOB]!]
    try {
      const all = c.roles.map((r) => r.channel)
      const one = await move(alice.channel, pay(MALLORY, m.pay(ALICE, MALLORY, ETH1 / 5n)), all)
      await Promise.all(all.map((ch) => ch.waitFinal(one)))
      c.hub.filter = (from, to) => from !== BOB && to !== BOB

      // The moment Bob's court learns of the dispute, the node answering his eth_getLogs falls a
      // block behind (a load balancer switching nodes, docs/protocol.md §7.11 "A node behind"):
      // the record his court rebuilds for the response misses the DisputeRaised.
      bob.court!.on('dispute', () => proxy.set('eth_getLogs', { stale: 1 }))
      const responses: { retried: boolean; code?: string }[] = []
      bob.court!.on('failed', (x) => x.action.kind === 'respond' && responses.push({ retried: x.retried, code: (x.error as { code?: string }).code }))
      const failedOnce = bob.court!.next('failed', { filter: (x) => x.action.kind === 'respond' })
      const raised = alice.court!.next('dispute', { filter: (d) => d.record.kind === DisputeKind.Timeout })
      await travel(anvil, c, W + 1)
      const { record } = await raised
      assert.equal(record.removals, 1n << BigInt(BOB), 'Bob is accused')
      await failedOnce // refused while the log node lags
      proxy.clear() // the node caught up, long before the deadline
      await anvil.mine()
      await travel(anvil, c, 10)
      await new Promise((r) => setTimeout(r, 1_000)) // a few court ticks
      await bob.court!.idle()

      const cancelled = alice.court!.chain.phase === 'open' && alice.court!.chain.latestSeq === one + 1n
      if (!cancelled) {
        // What the chain does with the defence the court gave up on: Bob is removed.
        await pastDeadline(anvil, c, record)
        await new Promise((r) => setTimeout(r, 1_000))
      }
      // h12 as written: DISPUTE_RECORD_MISMATCH, retried: false — the defence given up for good.
      // With the record checked against the stored word first: RECORD_STALE, retried.
      assert.ok(responses.length > 0, 'the response was tried while the log node lagged')
      assert.ok(cancelled, `Bob's response must land before the deadline; his court's attempts: ${JSON.stringify(responses)}, Bob active on chain: ${((alice.court!.chain.active >> BigInt(BOB)) & 1n) === 1n}`)
      assert.equal(alice.court!.chain.active, 0b111n, 'nobody removed')
      assert.equal(bob.channel.phase, ChannelPhase.Open)
      await solvent(anvil, stack)
    } finally {
      await c.close()
    }
  })
})

describe('a stale force-close while the log node lags', () => {
  test('Mallory force-closes from the opening state; the moment Alice\'s court (the only one online) learns of it, its log node falls a block behind: it answers once the node caught up; exact payouts (no funds lost)', { timeout: 120_000 }, async () => {
    const ctx: SceneContext = { anvil, stack, hasher }
    // Alice is the only court (Bob's client is offline for the chain): nobody else answers for her.
    const s = await scene(ctx, wallets, 'record-lag-force-close', { honest: [ALICE], rpc: (i) => (i === ALICE ? proxy.provider() : undefined), listener: { retry: { maxMs: 200 } } })
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    try {
      await round(ctx, s, { amount: (who) => (who === MALLORY ? ETH1 : ETH1 / 10n) }) // the opening state gives Mallory her 1 ETH back
      const failures: string[] = []
      let lagged = false // once: a court that learns of it only after the node caught up must not make it lag again
      for (const r of [alice]) {
        r.court!.on('dispute', () => lagged || ((lagged = true), proxy.set('eth_getLogs', { stale: 1 })))
        r.court!.on('failed', (x) => x.action.kind === 'answer' && failures.push(`${r.channel.me}:${(x.error as { code?: string }).code}:${x.retried}`))
      }
      const answered = alice.court!.next('answered')
      const tried = alice.court!.next('failed', { filter: (x) => x.action.kind === 'answer' })
      const { record } = await s.mallory.call('exit', [NO_DISPUTE, [], false, alice.court!.chain.genesis.state])
      await Promise.race([tried, answered])
      proxy.clear() // caught up, long before the deadline
      await anvil.mine()
      await travel(anvil, s.c, 5)
      const timer = new Promise<undefined>((r) => setTimeout(() => r(undefined), 8_000))
      const got = await Promise.race([answered, timer])
      if (!got) {
        // What the chain does with the defence the courts gave up on: it settles from the opening state.
        const closed = alice.court!.next('closed')
        await pastDeadline(anvil, s.c, record!)
        await closed
        const lost = (await deltas(ctx, s)).map((d, i) => d - (s.m.bal[i]! + BOND))
        assert.fail(`no honest court answered (${failures.join(', ')}): settled from the opening state, each participant's gain against its due: ${lost.join(', ')}`)
      }
      assert.deepEqual([got.record.kind, got.record.seq], [DisputeKind.ForceClose, 3n])
      await settledAfter(ctx, s, got.record.deadline)
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
    }
  })
})

/** Fees that put a transaction ahead of the honest ones waiting in the same block (anvil orders by fee). */
const FRONT = { maxPriorityFeePerGas: 10n ** 11n, maxFeePerGas: 10n ** 12n, gasLimit: 12_000_000n }

/**
 * Mallory's two-transaction churn, sent with a high fee for the block at `t0 + 1` (mined first):
 * a timeout on the genesis (the empty list: she claims she signed nothing — a lie nobody can
 * answer, it lives for no block) accusing Alice, and Alice's own move 1 as its response. The
 * channel stays open, only latestSeq moves (0 → 1) — and with it the record every call re-supplies.
 */
async function churn(s: Scene, t0: bigint): Promise<TransactionResponse[]> {
  const track = (await stack.manager.track(s.c.channelId))!
  const genesis = s.c.roles[ALICE]!.court!.chain.genesis
  const one = heldTx(s, 1n).transaction
  const aliceOnOne = s.c.roles[MALLORY]!.store.getSignatures(s.c.channelId, hasher.transaction(one)).get(ALICE)!
  await nextBlockAt(anvil.provider, t0 + 1n)
  const members = memberList(s.c.params)
  const dispute: DisputeRecord = { kind: DisputeKind.Timeout, disputer: MALLORY, seq: 0n, timestamp: genesis.timestamp, deadline: t0 + 1n + BigInt(C), removals: 1n << BigInt(ALICE), stateHash: genesis.stateHash }
  const iface = stack.manager.contract.interface
  const wallet = s.c.roles[MALLORY]!.wallet
  const nonce = await wallet.getNonce('latest')
  const to = stack.manager.address
  return [
    await wallet.sendTransaction({ to, nonce, ...FRONT, data: iface.encodeFunctionData('disputeTimeout', [s.c.channelId, channelStruct(track.record), members, MALLORY, [], genesis.state]) }),
    await wallet.sendTransaction({ to, nonce: nonce + 1, ...FRONT, data: iface.encodeFunctionData('respond', [s.c.channelId, channelStruct({ ...track.record, phase: Phase.Disputed }), members, MALLORY, dispute, ...responseArgs(one), aliceOnOne]) }),
  ]
}

describe('churn: a record changed by a byzantine participant just before an honest call', () => {
  test('Mallory, silent on her turn, front-runs the honest timeouts against her with a timeout of her own on the genesis and its response (Alice\'s first move, which she holds): the channel is open again with another latestSeq; the honest courts time her out all the same', { timeout: 120_000 }, async () => {
    const ctx: SceneContext = { anvil, stack, hasher }
    const s = await scene(ctx, wallets, 'record-churn-timeout')
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    try {
      await round(ctx, s)
      // Alice and Bob play on without Mallory, whose turn then comes: she stays silent.
      s.c.hub.filter = (from, to) => from !== MALLORY && to !== MALLORY
      await move(alice.channel, pay(BOB, s.m.pay(ALICE, BOB, ETH1 / 10n)), [bob.channel])
      const five = await move(bob.channel, pay(MALLORY, s.m.pay(BOB, MALLORY, ETH1 / 10n)), [alice.channel])
      assert.deepEqual([alice.channel.state.seq, alice.channel.state.nextActor], [five, MALLORY])

      // Nobody confirmed their moves by their deadlines: the courts post them (not the calls under test).
      const posted = Promise.all([alice, bob].map((r) => r.court!.next('submitted', { filter: (x) => x.action.kind === 'post' })))
      await travel(anvil, s.c, 60 + 30 + 1)
      await posted

      const refused: string[] = []
      for (const r of [alice, bob]) r.court!.on('failed', (x) => x.action.kind === 'timeout' && refused.push(`${r.channel.me}:${(x.error as { code?: string }).code}:${x.retried}`))
      const raised = alice.court!.next('dispute', { filter: (d) => d.record.kind === DisputeKind.Timeout && d.record.removals === 1n << BigInt(MALLORY) })

      await manualMining(anvil.provider, async ({ mine, pending }) => {
        // Past Mallory's posting deadline: the honest courts send their timeouts (still pending).
        const due = alice.channel.state.timestamp + BigInt(W) + 1n
        const t0 = await travel(anvil, s.c, Number(due - BigInt(await anvil.now())))
        await pending([alice.wallet.address, bob.wallet.address])
        const sent = await churn(s, t0) // Mallory, ahead of them in the same block
        await mine()
        for (const tx of sent) assert.equal((await tx.wait())!.status, 1, 'Mallory\'s churn is mined first')
      })
      const after = (await stack.manager.track(s.c.channelId))!.record
      assert.deepEqual([after.phase, after.latestSeq], [Phase.Open, 1n], 'open again, latestSeq moved')

      // The honest courts must still time Mallory out (their refused timeouts are due again).
      await travel(anvil, s.c, 5)
      const timer = new Promise<undefined>((r) => setTimeout(() => r(undefined), 5_000))
      const got = await Promise.race([raised, timer])
      assert.ok(got, `Mallory is never timed out: the honest courts gave their timeouts up (${refused.join(', ')})`)
      await honestCarryOn(ctx, s, got.record.deadline)
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
    }
  })
})

describe('churn against a force-close (docs/protocol.md §11.0, the bound)', () => {
  test('Alice force-closes; Mallory front-runs her raise with the same two-transaction churn: the raise is refused, the court raises it again by itself and the channel settles from Alice\'s latest final state', { timeout: 120_000 }, async () => {
    const ctx: SceneContext = { anvil, stack, hasher }
    const s = await scene(ctx, wallets, 'record-churn-exit', { honest: [ALICE] })
    s.c.attach(BOB, { policy: { timeout: false } }) // Alice is to move after seq 3 and takes her time: Bob does not accuse her
    const alice = s.c.roles[ALICE]!
    try {
      await round(ctx, s, { amount: (who) => (who === MALLORY ? ETH1 : ETH1 / 10n) })
      await travel(anvil, s.c, W + 1) // the genesis is older than the posting window: a timeout on it may be raised
      const raised = alice.court!.next('dispute', { filter: (d) => d.record.kind === DisputeKind.ForceClose })
      let first: unknown
      await manualMining(anvil.provider, async ({ mine, pending }) => {
        const t0 = BigInt(await anvil.now())
        const asked = alice.court!.forceClose().then(() => undefined, (e: unknown) => (first = e))
        await pending([alice.wallet.address])
        const sent = await churn(s, t0)
        await mine()
        for (const tx of sent) assert.equal((await tx.wait())!.status, 1, 'Mallory\'s churn is mined first')
        await asked
      })
      assert.equal((first as { code?: string } | undefined)?.code, 'CHANNEL_RECORD_MISMATCH', 'the first raise lost to the churn')
      await travel(anvil, s.c, 1)
      const timer = new Promise<undefined>((r) => setTimeout(() => r(undefined), 8_000))
      const got = await Promise.race([raised, timer])
      assert.ok(got, 'the court raises the force-close again by itself')
      assert.equal(got.record.seq, 3n, 'from Alice\'s latest final state')
      await settledAfter(ctx, s, got.record.deadline)
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
    }
  })
})

/**
 * A node that refuses an eth_getLogs range longer than `cap` blocks, as public RPCs do (the
 * listener pages its reads by `maxBlockRange`, default 2000, for them: docs/protocol.md §7.11).
 */
class CappedLogs extends JsonRpcProvider {
  constructor(url: string, readonly cap: number) {
    super(url, undefined, { staticNetwork: true, cacheTimeout: -1 })
  }

  override async send(method: string, params: unknown[] | Record<string, unknown>): Promise<unknown> {
    if (method === 'eth_getLogs') {
      const f = (params as { fromBlock?: string; toBlock?: string; blockHash?: string }[])[0] ?? {}
      if (!f.blockHash) {
        const num = async (t: string | undefined) => (t === undefined || !t.startsWith('0x') ? Number(await super.send('eth_blockNumber', [])) : Number(t))
        const span = (await num(f.toBlock)) - (await num(f.fromBlock ?? '0x0')) + 1
        if (span > this.cap) throw Object.assign(new Error(`query exceeds max block range ${this.cap}`), { code: -32602 })
      }
    }
    return super.send(method, params as unknown[])
  }
}

describe('a long-lived channel on a node that caps eth_getLogs ranges', () => {
  test('Mallory force-closes from the opening state once the channel is older than the node\'s range cap: the honest courts still answer with the latest final state; exact payouts', { timeout: 120_000 }, async () => {
    const ctx: SceneContext = { anvil, stack, hasher }
    // The node caps ranges at 500 blocks and the listener is told so (maxBlockRange): the court's
    // reads of the record follow the listener's range (fails when they keep the default 2000).
    const capped = new CappedLogs(anvil.url, 500)
    const s = await scene(ctx, wallets, 'record-capped-logs', { rpc: (i) => (i === MALLORY ? undefined : capped), listener: { retry: { maxMs: 200 }, maxBlockRange: 500 } })
    const [alice, bob] = [s.c.roles[ALICE]!, s.c.roles[BOB]!]
    try {
      await round(ctx, s, { amount: (who) => (who === MALLORY ? ETH1 : ETH1 / 10n) }) // the opening state gives Mallory her 1 ETH back
      await anvil.provider.send('anvil_mine', ['0x258']) // 600 blocks, more than the node's cap
      await travel(anvil, s.c, 1)
      const answered = alice.court!.next('answered')
      const failures: string[] = []
      for (const r of [alice, bob]) r.court!.on('failed', (x) => failures.length < 4 && failures.push(`${x.action.kind}: ${(x.error as Error).message.slice(0, 120)}`))
      await s.mallory.call('exit', [NO_DISPUTE, [], false, alice.court!.chain.genesis.state])
      const timer = new Promise<undefined>((r) => setTimeout(() => r(undefined), 8_000))
      const got = await Promise.race([answered, timer])
      assert.ok(got, `no honest court answered the stale force-close: ${failures.join(' | ')}`)
      assert.deepEqual([got.record.kind, got.record.seq], [DisputeKind.ForceClose, 3n])
      await settledAfter(ctx, s, got.record.deadline)
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
      capped.destroy()
    }
  })
})
