/**
 * Attacks on `Channel.onTurn` and `Store.hold` (docs/protocol.md §7.12, "The answer in the commit
 * of what it answers"): the rule is that nothing a peer sends — on any channel — is read from its
 * file before it is committed there. Several channels share one SqliteStore here (one file per
 * peer, as an application routing between channels would have): a turn handler that moves on
 * another channel, another channel's input while a hold is open, a store closed during a hold.
 * Every message is checked as it leaves with a second connection to the sender's file, which
 * sees committed data only.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { AbiCoder } from 'ethers'
import { startAnvil, type Anvil } from '../chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../chain/stack.js'
import type { Hex } from '../protocol/types.js'
import type { Message } from '../transport/messages.js'
import { SqliteStore } from '../store/SqliteStore.js'
import { Channel, courtPortOf } from './Channel.js'
import { TURN_WAIT_MS } from './turn.js'
import { openPeers, settle, type Peers } from '../../test/helpers/peers.js'
import { Byzantine } from '../../test/helpers/byzantine.js'

const abi = AbiCoder.defaultAbiCoder()
const ADD_ONE = abi.encode(['uint64'], [1]) as Hex
let anvil: Anvil
let stack: LocalStack
const dirs: string[] = []
const opened: Peers[] = []
const stores: SqliteStore[] = []

before(async () => {
  anvil = await startAnvil({ accounts: 3 })
  stack = await deployLocalStack(anvil.wallets[0]!)
})
after(async () => {
  for (const p of opened) for (const c of p.channels) await c.dispose().catch(() => {})
  for (const s of stores) s.close()
  await anvil.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Two Counter channels X and Y between Alice (0) and Bob (1), each peer's two channels on one SqliteStore. */
async function twoChannels(label: string): Promise<{ x: Peers; y: Peers; stores: SqliteStore[] }> {
  const dir = mkdtempSync(join(tmpdir(), `parley-${label}-`))
  dirs.push(dir)
  const shared = [0, 1].map((i) => new SqliteStore(join(dir, `peer${i}.db`)))
  stores.push(...shared)
  const open = async (salt: string) => {
    const p = await openPeers({
      anvil, stack, hasher: await stack.manager.hasher(), machine: 'counter', wallets: anvil.wallets.slice(1, 3),
      deposits: [0n, 0n], initData: abi.encode(['uint64'], [0]) as Hex, stores: shared, salt: `${label}-${salt}-${Date.now()}`,
    })
    opened.push(p)
    return p
  }
  return { x: await open('x'), y: await open('y'), stores: shared }
}

/**
 * Checks every message of `peers`' hub as it leaves: the transaction it carries, or our
 * confirmation, must already be committed in the sender's file. Returns the violations found.
 */
function watchCommitted(label: string, peers: Peers, files: SqliteStore[]): { unsaved: string[]; stop(): void } {
  const readers = files.map((s) => new Database(s.path, { readonly: true }))
  const unsaved: string[] = []
  peers.hub.filter = (from: number, _to: number, m: Message) => {
    const db = readers[from]!
    if (m.type === 'tx' && !db.prepare('SELECT 1 FROM txs WHERE channel_id = ? AND fork = ? AND seq = ?').get(peers.channelId, m.transaction.fork, m.transaction.seq)) {
      unsaved.push(`${label}: peer ${from} sent tx ${m.transaction.seq} before committing it`)
    }
    if (m.type === 'confirm' && !db.prepare("SELECT 1 FROM own_signatures WHERE channel_id = ? AND kind = 'tx' AND fork = ? AND seq = ?").get(peers.channelId, m.fork, m.seq)) {
      unsaved.push(`${label}: peer ${from} sent its confirmation of ${m.seq} before committing it`)
    }
    return true
  }
  return {
    unsaved,
    stop() {
      peers.hub.filter = undefined
      readers.forEach((r) => r.close())
    },
  }
}

