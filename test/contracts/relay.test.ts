/**
 * Manager calls that do not arrive as the top-level transaction, on a prague anvil: through
 * the Forwarder relay (msg.sender = the relay) and from an EIP-7702-delegated EOA (msg.sender =
 * the EOA). Either way the manager's events are in the receipt while the transaction's `to` and
 * `data` are not the manager call — what a client that parses transaction input would miss.
 * Also: the Forwarder bubbles revert data unchanged, and a delegated EOA's `forward` is the
 * EOA's alone.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Contract, Wallet, type Interface, type TransactionReceipt } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { contractInterface } from '../../src/contracts/artifacts.js'
import { deploy } from '../../src/chain/deploy.js'
import { ETH, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import { ParleyHasher } from '../../src/protocol/eip712.js'
import { defaultTimes } from '../../src/channel/params.js'
import { delegationOf, sendVia7702, sendViaRelay } from '../helpers/relay.js'
import { decodeRevert } from '../helpers/revert.js'

const ETH1 = 10n ** 18n
let anvil: Anvil
let manager: Contract
let managerAddress: Hex
let forwarder: Hex
let iface: Interface

before(async () => {
  anvil = await startAnvil({ accounts: 5, hardfork: 'prague' })
  manager = (await deploy('StateChannelManager', anvil.wallets[0]!)) as unknown as Contract
  managerAddress = (await manager.getAddress()).toLowerCase() as Hex
  forwarder = (await deploy('Forwarder', anvil.wallets[0]!)).address
  iface = manager.interface
})
after(() => anvil.stop())

/** The manager's events in `receipt`, decoded: [name, args]. */
function managerEvents(receipt: TransactionReceipt): [string, unknown[]][] {
  return receipt.logs
    .filter((l) => l.address.toLowerCase() === managerAddress)
    .map((l) => iface.parseLog(l)!)
    .map((e) => [e.name, [...e.args]])
}

/** The transaction of `receipt`, as the chain returns it. */
async function txOf(receipt: TransactionReceipt) {
  const tx = await anvil.provider.getTransaction(receipt.hash)
  assert.ok(tx)
  return tx
}

const balanceOf = async (account: string) => (await manager.getFunction('balanceOf')(account, ETH)) as bigint

describe('through a relay contract', () => {
  test('a deposit through the relay credits the account; the transaction is the relay call', async () => {
    const [, alice, bob] = anvil.wallets
    const call = iface.encodeFunctionData('deposit', [ETH, bob!.address, ETH1]) as Hex
    const before = await balanceOf(bob!.address)
    const receipt = await sendViaRelay(forwarder, alice!, managerAddress, call, { value: ETH1 })
    assert.equal(receipt.status, 1)
    assert.deepEqual(managerEvents(receipt), [['Deposited', [bob!.address, ETH, ETH1]]])
    assert.equal(await balanceOf(bob!.address), before + ETH1)
    const tx = await txOf(receipt)
    assert.equal(tx.to!.toLowerCase(), forwarder)
    assert.notEqual(tx.data.slice(0, 10), call.slice(0, 10), 'the top-level input is forward(…), not deposit(…)')
    assert.equal(tx.data.includes(call.slice(2)), true, 'the manager call is only nested inside it')
  })

  test('fund and reclaim through the relay: the funding counts in order whoever sends it, and reclaim pays the participants, never the relay or its caller', async () => {
    const [, alice, bob, carol] = anvil.wallets
    const { chainId } = await anvil.provider.getNetwork()
    const hasher = new ParleyHasher({ chainId, verifyingContract: managerAddress })
    // Consents that expired at once (openDeadline 0): the funding can only come back.
    const params: ChannelParams = {
      participants: [bob!.address.toLowerCase() as Hex, carol!.address.toLowerCase() as Hex], signers: [], machine: forwarder, asset: ETH,
      deposits: [ETH1, ETH1], bond: 0n, ...defaultTimes, salt: `0x${'07'.repeat(32)}`, initData: '0x', openDeadline: 0n,
    }
    const id = hasher.channelId(params)
    const fund = iface.encodeFunctionData('fund', [id, ETH, 0n, ETH1]) as Hex
    const funded = await sendViaRelay(forwarder, alice!, managerAddress, fund, { value: ETH1 })
    assert.deepEqual(managerEvents(funded), [['Funded', [id, ETH, ETH1, ETH1]]])
    const before = await Promise.all([alice!, bob!, carol!].map((w) => balanceOf(w.address)))
    const relayBefore = await balanceOf(forwarder)
    const reclaimed = await sendViaRelay(forwarder, alice!, managerAddress, iface.encodeFunctionData('reclaim', [params]) as Hex)
    assert.equal(reclaimed.status, 1)
    const after = await Promise.all([alice!, bob!, carol!].map((w) => balanceOf(w.address)))
    // The first share was funded, so participant 0 (bob) gets it back; the sender and the relay nothing.
    assert.deepEqual(after.map((a, i) => a - before[i]!), [0n, ETH1, 0n])
    assert.equal(await balanceOf(forwarder), relayBefore)
  })

  test("the relay bubbles the manager's revert data unchanged", async () => {
    const [, alice, bob] = anvil.wallets
    const call = iface.encodeFunctionData('deposit', [ETH, bob!.address, ETH1]) as Hex
    const r = await decodeRevert(sendViaRelay(forwarder, alice!, managerAddress, call, { value: 1n }))
    assert.deepEqual(r, { name: 'BalanceValueMismatch', args: [1n, ETH1] })
  })

  test('withdraw through the relay acts for the relay, not for the sender', async () => {
    const [, alice] = anvil.wallets
    await (await (manager.connect(alice!) as Contract).getFunction('deposit')(ETH, alice!.address, ETH1, { value: ETH1 })).wait()
    const call = iface.encodeFunctionData('withdraw', [ETH, 1n, alice!.address]) as Hex
    const r = await decodeRevert(sendViaRelay(forwarder, alice!, managerAddress, call))
    assert.equal(r.name, 'BalanceInsufficient')
    assert.equal((r.args[0] as string).toLowerCase(), forwarder, 'msg.sender at the manager is the relay')
  })
})

