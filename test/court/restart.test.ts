/**
 * A move that reaches a peer only when it is older than the clock skew the peer tolerates for a
 * live message (docs/protocol.md §6.4): Carol signs it while cut off and restarts (or her link
 * to Alice comes back) 44 or 95 seconds later. The move is signed and stored, so it must never
 * be signed again differently; the channel must still go on by itself within its time
 * parameters: off-chain while the move is inside its confirmation window — it travels as
 * catch-up (re-sent so by the restarted Carol, asked for by Alice when the link comes up), which
 * peers accept and confirm by the sync rules — and through the chain once that window passed
 * (Carol's court posts it, §6.3 duty 3; the next actor, late too, posts its own, duty 4; and
 * nobody counts as having refused Carol's move, §6.5). Alice, Bob and Carol on hyperswarm over
 * a local HyperDHT testnet, SQLite stores, every court attached; the balances paid out at the
 * cooperative close are checked to the wei.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Wallet } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { ChainListener } from '../../src/chain/ChainListener.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { Channel, engineOf } from '../../src/channel/Channel.js'
import { ManualClock } from '../../src/clock/ManualClock.js'
import { attachCourt } from '../../src/dispute/attachCourt.js'
import { HyperswarmTransport } from '../../src/net/HyperswarmTransport.js'
import type { P2PManager } from '../../src/net/P2PManager.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import type { Hex } from '../../src/protocol/types.js'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import { BOND, ETH1, balances, move, openCourtChannel, pay, reach, solvent, travel, type CourtChannel, type Role } from '../helpers/courtPeers.js'
import { manager, startTestnet, type Testnet } from '../helpers/net.js'
import { seedOf } from '../helpers/netpeers.js'

const [ALICE, BOB, CAROL] = [0, 1, 2]
let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let testnet: Testnet
let dir: string
/** Every P2PManager started (closed at the end), and the current one and transport of each participant. */
const started: P2PManager[] = []
const p2ps: P2PManager[] = []
const transports: HyperswarmTransport[] = []
const joinNet = async (label: string, i: number, o: { channelId: Hex; participants: readonly Hex[]; signer: Wallet }): Promise<HyperswarmTransport> => {
  const p2p = manager(testnet, { seed: seedOf(label, i) })
  started.push(p2p)
  p2ps[i] = p2p
  transports[i] = await HyperswarmTransport.join(p2p, { channelId: o.channelId, participants: o.participants, me: i, signer: o.signer.signingKey })
  return transports[i]!
}

