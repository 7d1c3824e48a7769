/**
 * fund / funding / reclaim, and open from a channel's funding: ordered funding, the open taking
 * nothing from balances when the funding covers every share, funding and balances mixed,
 * surplus joining the locked deposits, a griefer's funding changing nothing for the others,
 * reclaim only once the funds can no longer be used, ERC-20 funding, and solvency throughout;
 * then funding under reorganisations and restarts (the last describe).
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Contract, Transaction, type Log, type TransactionReceipt, type Wallet } from 'ethers'
import { setup, snapshot, makeParams, fund as depositAll, signOpen, atTime, chainNow, type Fixture } from '../helpers/fixture.js'
import { expectEvents, expectRevert } from '../helpers/revert.js'
import { join, signEach } from '../helpers/sigs.js'
import { assertSolvent } from '../helpers/solvency.js'
import { ManagerClient } from '../../src/chain/ManagerClient.js'
import { shortfalls } from '../../src/peer/openChannel.js'
import { hashState } from '../../src/protocol/eip712.js'
import { fundingBefore, fundingCoverage, shareOf } from '../../src/protocol/funding.js'
import { ETH, Phase, type ChannelParams, type Hex } from '../../src/protocol/types.js'

let f: Fixture
let restore: () => Promise<void>
let ws: Wallet[]
let outsider: Wallet
let counter: Hex

before(async () => {
  f = await setup(6)
  ws = f.wallets.slice(1, 4)
  outsider = f.wallets[5]!
  counter = (await f.counter.getAddress()).toLowerCase() as Hex
})
after(() => f.stop())
beforeEach(async () => (restore = await snapshot(f)))
afterEach(() => restore())

const m = (w: Wallet) => f.manager.connect(w) as Contract
const held = async (id: Hex) => ((await f.manager.getFunction('funding')(id)) as [bigint, string, bigint, string])[0]
const balances = (p: ChannelParams, asset: Hex = p.asset) => Promise.all(p.participants.map((a) => f.manager.getFunction('balanceOf')(a, asset) as Promise<bigint>))
const fundEth = async (w: Wallet, id: Hex, expected: bigint, amount: bigint) =>
  (await (await m(w).getFunction('fund')(id, ETH, expected, amount, { value: amount })).wait())!
/** Every participant funds its own share, in order. */
const fundAll = async (p: ChannelParams) => {
  const id = f.hasher.channelId(p)
  for (const [i, w] of ws.entries()) await fundEth(w, id, fundingBefore(p, i), shareOf(p, i))
  return id
}
/** Mines a block at `t`: the chain's time is then `t`. */
const passTo = async (t: bigint) => {
  await atTime(f, t)
  await f.anvil.provider.send('evm_mine', [])
}
const openTx = async (p: ChannelParams, by: Wallet = outsider) => (await (await m(by).getFunction('open')(p, signOpen(f, ws, p))).wait())!

describe('fund', () => {
  test('participants fund in order; Funded carries the amount and what is held', async () => {
    const p = makeParams(ws, counter, { deposits: [3n, 5n, 7n], bond: 2n })
    const id = f.hasher.channelId(p)
    const r0 = await fundEth(ws[0]!, id, 0n, 5n)
    expectEvents(r0, f.manager, 'Funded', [[id, ETH, 5n, 5n]])
    await fundEth(ws[1]!, id, 5n, 7n)
    assert.equal(await held(id), 12n)
    // A transaction that lost a race (expects 5, finds 12) reverts instead of filling another share.
    await expectRevert(m(ws[2]!).getFunction('fund').staticCall(id, ETH, 5n, 9n, { value: 9n }), 'FundingMoved', [5n, 12n])
    await expectRevert(m(ws[2]!).getFunction('fund').staticCall(id, ETH, 12n, 0n), 'BalanceAmountZero')
    await expectRevert(m(ws[2]!).getFunction('fund').staticCall(id, ETH, 12n, 9n, { value: 8n }), 'BalanceValueMismatch', [8n, 9n])
    await fundEth(ws[2]!, id, 12n, 9n)
    assert.equal(await held(id), 21n)
    await assertSolvent(f)
  })

  test('an open channel takes no funding', async () => {
    const p = makeParams(ws, counter, { deposits: [1n, 1n, 1n] })
    const id = await fundAll(p)
    await openTx(p)
    await expectRevert(m(ws[0]!).getFunction('fund').staticCall(id, ETH, 3n, 1n, { value: 1n }), 'ChannelExists', [id])
  })
})

