/**
 * The ERC-20 path end to end with the real TestToken: deposit, open a Payments channel with a
 * bond, pay off-chain, close cooperatively, withdraw everything. The solvency invariant
 * (token and ETH held = balances + locked) is checked after every step, with an ETH channel
 * open alongside.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { Contract, type Wallet } from 'ethers'
import { setup, makeParams, openChannel, fund, signOpen, step, abi, type Fixture } from '../helpers/fixture.js'
import { expectEvents } from '../helpers/revert.js'
import { join, signEach } from '../helpers/sigs.js'
import { assertSolvent } from '../helpers/solvency.js'
import { hashState } from '../../src/protocol/eip712.js'
import { ETH, type Hex } from '../../src/protocol/types.js'

let f: Fixture
let ws: Wallet[]
let token: Hex

before(async () => {
  f = await setup(6)
  ws = f.wallets.slice(1, 4)
  token = (await f.token.getAddress()).toLowerCase() as Hex
})
after(() => f.stop())

const tokenBalance = (who: string) => f.token.getFunction('balanceOf')(who) as Promise<bigint>
const managed = (who: string, asset: Hex = token) => f.manager.getFunction('balanceOf')(who, asset) as Promise<bigint>
const pay = (to: number, amount: bigint) => abi.encode(['uint16', 'uint256'], [to, amount]) as Hex

test('token deposit → open → pay → close → withdraw keeps the manager solvent', async () => {
  const manager = await f.manager.getAddress()
  const deposits = [100n, 50n, 0n]
  const bond = 7n
  const params = makeParams(ws, (await f.payments.getAddress()) as Hex, { asset: token, deposits, bond })

  // An unrelated ETH channel stays open the whole time; the invariant must hold for both assets.
  const ethWs = f.wallets.slice(4, 6)
  const ethParams = makeParams(ethWs, (await f.counter.getAddress()) as Hex, { deposits: [3n, 4n] })
  await openChannel(f, ethWs, ethParams)
  await assertSolvent(f)

  await fund(f, ws, params) // mint, approve, deposit: deposit + bond each
  assert.deepEqual(await Promise.all(ws.map((w) => managed(w.address))), deposits.map((d) => d + bond))
  assert.equal(await tokenBalance(manager), 100n + 50n + 3n * bond)
  await assertSolvent(f)

  await (await f.manager.getFunction('open')(params, signOpen(f, ws, params))).wait()
  const channelId = f.hasher.channelId(params)
  const genesis = (await f.payments.getFunction('initialState')(deposits, '0x')) as Hex
  assert.deepEqual(await Promise.all(ws.map((w) => managed(w.address))), [0n, 0n, 0n])
  assert.equal(await tokenBalance(manager), 100n + 50n + 3n * bond)
  await assertSolvent(f)

  // Round-robin: 0 pays 2 thirty, 1 pays 0 ten, 2 passes, 0 pays 1 five.
  let prev = { state: genesis, seq: 0n }
  for (const [actor, data] of [[0, pay(2, 30n)], [1, pay(0, 10n)], [2, '0x'], [0, pay(1, 5n)]] as const) {
    const s = await step(f.payments, channelId, prev, actor, data as Hex)
    prev = { state: s.state, seq: s.tx.seq }
  }
  const final = [100n - 30n + 10n - 5n, 50n - 10n + 5n, 30n]
  assert.deepEqual([...(await f.payments.getFunction('outcome')(prev.state))], final)

  const sigs = join(signEach(ws, f.hasher.close(channelId, 0n, hashState(prev.state), final)))
  const receipt = (await (await f.manager.getFunction('close')(channelId, hashState(prev.state), final, [], sigs)).wait())!
  expectEvents(receipt, f.manager, 'Credited', ws.map((w, i) => [channelId, w.address, token, final[i]! + bond]))
  await assertSolvent(f)

  for (const [i, w] of ws.entries()) {
    const amount = await managed(w.address)
    assert.equal(amount, final[i]! + bond)
    const before = await tokenBalance(w.address)
    await (await (f.manager.connect(w) as Contract).getFunction('withdraw')(token, amount, w.address)).wait()
    assert.equal(await tokenBalance(w.address), before + amount)
    assert.equal(await managed(w.address), 0n)
    await assertSolvent(f)
  }
  assert.equal(await tokenBalance(manager), 0n)
  const [tokenReport] = await assertSolvent(f, [token])
  assert.deepEqual(tokenReport, { asset: token, held: 0n, balances: 0n, locked: 0n })
  const [ethReport] = await assertSolvent(f, [ETH])
  assert.equal(ethReport!.locked, 7n)
})

test('assertSolvent notices a discrepancy', async () => {
  // Sending tokens straight to the manager (not via deposit) breaks the equality on purpose.
  await (await (f.token.connect(ws[0]!) as Contract).getFunction('mint')(await f.manager.getAddress(), 1n)).wait()
  await assert.rejects(assertSolvent(f, [token]), /manager holds/)
})
