/**
 * A peer restarted from its SQLite file mid-channel resumes exactly where it was and the
 * channel finalizes — also when its own move went stale meanwhile (it re-sends it as catch-up); reordered and delayed delivery is absorbed (held until the parent
 * arrives); a byzantine peer's invalid or equivocating txs are rejected with evidence and
 * nothing is persisted or signed for them.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AbiCoder, keccak256 } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { Channel } from '../../src/channel/Channel.js'
import type { FraudEvent, StateEvent } from '../../src/channel/events.js'
import { hashState, type ParleyHasher } from '../../src/protocol/eip712.js'
import { signDigest } from '../../src/protocol/signatures.js'
import type { Hex, Transaction } from '../../src/protocol/types.js'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import type { Message } from '../../src/transport/messages.js'
import { openPeers, play, settle } from '../helpers/peers.js'

const abi = AbiCoder.defaultAbiCoder()
const pay = (to: number, amount: number) => abi.encode(['uint16', 'uint256'], [to, amount]) as Hex
let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let dir: string

before(async () => {
  anvil = await startAnvil({ accounts: 6 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  dir = mkdtempSync(join(tmpdir(), 'parley-resilience-'))
})
after(async () => {
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('resilience', () => {
  test('a peer restarted from its SQLite store resumes where it was; the channel finalizes', async () => {
    const wallets = anvil.wallets.slice(1, 4)
    const p = await openPeers({ anvil, stack, hasher, machine: 'payments', wallets, sqliteDir: dir, salt: 'restart' })
    const move = (who: number) => pay((who + 1) % 3, 1000 + who)
    await play(p.channels, 4, move) // seq 1..4 final; next actor: participant 1
    const before = p.channels[2]!.state
    await p.channels[2]!.dispose()
    p.stores[2]!.close()

    // while participant 2 is down, participant 1 moves (seq 5): it cannot become final
    await p.channels[1]!.propose(move(1))
    await settle(p.hub, p.channels.slice(0, 2))
    assert.equal(p.channels[0]!.state.seq, 5n)
    assert.equal(p.channels[0]!.state.finalSeq, 4n)

    const store = new SqliteStore(join(dir, 'peer2.db'))
    const waiting = p.channels[0]!.next('state', { filter: (s) => s.seq === 6n })
    const back = await Channel.restore({
      channelId: p.channelId, signer: wallets[2]!, machine: await p.machine(), store, transport: p.hub.connect(2), clock: p.clocks[2]!, hasher,
    })
    const resumed = back.state
    assert.deepEqual([resumed.seq, resumed.finalSeq, resumed.stateHash, resumed.phase], [before.seq, before.finalSeq, before.stateHash, before.phase])
    // it catches up (seq 5 via sync), confirms it, and it is its turn
    const mine = await back.next('state', { filter: (s) => s.seq === 5n })
    assert.equal(mine.isMyTurn, true)
    await back.propose(move(2))
    await waiting
    const all = [p.channels[0]!, p.channels[1]!, back]
    await play(all, 3, move)
    for (const c of all) assert.equal(c.state.finalSeq, 9n)
    assert.equal(new Set(all.map((c) => c.state.finalStateHash)).size, 1)
    await Promise.all(all.map((c) => c.dispose()))
    p.stores.forEach((s) => s.close())
    store.close()
  })

  test('a peer restarted with its own move older than the skew re-delivers it as catch-up: taken, confirmed, final', { timeout: 30_000 }, async () => {
    const wallets = anvil.wallets.slice(1, 4)
    const sub = join(dir, 'stale')
    mkdirSync(sub)
    const p = await openPeers({ anvil, stack, hasher, machine: 'payments', wallets, sqliteDir: sub, salt: 'stale-restart' })
    const move = (who: number) => pay((who + 1) % 3, 10 + who)
    await play(p.channels, 2, move) // seq 1, 2 final; participant 2's turn
    p.hub.filter = (from) => from !== 2 // participant 2 is cut off: its move reaches nobody
    const { digest } = await p.channels[2]!.propose(move(2))
    await settle(p.hub, p.channels)
    await p.channels[2]!.dispose()
    p.stores[2]!.close()
    p.hub.filter = undefined
    for (const c of p.clocks) c.advance(44n) // older than the skew (15 s), inside the confirmation window (90 s)

    const store = new SqliteStore(join(sub, 'peer2.db'))
    const back = await Channel.restore({
      channelId: p.channelId, signer: wallets[2]!, machine: await p.machine(), store, transport: p.hub.connect(2), clock: p.clocks[2]!, hasher,
    })
    const all = [p.channels[0]!, p.channels[1]!, back]
    await Promise.all(all.map((c) => c.waitFinal(3n))) // taken as catch-up and confirmed before its deadline
    for (const s of [p.stores[0]!, p.stores[1]!]) assert.equal(s.getTx(p.channelId, 0n, 3n)?.digest, digest, 'the move it signed, not another')
    await play(all, 3, move)
    for (const c of all) assert.equal(c.state.finalSeq, 6n)
    await Promise.all(all.map((c) => c.dispose()))
    p.stores.forEach((s) => s.close())
    store.close()
  })

  test('reordered delivery: txs that arrive before their parent are held, never dropped', async () => {
    const wallets = anvil.wallets.slice(1, 4)
    // participant 1's seq-2 tx reaches participant 0 late, after participant 2's seq 3
    let gapRequests = 0
    const p = await openPeers({
      anvil, stack, hasher, machine: 'payments', wallets, salt: 'reorder',
      hub: {
        reorderMs: 3, seed: 11,
        delayMs: (from, to, m) => {
          if (m.type === 'sync-request' && from === 0) gapRequests++ // participant 0 noticed a gap
          return m.type === 'tx' && m.transaction.seq === 2n && to === 0 ? 400 : 0
        },
      },
    })
    const seen: bigint[] = []
    p.channels[0]!.on('state', (s: StateEvent) => seen.push(s.seq))
    await play(p.channels, 12, (who) => pay((who + 1) % 3, 1))
    assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => BigInt(i + 1)), 'applied in order, none skipped')
    assert.ok(gapRequests >= 1, 'seq 3 arrived before seq 2 and was held')
    assert.ok(p.channels.every((c) => c.state.finalSeq === 12n))
    await Promise.all(p.channels.map((c) => c.dispose()))
  })

  test('a byzantine peer: invalid and equivocating txs are rejected with evidence, nothing stored or signed', async () => {
    const wallets = anvil.wallets.slice(4, 6)
    const p = await openPeers({ anvil, stack, hasher, machine: 'payments', wallets, salt: 'mallory' })
    // participant 1 (Mallory) drops its honest channel and talks raw protocol
    await p.channels[1]!.dispose()
    const mallory = p.hub.connect(1)
    const toMallory: Message[] = []
    mallory.onMessage((_, m) => toMallory.push(m))
    const alice = p.channels[0]!
    const fraud: FraudEvent[] = []
    alice.on('fraud', (f) => fraud.push(f))
    await alice.propose(pay(1, 5)) // seq 1 by Alice; Mallory's turn next
    await settle(p.hub, [alice])
    const head = alice.state
    const sign = (t: Transaction) => signDigest(wallets[1]!.signingKey, hasher.transaction(t))
    const machine = await p.machine()
    const valid = async (data: Hex): Promise<Transaction> => {
      const state = await machine.transition(head.state, 1, data, head.timestamp)
      return { channelId: p.channelId, fork: 0n, seq: 2n, timestamp: head.timestamp, actor: 1, previousStateHash: head.stateHash, data, stateHash: hashState(state) }
    }
    const stats = p.stores[0]!.stats(p.channelId)
    const sent = toMallory.length

    // 1) a transition with a made-up result
    const lie = { ...(await valid(pay(0, 1))), stateHash: keccak256('0x01') as Hex }
    await mallory.send(0, { type: 'tx', transaction: lie, signature: sign(lie) })
    await settle(p.hub, [alice])
    assert.equal(fraud.length, 1)
    assert.deepEqual([fraud[0]!.evidence.kind, (fraud[0]!.evidence as { reason: string }).reason, fraud[0]!.from], ['InvalidTransition', 'stateHash', 1])
    assert.deepEqual(p.stores[0]!.stats(p.channelId), stats, 'nothing persisted or signed')
    assert.equal(toMallory.length, sent, 'no confirmation left')
    assert.equal(alice.state.seq, 1n)

    // 2) two valid txs at seq 2: the first is accepted and confirmed, the second is equivocation
    const a = await valid(pay(0, 1))
    const b = await valid(pay(0, 2))
    await mallory.send(0, { type: 'tx', transaction: a, signature: sign(a) })
    await mallory.send(0, { type: 'tx', transaction: b, signature: sign(b) })
    await settle(p.hub, [alice])
    assert.equal(alice.state.seq, 2n)
    assert.equal(alice.state.finalSeq, 2n, 'Alice confirmed a; both signed it')
    const eq = fraud[1]!.evidence
    assert.equal(eq.kind, 'Equivocation')
    assert.deepEqual(eq.kind === 'Equivocation' && [eq.culprit, eq.a.transaction.data, eq.b.transaction.data], [1, a.data, b.data])
    assert.deepEqual(toMallory.slice(sent).map((m) => m.type), ['confirm'])
    assert.equal(p.stores[0]!.stats(p.channelId).txs, stats.txs + 1)
    await alice.dispose()
  })
})