describe('one SqliteStore under several channels: nothing leaves before its commit', () => {
  test('a router: Alice\'s turn handler on X moves on Y before returning its answer (X\'s hold open): Y\'s transaction is committed before it leaves', { timeout: 30_000 }, async () => {
    const { x, y, stores: files } = await twoChannels('turn-router')
    const [xa, xb] = x.channels as [Channel, Channel]
    const [ya, yb] = y.channels as [Channel, Channel]
    const wx = watchCommitted('X', x, files)
    const wy = watchCommitted('Y', y, files)
    const errors: unknown[] = []
    const offs = [xa, xb, ya, yb].map((c) => c.on('error', (e) => errors.push(e.error)))
    const ROUNDS = 4n
    try {
      // Bob answers on both channels; Alice answers on X, and moves on Y from inside that answer
      // (a payment router: paid on X, she pays on Y), then takes a moment before returning.
      offs.push(xb.onTurn((s) => (s.seq < 2n * ROUNDS ? ADD_ONE : undefined)))
      offs.push(yb.onTurn(() => ADD_ONE))
      offs.push(xa.onTurn(async (s) => {
        if (ya.state.isMyTurn) await ya.propose(ADD_ONE)
        await sleep(60) // well within TURN_WAIT_MS: the answer is still in X's hold
        return s.seq < 2n * ROUNDS ? ADD_ONE : undefined
      }))
      assert.ok(xa.state.isMyTurn)
      await xa.propose(ADD_ONE)
      await xb.waitFinal(2n * ROUNDS)
      await settle(x.hub, x.channels)
      await settle(y.hub, y.channels)
      assert.deepEqual(errors, [])
      assert.ok(ya.state.seq >= ROUNDS, `Alice moved on Y from her X handler (Y at seq ${ya.state.seq})`)
      assert.deepEqual([...wx.unsaved, ...wy.unsaved], [], 'every message was committed in its sender\'s file before it left')
    } finally {
      offs.forEach((off) => off())
      wx.stop()
      wy.stop()
    }
  })

  test('another channel of the same store proposes, receives and confirms while Alice\'s handler holds X open (slow, within TURN_WAIT_MS): each side commits before it sends; both channels reach their heads', { timeout: 30_000 }, async () => {
    const { x, y, stores: files } = await twoChannels('turn-interleave')
    const [xa, xb] = x.channels as [Channel, Channel]
    const [ya, yb] = y.channels as [Channel, Channel]
    const wx = watchCommitted('X', x, files)
    const wy = watchCommitted('Y', y, files)
    const errors: unknown[] = []
    const offs = [xa, xb, ya, yb].map((c) => c.on('error', (e) => errors.push(e.error)))
    const TARGET = 8n
    try {
      offs.push(xb.onTurn((s) => (s.seq < TARGET ? ADD_ONE : undefined)))
      offs.push(xa.onTurn(async (s) => (await sleep(120), s.seq < TARGET ? ADD_ONE : undefined)))
      offs.push(yb.onTurn((s) => (s.seq < TARGET ? ADD_ONE : undefined)))
      // Y is driven from outside any hold, every 15 ms: its commits land in the middle of X's holds.
      let driving = true
      const drive = (async () => {
        while (driving && ya.state.seq < TARGET) {
          if (ya.state.isMyTurn) await ya.propose(ADD_ONE)
          await sleep(15)
        }
      })()
      await xa.propose(ADD_ONE)
      await Promise.all([xb.waitFinal(TARGET), yb.waitFinal(TARGET)])
      driving = false
      await drive
      await settle(x.hub, x.channels)
      await settle(y.hub, y.channels)
      assert.deepEqual(errors, [])
      assert.deepEqual([...wx.unsaved, ...wy.unsaved], [], 'every message was committed in its sender\'s file before it left')
      for (const [p, c] of [[x, xa], [y, ya]] as const) {
        for (let seq = 1n; seq <= TARGET; seq++) assert.ok(files[0]!.getTx(p.channelId, 0n, seq), `Alice stored seq ${seq} of ${c === xa ? 'X' : 'Y'}`)
      }
    } finally {
      offs.forEach((off) => off())
      wx.stop()
      wy.stop()
    }
  })

  test('Alice\'s store is closed while her handler holds X open: nothing of that input leaves (no confirmation, no answer), the channel reports STORE_IO and stops; her file holds none of it', { timeout: 30_000 }, async () => {
    const { x, stores: files } = await twoChannels('turn-close')
    const [xa, xb] = x.channels as [Channel, Channel]
    const errors: { code?: string }[] = []
    const offs = [xa.on('error', (e) => errors.push(e.error as { code?: string }))]
    const fromAlice: Message[] = []
    try {
      await xa.propose(ADD_ONE)
      await xb.waitFinal(1n)
      await settle(x.hub, x.channels)
      let entered!: () => void
      const inHandler = new Promise<void>((r) => (entered = r))
      offs.push(xa.onTurn(async () => (entered(), await sleep(100), ADD_ONE)))
      x.hub.filter = (from: number, _to: number, m: Message) => (from === 0 && fromAlice.push(m), true)
      await xb.propose(ADD_ONE) // seq 2: Alice's turn
      await inHandler
      files[0]!.close() // the application closes the store under the open hold
      assert.equal(xa.state.seq, 2n, 'the channel can still be read (its memory), the store closed')
      await sleep(300)
      await settle(x.hub, x.channels).catch(() => {})
      assert.deepEqual(fromAlice.filter((m) => m.type === 'tx' || m.type === 'confirm'), [], 'nothing signed in the lost hold left')
      assert.ok(errors.some((e) => e.code === 'STORE_IO'), `STORE_IO reported (${errors.map((e) => e.code).join(', ')})`)
      const again = new Database(files[0]!.path, { readonly: true })
      try {
        assert.equal((again.prepare('SELECT count(*) AS n FROM txs WHERE channel_id = ? AND seq >= 2').get(x.channelId) as { n: number }).n, 0, 'the rolled-back hold left nothing in the file')
      } finally {
        again.close()
      }
      assert.equal(xb.state.finalSeq, 1n, 'Bob saw no confirmation of seq 2')
    } finally {
      x.hub.filter = undefined
      offs.forEach((off) => off())
    }
  })

  test('the application reads the channel from outside while Alice\'s handler holds X open: a final state it is shown (state.finalSeq, waitFinal) is already committed in her file', { timeout: 30_000 }, async () => {
    const { x, stores: files } = await twoChannels('turn-final-read')
    const [xa, xb] = x.channels as [Channel, Channel]
    const reader = new Database(files[0]!.path, { readonly: true })
    const committed = (seq: bigint) => reader.prepare("SELECT 1 FROM own_signatures WHERE channel_id = ? AND kind = 'tx' AND fork = 0 AND seq = ?").get(x.channelId, seq) !== undefined
    const shown: string[] = []
    let entered!: () => void
    const inHandler = new Promise<void>((r) => (entered = r))
    const offs = [xa.onTurn(async (s) => (s.seq === 2n && entered(), await sleep(150), s.seq < 4n ? ADD_ONE : undefined))]
    try {
      await xa.propose(ADD_ONE)
      await xb.waitFinal(1n)
      await settle(x.hub, x.channels)
      await xb.propose(ADD_ONE) // seq 2, Bob's: Alice's turn, her handler takes 150 ms
      await inHandler
      // A shop, outside the input: is Bob's seq 2 (his payment, say) final? Then it ships.
      const seen = xa.state.finalSeq
      if (seen >= 2n && !committed(2n)) shown.push(`state.finalSeq = ${seen} while seq 2 is not committed`)
      const waited = await Promise.race([xa.waitFinal(2n).then(() => 'final' as const), sleep(20).then(() => 'pending' as const)])
      if (waited === 'final' && !committed(2n)) shown.push('waitFinal(2) resolved while seq 2 is not committed')
      await xb.waitFinal(3n)
      await settle(x.hub, x.channels)
      assert.deepEqual(shown, [], 'nothing is reported final before it is on disk (docs/protocol.md §7.12)')
    } finally {
      offs.forEach((off) => off())
      reader.close()
    }
  })

  test('Bob makes it Alice\'s turn, then sends a second version of that move while her handler runs: she answers the first only, signs one transaction per height, and reports Bob\'s equivocation', { timeout: 30_000 }, async () => {
    const { x, stores: files } = await twoChannels('turn-equivocation')
    const [xa, xb] = x.channels as [Channel, Channel]
    const bob = new Byzantine({ wallet: x.wallets[1]!, params: x.params, hasher: await stack.manager.hasher(), manager: stack.manager, machine: await x.machine() })
    const frauds: { from?: number; code?: string }[] = []
    let entered!: () => void
    const inHandler = new Promise<void>((r) => (entered = r))
    const offs = [
      xa.on('fraud', (f) => frauds.push({ ...(f.from !== undefined ? { from: f.from } : {}), code: (f.error as { code?: string }).code })),
      xa.onTurn(async (s) => (s.seq === 2n && entered(), await sleep(120), s.seq === 2n ? ADD_ONE : undefined)),
    ]
    try {
      await xa.propose(ADD_ONE)
      await xb.waitFinal(1n)
      await settle(x.hub, x.channels)
      const one = files[1]!.getTx(x.channelId, 0n, 1n)!
      const first = await xb.propose(ADD_ONE) // seq 2, Bob's: Alice's turn
      await inHandler
      const { transaction: second } = await bob.move(one.transaction, one.state, abi.encode(['uint64'], [2]) as Hex)
      assert.equal(second.seq, 2n)
      assert.notEqual((await stack.manager.hasher()).transaction(second), first.digest)
      x.hub.route(1, 0, { type: 'tx', transaction: second, signature: bob.sign(second) })
      await sleep(300)
      await settle(x.hub, x.channels)
      // Alice signed Bob's first version (her confirmation) and answered it; nothing of the second.
      const own2 = files[0]!.getOwnSignature(x.channelId, 'tx', 0n, 2n)
      assert.equal(own2?.digest, first.digest, 'Alice\'s signature at seq 2 is on Bob\'s first version')
      const three = files[0]!.getTx(x.channelId, 0n, 3n)
      assert.equal(three?.transaction.actor, 0, 'Alice answered')
      assert.equal(three?.transaction.previousStateHash, first.transaction.stateHash, 'her answer follows the first version')
      assert.equal(xb.state.finalSeq, 3n, 'her answer is final at Bob\'s')
      assert.ok(frauds.some((f) => f.from === 1), `Bob's equivocation reported (${JSON.stringify(frauds)})`)
    } finally {
      offs.forEach((off) => off())
    }
  })

  test('the court reads the channel while Alice\'s handler holds X open (N = 2: Bob\'s move final in memory by her confirmation): the finality proof it would send, and the final state it decides on, are on disk first', { timeout: 30_000 }, async () => {
    const { x, stores: files } = await twoChannels('turn-court-read')
    const [xa, xb] = x.channels as [Channel, Channel]
    const reader = new Database(files[0]!.path, { readonly: true })
    const committed = (seq: bigint) => reader.prepare("SELECT 1 FROM own_signatures WHERE channel_id = ? AND kind = 'tx' AND fork = 0 AND seq = ?").get(x.channelId, seq) !== undefined
    const port = courtPortOf(xa)
    const found: string[] = []
    let entered!: (seq: bigint) => void
    let inHandler!: Promise<bigint>
    const arm = () => (inHandler = new Promise<bigint>((r) => (entered = r)))
    arm()
    const offs = [xa.onTurn(async (s) => (entered(s.seq), await sleep(150), s.seq <= 4n ? ADD_ONE : undefined))]
    try {
      await xa.propose(ADD_ONE)
      await xb.waitFinal(1n)
      await settle(x.hub, x.channels)
      // Bob's seq 2: final at Alice's once she confirms it, inside the hold. The court (a dispute
      // raised meanwhile) answers with a finality proof, which carries her signature.
      await xb.propose(ADD_ONE)
      assert.equal(await inHandler, 2n)
      arm()
      const proof = port.finalityProof()
      const top = proof.reduce((m, e) => (e.transaction.seq > m ? e.transaction.seq : m), 0n)
      if (top >= 2n && !committed(top)) found.push(`a finality proof of seq ${top}, carrying Alice's signature, before it was committed`)
      await xb.waitFinal(3n)
      await settle(x.hub, x.channels)
      // Bob's seq 4, the same way: the court decides from the final state it reads.
      await xb.propose(ADD_ONE)
      assert.equal(await inHandler, 4n)
      const final = port.ledger().final.seq
      if (final >= 4n && !committed(4n)) found.push(`the court read final seq ${final} before it was committed`)
      await xb.waitFinal(5n)
      await settle(x.hub, x.channels)
      assert.deepEqual(found, [], 'nothing the court reads as final or sends is uncommitted (docs/protocol.md §7.12)')
    } finally {
      offs.forEach((off) => off())
      reader.close()
    }
  })
})

