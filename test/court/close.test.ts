/**
 * The cooperative close against the chain as it is, with real clients on anvil (issue 11): the
 * channel is closed only when the chain says so, and until then every court keeps the close
 * going. (a) Its initiator dies after collecting every signature: another peer's court submits
 * it. (b) It loses to a dispute landing first: close() says so, with the dispute's transaction,
 * and the courts follow the dispute to settlement. (c) After a timeout dispute only the closer's
 * own move could make the head final: `parley run`'s close does not wait for it, and lines typed
 * after it are not stuck. (d) A peer holding every signature restarts from its store and submits
 * it. Exact balances and the manager's solvency each time.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Channel } from '../../src/channel/Channel.js'
import type { CloseSubmitter } from '../../src/channel/options.js'
import { ChannelPhase } from '../../src/channel/phase.js'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { RuntimeError, type ParleyError } from '../../src/errors/ParleyError.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { DisputeKind, ETH, type Hex } from '../../src/protocol/types.js'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import type { Store } from '../../src/store/types.js'
import { Driver } from '../../cli/run/driver.js'
import { exampleSpeaker } from '../../cli/lib/speaker.js'
import type { Peer } from '../../cli/run/peer.js'
import type { Printer } from '../../cli/run/printer.js'
import { BOND, ETH1, balances, move, openCourtChannel, pastDeadline, pay, solvent, travel, type CourtChannel, type Role } from '../helpers/courtPeers.js'

const [ALICE, BOB, CAROL] = [0, 1, 2]
let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let dir: string

before(async () => {
  anvil = await startAnvil({ accounts: 5 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  dir = mkdtempSync(join(tmpdir(), 'parley-close-'))
})
after(async () => {
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Rejects, naming `what`, unless `p` settles within `ms` (a hang fails the test instead of stalling it). */
async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))
  try {
    return await Promise.race([p, late])
  } finally {
    clearTimeout(timer)
  }
}

/** A Payments mirror: balances by participant as the moves go. */
class Ledger {
  constructor(public bal: bigint[]) {}
  pay(from: number, to: number, amount: bigint): bigint {
    this.bal[from]! -= amount
    this.bal[to]! += amount
    return amount
  }
}

/** A round of payments (each participant pays the next), final everywhere. */
async function round(c: CourtChannel, m: Ledger): Promise<bigint> {
  const all = c.roles.map((r) => r.channel)
  const n = all.length
  let last = 0n
  for (let who = 0; who < n; who++) last = await move(all[who]!, pay((who + 1) % n, m.pay(who, (who + 1) % n, ETH1 / BigInt(10 + who))), all)
  await Promise.all(all.map((ch) => ch.waitFinal(last)))
  return last
}

/** A close submitter whose process dies while sending: called, never mined. */
function dying(): { submitter: CloseSubmitter; called: Promise<void>; kill(): void } {
  let called!: () => void
  let fail: ((e: unknown) => void) | undefined
  return {
    called: new Promise<void>((resolve) => (called = resolve)),
    submitter: {
      close: () => {
        called()
        return new Promise((_, reject) => (fail = reject))
      },
    },
    kill: () => fail?.(new RuntimeError('PROCESS_GONE', 'the process died before its close was sent')),
  }
}

/** Every close message delivered and handled. */
async function settled(c: CourtChannel): Promise<void> {
  await c.hub.idle()
  await Promise.all(c.roles.map((r) => r.channel.idle()))
  await c.hub.idle()
}

/** Stops a role as a crash would: its court, listener and channel (the store keeps what it had). */
async function crash(r: Role): Promise<void> {
  await r.court?.detach()
  await r.listener?.close()
  await r.channel.dispose()
}

/** Participant `i` comes back from `store`: a restored channel, a new listener and court. */
async function restart(c: CourtChannel, i: number, store: Store): Promise<Role> {
  const r = c.roles[i]!
  r.channel = await Channel.restore({
    channelId: c.channelId, signer: r.wallet, machine: await c.machine(), store, transport: c.hub.connect(i), clock: r.clock, hasher, chain: r.manager,
  })
  r.store = store
  delete r.listener
  delete r.court
  c.attach(i) // the listener resumes from the cursor in the store
  return r
}

async function deltas(c: CourtChannel, before: bigint[]): Promise<bigint[]> {
  const now = await balances(stack, c.roles.map((r) => r.wallet))
  return now.map((b, i) => b - before[i]!)
}