describe('through an EIP-7702 delegation', () => {
  test("a withdrawal from a delegated EOA moves the EOA's own funds; the transaction is the EOA calling itself", async () => {
    // A fresh EOA, so its nonce and code start clean.
    const carol = new Wallet(Wallet.createRandom().privateKey, anvil.provider)
    await (await anvil.wallets[3]!.sendTransaction({ to: carol.address, value: 3n * ETH1 })).wait()
    await (await (manager.connect(carol) as Contract).getFunction('deposit')(ETH, carol.address, ETH1, { value: ETH1 })).wait()

    const call = iface.encodeFunctionData('withdraw', [ETH, ETH1 / 4n, carol.address]) as Hex
    const walletBefore = await anvil.provider.getBalance(carol.address)
    const receipt = await sendVia7702(carol, forwarder, managerAddress, call)
    assert.equal(receipt.status, 1)
    assert.deepEqual(managerEvents(receipt), [['Withdrawn', [carol.address, ETH, carol.address, ETH1 / 4n]]])
    assert.equal(await balanceOf(carol.address), ETH1 - ETH1 / 4n, "the manager debited the EOA's balance: msg.sender was the EOA")
    const fee = receipt.gasUsed * receipt.gasPrice
    assert.equal(await anvil.provider.getBalance(carol.address), walletBefore + ETH1 / 4n - fee, 'the ETH reached the EOA (its delegated code accepts it)')

    const tx = await txOf(receipt)
    assert.equal(tx.type, 4)
    assert.equal(tx.to!.toLowerCase(), carol.address.toLowerCase())
    assert.notEqual(tx.data.slice(0, 10), call.slice(0, 10), 'the top-level input is forward(…), not withdraw(…)')
    assert.equal(await delegationOf(anvil.provider, carol.address), forwarder)

    // Again, with value: a deposit from the delegated EOA for itself; the delegation is renewed.
    const deposit = iface.encodeFunctionData('deposit', [ETH, carol.address, ETH1 / 2n]) as Hex
    const again = await sendVia7702(carol, forwarder, managerAddress, deposit, { value: ETH1 / 2n })
    assert.deepEqual(managerEvents(again), [['Deposited', [carol.address, ETH, ETH1 / 2n]]])
    assert.equal(await balanceOf(carol.address), ETH1 - ETH1 / 4n + ETH1 / 2n)
  })

  test("the delegated EOA's forward is its own: another caller is refused, and manager reverts bubble", async () => {
    const dave = new Wallet(Wallet.createRandom().privateKey, anvil.provider)
    await (await anvil.wallets[3]!.sendTransaction({ to: dave.address, value: ETH1 })).wait()
    // Delegate with a harmless call, then try to use dave's code from someone else.
    const noop = iface.encodeFunctionData('balanceOf', [dave.address, ETH]) as Hex
    await sendVia7702(dave, forwarder, managerAddress, noop)
    const mallory = anvil.wallets[4]!
    const steal = iface.encodeFunctionData('withdraw', [ETH, 1n, mallory.address]) as Hex
    const refused = await decodeRevert(sendViaRelay(dave.address, mallory, managerAddress, steal), contractInterface('Forwarder'))
    assert.equal(refused.name, 'ForwarderUnauthorized')
    assert.equal((refused.args[0] as string).toLowerCase(), mallory.address.toLowerCase())

    const tooMuch = iface.encodeFunctionData('withdraw', [ETH, 1n, dave.address]) as Hex
    const r = await decodeRevert(sendVia7702(dave, forwarder, managerAddress, tooMuch))
    assert.equal(r.name, 'BalanceInsufficient')
    assert.equal((r.args[0] as string).toLowerCase(), dave.address.toLowerCase(), 'msg.sender at the manager is the EOA')
  })
})