describe('a commit of the hold that fails when someone else makes it', () => {
  test('a reader outside commits Alice\'s open hold and the COMMIT fails (disk error): the hold is rolled back, so nothing of that input may leave — her confirmation and answer stay unsent, STORE_IO is reported', { timeout: 30_000 }, async () => {
    const { x, stores: files } = await twoChannels('turn-commit-fails')
    const [xa, xb] = x.channels as [Channel, Channel]
    const w = watchCommitted('X', x, files)
    const errors: { code?: string }[] = []
    let entered!: () => void
    const inHandler = new Promise<void>((r) => (entered = r))
    const offs = [xa.on('error', (e) => errors.push(e.error as { code?: string })), xa.onTurn(async (s) => (s.seq === 2n && entered(), await sleep(100), s.seq === 2n ? ADD_ONE : undefined))]
    try {
      await xa.propose(ADD_ONE)
      await xb.waitFinal(1n)
      await settle(x.hub, x.channels)
      await xb.propose(ADD_ONE) // seq 2: Alice's turn, her handler holds the commit open
      await inHandler
      // The disk fails the next COMMIT, which a reader outside the hold makes (the application reading the state).
      const db = (files[0]! as unknown as { db: { exec(sql: string): unknown } }).db
      const exec = db.exec.bind(db)
      let fail = true
      db.exec = (sql: string) => {
        if (sql === 'COMMIT' && fail) {
          fail = false
          throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })
        }
        return exec(sql)
      }
      assert.throws(() => xa.state, { code: 'STORE_IO' })
      await sleep(250)
      await settle(x.hub, x.channels)
      assert.deepEqual(w.unsaved, [], 'nothing rolled back was sent')
      assert.ok(errors.some((e) => e.code === 'STORE_IO'), `the channel reports STORE_IO (${errors.map((e) => e.code).join(', ')})`)
      assert.equal(xb.state.finalSeq, 1n, 'Bob holds no confirmation of seq 2 from Alice')
      // Nor did the rest of the lost input land on its own: her file has nothing above seq 1.
      assert.equal(files[0]!.getTx(x.channelId, 0n, 2n), undefined)
      assert.equal(files[0]!.getOwnSignature(x.channelId, 'tx', 0n, 3n), undefined, 'her answer was not stored without what it answers')
    } finally {
      offs.forEach((off) => off())
      w.stop()
    }
  })
})