describe('open from funding', () => {
  test('fully funded: nothing taken from balances, the record and the locked funds as with deposits', async () => {
    const p = makeParams(ws, counter, { deposits: [3n, 5n, 7n], bond: 2n })
    // Balances the open must not touch.
    await depositAll(f, ws, p)
    const before = await balances(p)
    const id = await fundAll(p)
    const receipt = await openTx(p)
    const ch = await f.manager.getFunction('getChannel')(id)
    assert.deepEqual([Number(ch.phase), ch.locked, ch.bond], [Phase.Open, 15n, 2n])
    const opened = (receipt as TransactionReceipt).logs.map((l: Log) => f.manager.interface.parseLog(l)).find((e) => e?.name === 'ChannelOpened')!
    assert.deepEqual([opened.args.channelId, opened.args.record.locked, opened.args.record.bond], [id, 15n, 2n], 'ChannelOpened carries the record')
    assert.deepEqual(await balances(p), before)
    assert.equal(await held(id), 0n, 'funding() of an open channel is 0: the locked amount is in its record')
    await assertSolvent(f)
  })

  test('partly funded: the funding covers shares in order, the balances the rest', async () => {
    const p = makeParams(ws, counter, { deposits: [3n, 5n, 7n], bond: 2n })
    const id = f.hasher.channelId(p)
    // Participant 0's share (5) and 4 of participant 1's (7).
    await fundEth(ws[0]!, id, 0n, 9n)
    assert.deepEqual(fundingCoverage(p, 9n), { covered: [5n, 4n, 0n], surplus: 0n })
    // Balances: participant 1 needs 3 more, participant 2 its whole share 9.
    for (const [i, amount] of [[1, 3n], [2, 9n]] as const) {
      await (await m(ws[i]!).getFunction('deposit')(ETH, ws[i]!.address, amount, { value: amount })).wait()
    }
    await openTx(p)
    const ch = await f.manager.getFunction('getChannel')(id)
    assert.deepEqual([Number(ch.phase), ch.locked, ch.bond], [Phase.Open, 15n, 2n])
    assert.deepEqual(await balances(p), [0n, 0n, 0n])
    await assertSolvent(f)
  })

  test('partly funded and a balance short: all or nothing (BalanceInsufficient names what is missing)', async () => {
    const p = makeParams(ws, counter, { deposits: [3n, 5n, 7n], bond: 2n })
    const id = f.hasher.channelId(p)
    await fundEth(ws[0]!, id, 0n, 12n)
    await expectRevert(m(outsider).getFunction('open').staticCall(p, signOpen(f, ws, p)), 'BalanceInsufficient', [p.participants[2], ETH, 0n, 9n])
    assert.equal(await held(id), 12n)
  })

  test('surplus funding joins the locked deposits and is shared at the close like any remainder', async () => {
    const p = makeParams(ws, counter, { deposits: [3n, 5n, 7n] })
    const id = await fundAll(p)
    // Someone funds 7 more than every share (a gift; nobody's share changes).
    await fundEth(outsider, id, 15n, 7n)
    await openTx(p)
    assert.equal((await f.manager.getFunction('getChannel')(id)).locked, 22n)
    await expectRevert(m(outsider).getFunction('open').staticCall(p, signOpen(f, ws, p)), 'ChannelExists', [id])
    // Close from the genesis: the outcome pays the deposits, the remainder 7 is split 3/2/2.
    const genesis = (await f.counter.getFunction('initialState')(p.deposits, p.initData)) as Hex
    const sigs = join(signEach(ws, f.hasher.close(id, 0n, hashState(genesis), p.deposits)))
    await (await f.manager.getFunction('close')(id, hashState(genesis), p.deposits, [], sigs)).wait()
    assert.deepEqual(await balances(p), [6n, 7n, 9n])
    await assertSolvent(f)
  })

  test("a griefer's funding before the participants changes nothing they lose: the open still goes through", async () => {
    const p = makeParams(ws, counter, { deposits: [3n, 5n, 7n] })
    const id = f.hasher.channelId(p)
    await fundEth(outsider, id, 0n, 1n)
    await depositAll(f, ws, p)
    await openTx(p)
    // Participant 0's share was covered by 1 wei of the griefer's: its balance keeps it.
    assert.deepEqual(await balances(p), [1n, 0n, 0n])
    assert.equal((await f.manager.getFunction('getChannel')(id)).locked, 15n)
    await assertSolvent(f)
  })
})

