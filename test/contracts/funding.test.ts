/**
 * fund / funding / reclaim, and open from a channel's funding: ordered funding, the open taking
 * nothing from balances when the funding covers every share, funding and balances mixed,
 * surplus joining the locked deposits, a griefer's funding changing nothing for the others,
 * reclaim only once the funds can no longer be used, ERC-20 funding, and solvency throughout.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Contract, type Log, type TransactionReceipt, type Wallet } from 'ethers'
import { setup, snapshot, makeParams, fund as depositAll, signOpen, atTime, chainNow, type Fixture } from '../helpers/fixture.js'
import { expectEvents, expectRevert } from '../helpers/revert.js'
import { join, signEach } from '../helpers/sigs.js'
import { assertSolvent } from '../helpers/solvency.js'
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
    const sigs = join(signEach(ws, f.hasher.close(id, 0n, hashState(genesis))))
    await (await f.manager.getFunction('close')(id, p.participants, genesis, 0b111n, sigs)).wait()
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
  await (await f.manager.getFunction('close')(id, p.participants, genesis, 0b111n, join(signEach(ws, f.hasher.close(id, 0n, hashState(genesis)))))).wait()
  assert.deepEqual(await balances(p), [5n, 7n, 9n])
  await assertSolvent(f)
})
