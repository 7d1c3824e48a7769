/**
 * closeAndPay: the cooperative close that pays every participant in the same transaction. Each
 * payout (with its bond) goes straight to the participant's account; a transfer that fails —
 * an account whose code reverts, spins, or calls back into the manager; a token that returns
 * false, reverts or burns its gas — is credited in the manager instead, so no recipient blocks
 * the others and nobody loses anything. Exact account deltas, Credited / ChannelClosed /
 * ChannelPaidOut events and solvency in every case.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Contract, type Wallet } from 'ethers'
import { deploy } from '../../src/chain/deploy.js'
import { ManagerClient } from '../../src/chain/ManagerClient.js'
import { hashState } from '../../src/protocol/eip712.js'
import { ETH, Phase, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import { setup, snapshot, makeParams, openChannel, signOpen, abi, type Fixture } from '../helpers/fixture.js'
import { expectEvents, expectRevert } from '../helpers/revert.js'
import { expectSharedCloseReverts, join, signEach } from '../helpers/sigs.js'
import { assertSolvent } from '../helpers/solvency.js'

let f: Fixture
let restore: () => Promise<void>
let ws: Wallet[]
let quirky: Contract
const DEPOSITS = [10n, 20n, 31n]
const BOND = 5n
const PAID = DEPOSITS.map((d) => d + BOND)
/** Runtime code for accounts that have code (as an EIP-7702 delegation gives an EOA). */
const CODE = { revert: '0x60006000fd', spin: '0x5b600056', stop: '0x00' } as const
const Quirk = { None: 0, ReturnFalse: 1, Revert: 2, ReturnNothing: 3, BurnGas: 4 } as const

before(async () => {
  f = await setup(5)
  ws = f.wallets.slice(1, 4)
  quirky = (await deploy('QuirkyToken', f.wallets[0]!)) as unknown as Contract
})
after(() => f.stop())
beforeEach(async () => (restore = await snapshot(f)))
afterEach(() => restore())

const managerAt = async () => (await f.manager.getAddress()) as Hex
const params = async (asset: Hex = ETH): Promise<ChannelParams> =>
  makeParams(ws, (await f.counter.getAddress()) as Hex, { deposits: DEPOSITS, bond: BOND, asset, initData: abi.encode(['uint64'], [3]) as Hex })
/** Every participant's consent to close `id` on `state` with `payouts` (default: the Counter outcome of the genesis, the deposits). */
const closeSigs = (id: Hex, state: Hex, payouts = DEPOSITS) => new Map(signEach(ws, f.hasher.close(id, 0n, hashState(state), payouts)).map((s, i) => [i, s]))
const ethOf = (i: number) => f.anvil.provider.getBalance(ws[i]!.address)
const tokenOf = (i: number) => quirky.getFunction('balanceOf')(ws[i]!.address) as Promise<bigint>
const creditOf = (i: number, asset: Hex) => f.manager.getFunction('balanceOf')(ws[i]!.address, asset) as Promise<bigint>
const setCode = (i: number, code: string) => f.anvil.provider.send('anvil_setCode', [ws[i]!.address, code])

/** Opens a quirky-token channel: each participant mints, approves and deposits its deposit + bond. */
async function openQuirky(): Promise<{ id: Hex; genesis: Hex; p: ChannelParams }> {
  const p = await params((await quirky.getAddress()).toLowerCase() as Hex)
  for (const [i, w] of ws.entries()) {
    const t = quirky.connect(w) as Contract
    await (await t.getFunction('mint')(w.address, PAID[i]!)).wait()
    await (await t.getFunction('approve')(await managerAt(), PAID[i]!)).wait()
    await (await (f.manager.connect(w) as Contract).getFunction('deposit')(p.asset, w.address, PAID[i]!)).wait()
  }
  const receipt = await (await f.manager.getFunction('open')(p, signOpen(f, ws, p))).wait()
  const set = receipt.logs.map((l: { topics: string[]; data: string }) => f.manager.interface.parseLog(l)).find((e: { name: string } | null) => e?.name === 'StateSet')
  return { id: f.hasher.channelId(p), genesis: set!.args.state as Hex, p }
}

