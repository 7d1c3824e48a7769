/**
 * Funding under reorganisations and restarts (issue 12's `fund` against issue 11's chain
 * reality): a reorg that drops or reorders `fund` transactions must never let one participant's
 * money cover another's share, nor let a replayed funding count twice; the client's `fundShare`
 * after the reorg funds exactly what the chain now misses; a client that dies after sending and
 * funds again before the first is mined funds once; an open taken away by a reorg leaves the
 * funding where it was (open again, or reclaim after the deadline). `anvil_reorg` replaces the
 * latest blocks, putting back the signed transactions it is given. Each case was checked to fail
 * with `fund`'s expected-held check removed (all but the dropped-open one, which does not rely on it).
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Transaction, type Contract, type Wallet } from 'ethers'
import { setup, snapshot, makeParams, signOpen, atTime, type Fixture } from '../helpers/fixture.js'
import { assertSolvent } from '../helpers/solvency.js'
import { ManagerClient } from '../../src/chain/ManagerClient.js'
import { shareOf } from '../../src/protocol/funding.js'
import { shortfalls } from '../../src/peer/openChannel.js'
import { ETH, Phase, type ChannelParams, type Hex } from '../../src/protocol/types.js'

let f: Fixture
let restore: () => Promise<void>
let ws: Wallet[]
let outsider: Wallet
let counter: Hex

before(async () => {
  f = await setup(6)
  ws = f.wallets.slice(1, 3)
  outsider = f.wallets[5]!
  counter = (await f.counter.getAddress()).toLowerCase() as Hex
})
after(() => f.stop())
beforeEach(async () => (restore = await snapshot(f)))
afterEach(() => restore())

const client = async (w: Wallet) => new ManagerClient((await f.manager.getAddress()) as Hex, w)
const held = async (id: Hex) => ((await f.manager.getFunction('funding')(id)) as [bigint, string, bigint, string])[0]
const ethOf = (w: Wallet) => f.anvil.provider.getBalance(w.address)
/** The signed transaction of `hash`, to put back into a replacement block. */
const rawOf = async (hash: string) => Transaction.from((await f.anvil.provider.getTransaction(hash))!).serialized
/** Gas paid by the transaction `hash` (wherever it is mined now). */
const gasPaid = async (hash: string) => {
  const r = (await f.anvil.provider.getTransactionReceipt(hash))!
  return r.gasUsed * r.gasPrice
}
const params = (): ChannelParams => makeParams(ws, counter, { deposits: [3n * 10n ** 17n, 5n * 10n ** 17n], bond: 10n ** 16n })

