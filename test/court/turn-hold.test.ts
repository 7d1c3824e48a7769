/**
 * The court acting while a turn handler holds a commit open (Channel.onTurn, Store.hold;
 * docs/protocol.md §7.12), end to end on anvil with SQLite: Alice (honest, court attached) and
 * Mallory (byzantine), N = 2. Mallory's move makes it Alice's turn; her confirmation makes it
 * final in Alice's memory inside the hold, while her handler takes its time. Mallory force-closes
 * from the opening state at that moment. Every transaction Alice's node is sent is checked as it
 * arrives: each of Alice's signatures in it must already be committed in her file (a second
 * connection sees only committed data). Required: her court answers with the latest final state
 * and she is paid exactly; the manager stays solvent.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { JsonRpcProvider, Transaction as EthTx, type Wallet } from 'ethers'
import { startAnvil } from '../../src/chain/anvil.js'
import { NO_DISPUTE } from '../../src/chain/ManagerClient.js'
import { deployLocalStack } from '../../src/chain/stack.js'
import { DisputeKind, type Hex, type PackedSignedTransaction } from '../../src/protocol/types.js'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import { ALICE, assertRemovedEnding, heldTx, scene, settledAfter, type SceneContext } from '../helpers/attackPlay.js'
import { ETH1, move, pay } from '../helpers/courtPeers.js'

const MALLORY = 1
let ctx: SceneContext
let wallets: Wallet[]
let dir: string
before(async () => {
  const anvil = await startAnvil({ accounts: 3 })
  const stack = await deployLocalStack(anvil.wallets[0]!)
  ctx = { anvil, stack, hasher: await stack.manager.hasher() }
  wallets = anvil.wallets.slice(1, 3)
  dir = mkdtempSync(join(tmpdir(), 'parley-turn-hold-court-'))
})
after(async () => {
  await ctx.anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Alice's node: checks, before passing a transaction on, that every signature of hers it carries is committed in her file. */
class CheckedNode extends JsonRpcProvider {
  file: string | undefined
  channelId: Hex | undefined
  readonly seen: string[] = []
  readonly uncommitted: string[] = []
  checked = 0
  constructor(url: string) {
    super(url, undefined, { staticNetwork: true, cacheTimeout: -1 })
  }

  override async send(method: string, params: unknown[] | Record<string, unknown>): Promise<unknown> {
    if (method === 'eth_sendRawTransaction' && this.file) this.check((params as string[])[0]!)
    return super.send(method, params as unknown[])
  }

  private check(raw: string): void {
    const call = ctx.stack.manager.contract.interface.parseTransaction({ data: EthTx.from(raw).data })
    if (!call) return
    this.seen.push(call.name)
    const lists = call.fragment.inputs.flatMap((input, k) => (input.type === 'tuple[]' ? [call.args[k] as PackedSignedTransaction[]] : []))
    const db = new Database(this.file!, { readonly: true })
    try {
      for (const list of lists) {
        for (const e of list) {
          const seq = BigInt(e.transaction.seq)
          this.checked++
          if (!db.prepare("SELECT 1 FROM own_signatures WHERE channel_id = ? AND kind = 'tx' AND fork = ? AND seq = ?").get(this.channelId, BigInt(e.transaction.fork), seq)) {
            this.uncommitted.push(`${call.name}: seq ${seq} before Alice's signature on it was committed`)
          }
        }
      }
    } finally {
      db.close()
    }
  }
}

describe('the court during a held turn (SQLite, anvil)', () => {
  test('Mallory force-closes from the opening state while Alice\'s turn handler holds the commit of Mallory\'s move open: Alice\'s court answers with that move, final, with nothing of hers uncommitted on the wire; exact payouts, solvent', { timeout: 60_000 }, async () => {
    const node = new CheckedNode(ctx.anvil.url)
    const s = await scene(ctx, wallets, 'turn-hold-court', { honest: [ALICE], sqliteDir: dir, rpc: (i) => (i === ALICE ? node : undefined), listener: { retry: { maxMs: 200 } } })
    const [alice, mallory] = [s.c.roles[ALICE]!, s.c.roles[MALLORY]!]
    try {
      node.file = (alice.store as SqliteStore).path
      node.channelId = s.c.channelId
      const one = await move(alice.channel, pay(MALLORY, s.m.pay(ALICE, MALLORY, ETH1 / 10n)), [mallory.channel])
      await alice.channel.waitFinal(one)
      // Alice's bot answers Mallory's moves, slowly (within TURN_WAIT_MS: the answer stays in the hold).
      let entered!: () => void
      const inHandler = new Promise<void>((r) => (entered = r))
      alice.channel.onTurn(async () => (entered(), await new Promise((r) => setTimeout(r, 200)), undefined))
      const answered = alice.court!.next('answered')
      // Mallory pays Alice 1 ETH (seq 2): final at Alice's the moment she confirms it, in the hold.
      const paid = s.m.pay(MALLORY, ALICE, ETH1)
      const genesis = alice.court!.chain.genesis
      await mallory.channel.propose(pay(ALICE, paid))
      // At once (no estimate), while Alice's handler runs: her court learns of it inside the hold.
      await s.mallory.call('exit', [NO_DISPUTE, [], false, genesis.state], 'direct', { gasLimit: 12_000_000n })
      await inHandler
      const got = await answered
      assert.deepEqual([got.record.kind, got.record.seq], [DisputeKind.ForceClose, 2n], 'answered with Mallory\'s payment, final')
      assert.ok(heldTx(s, 2n))
      await settledAfter(ctx, s, got.record.deadline)
      assert.ok(node.seen.includes('answer'), `Alice's node saw her answer (${node.seen.join(', ')})`)
      assert.ok(node.checked > 0, 'the answer\'s finality proof was checked')
      assert.deepEqual(node.uncommitted, [], 'no signature of Alice\'s reached the chain before it was committed')
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
      node.destroy()
    }
  })
})