describe('the cooperative close is closed only by the chain, and every court sees it through', () => {
  test('(a) the initiator dies after collecting every close signature: another peer submits it, everyone ends closed', { timeout: 120_000 }, async () => {
    const wallets = anvil.wallets.slice(1, 4)
    const before = await balances(stack, wallets)
    const dies = dying()
    const c = await openCourtChannel({ anvil, stack, hasher, wallets, label: `close-dies-${Date.now()}`, chain: (i, m) => (i === ALICE ? dies.submitter : m) })
    for (const i of [ALICE, BOB, CAROL]) c.attach(i, { policy: { stagger: 10 } })
    const [alice, bob, carol] = c.roles as [Role, Role, Role]
    try {
      const m = new Ledger([ETH1, 2n * ETH1, 3n * ETH1])
      const last = await round(c, m)

      // Alice closes; every signature comes in; she dies while sending the close.
      const closing = alice.channel.close().then(() => 'resolved', (e: ParleyError) => e.code)
      await within(10_000, dies.called, 'alice sends the close')
      await within(10_000, settled(c), 'every close message handled (no channel queue waits for the chain)')
      dies.kill()
      await crash(alice)
      assert.notEqual(await closing, 'resolved', 'no success without a mined transaction')
      for (const r of [bob, carol]) assert.equal(r.channel.phase, ChannelPhase.Closing, `participant ${r.channel.me}: signed by all, not mined: still closing`)

      // Her close is not lost: past p2pTime the courts send it, staggered by rank — Bob (rank 1) first.
      const submitted = bob.court!.next('submitted', { filter: (x) => x.action.kind === 'close' })
      const closed = Promise.all([bob, carol].map((r) => r.channel.next('closed')))
      await travel(anvil, c, 60 + 10 + 1)
      const { hash } = await within(20_000, submitted, "Bob's court submits the close")
      const events = await within(20_000, closed, 'the chain closes the channel')
      for (const e of events) assert.deepEqual([e.transactionHash, e.stateHash, e.signatures?.size], [hash, alice.store.getTx(c.channelId, 0n, last)!.transaction.stateHash, 3])
      assert.deepEqual(await deltas(c, before), m.bal.map((b) => b + BOND))
      await solvent(anvil, stack)

      // Alice comes back: her court reads the settlement from the chain.
      const back = await restart(c, ALICE, alice.store)
      if (back.channel.phase !== ChannelPhase.Closed) await within(20_000, back.channel.next('closed'), 'alice sees the settlement')
      assert.deepEqual(c.roles.map((r) => r.channel.phase), [ChannelPhase.Closed, ChannelPhase.Closed, ChannelPhase.Closed])
    } finally {
      dies.kill()
      await c.close()
    }
  })

  test('(b) a close that loses to a dispute landing first: close() rejects CLOSE_PREEMPTED with the dispute\'s transaction; the dispute is followed to settlement', { timeout: 120_000 }, async () => {
    const wallets = anvil.wallets.slice(1, 4)
    const before = await balances(stack, wallets)
    let first: (() => Promise<void>) | undefined
    // Alice's close goes out just after Mallory (Carol here, a plain client) force-closes from the genesis.
    const c = await openCourtChannel({
      anvil, stack, hasher, wallets, label: `close-preempted-${Date.now()}`, honest: [ALICE, BOB],
      chain: (i, m) => (i === ALICE ? { close: async (...args) => (await first?.(), m.close(...args)) } : m),
    })
    const [alice, bob, mallory] = c.roles as [Role, Role, Role]
    try {
      const m = new Ledger([ETH1, 2n * ETH1, 3n * ETH1])
      await round(c, m)
      let raisedIn: Hex | undefined
      first = async () => {
        const genesis = mallory.store.getForks(c.channelId)[0]!.state
        raisedIn = (await mallory.manager.exit(c.channelId, c.params.participants, [], false, genesis)).hash
      }
      const preempted = bob.channel.next('close-preempted')
      const answered = alice.court!.next('answered')
      const error = await within(20_000, alice.channel.close().then(() => undefined, (e: ParleyError) => e), 'close() settles')
      assert.ok(raisedIn, 'the force-close landed first')
      assert.deepEqual([error?.code, error?.details?.reason, error?.details?.transactionHash], ['CLOSE_PREEMPTED', 'dispute', raisedIn], 'close() says it lost, and to what')
      assert.deepEqual(await within(20_000, preempted, 'Bob is told'), { fork: 0n, reason: 'dispute', transactionHash: raisedIn })
      assert.equal(alice.channel.phase, ChannelPhase.Disputed)

      // The courts answer the force-close with the latest final state; it settles after its deadline.
      const { record } = await within(20_000, answered, 'the force-close is answered')
      const closed = Promise.all([alice, bob].map((r) => r.channel.next('closed')))
      await pastDeadline(anvil, c, record)
      for (const e of await within(20_000, closed, 'the dispute settles')) assert.equal(e.signatures, undefined, 'settled by the dispute, not by the close')
      assert.deepEqual(await deltas(c, before), m.bal.map((b) => b + BOND))
      await solvent(anvil, stack)
    } finally {
      await c.close()
    }
  })

  test('(c) after a timeout dispute only the closer could make the head final: `close` closes on the latest final state at once, and a move typed after it is not stuck', { timeout: 120_000 }, async () => {
    const wallets = anvil.wallets.slice(1, 3)
    const before = await balances(stack, wallets)
    const c = await openCourtChannel({ anvil, stack, hasher, wallets, label: `close-after-timeout-${Date.now()}` })
    const m = new Ledger([ETH1, 2n * ETH1])
    c.attach(ALICE)
    c.attach(BOB, { autoMove: () => pay(ALICE, ETH1 / 3n) })
    const [alice, bob] = c.roles as [Role, Role]
    try {
      const all = [alice.channel, bob.channel]
      await move(alice.channel, pay(BOB, m.pay(ALICE, BOB, ETH1 / 5n)), all)
      await move(bob.channel, pay(ALICE, m.pay(BOB, ALICE, ETH1 / 7n)), all)
      const k = await move(alice.channel, pay(BOB, m.pay(ALICE, BOB, ETH1 / 9n)), all)
      await Promise.all(all.map((ch) => ch.waitFinal(k)))

      // Bob does not move; past his deadline Alice's court accuses him, his court answers on-chain.
      const cancelled = Promise.all([alice.court!.next('cancelled'), bob.court!.next('cancelled')])
      await travel(anvil, c, 60 + 30 + 120 + 1)
      await within(20_000, cancelled, 'the timeout is answered')
      await alice.court!.idle()
      await alice.channel.idle()
      const s = alice.channel.state
      assert.deepEqual([s.seq, s.finalSeq, s.isMyTurn], [k + 1n, k, true], "Bob's answer came late, from the chain: only Alice's own next move would make it final")

      // `parley run`: close, then a move typed after it.
      const printed: { event: string; data: Record<string, unknown> }[] = []
      const errors: { code: string | undefined; context: string | undefined }[] = []
      const printer = {
        event: (event: string, data: Record<string, unknown>) => printed.push({ event, data }),
        error: (e: unknown, context?: string) => errors.push({ code: (e as ParleyError).code, context }),
      } as unknown as Printer
      const peer = { channel: alice.channel, court: alice.court!, transport: { connected: [BOB] } } as unknown as Peer
      const driver = new Driver(peer, printer, exampleSpeaker('payments', { participants: c.params.participants, asset: { address: ETH, symbol: 'ETH', decimals: 18 } }), () => undefined)
      const closed = Promise.all(all.map((ch) => ch.next('closed')))
      driver.line('close')
      driver.line(pay(BOB, 1n))
      await within(10_000, driver.idle(), 'the command queue drains')
      assert.deepEqual(printed.filter((p) => p.event === 'waiting'), [], 'the close waited for nothing')
      assert.deepEqual(errors, [{ code: 'CHANNEL_NOT_OPEN', context: pay(BOB, 1n) }], 'the move after the close is refused at once, not queued behind it')
      await within(20_000, closed, 'the close settles')
      const mined = printed.find((p) => p.event === 'close-mined')
      assert.equal(mined?.data.seq, k, 'closed on the latest final state')
      assert.deepEqual(await deltas(c, before), m.bal.map((b) => b + BOND), "Bob's late payment is not in the close")
      await solvent(anvil, stack)
    } finally {
      await c.close()
    }
  })

  test('(d) a peer holding every close signature restarts from its store and submits the close', { timeout: 120_000 }, async () => {
    const wallets = anvil.wallets.slice(1, 4)
    const before = await balances(stack, wallets)
    const dies = dying()
    const label = `close-restart-${Date.now()}`
    // Only Bob has a court: if he does not resume the close, nobody will.
    const c = await openCourtChannel({ anvil, stack, hasher, wallets, label, sqliteDir: dir, honest: [BOB], chain: (i, m) => (i === ALICE ? dies.submitter : m) })
    const [alice, bob] = c.roles as [Role, Role, Role]
    try {
      const m = new Ledger([ETH1, 2n * ETH1, 3n * ETH1])
      await round(c, m)
      const closing = alice.channel.close().catch(() => undefined)
      await within(10_000, dies.called, 'alice sends the close')
      await within(10_000, settled(c), 'every close message handled (no channel queue waits for the chain)')
      dies.kill()
      await crash(alice)
      await closing

      // Bob crashes too, before his court's turn; every signature is in his store.
      await crash(bob)
      bob.store.close()
      await travel(anvil, c, 60 + 1)
      const back = await restart(c, BOB, new SqliteStore(join(dir, `${label}-${BOB}.db`)))
      assert.equal(back.channel.phase, ChannelPhase.Closing, 'restored closing, not closed')
      const submitted = back.court!.next('submitted', { filter: (x) => x.action.kind === 'close' })
      const closed = back.channel.next('closed')
      const { hash } = await within(20_000, submitted, 'the restarted court submits the close')
      assert.equal((await within(20_000, closed, 'the chain closes the channel')).transactionHash, hash)
      assert.deepEqual(await deltas(c, before), m.bal.map((b) => b + BOND))
      await solvent(anvil, stack)
    } finally {
      dies.kill()
      await c.close()
      for (const r of c.roles) r.store.close()
    }
  })
})

