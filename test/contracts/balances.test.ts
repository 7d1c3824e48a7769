/**
 * deposit / withdraw / balanceOf: accept and revert cases (ETH and ERC-20), their events, a
 * recipient that rejects ETH, and a reentrancy attack on withdraw.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Contract, Wallet, type TransactionReceipt } from 'ethers'
import { setup, snapshot, type Fixture } from '../helpers/fixture.js'
import { expectEvents, expectRevert } from '../helpers/revert.js'
import { assertSolvent } from '../helpers/solvency.js'
import { deploy } from '../../src/chain/deploy.js'
import { ETH, type Hex } from '../../src/protocol/types.js'

let f: Fixture
let restore: () => Promise<void>
let alice: Wallet
let bob: Wallet
let tokenAddr: Hex
const ONE = 10n ** 18n

before(async () => {
  f = await setup(4)
  ;[, alice, bob] = f.wallets as [Wallet, Wallet, Wallet]
  tokenAddr = (await f.token.getAddress()).toLowerCase() as Hex
})
after(() => f.stop())
beforeEach(async () => (restore = await snapshot(f)))
afterEach(() => restore())

const as = (w: Wallet, c: Contract = f.manager) => c.connect(w) as Contract
const bal = (who: string, asset: string) => f.manager.getFunction('balanceOf')(who, asset) as Promise<bigint>
const mined = async (p: Promise<{ wait(): Promise<TransactionReceipt | null> }>) => (await (await p).wait())!

async function mintApprove(w: Wallet, amount: bigint, approve = amount): Promise<void> {
  await mined(as(w, f.token).getFunction('mint')(w.address, amount))
  await mined(as(w, f.token).getFunction('approve')(await f.manager.getAddress(), approve))
}

describe('deposit', () => {
  test('ETH: credits the account, emits Deposited, anyone may fund anyone', async () => {
    const r = await mined(as(alice).getFunction('deposit')(ETH, bob.address, ONE, { value: ONE }))
    expectEvents(r, f.manager, 'Deposited', [[bob.address, ETH, ONE]])
    assert.equal(await bal(bob.address, ETH), ONE)
    assert.equal(await bal(alice.address, ETH), 0n)
    await assertSolvent(f)
  })

  test('token: pulls the approved amount and credits it', async () => {
    await mintApprove(alice, 5n * ONE)
    const r = await mined(as(alice).getFunction('deposit')(tokenAddr, alice.address, 5n * ONE))
    expectEvents(r, f.manager, 'Deposited', [[alice.address, tokenAddr, 5n * ONE]])
    assert.equal(await bal(alice.address, tokenAddr), 5n * ONE)
    assert.equal(await f.token.getFunction('balanceOf')(alice.address), 0n)
    await assertSolvent(f)
  })

  const cases: { name: string; call: () => Promise<unknown>; error: string; args?: () => unknown[] }[] = [
    { name: 'ETH value below amount', call: () => as(alice).getFunction('deposit')(ETH, alice.address, ONE, { value: ONE - 1n }), error: 'BalanceValueMismatch', args: () => [ONE - 1n, ONE] },
    { name: 'ETH value above amount', call: () => as(alice).getFunction('deposit')(ETH, alice.address, 1n, { value: 2n }), error: 'BalanceValueMismatch', args: () => [2n, 1n] },
    { name: 'ETH sent with a token deposit', call: () => as(alice).getFunction('deposit')(tokenAddr, alice.address, 1n, { value: 1n }), error: 'BalanceValueMismatch', args: () => [1n, 0n] },
    { name: 'zero amount (ETH)', call: () => as(alice).getFunction('deposit')(ETH, alice.address, 0n), error: 'BalanceAmountZero', args: () => [] },
    { name: 'zero amount (token)', call: () => as(alice).getFunction('deposit')(tokenAddr, alice.address, 0n), error: 'BalanceAmountZero' },
    { name: 'zero account', call: () => as(alice).getFunction('deposit')(ETH, ETH, 1n, { value: 1n }), error: 'BalanceRecipientInvalid' },
    { name: 'asset without code', call: () => as(alice).getFunction('deposit')(bob.address, alice.address, 1n), error: 'BalanceAssetInvalid', args: () => [bob.address] },
  ]
  for (const c of cases) {
    test(`reverts: ${c.name} → ${c.error}`, async () => {
      await expectRevert(c.call(), c.error, c.args?.())
      assert.equal(await bal(alice.address, ETH), 0n)
    })
  }

  test('token without allowance bubbles the token error', async () => {
    await mintApprove(alice, ONE, ONE - 1n)
    await expectRevert(as(alice).getFunction('deposit')(tokenAddr, alice.address, ONE), 'ERC20InsufficientAllowance', [await f.manager.getAddress(), ONE - 1n, ONE], f.token.interface)
    assert.equal(await bal(alice.address, tokenAddr), 0n)
  })
})

describe('withdraw', () => {
  let undo: () => Promise<void>
  after(() => undo())
  before(async () => {
    undo = await snapshot(f)
    await mined(as(alice).getFunction('deposit')(ETH, alice.address, 3n * ONE, { value: 3n * ONE }))
    await mintApprove(alice, 3n * ONE)
    await mined(as(alice).getFunction('deposit')(tokenAddr, alice.address, 3n * ONE))
  })

  test('ETH to another recipient: debits, pays, emits Withdrawn', async () => {
    const before = await f.anvil.provider.getBalance(bob.address)
    const r = await mined(as(alice).getFunction('withdraw')(ETH, ONE, bob.address))
    expectEvents(r, f.manager, 'Withdrawn', [[alice.address, ETH, bob.address, ONE]])
    assert.equal(await bal(alice.address, ETH), 2n * ONE)
    assert.equal(await f.anvil.provider.getBalance(bob.address), before + ONE)
    await assertSolvent(f)
  })

  test('token: whole balance, then nothing left', async () => {
    const r = await mined(as(alice).getFunction('withdraw')(tokenAddr, 3n * ONE, alice.address))
    expectEvents(r, f.manager, 'Withdrawn', [[alice.address, tokenAddr, alice.address, 3n * ONE]])
    assert.equal(await bal(alice.address, tokenAddr), 0n)
    assert.equal(await f.token.getFunction('balanceOf')(alice.address), 3n * ONE)
    await expectRevert(as(alice).getFunction('withdraw')(tokenAddr, 1n, alice.address), 'BalanceInsufficient', [alice.address, tokenAddr, 0n, 1n])
    await assertSolvent(f)
  })

  const cases: { name: string; who: () => Wallet; args: () => unknown[]; error: string; errArgs?: () => unknown[] }[] = [
    { name: 'more than the balance', who: () => alice, args: () => [ETH, 3n * ONE + 1n, alice.address], error: 'BalanceInsufficient', errArgs: () => [alice.address, ETH, 3n * ONE, 3n * ONE + 1n] },
    { name: 'someone else’s balance', who: () => bob, args: () => [ETH, 1n, bob.address], error: 'BalanceInsufficient', errArgs: () => [bob.address, ETH, 0n, 1n] },
    { name: 'zero amount', who: () => alice, args: () => [ETH, 0n, alice.address], error: 'BalanceAmountZero' },
    { name: 'zero recipient', who: () => alice, args: () => [tokenAddr, 1n, ETH], error: 'BalanceRecipientInvalid' },
  ]
  for (const c of cases) {
    test(`reverts: ${c.name} → ${c.error}`, async () => {
      await expectRevert(as(c.who()).getFunction('withdraw')(...c.args()), c.error, c.errArgs?.())
      assert.equal(await bal(alice.address, ETH), 3n * ONE)
    })
  }

  test('recipient that rejects ETH → BalanceTransferFailed, balance kept', async () => {
    const receiver = await deploy('ReentrantReceiver', f.wallets[0]!, [await f.manager.getAddress()])
    await expectRevert(as(alice).getFunction('withdraw')(ETH, ONE, receiver.address), 'BalanceTransferFailed', [receiver.address, ONE])
    assert.equal(await bal(alice.address, ETH), 3n * ONE)
  })
})

describe('reentrancy', () => {
  let receiver: Contract
  let addr: Hex
  let undo: () => Promise<void>
  after(() => undo())
  before(async () => {
    undo = await snapshot(f)
    const r = await deploy('ReentrantReceiver', f.wallets[0]!, [await f.manager.getAddress()])
    receiver = r as unknown as Contract
    addr = r.address
    await mined(receiver.getFunction('depositEth')({ value: 2n * ONE }))
  })

  test('re-entering withdraw from receive() reverts the whole withdrawal', async () => {
    await mined(receiver.getFunction('setMode')(1))
    // The inner call hits the guard; its failure makes the outer ETH transfer fail.
    await expectRevert(receiver.getFunction('withdrawEth')(ONE), 'BalanceTransferFailed', [addr, ONE], f.manager.interface)
    assert.equal(await bal(addr, ETH), 2n * ONE)
    assert.equal(await f.anvil.provider.getBalance(await f.manager.getAddress()), 2n * ONE)
  })

  test('a receiver that swallows the guard error gets exactly one withdrawal', async () => {
    await mined(receiver.getFunction('setMode')(2))
    await mined(receiver.getFunction('withdrawEth')(ONE))
    const guard = f.manager.interface.getError('ReentrancyGuardReentrantCall')!.selector
    assert.equal(await receiver.getFunction('lastError')(), guard)
    assert.equal(await receiver.getFunction('received')(), 1n)
    assert.equal(await bal(addr, ETH), ONE)
    assert.equal(await f.anvil.provider.getBalance(addr), ONE)
    await assertSolvent(f)
  })
})

test('balanceOf is per account and per asset', async () => {
  await mined(as(alice).getFunction('deposit')(ETH, alice.address, 7n, { value: 7n }))
  await mintApprove(bob, 9n)
  await mined(as(bob).getFunction('deposit')(tokenAddr, bob.address, 9n))
  assert.deepEqual(
    [await bal(alice.address, ETH), await bal(alice.address, tokenAddr), await bal(bob.address, ETH), await bal(bob.address, tokenAddr)],
    [7n, 0n, 0n, 9n],
  )
})