describe('a crash at the last point inside the hold (just before its COMMIT), then a restore', () => {
  test('Alice dies holding Bob\'s move, her confirmation and her answer uncommitted; restored from what the disk had, she answers differently: Bob never holds two Alice signatures at one height, and the channel goes on', { timeout: 30_000 }, async () => {
    const { x, stores: files } = await twoChannels('turn-crash')
    const [xa, xb] = x.channels as [Channel, Channel]
    const dir = mkdtempSync(join(tmpdir(), 'parley-turn-crash-image-'))
    dirs.push(dir)
    const image = join(dir, 'alice.db')
    const bobFrauds: unknown[] = []
    const offs = [xb.on('fraud', (f) => bobFrauds.push(f.error)), xa.onTurn(async (s) => (await sleep(30), s.seq === 2n ? ADD_ONE : undefined))]
    try {
      await xa.propose(ADD_ONE)
      await xb.waitFinal(1n)
      await settle(x.hub, x.channels)
      // The crash: the moment Alice's hold is about to COMMIT, her disk is copied as SIGKILL
      // would leave it (committed WAL frames only) and she is cut off — nothing after that leaves.
      const store = files[0]! as unknown as { commitHeld(): void }
      const commit = store.commitHeld.bind(store)
      let crashed = false
      store.commitHeld = () => {
        if (!crashed) {
          crashed = true
          x.hub.filter = (from, to) => from !== 0 && to !== 0
          copyFileSync(files[0]!.path, image)
          if (existsSync(`${files[0]!.path}-wal`)) copyFileSync(`${files[0]!.path}-wal`, `${image}-wal`)
        }
        commit()
      }
      await xb.propose(ADD_ONE) // seq 2, Bob's: Alice's turn; her handler answers in the hold
      for (let i = 0; i < 100 && !crashed; i++) await sleep(10)
      assert.ok(crashed, 'the hold reached its commit')
      offs.pop()!()
      await xa.dispose()
      await settle(x.hub, [xb])
      assert.equal(files[1]!.getTx(x.channelId, 0n, 3n), undefined, 'Alice\'s answer, signed in the hold, never left before its commit')
      const bobsTwo = files[1]!.getTx(x.channelId, 0n, 2n)!
      assert.equal(files[1]!.getSignatures(x.channelId, bobsTwo.digest).has(0), false, 'nor did her confirmation of Bob\'s seq 2')
      // Restart from the image; the application answers Bob's seq 2 differently this time.
      x.hub.filter = undefined // back on the network as it restarts
      const restoredStore = new SqliteStore(image)
      stores.push(restoredStore)
      const again = await Channel.restore({ channelId: x.channelId, signer: x.wallets[0]!, machine: await x.machine(), store: restoredStore, transport: x.hub.connect(0), clock: x.clocks[0]!, hasher: await stack.manager.hasher() })
      opened.push({ ...x, channels: [again] })
      assert.ok(again.state.seq < 3n, `the image holds no answer of Alice's (head ${again.state.seq})`)
      await xb.propose(ADD_ONE).catch(() => {}) // (not Bob's turn: refused; Bob's seq 2 reaches Alice by catch-up)
      for (let i = 0; i < 100 && again.state.seq < 2n; i++) await sleep(20)
      assert.equal(again.state.seq, 2n, 'Bob\'s seq 2 reached the restarted Alice')
      const TWO = abi.encode(['uint64'], [2]) as Hex
      const answer = await again.propose(TWO)
      await xb.waitFinal(answer.seq)
      await settle(x.hub, [again, xb])
      assert.deepEqual(bobFrauds, [], 'Bob holds no second Alice signature at any height')
      const three = files[1]!.getTx(x.channelId, 0n, 3n)!
      assert.equal(three.digest, answer.digest, 'Bob\'s seq 3 is the answer Alice gave after the restart')
    } finally {
      offs.forEach((off) => off())
    }
  })
})