before(async () => {
  ;[anvil, testnet] = await Promise.all([startAnvil({ accounts: 4 }), startTestnet()])
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  dir = mkdtempSync(join(tmpdir(), 'parley-restart-'))
})
after(async () => {
  await Promise.allSettled(started.map((p) => p.close()))
  await testnet.destroy()
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Resolves once `check()` holds (polled), fails with `what` after `ms`. */
function until(check: () => boolean, ms: number, what: string): Promise<void> {
  let poll!: NodeJS.Timeout
  const held = new Promise<void>((resolve) => (poll = setInterval(() => check() && resolve(), 25)))
  return within(held, ms, what).finally(() => clearInterval(poll))
}

/** Fails with `what` unless `p` settles within `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer!: NodeJS.Timeout
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms)))
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

async function open(label: string): Promise<CourtChannel> {
  const wallets = anvil.wallets.slice(1, 4)
  return openCourtChannel({
    anvil, stack, hasher, wallets, label, honest: [ALICE, BOB, CAROL], pollMs: 50, sqliteDir: dir,
    transport: (i, { channelId, participants }) => joinNet(label, i, { channelId, participants, signer: wallets[i]! }),
  })
}

/**
 * Carol signs her move while cut off from the network and stops (a crash): it is stored and
 * signed, nobody received it.
 */
async function moveAndCrash(c: CourtChannel, data: Hex): Promise<bigint> {
  const carol = c.roles[CAROL]!
  await p2ps[CAROL]!.close()
  const { seq } = await carol.channel.propose(data)
  await carol.court!.detach()
  await carol.listener!.close()
  await carol.channel.dispose()
  carol.store.close()
  return seq
}

/**
 * Carol's connection to Alice breaks; while it is down she signs her move (Bob gets it at once,
 * Alice only when the link is back: hyperswarm reconnects within seconds).
 */
async function moveWhileCut(c: CourtChannel, data: Hex): Promise<bigint> {
  const conn = [...p2ps[CAROL]!.connections].find((x) => x.remotePublicKey.equals(p2ps[ALICE]!.publicKey))!
  conn.destroy()
  await until(() => !transports[CAROL]!.connected.includes(ALICE), 10_000, 'Carol\'s link to Alice down')
  const { seq } = await c.roles[CAROL]!.channel.propose(data)
  return seq
}

/** Carol starts again from her SQLite file, with her court, her clock at the chain's time. */
async function restartCarol(c: CourtChannel, label: string): Promise<Role> {
  const old = c.roles[CAROL]!
  const now = BigInt(await anvil.now())
  const clock = new ManualClock(now, { followBlocks: true })
  const store = new SqliteStore(join(dir, `${label}-${CAROL}.db`))
  const transport = await joinNet(label, CAROL, { channelId: c.channelId, participants: c.params.participants, signer: old.wallet })
  const channel = await Channel.restore({ channelId: c.channelId, signer: old.wallet, machine: await c.machine(), store, transport, clock, hasher, chain: old.manager })
  const listener = new ChainListener({ provider: anvil.provider, manager: stack.manager.address, pollMs: 50, clock })
  const court = attachCourt(channel, { listener, manager: old.manager, fromBlock: c.openBlock })
  const role: Role = { ...old, channel, store, clock, listener, court }
  c.roles[CAROL] = role
  return role
}

/** Whoever's turn it is proposes through its court (off-chain, or posted when late) until `seq`. */
async function playTo(c: CourtChannel, seq: bigint, data: (who: number) => Hex): Promise<('peers' | 'chain' | 'response')[]> {
  const roads: ('peers' | 'chain' | 'response')[] = []
  const all = c.roles.map((r) => r.channel)
  while (all[0]!.state.seq < seq) {
    const head = all[0]!.state.seq
    await Promise.all(all.map((ch) => reach(ch, head)))
    const who = c.roles.find((r) => r.channel.state.isMyTurn)!
    const { transaction, via } = await who.court!.propose(data(who.channel.me))
    roads.push(via)
    await Promise.all(all.map((ch) => reach(ch, transaction.seq)))
  }
  return roads
}

describe('a move that reaches a peer older than the skew', () => {
  for (const { name, how, late, road } of [
    { name: 'restart inside its window: the peers take it as catch-up and confirm it, the channel goes on off-chain', how: 'restart', late: 44, road: 'peers' },
    { name: 'restart past its confirmation window: Carol\'s court posts it, the late next actor posts its own', how: 'restart', late: 60 + 30 + 5, road: 'chain' },
    { name: 'link back after the skew: Alice asks Carol for catch-up and confirms it, the channel goes on off-chain', how: 'reconnect', late: 44, road: 'peers' },
  ] as const) {
    test(name, { timeout: 120_000 }, async () => {
      const label = `late-${how}-${late}-${Date.now()}`
      const wallets = anvil.wallets.slice(1, 4)
      const before = await balances(stack, wallets)
      const c = await open(label)
      try {
        const bal = [ETH1, 2n * ETH1, 3n * ETH1]
        const pays = (from: number, to: number, amount: bigint) => ((bal[from]! -= amount), (bal[to]! += amount), pay(to, amount))
        const all = () => c.roles.map((r) => r.channel)
        await move(all()[ALICE]!, pays(ALICE, BOB, ETH1 / 10n), all())
        await move(all()[BOB]!, pays(BOB, CAROL, ETH1 / 5n), all())
        const data = pays(CAROL, ALICE, ETH1 / 4n)
        const seq = how === 'restart' ? await moveAndCrash(c, data) : await moveWhileCut(c, data)
        await travel(anvil, c, late)
        const carol = how === 'restart' ? await restartCarol(c, label) : c.roles[CAROL]!
        assert.equal(carol.channel.state.seq, seq, 'Carol holds her move')
        const posts: bigint[] = []
        for (const r of c.roles) r.court!.on('submitted', ({ action }) => action.kind === 'post' && posts.push(action.transaction.seq))

        // Alice and Bob hold Carol's move, the very one she signed before: never a second one at that height.
        const [alice, bob] = [c.roles[ALICE]!, c.roles[BOB]!]
        await within(Promise.all([reach(alice.channel, seq), reach(bob.channel, seq)]), 20_000, `Alice and Bob take Carol's seq ${seq}`)
        const digest = carol.store.getTx(c.channelId, 0n, seq)!.digest
        for (const r of [alice, bob]) assert.equal(r.store.getTx(c.channelId, 0n, seq)!.digest, digest)

        const roads = await within(playTo(c, seq + 4n, (who) => pays(who, (who + 1) % 3, ETH1 / 100n)), 30_000, 'four more moves')
        assert.equal(roads[0], road, `Alice's move after Carol's went ${road === 'peers' ? 'off-chain' : 'through the chain'}`)
        assert.deepEqual(roads.slice(1), ['peers', 'peers', 'peers'])
        const last = all()[0]!.state.seq
        await within(Promise.all(all().map((ch) => ch.waitFinal(last))), 20_000, `seq ${last} final everywhere`)
        assert.deepEqual(posts.filter((s) => s === seq), road === 'chain' ? [seq] : [], `Carol's move ${road === 'chain' ? 'posted by her court' : 'never posted'}`)
        for (const r of c.roles) assert.equal(engineOf(r.channel).internals().agreement.refused, 0n, `participant ${r.channel.me} counts no refusal`)
        const closed = alice.court!.next('closed')
        await within(alice.channel.close(), 20_000, 'the cooperative close')
        await closed
        const now = await balances(stack, wallets)
        assert.deepEqual(now.map((b, i) => b - before[i]!), bal.map((b) => b + BOND))
        await solvent(anvil, stack)
      } finally {
        await c.close()
      }
    })
  }
})