describe('a force-close whose final state the chain does not admit yet', () => {
  test('(e) our final state is stamped past what the latest block admits (our clock saw a later block first): forceClose waits for that head block and then raises it, instead of refusing an open channel', { timeout: 120_000 }, async () => {
    // The listeners poll only when told: the courts do not see a block until the test says so.
    const c = await openCourtChannel({ anvil, stack, hasher, wallets: anvil.wallets.slice(1, 3), label: `close-e-${Date.now()}`, honest: [ALICE, BOB], pollMs: 3_600_000 })
    const before = await balances(stack, c.roles.map((r) => r.wallet))
    const [alice, bob] = c.roles as [Role, Role]
    try {
      await Promise.all(c.roles.map((r) => r.listener!.poll()))
      assert.equal(alice.court!.chain.phase, 'open')
      // Every clock jumps ahead of the chain's latest block (as it does when it sees a block before
      // the court has read its events); the round's moves are stamped there.
      const latest = BigInt(await anvil.now())
      const skew = BigInt(Math.max(1, Math.floor(c.params.agreementTime / 2)))
      for (const r of c.roles) r.clock.set(latest + skew + 30n)
      const m = new Ledger([ETH1, 2n * ETH1])
      await round(c, m)

      const seen: { outcome: 'pending' | 'raised' | Error } = { outcome: 'pending' }
      const forced = alice.court!.forceClose().then((r) => ((seen.outcome = 'raised'), r), (e: Error) => ((seen.outcome = e), undefined))
      await new Promise((resolve) => setTimeout(resolve, 300))
      await alice.court!.idle()
      const outcome = seen.outcome as 'pending' | 'raised' | Error
      const got = outcome instanceof Error ? ((outcome as Partial<ParleyError>).code ?? outcome.message) : outcome
      assert.equal(got, 'pending', 'forceClose waits for a block that admits the state')
      assert.equal(bob.court!.chain.phase, 'open', 'nothing raised: the chain would refuse it')

      await anvil.provider.send('evm_setNextBlockTimestamp', [Number(latest + skew + 30n)])
      await anvil.provider.send('evm_mine', [])
      await alice.listener!.poll()
      const raised = await within(20_000, forced, 'the force-close raised at the new head')
      assert.ok(raised, 'forceClose resolved with its raise')
      assert.equal(raised.raised.dispute.kind, DisputeKind.ForceClose)

      await pastDeadline(anvil, c, raised.raised.dispute)
      await within(30_000, (async () => {
        while (c.roles.some((r) => r.channel.phase !== ChannelPhase.Closed)) {
          await Promise.all(c.roles.map((r) => r.listener!.poll()))
          await Promise.all(c.roles.map((r) => r.court!.idle()))
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      })(), 'a court resolves the force-close and every channel ends closed')
      assert.deepEqual(await deltas(c, before), m.bal.map((b) => b + BOND))
      await solvent(anvil, stack)
    } finally {
      await c.close()
    }
  })
})