describe('turn handlers that misbehave', () => {
  test('a handler that throws, returns junk or never resolves: the peer\'s move is still committed and confirmed, the channel\'s inputs wait TURN_WAIT_MS at most, errors are reported, no move is made', { timeout: 30_000 }, async () => {
    const { x } = await twoChannels('turn-misbehave')
    const [xa, xb] = x.channels as [Channel, Channel]
    const errors: unknown[] = []
    const offs = [xa.on('error', (e) => errors.push(e.error))]
    try {
      await xa.propose(ADD_ONE)
      await xb.waitFinal(1n)
      const handlers: (() => unknown)[] = [
        () => { throw new Error('the bot crashed') },
        () => 42, // not move data
        () => new Promise(() => {}), // never resolves
      ]
      for (const [k, h] of handlers.entries()) {
        const off = xa.onTurn(h as () => Hex)
        const seq = xb.state.seq + 1n
        const started = Date.now()
        await xb.propose(ADD_ONE) // Bob's move: Alice's turn
        await xb.waitFinal(seq) // Alice confirmed it (committed first)
        await settle(x.hub, x.channels)
        assert.ok(Date.now() - started < TURN_WAIT_MS + 1000, `handler ${k}: the input ended in time (not waiting for the handler)`)
        assert.equal(xa.state.seq, seq, `handler ${k}: no move made`)
        off()
        await xa.propose(ADD_ONE) // Alice moves by hand; the channel works
        await xb.waitFinal(seq + 1n)
      }
      assert.ok(errors.length >= 2, `the throw and the junk are reported (${errors.length})`)
    } finally {
      offs.forEach((off) => off())
    }
  })

  test('a late answer (slower than TURN_WAIT_MS) is not proposed on a later state than the one it answered: Alice moved by hand meanwhile and Bob answered', { timeout: 30_000 }, async () => {
    const { x } = await twoChannels('turn-late-stale')
    const [xa, xb] = x.channels as [Channel, Channel]
    const errors: { code?: string }[] = []
    const offs = [xa.on('error', (e) => errors.push(e.error as { code?: string }))]
    try {
      await xa.propose(ADD_ONE)
      await xb.waitFinal(1n)
      let release!: (d: Hex) => void
      let calls = 0
      offs.push(xa.onTurn(() => (++calls === 1 ? new Promise<Hex>((r) => (release = r)) : undefined)))
      offs.push(xb.onTurn(() => ADD_ONE))
      await xb.propose(ADD_ONE) // seq 2: Alice's turn; her handler is slow
      await sleep(TURN_WAIT_MS + 100)
      await settle(x.hub, x.channels)
      assert.deepEqual([xa.state.seq, xa.state.isMyTurn], [2n, true], 'the input ended without her move')
      await xa.propose(ADD_ONE) // seq 3, by hand (a fallback); Bob answers seq 4; her handler makes no move
      await xa.waitFinal(4n)
      await settle(x.hub, x.channels)
      assert.deepEqual([xa.state.seq, xa.state.isMyTurn], [4n, true])
      release(abi.encode(['uint64'], [7]) as Hex) // the answer to seq 2 comes now
      await sleep(100)
      await settle(x.hub, x.channels)
      assert.equal(xa.state.seq, 4n, 'the answer to seq 2 is not made at seq 5')
      assert.ok(errors.some((e) => e.code === 'TURN_ANSWER_STALE'), `reported (${errors.map((e) => e.code).join(', ')})`)
    } finally {
      offs.forEach((off) => off())
    }
  })
})