/** closeAndPay from `state` with `payouts` (default: the machine's, by eth_call — the Counter's outcome = the deposits), sent by a non-participant. */
async function closeAndPay(id: Hex, p: ChannelParams, state: Hex, payouts?: bigint[]) {
  const client = new ManagerClient(await managerAt(), f.wallets[0]!)
  const terms = payouts ?? (await client.closePayouts(id, state))
  return client.closeAndPay(id, p.participants, state, terms, closeSigs(id, state, terms))
}

describe('closeAndPay: ETH', () => {
  test('every participant is paid its outcome plus bond in the same transaction; nothing credited', async () => {
    const p = await params()
    const { channelId: id, genesis } = await openChannel(f, ws, p)
    const before = await Promise.all([0, 1, 2].map(ethOf))
    const r = await closeAndPay(id, p, genesis)
    assert.equal(r.sent, 0b111n)
    assert.deepEqual(r.credits, [])
    assert.deepEqual(r.closed.payouts, DEPOSITS)
    expectEvents(r.receipt, f.manager, 'ChannelPaidOut', [[id, 0b111n]])
    expectEvents(r.receipt, f.manager, 'ChannelClosed', [[id, 0n, hashState(genesis), DEPOSITS]])
    const got = await Promise.all([0, 1, 2].map(ethOf))
    assert.deepEqual(got.map((b, i) => b - before[i]!), PAID)
    assert.deepEqual(await Promise.all([0, 1, 2].map((i) => creditOf(i, ETH))), [0n, 0n, 0n])
    assert.equal(Number((await f.manager.getFunction('getChannel')(id)).phase), Phase.Closed)
    await assertSolvent(f, [ETH])
    // Settled once: neither close nor closeAndPay again.
    const sigs = join(signEach(ws, f.hasher.close(id, 0n, hashState(genesis), DEPOSITS)))
    await expectRevert(f.manager.getFunction('closeAndPay').staticCall(id, hashState(genesis), DEPOSITS, [], sigs), 'ChannelNotOpen', [id, Phase.Closed])
    await expectRevert(f.manager.getFunction('close').staticCall(id, hashState(genesis), DEPOSITS, [], sigs), 'ChannelNotOpen', [id, Phase.Closed])
  })

  test('an account whose code reverts or spins is credited instead; the others are still paid', async () => {
    const p = await params()
    const { channelId: id, genesis } = await openChannel(f, ws, p)
    await setCode(1, CODE.revert)
    await setCode(2, CODE.spin)
    const before = await Promise.all([0, 1, 2].map(ethOf))
    const r = await closeAndPay(id, p, genesis)
    assert.equal(r.sent, 0b001n)
    expectEvents(r.receipt, f.manager, 'Credited', [1, 2].map((i) => [id, ws[i]!.address, ETH, PAID[i]!]))
    expectEvents(r.receipt, f.manager, 'ChannelPaidOut', [[id, 0b001n]])
    const got = await Promise.all([0, 1, 2].map(ethOf))
    assert.deepEqual(got.map((b, i) => b - before[i]!), [PAID[0]!, 0n, 0n])
    assert.deepEqual(await Promise.all([1, 2].map((i) => creditOf(i, ETH))), [PAID[1]!, PAID[2]!])
    await assertSolvent(f, [ETH])
    // The credit is theirs to withdraw (here once the code is gone again).
    await setCode(1, '0x')
    await (await (f.manager.connect(ws[1]!) as Contract).getFunction('withdraw')(ETH, PAID[1]!, ws[1]!.address)).wait()
    assert.equal(await creditOf(1, ETH), 0n)
    await assertSolvent(f, [ETH])
  })

  test('an account that calls back into the manager (withdraw, under the reentrancy guard and the push gas cap) is credited; code that accepts is paid', async () => {
    const p = await params()
    const { channelId: id, genesis } = await openChannel(f, ws, p)
    // Participant 0's account runs ReentrantReceiver in Reenter mode: its receive calls withdraw.
    const receiver = (await deploy('ReentrantReceiver', f.wallets[0]!, [await managerAt()])) as unknown as Contract
    await setCode(0, await f.anvil.provider.getCode(await receiver.getAddress()))
    await (await (receiver.attach(ws[0]!.address) as Contract).connect(f.wallets[0]!).getFunction('setMode')(1)).wait()
    await setCode(2, CODE.stop)
    const before = await Promise.all([0, 1, 2].map(ethOf))
    const r = await closeAndPay(id, p, genesis)
    assert.equal(r.sent, 0b110n)
    expectEvents(r.receipt, f.manager, 'Credited', [[id, ws[0]!.address, ETH, PAID[0]!]])
    const got = await Promise.all([0, 1, 2].map(ethOf))
    assert.deepEqual(got.map((b, i) => b - before[i]!), [0n, PAID[1]!, PAID[2]!])
    assert.equal(await creditOf(0, ETH), PAID[0]!)
    await assertSolvent(f, [ETH])
  })

  test('payouts other than the machine’s outcome, signed by everyone, are what is paid', async () => {
    const p = await params()
    const { channelId: id, genesis } = await openChannel(f, ws, p)
    const signed = [31n, 10n, 20n] // the outcome is [10, 20, 31]
    const before = await Promise.all([0, 1, 2].map(ethOf))
    const r = await closeAndPay(id, p, genesis, signed)
    assert.equal(r.sent, 0b111n)
    assert.deepEqual(r.closed.payouts, signed)
    const got = await Promise.all([0, 1, 2].map(ethOf))
    assert.deepEqual(got.map((b, i) => b - before[i]!), signed.map((x) => x + BOND))
    await assertSolvent(f, [ETH])
  })

  test('the same consent as close: every revert of close applies', async () => {
    const p = await params()
    const { channelId: id, genesis } = await openChannel(f, ws, p)
    const h = hashState(genesis)
    const call = (sigs: Hex, others: Hex[] = [], payouts = DEPOSITS) =>
      f.manager.getFunction('closeAndPay').staticCall(id, h, payouts, others, sigs)
    await expectSharedCloseReverts(f.hasher, ws, id, h, DEPOSITS, call)
    await expectRevert(call(join(signEach(ws, f.hasher.close(id, 0n, h, [60n, 1n, 1n]))), [], [60n, 1n, 1n]), 'OutcomeExceedsLocked', [62n, 61n])
    assert.equal(Number((await f.manager.getFunction('getChannel')(id)).phase), Phase.Open)
  })
})