describe('funding under reorganisations and restarts', () => {
  test('a reorg drops Alice\'s funding and keeps Bob\'s: Bob\'s, expecting Alice\'s share funded, reverts in the new chain instead of covering her share; both fund again and the open locks exactly the shares', async () => {
    const p = params()
    const id = f.hasher.channelId(p)
    const [alice, bob] = [await client(ws[0]!), await client(ws[1]!)]
    await alice.fundShare(p, 0)
    // Bob funds his share expecting Alice's funded (what fundShare sends), with gas to spare: in
    // the new chain it must revert for the order, not run out of gas on a slot written fresh.
    const share = (i: number) => shareOf(p, i)
    const sent = await (f.manager.connect(ws[1]!) as Contract).getFunction('fund')(id, ETH, share(0), share(1), { value: share(1), gasLimit: 300_000 })
    const bobFund = (await sent.wait())!
    const head = await f.anvil.provider.getBlockNumber()
    assert.equal(await held(id), shareOf(p, 0) + shareOf(p, 1))
    const bobBefore = (await ethOf(ws[1]!)) + (await gasPaid(bobFund.hash)) + shareOf(p, 1)

    // The two blocks replaced by one holding only Bob's signed funding.
    await f.anvil.provider.send('anvil_reorg', [2, [[await rawOf(bobFund.hash), 0]]])
    assert.equal(await f.anvil.provider.getBlockNumber(), head, 'the two blocks replaced, none added')
    const replayed = (await f.anvil.provider.getTransactionReceipt(bobFund.hash))!
    assert.equal(replayed.status, 0, 'Bob\'s funding, expecting Alice\'s share, reverts (FundingMoved) on a channel holding nothing')
    assert.ok(replayed.gasUsed < 100_000n, `reverted by the check, not out of gas (${replayed.gasUsed} used)`)
    assert.equal(await held(id), 0n, 'nothing counts as Alice\'s share')
    assert.equal(await ethOf(ws[1]!), bobBefore - (await gasPaid(bobFund.hash)), 'Bob paid gas only')
    assert.deepEqual((await shortfalls(alice, id, p)).map((s) => s.participant), [0, 1])

    // The clients fund what the chain now misses, in order; the open takes nothing from balances.
    await assert.rejects(bob.fundShare(p, 1), (e: { code?: string }) => e.code === 'FUNDING_ORDER', 'Bob waits for Alice')
    await alice.fundShare(p, 0)
    await bob.fundShare(p, 1)
    assert.deepEqual(await shortfalls(alice, id, p), [])
    await (await (f.manager.connect(outsider) as Contract).getFunction('open')(p, signOpen(f, ws, p))).wait()
    assert.equal((await alice.getChannel(id)).phase, Phase.Open)
    const [locked] = (await f.manager.getFunction('funding')(id)) as [bigint]
    assert.equal(locked, p.deposits.reduce((a, b) => a + b, 0n), 'locked: the deposits, each once')
    await assertSolvent(f, [ETH])
  })

  test('a funding dropped by a reorg and sent again counts once, whatever comes back: the old signed transaction put back after the new one reverts or is refused', async () => {
    const p = params()
    const id = f.hasher.channelId(p)
    const alice = await client(ws[0]!)
    const first = (await alice.fundShare(p, 0))!
    const raw = await rawOf(first.hash)
    await f.anvil.provider.send('anvil_reorg', [1, []])
    assert.equal(await held(id), 0n, 'the funding went with its block')
    // Alice's client sees the shortfall and funds again (the same nonce: the same slot of her account).
    const again = (await alice.fundShare(p, 0))!
    assert.equal(await held(id), shareOf(p, 0))
    // Whoever replays the first signed funding: refused by the node (nonce used) or reverted (FundingMoved).
    const replay = await f.anvil.provider.send('eth_sendRawTransaction', [raw]).then(
      async (hash: string) => {
        await f.anvil.provider.send('evm_mine', [])
        return (await f.anvil.provider.getTransactionReceipt(hash))?.status ?? 'dropped'
      },
      (e: Error) => `refused: ${e.message.slice(0, 60)}`,
    )
    assert.ok(replay !== 1 || first.hash === again.hash, `the replay did not fund twice (${String(replay)})`)
    assert.equal(await held(id), shareOf(p, 0), 'Alice\'s share, once')
    await assertSolvent(f, [ETH])
  })

  test('a funding sent, then sent again by a client restarted before the first was mined, counts once: the second expects what the first already moved and reverts', async () => {
    const p = params()
    const id = f.hasher.channelId(p)
    await f.anvil.provider.send('evm_setAutomine', [false])
    try {
      const pending = async () => ((await f.anvil.provider.send('txpool_content', [])) as { pending: Record<string, unknown> }).pending
      // The first process sends and dies before the receipt (its promise is never looked at again).
      const first = (await client(ws[0]!)).fundShare(p, 0)
      while (Object.keys(await pending()).length === 0) await new Promise((r) => setTimeout(r, 20))
      // The restarted client read the chain before (nothing mined: it misses the whole share) and
      // funds again with what it read, with its own gas limit (no estimate that would see the first).
      const again = await (f.manager.connect(ws[0]!) as Contract).getFunction('fund')(id, ETH, 0n, shareOf(p, 0), { value: shareOf(p, 0), gasLimit: 300_000 })
      await f.anvil.provider.send('evm_mine', [])
      assert.ok(await first, 'the first funding mined')
      const retried = (await f.anvil.provider.getTransactionReceipt(again.hash))!
      assert.equal(retried.status, 0, 'the retry expects 0 held, finds the first funding, and reverts (FundingMoved)')
      assert.ok(retried.gasUsed < 100_000n, `reverted by the check, not out of gas (${retried.gasUsed} used)`)
      assert.equal(await held(id), shareOf(p, 0), 'Alice\'s share, once')
    } finally {
      await f.anvil.provider.send('evm_setAutomine', [true])
    }
    await assertSolvent(f, [ETH])
  })

  test('an open taken away by a reorg leaves the funding held: the open goes through again, or the participants reclaim after its deadline', async () => {
    const p = { ...params(), openDeadline: BigInt((await f.anvil.provider.getBlock('latest'))!.timestamp) + 3_600n }
    const id = f.hasher.channelId(p)
    const [alice, bob] = [await client(ws[0]!), await client(ws[1]!)]
    await alice.fundShare(p, 0)
    await bob.fundShare(p, 1)
    const funded = await held(id)
    const open = await (await (f.manager.connect(outsider) as Contract).getFunction('open')(p, signOpen(f, ws, p))).wait()
    const raw = await rawOf(open!.hash)
    await f.anvil.provider.send('anvil_reorg', [1, []])
    assert.equal((await alice.getChannel(id)).phase, Phase.None, 'not open any more')
    assert.equal(await held(id), funded, 'the funding is held as before the open')

    // Put back: the same signed open opens the same channel.
    const snap = await f.anvil.provider.send('evm_snapshot', [])
    await f.anvil.provider.send('eth_sendRawTransaction', [raw])
    await f.anvil.provider.send('evm_mine', [])
    assert.equal((await alice.getChannel(id)).phase, Phase.Open)
    await assertSolvent(f, [ETH])
    await f.anvil.provider.send('evm_revert', [snap])

    // Never put back: after the open deadline the participants take their funding back.
    const inManager = () => Promise.all(ws.map((w) => f.manager.getFunction('balanceOf')(w.address, ETH) as Promise<bigint>))
    const before = await inManager()
    await atTime(f, p.openDeadline + 1n)
    await f.anvil.provider.send('evm_mine', [])
    const { credits } = await alice.reclaim(p)
    assert.equal(credits.length, 2)
    const after = await inManager()
    assert.deepEqual(after.map((b, i) => b - before[i]!), [shareOf(p, 0), shareOf(p, 1)], 'each participant credited its own share')
    assert.equal(await held(id), 0n)
    await assertSolvent(f, [ETH])
  })
})