describe('funding in one asset', () => {
  const mintAndApprove = async (w: Wallet, amount: bigint) => {
    await (await (f.token.connect(w) as Contract).getFunction('mint')(w.address, amount)).wait()
    await (await (f.token.connect(w) as Contract).getFunction('approve')(await f.manager.getAddress(), amount)).wait()
  }

  test('a second asset is refused (FundingAssetMismatch): amounts in two assets never add up', async () => {
    const token = (await f.token.getAddress()).toLowerCase() as Hex
    const p = makeParams(ws, counter, { deposits: [5n, 5n, 5n] })
    const id = f.hasher.channelId(p)
    await mintAndApprove(outsider, 5n)
    await (await m(outsider).getFunction('fund')(id, token, 0n, 5n)).wait()
    await expectRevert(m(ws[1]!).getFunction('fund').staticCall(id, ETH, 5n, 5n, { value: 5n }), 'FundingAssetMismatch', [token, ETH])
    assert.deepEqual([...(await f.manager.getFunction('funding')(id))].slice(0, 2), [5n, await f.token.getAddress()])
  })

  test("funding in another asset than the channel's is set aside by the open (covering nothing), and reclaim returns it in funding order", async () => {
    const token = (await f.token.getAddress()).toLowerCase() as Hex
    const p = makeParams(ws, counter, { deposits: [3n, 3n, 3n] })
    const id = f.hasher.channelId(p)
    // A griefer funds 10 of a token into an ETH channel: the participants deposit into balances.
    await mintAndApprove(outsider, 10n)
    await (await m(outsider).getFunction('fund')(id, token, 0n, 10n)).wait()
    await depositAll(f, ws, p)
    const receipt = await openTx(p)
    expectEvents(receipt, f.manager, 'FundingSetAside', [[id, token, 10n]])
    assert.deepEqual(await balances(p), [0n, 0n, 0n])
    const opened = await f.manager.getFunction('getChannel')(id)
    assert.deepEqual([Number(opened.phase), opened.locked, await held(id)], [Phase.Open, 9n, 0n])
    await assertSolvent(f)
    const back = (await (await m(outsider).getFunction('reclaim')(p)).wait())!
    expectEvents(back, f.manager, 'FundsReclaimed', [[id, token, 10n]])
    // The shares 3, 3, 3 in order, then 1 beyond them to participant 0.
    assert.deepEqual(await balances(p, token), [4n, 3n, 3n])
    await expectRevert(m(outsider).getFunction('reclaim').staticCall(p), 'FundsNone', [id])
    await assertSolvent(f)
  })

  test('a junk funding costs the open one slot, not one credit per participant', async () => {
    const token = (await f.token.getAddress()).toLowerCase() as Hex
    const gasOf = async (junk: boolean) => {
      const p = makeParams(ws, counter, { deposits: [3n, 3n, 3n] })
      if (junk) {
        await mintAndApprove(outsider, 10n)
        await (await m(outsider).getFunction('fund')(f.hasher.channelId(p), token, 0n, 10n)).wait()
      }
      await depositAll(f, ws, p)
      return (await openTx(p)).gasUsed
    }
    const clean = await gasOf(false)
    const junk = await gasOf(true)
    // One fresh slot (22,100) and an event; n credits would be ≥ 3 × 22,100 more.
    assert.ok(junk - clean < 30_000n, `a junk funding made the open cost ${junk - clean} more`)
  })

  test('funding stays below 2^94 (its asset and the phase bits share the word): ChannelAmountTooLarge', async () => {
    const token = (await f.token.getAddress()).toLowerCase() as Hex
    const p = makeParams(ws, counter, { deposits: [1n, 1n, 1n] })
    const id = f.hasher.channelId(p)
    const big = 1n << 94n
    await mintAndApprove(outsider, big)
    await expectRevert(m(outsider).getFunction('fund').staticCall(id, token, 0n, big), 'ChannelAmountTooLarge')
    await (await m(outsider).getFunction('fund')(id, token, 0n, big - 1n)).wait()
    assert.equal(await held(id), big - 1n)
  })
})