describe('closeAndPay: ERC-20', () => {
  test('a token that returns false or reverts for a recipient: that payout is credited, the others are paid', async () => {
    const { id, genesis, p } = await openQuirky()
    await (await quirky.getFunction('setQuirk')(ws[1]!.address, Quirk.ReturnFalse)).wait()
    await (await quirky.getFunction('setQuirk')(ws[2]!.address, Quirk.Revert)).wait()
    const r = await closeAndPay(id, p, genesis)
    assert.equal(r.sent, 0b001n)
    expectEvents(r.receipt, f.manager, 'Credited', [1, 2].map((i) => [id, ws[i]!.address, p.asset, PAID[i]!]))
    assert.deepEqual(await Promise.all([0, 1, 2].map(tokenOf)), [PAID[0]!, 0n, 0n])
    assert.deepEqual(await Promise.all([1, 2].map((i) => creditOf(i, p.asset))), [PAID[1]!, PAID[2]!])
    await assertSolvent(f, [p.asset])
  })

  test('a token that returns nothing is paid; one that burns its gas is credited', async () => {
    const { id, genesis, p } = await openQuirky()
    await (await quirky.getFunction('setQuirk')(ws[0]!.address, Quirk.ReturnNothing)).wait()
    await (await quirky.getFunction('setQuirk')(ws[1]!.address, Quirk.BurnGas)).wait()
    const r = await closeAndPay(id, p, genesis)
    assert.equal(r.sent, 0b101n)
    expectEvents(r.receipt, f.manager, 'Credited', [[id, ws[1]!.address, p.asset, PAID[1]!]])
    assert.deepEqual(await Promise.all([0, 1, 2].map(tokenOf)), [PAID[0]!, 0n, PAID[2]!])
    assert.equal(await creditOf(1, p.asset), PAID[1]!)
    await assertSolvent(f, [p.asset])
  })
})
