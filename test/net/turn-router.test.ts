/**
 * The router attack of src/channel/turn-attacks.test.ts over the real stack (HyperswarmTransport
 * on a local HyperDHT testnet, SQLite): Alice's turn handler on channel X moves on channel Y,
 * both channels on one SqliteStore per peer. Every message Alice's transports send is checked
 * as it leaves with a second connection to her file: what it carries must be committed there
 * (before Store.apart, Y's moves left from inside X's open hold, uncommitted).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import type { Hex } from '../../src/protocol/types.js'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import type { Message } from '../../src/transport/messages.js'
import type { Transport } from '../../src/transport/Transport.js'
import { startTestnet, type Testnet } from '../helpers/net.js'
import { inc, openNetPeers, type NetPeers } from '../helpers/netpeers.js'

let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let testnet: Testnet
let dir: string
const opened: NetPeers[] = []
const stores: SqliteStore[] = []

before(async () => {
  ;[anvil, testnet] = await Promise.all([startAnvil({ accounts: 3 }), startTestnet()])
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  dir = mkdtempSync(join(tmpdir(), 'parley-net-router-'))
})
after(async () => {
  await Promise.allSettled(opened.map((p) => p.close()))
  for (const s of stores) s.close()
  await testnet.destroy()
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Wraps `transport` so that each message it sends is checked against `file` (committed data only) first. */
function checked(transport: Transport, channelId: Hex, file: string, label: string, unsaved: string[]): () => void {
  const db = new Database(file, { readonly: true })
  const check = (m: Message) => {
    if (m.type === 'tx' && !db.prepare('SELECT 1 FROM txs WHERE channel_id = ? AND fork = ? AND seq = ?').get(channelId, m.transaction.fork, m.transaction.seq)) {
      unsaved.push(`${label}: tx ${m.transaction.seq} sent before it was committed`)
    }
    if (m.type === 'confirm' && !db.prepare("SELECT 1 FROM own_signatures WHERE channel_id = ? AND kind = 'tx' AND fork = ? AND seq = ?").get(channelId, m.fork, m.seq)) {
      unsaved.push(`${label}: confirmation of ${m.seq} sent before it was committed`)
    }
  }
  const [broadcast, send] = [transport.broadcast.bind(transport), transport.send.bind(transport)]
  transport.broadcast = (m: Message) => (check(m), broadcast(m))
  transport.send = (to: number, m: Message) => (check(m), send(to, m))
  return () => db.close()
}

describe('a router turn handler over hyperswarm (one SqliteStore per peer under two channels)', () => {
  it('Alice, paid on X, pays on Y from inside her X answer: every message she sends on either channel is committed first', { timeout: 60_000 }, async () => {
    const shared = [0, 1].map((i) => new SqliteStore(join(dir, `peer${i}.db`)))
    stores.push(...shared)
    const open = async (label: string) => {
      const p = await openNetPeers({ anvil, stack, hasher, testnet, wallets: anvil.wallets.slice(1, 3), label: `${label}-${Date.now()}`, stores: shared })
      opened.push(p)
      return p
    }
    const [x, y] = [await open('router-x'), await open('router-y')]
    const [xa, xb, ya, yb] = [x.peers[0]!.channel, x.peers[1]!.channel, y.peers[0]!.channel, y.peers[1]!.channel]
    const unsaved: string[] = []
    const closers = [checked(x.peers[0]!.transport, x.channelId, shared[0]!.path, 'X', unsaved), checked(y.peers[0]!.transport, y.channelId, shared[0]!.path, 'Y', unsaved)]
    const errors: unknown[] = []
    const ROUNDS = 3n
    const offs = [
      ...[xa, xb, ya, yb].map((c) => c.on('error', (e) => errors.push(e.error))),
      xb.onTurn((s) => (s.seq < 2n * ROUNDS ? inc() : undefined)),
      yb.onTurn(() => inc()),
      xa.onTurn(async (s) => {
        if (ya.state.isMyTurn) await ya.propose(inc())
        await sleep(60) // within TURN_WAIT_MS: X's answer is still in the hold
        return s.seq < 2n * ROUNDS ? inc() : undefined
      }),
    ]
    try {
      await xa.propose(inc())
      await xb.waitFinal(2n * ROUNDS)
      await yb.waitFinal(2n * ROUNDS - 1n)
      assert.deepEqual(errors, [])
      assert.deepEqual(unsaved, [], 'nothing Alice sent was uncommitted in her file')
    } finally {
      offs.forEach((off) => off())
      closers.forEach((c) => c())
    }
  })
})