describe('reclaim', () => {
  test('before openDeadline the funds may still open the channel: FundsInUse; after, credited in funding order', async () => {
    const now = await chainNow(f)
    const p = makeParams(ws, counter, { deposits: [3n, 5n, 7n], bond: 2n, openDeadline: now + 100n })
    const id = f.hasher.channelId(p)
    await fundEth(ws[0]!, id, 0n, 5n)
    await fundEth(ws[1]!, id, 5n, 4n) // participant 1 funded only part of its share, then gave up
    await expectRevert(m(outsider).getFunction('reclaim').staticCall(p), 'FundsInUse', [id])
    await passTo(now + 101n)
    await expectRevert(m(outsider).getFunction('open').staticCall(p, signOpen(f, ws, p)), 'ChannelConsentExpired')
    const receipt = (await (await m(outsider).getFunction('reclaim')(p)).wait())!
    expectEvents(receipt, f.manager, 'FundsReclaimed', [[id, ETH, 9n]])
    expectEvents(receipt, f.manager, 'Credited', [[id, p.participants[0], ETH, 5n], [id, p.participants[1], ETH, 4n]])
    assert.deepEqual(await balances(p), [5n, 4n, 0n])
    assert.equal(await held(id), 0n)
    await expectRevert(m(outsider).getFunction('reclaim').staticCall(p), 'FundsNone', [id])
    await assertSolvent(f)
  })

  test('funding beyond every share is split equally, dust to participant 0', async () => {
    const now = await chainNow(f)
    const p = makeParams(ws, counter, { deposits: [1n, 1n, 1n], openDeadline: now + 50n })
    const id = await fundAll(p)
    await fundEth(outsider, id, 3n, 8n)
    await passTo(now + 51n)
    await (await m(outsider).getFunction('reclaim')(p)).wait()
    // 8 = 2 + 3 + 3: participant 0 gets 1 + 4 (3 each, dust 2 to participant 0), the others 1 + 2.
    assert.deepEqual(await balances(p), [1n + 4n, 1n + 2n, 1n + 2n])
    await assertSolvent(f)
  })

  test('an open channel: its funding is locked, not reclaimable', async () => {
    const p = makeParams(ws, counter, { deposits: [1n, 1n, 1n] })
    const id = await fundAll(p)
    await openTx(p)
    await expectRevert(m(outsider).getFunction('reclaim').staticCall(p), 'FundsNone', [id])
    assert.equal((await f.manager.getFunction('getChannel')(id)).locked, 3n)
  })

  test('params that are not a channel\'s cannot reclaim its funds (the id is their digest)', async () => {
    const now = await chainNow(f)
    const p = makeParams(ws, counter, { deposits: [1n, 1n, 1n], openDeadline: now + 10n })
    await fundAll(p)
    await passTo(now + 11n)
    const other = { ...p, participants: [outsider.address.toLowerCase() as Hex, ...p.participants.slice(1)] }
    await expectRevert(m(outsider).getFunction('reclaim').staticCall(other), 'FundsNone')
  })
})

