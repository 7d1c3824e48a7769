/**
 * Durable commits per transaction and peer (issue 14): a peer commits what its signature needs —
 * the transaction it accepts or proposes with its signature — and every peer signature that
 * arrived meanwhile goes into that same commit. The count is deterministic (the in-memory hub
 * delivers in order on the next macrotask), so grouping cannot regress silently: before it, a
 * peer committed N − 0.5 times per transaction (each confirmation on its own). And what the
 * count leaves out must not be lost: every signature a peer holds is in its store once idle.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AbiCoder } from 'ethers'
import { startAnvil, type Anvil } from '../chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../chain/stack.js'
import type { Hex } from '../protocol/types.js'
import { SqliteStore } from '../store/SqliteStore.js'
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
