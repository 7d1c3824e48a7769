/**
 * Durable commits per transaction and peer (issue 14): a peer commits what its signature needs —
 * the transaction it accepts or proposes with its signature — and every peer signature that
 * arrived meanwhile goes into that same commit. The count is deterministic (the in-memory hub
 * delivers in order on the next macrotask), so grouping cannot regress silently: before it, a
 * peer committed N − 0.5 times per transaction (each confirmation on its own). And what the
 * count leaves out must not be lost: every signature a peer holds is in its store once idle.
 * With `Channel.onTurn`, the move that answers a transaction is stored in the commit of the
 * transaction it answers: at N = 2 each peer commits once per two transactions, and nothing it
 * sends is ever read from its file before it is committed there.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { AbiCoder } from 'ethers'
import { startAnvil, type Anvil } from '../chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../chain/stack.js'
import type { Hex } from '../protocol/types.js'
import type { Message } from '../transport/messages.js'
import { SqliteStore } from '../store/SqliteStore.js'
import { TURN_WAIT_MS } from './Engine.js'
import { openPeers, play, settle, type Peers } from '../../test/helpers/peers.js'

const abi = AbiCoder.defaultAbiCoder()
const ADD_ONE = abi.encode(['uint64'], [1]) as Hex
const TXS = 60
let anvil: Anvil
let stack: LocalStack
const dirs: string[] = []
const opened: Peers[] = []

before(async () => {
  anvil = await startAnvil({ accounts: 4 })
  stack = await deployLocalStack(anvil.wallets[0]!)
})
after(async () => {
  for (const p of opened) for (const c of p.channels) await c.dispose().catch(() => {})
  for (const p of opened) for (const s of p.stores) s.close()
  await anvil.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

describe('durable commits per transaction and peer (SQLite)', () => {
  for (const n of [2, 3]) {
    test(`N = ${n}: about one commit per transaction and peer, every signature stored`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-commits-'))
      dirs.push(dir)
      const peers = await openPeers({
        anvil, stack, hasher: await stack.manager.hasher(), machine: 'counter', wallets: anvil.wallets.slice(1, 1 + n),
        deposits: Array(n).fill(0n), initData: abi.encode(['uint64'], [0]) as Hex, sqliteDir: dir, salt: `commits-${n}`,
      })
      opened.push(peers)
      const commits = () => peers.stores.reduce((sum, s) => sum + (s as SqliteStore).commits, 0)
      await play(peers.channels, 2 * n, () => ADD_ONE) // warm-up: the first moves also ask for catch-up
      await settle(peers.hub, peers.channels)
      const before = commits()
      await play(peers.channels, TXS, () => ADD_ONE)
      await settle(peers.hub, peers.channels)
      const perTxPeer = (commits() - before) / TXS / n
      assert.ok(perTxPeer <= 1.05, `${perTxPeer.toFixed(3)} commits per transaction and peer (at most 1.05; 1.5 and 2.33 before grouping)`)
      assert.ok(perTxPeer >= 1, `${perTxPeer.toFixed(3)}: each peer signs every transaction, and commits its signature before it leaves`)

      // Nothing held in memory only: each peer's store has every signature of every transaction.
      const head = peers.channels[0]!.state.seq
      for (const [i, c] of peers.channels.entries()) {
        assert.equal(c.state.finalSeq, head, `peer ${i}: everything final`)
        for (let seq = 1n; seq <= head; seq++) {
          const tx = peers.stores[i]!.getTx(peers.channelId, 0n, seq)!
          const signed = peers.stores[i]!.getSignatures(peers.channelId, tx.digest)
          assert.equal(signed.size, n, `peer ${i}, seq ${seq}: signed by ${[...signed.keys()]}`)
        }
      }
    })
  }
})

describe('onTurn: our answer in the commit of the transaction it answers (SQLite)', () => {
  for (const [n, most] of [[2, 0.55], [3, 0.7]] as const) {
    test(`N = ${n}: at most ${most} commits per transaction and peer; what leaves is on disk first`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parley-commits-turn-'))
      dirs.push(dir)
      const peers = await openPeers({
        anvil, stack, hasher: await stack.manager.hasher(), machine: 'counter', wallets: anvil.wallets.slice(1, 1 + n),
        deposits: Array(n).fill(0n), initData: abi.encode(['uint64'], [0]) as Hex, sqliteDir: dir, salt: `commits-turn-${n}`,
      })
      opened.push(peers)
      const stores = peers.stores as SqliteStore[]
      await play(peers.channels, 2 * n, () => ADD_ONE) // warm-up, proposed from 'state' events
      await settle(peers.hub, peers.channels)

      // Every message is checked as it leaves: what it carries must be committed in the sender's
      // file (a second connection sees only committed data).
      const readers = stores.map((s) => new Database(s.path, { readonly: true }))
      const unsaved: string[] = []
      peers.hub.filter = (from: number, _to: number, m: Message) => {
        const db = readers[from]!
        if (m.type === 'tx' && !db.prepare('SELECT 1 FROM txs WHERE channel_id = ? AND fork = ? AND seq = ?').get(peers.channelId, m.transaction.fork, m.transaction.seq)) {
          unsaved.push(`peer ${from} sent tx ${m.transaction.seq} before committing it`)
        }
        if (m.type === 'confirm' && !db.prepare("SELECT 1 FROM own_signatures WHERE channel_id = ? AND kind = 'tx' AND fork = ? AND seq = ?").get(peers.channelId, m.fork, m.seq)) {
          unsaved.push(`peer ${from} sent its confirmation of ${m.seq} before committing it`)
        }
        return true
      }
      const target = peers.channels[0]!.state.seq + BigInt(TXS)
      const offs = peers.channels.map((c) => c.onTurn((s) => (s.seq < target ? ADD_ONE : undefined)))
      const errors: unknown[] = []
      const offErrors = peers.channels.map((c) => c.on('error', (e) => errors.push(e.error)))
      const commits = () => stores.reduce((sum, s) => sum + s.commits, 0)
      const before = commits()
      await peers.channels.find((c) => c.state.isMyTurn)!.propose(ADD_ONE) // the first move; the handlers answer the rest
      await Promise.all(peers.channels.map((c) => c.waitFinal(target)))
      await settle(peers.hub, peers.channels)
      offs.forEach((off) => off())
      offErrors.forEach((off) => off())
      peers.hub.filter = undefined
      readers.forEach((r) => r.close())

      assert.deepEqual(errors, [])
      assert.deepEqual(unsaved, [])
      const perTxPeer = (commits() - before) / TXS / n
      assert.ok(perTxPeer <= most, `${perTxPeer.toFixed(3)} commits per transaction and peer (at most ${most}; about 1 when moves are proposed from 'state' events)`)
      for (const [i, c] of peers.channels.entries()) {
        assert.equal(c.state.finalSeq, target, `peer ${i}: everything final`)
        for (let seq = 1n; seq <= target; seq++) {
          const tx = stores[i]!.getTx(peers.channelId, 0n, seq)!
          assert.equal(stores[i]!.getSignatures(peers.channelId, tx.digest).size, n, `peer ${i}, seq ${seq}: every signature stored`)
        }
      }
    })
  }

  test('a handler that proposes instead of returning the move is told so; a refused move is an error event, no move', async () => {
    const peers = await openPeers({
      anvil, stack, hasher: await stack.manager.hasher(), machine: 'counter', wallets: anvil.wallets.slice(1, 3),
      deposits: [0n, 0n], initData: abi.encode(['uint64'], [0]) as Hex, salt: 'commits-turn-misuse',
    })
    opened.push(peers)
    const [a, b] = peers.channels as [typeof peers.channels[0], typeof peers.channels[0]]
    const proposed: unknown[] = []
    const errors: unknown[] = []
    b.on('error', (e) => errors.push(e.error))
    const off = b.onTurn(() => {
      try {
        void b.propose(ADD_ONE)
      } catch (e) {
        proposed.push(e)
      }
      return '0x1234' as Hex // not a Counter move: the machine refuses it
    })
    const first = a.state.isMyTurn ? a : b
    assert.equal(first, a)
    await a.propose(ADD_ONE)
    await settle(peers.hub, peers.channels)
    off()
    assert.equal((proposed[0] as { code?: string })?.code, 'PROPOSE_IN_TURN_HANDLER')
    assert.equal((errors[0] as { code?: string })?.code, 'MOVE_INVALID')
    assert.equal(b.state.seq, 1n, 'no move was made')
    assert.equal(b.state.isMyTurn, true)
    assert.throws(() => b.onTurn(undefined as never), { code: 'TURN_HANDLER_INVALID' })

    // A handler slower than TURN_WAIT_MS is not waited for (the channel's inputs, its court's
    // among them, queue behind it): the input ends without our move, which is proposed when it comes.
    const offA = a.onTurn(() => new Promise<Hex>((r) => setTimeout(r, TURN_WAIT_MS + 300, ADD_ONE)))
    const started = Date.now()
    await b.propose(ADD_ONE) // seq 2: a's turn next
    await settle(peers.hub, peers.channels)
    const waited = Date.now() - started
    assert.equal(a.state.seq, 2n, 'the input ended without the slow move')
    assert.ok(waited < TURN_WAIT_MS + 250, `the input waited ${waited} ms`)
    await b.waitFinal(3n) // the slow move, proposed on its own, became final
    offA()
  })
})