test('ERC-20 funding: fund from an approval, open, close, withdraw — exact and solvent', async () => {
  const token = (await f.token.getAddress()).toLowerCase() as Hex
  const p = makeParams(ws, counter, { asset: token, deposits: [4n, 6n, 8n], bond: 1n })
  const id = f.hasher.channelId(p)
  for (const [i, w] of ws.entries()) {
    const t = f.token.connect(w) as Contract
    await (await t.getFunction('mint')(w.address, shareOf(p, i))).wait()
    await (await t.getFunction('approve')(await f.manager.getAddress(), shareOf(p, i))).wait()
    await (await m(w).getFunction('fund')(id, token, fundingBefore(p, i), shareOf(p, i))).wait()
  }
  await expectRevert(m(ws[0]!).getFunction('fund').staticCall(id, token, 21n, 1n, { value: 1n }), 'BalanceValueMismatch', [1n, 0n])
  await openTx(p)
  const genesis = (await f.counter.getFunction('initialState')(p.deposits, p.initData)) as Hex
  await (await f.manager.getFunction('close')(id, hashState(genesis), p.deposits, [], join(signEach(ws, f.hasher.close(id, 0n, hashState(genesis), p.deposits))))).wait()
  assert.deepEqual(await balances(p), [5n, 7n, 9n])
  await assertSolvent(f)
})

/*
 * Funding under reorganisations and restarts (issue 12's `fund` against issue 11's chain
 * reality), for Alice and Bob (the first two wallets): a reorg that drops or reorders `fund`
 * transactions must never let one participant's money cover another's share, nor let a replayed
 * funding count twice; the client's `fundShare` after the reorg funds exactly what the chain now
 * misses; a client that dies after sending and funds again before the first is mined funds once;
 * an open taken away by a reorg leaves the funding where it was (open again, or reclaim after the
 * deadline). `anvil_reorg` replaces the latest blocks, putting back the signed transactions it is
 * given. Each case but the dropped open was checked to fail with `fund`'s expected-held check removed.
 */
const client = async (w: Wallet) => new ManagerClient((await f.manager.getAddress()) as Hex, w)
const ethOf = (w: Wallet) => f.anvil.provider.getBalance(w.address)
/** The signed transaction of `hash`, to put back into a replacement block. */
const rawOf = async (hash: string) => Transaction.from((await f.anvil.provider.getTransaction(hash))!).serialized
/** Gas paid by the transaction `hash` (wherever it is mined now). */
const gasPaid = async (hash: string) => {
  const r = (await f.anvil.provider.getTransactionReceipt(hash))!
  return r.gasUsed * r.gasPrice
}
const params = (): ChannelParams => makeParams(ws.slice(0, 2), counter, { deposits: [3n * 10n ** 17n, 5n * 10n ** 17n], bond: 10n ** 16n })

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
    await (await (f.manager.connect(outsider) as Contract).getFunction('open')(p, signOpen(f, ws.slice(0, 2), p))).wait()
    assert.equal((await alice.getChannel(id)).phase, Phase.Open)
    // Once open, the locked amount is in the channel's record (rebuilt from its events).
    const locked = BigInt((await f.manager.getFunction('getChannel')(id)).locked)
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
    const open = await (await (f.manager.connect(outsider) as Contract).getFunction('open')(p, signOpen(f, ws.slice(0, 2), p))).wait()
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
    const inManager = () => Promise.all(ws.slice(0, 2).map((w) => f.manager.getFunction('balanceOf')(w.address, ETH) as Promise<bigint>))
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
