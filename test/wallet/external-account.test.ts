/**
 * An external wallet as the account of a running peer, on a real anvil and a local HyperDHT
 * testnet: Alice's account is anvil's `JsonRpcSigner` (its unlocked account, signing through
 * `eth_signTypedData_v4`), Bob's an EIP-1193 provider over anvil's JSON-RPC; each has a session
 * key for the moves. They play (Alice restarting from her store), close cooperatively — each wallet's close consent asked
 * asynchronously — and are paid exactly, the close sent by Alice's wallet. Then a silent peer:
 * Alice's court accuses Bob and resolves the timeout through her wallet, which settles the channel exactly. An accused
 * peer: Bob (EIP-1193) answers the timeout with his session key's move, sent through his wallet; the
 * channel goes on and closes exactly. And the account option's errors.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder, type JsonRpcSigner, type Signer } from 'ethers'
import createTestnet from '@hyperswarm/testnet'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { channelParams } from '../../src/channel/params.js'
import type { ParleyError } from '../../src/errors/ParleyError.js'
import { silentLogger } from '../../src/net/logger.js'
import { recoverSigner } from '../../src/protocol/signatures.js'
import { DisputeKind, ETH, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import { MemoryStore } from '../../src/store/MemoryStore.js'
import { ManualClock } from '../../src/clock/ManualClock.js'
import { createPeer, type Eip1193Account, type Peer } from '../../src/peer/createPeer.js'
import { consentSignerFromEip1193, consentSignerFromSigner, createSessionKey, requestOpenConsent } from '../../src/wallet/index.js'
import type { Wallet } from 'ethers'

const abi = AbiCoder.defaultAbiCoder()
const pay = (to: number, amount: bigint) => abi.encode(['uint16', 'uint256'], [to, amount]) as Hex
const ETH1 = 10n ** 18n
const BOND = ETH1 / 10n

let anvil: Anvil
let stack: LocalStack
let testnet: Awaited<ReturnType<typeof createTestnet>>
const running: Peer[] = []

before(async () => {
  ;[anvil, testnet] = await Promise.all([startAnvil({ accounts: 4 }), createTestnet(3, { host: '127.0.0.1' })])
  stack = await deployLocalStack(anvil.wallets[0]!)
})
after(async () => {
  await Promise.allSettled(running.map((p) => p.stop()))
  await testnet.destroy()
  await anvil.stop()
})

const net = () => ({ bootstrap: testnet.bootstrap, host: '127.0.0.1', logger: silentLogger })
/** anvil's JSON-RPC as an EIP-1193 provider (what a browser wallet's `window.ethereum` is). */
const rpc = () => ({ request: ({ method, params }: { method: string; params?: unknown[] }) => anvil.provider.send(method, params ?? []) })

/** Alice's account: anvil's JsonRpcSigner; Bob's: an EIP-1193 provider and his address. No private key of theirs is used. */
async function accounts(): Promise<{ alice: JsonRpcSigner; bob: Eip1193Account; addresses: Hex[] }> {
  const [a, b] = [anvil.wallets[1]!.address, anvil.wallets[2]!.address]
  return { alice: await anvil.provider.getSigner(a), bob: { eip1193: rpc(), address: b }, addresses: [a, b].map((x) => x.toLowerCase() as Hex) }
}

/** Opens a Payments channel with session keys; the wallets sign the open consents and deposit. */
async function open(alice: Signer, bob: Eip1193Account, keys: Wallet[]): Promise<{ params: ChannelParams; channelId: Hex }> {
  const hasher = await stack.manager.hasher()
  const now = BigInt((await anvil.provider.getBlock('latest'))!.timestamp)
  const participants = [await alice.getAddress(), bob.address]
  const params = channelParams({ participants, signers: keys.map((k) => k.address), machine: stack.machines.payments, deposits: [ETH1, ETH1], bond: BOND, now })
  const consents = [
    await requestOpenConsent(consentSignerFromSigner(alice), hasher.domain, params),
    await requestOpenConsent(consentSignerFromEip1193(bob.eip1193, bob.address), hasher.domain, params),
  ]
  await stack.manager.connect(alice).deposit(ETH, ETH1 + BOND)
  await stack.manager.connect(await anvil.provider.getSigner(bob.address)).deposit(ETH, ETH1 + BOND)
  const { channelId } = await stack.manager.open(params, consents)
  return { params, channelId }
}

test('external wallets as the accounts of running peers: they play with session keys, close cooperatively through the wallets and are paid exactly', { timeout: 120_000 }, async () => {
  const { alice, bob, addresses } = await accounts()
  const keys = [createSessionKey(), createSessionKey()]
  const { params, channelId } = await open(alice, bob, keys)
  const stores = [new MemoryStore(), new MemoryStore()]
  const start = async (i: number) => {
    const p = await createPeer({ account: [alice, bob][i]!, sessionKey: keys[i]!, manager: stack.manager, channelId, params, store: stores[i]!, pollMs: 50, net: net() })
    running.push(p)
    return p
  }
  let [a, b] = [await start(0), await start(1)]
  const one = await a.channel.propose(pay(1, ETH1 / 4n))
  await Promise.all([a.channel.waitFinal(one.seq), b.channel.waitFinal(one.seq)])
  // Alice restarts from her store with the same wallet and session key.
  await a.stop()
  a = await start(0)
  assert.equal(a.restored, true)
  const two = await b.channel.propose(pay(0, ETH1 / 10n))
  await Promise.all([a.channel.waitFinal(two.seq), b.channel.waitFinal(two.seq)])

  const before = await Promise.all(addresses.map((w) => stack.manager.balanceOf(w, ETH)))
  const result = await a.channel.close()
  const after = await Promise.all(addresses.map((w) => stack.manager.balanceOf(w, ETH)))
  assert.deepEqual(after.map((x, i) => x - before[i]!), [ETH1 - ETH1 / 4n + ETH1 / 10n + BOND, ETH1 + ETH1 / 4n - ETH1 / 10n + BOND])
  for (const k of keys) assert.equal(await stack.manager.balanceOf(k.address as Hex, ETH), 0n)
  // The consents are the wallets' own (not the session keys'), and Alice's wallet sent the close.
  assert.deepEqual(result.payouts, [ETH1 - ETH1 / 4n + ETH1 / 10n, ETH1 + ETH1 / 4n - ETH1 / 10n], 'the consents name the machine’s payouts')
  const digest = (await stack.manager.hasher()).close(channelId, 0n, result.stateHash, result.payouts)
  assert.deepEqual([...result.signatures.entries()].map(([i, s]) => [i, recoverSigner(digest, s)]), [[0, addresses[0]], [1, addresses[1]]])
  const receipt = await anvil.provider.getTransactionReceipt(result.transactionHash)
  assert.equal(receipt!.from.toLowerCase(), addresses[0])
  await Promise.all([a.stop(), b.stop()])
})

test("a silent peer: the court of a peer whose account is anvil's JsonRpcSigner accuses it and resolves the timeout through that wallet", { timeout: 120_000 }, async () => {
  const { alice, bob, addresses } = await accounts()
  const keys = [createSessionKey(), createSessionKey()]
  const { params, channelId } = await open(alice, bob, keys)
  const start = async (i: number) => {
    const p = await createPeer({ account: [alice, bob][i]!, sessionKey: keys[i]!, manager: stack.manager, channelId, params, store: new MemoryStore(), pollMs: 50, net: net() })
    running.push(p)
    return p
  }
  const [a, b] = [await start(0), await start(1)]
  const one = await a.channel.propose(pay(1, ETH1 / 4n))
  await Promise.all([a.channel.waitFinal(one.seq), b.channel.waitFinal(one.seq)])
  const two = await b.channel.propose(pay(0, ETH1 / 10n))
  await Promise.all([a.channel.waitFinal(two.seq), b.channel.waitFinal(two.seq)])
  const three = await a.channel.propose(pay(1, ETH1 / 20n))
  await Promise.all([a.channel.waitFinal(three.seq), b.channel.waitFinal(three.seq)])
  await b.stop() // Bob goes silent on his turn

  const sent: { kind: string; hash: Hex }[] = []
  a.court.on('submitted', ({ action, hash }) => sent.push({ kind: action.kind, hash }))
  const raised = a.court.next('dispute')
  await anvil.increaseTime(params.p2pTime + params.agreementTime + params.chainFallbackTime + 1)
  const { record } = await raised
  assert.deepEqual([record.kind, record.removals], [DisputeKind.Timeout, 0b10n])
  const before = await Promise.all(addresses.map((w) => stack.manager.balanceOf(w, ETH)))
  const closed = a.channel.next('closed') // one participant left: resolving removes Bob and settles
  await anvil.increaseTime(params.challengeTime + 1)
  await closed
  const after = await Promise.all(addresses.map((w) => stack.manager.balanceOf(w, ETH)))
  assert.deepEqual(after.map((x, i) => x - before[i]!), [ETH1 - ETH1 / 4n + ETH1 / 10n - ETH1 / 20n + BOND, ETH1 + ETH1 / 4n - ETH1 / 10n + ETH1 / 20n + BOND])
  const kinds = sent.map((s) => s.kind)
  assert.ok(kinds.includes('timeout') && kinds.includes('resolve'), `Alice's court sent ${kinds.join(', ')}`)
  for (const s of sent) assert.equal((await anvil.provider.getTransactionReceipt(s.hash))!.from.toLowerCase(), addresses[0], `${s.kind} sent by Alice's wallet`)
  await a.stop()
})

test('accused: the peer whose account is an EIP-1193 provider answers a timeout with its session-key move, sent on-chain through that wallet; the channel goes on and closes exactly', { timeout: 120_000 }, async () => {
  const { alice, bob, addresses } = await accounts()
  const keys = [createSessionKey(), createSessionKey()]
  const { params, channelId } = await open(alice, bob, keys)
  // Clocks that follow the blocks: anvil's time jumps, which a LogicalClock's median smooths over.
  const clocks = await Promise.all([0, 1].map(async () => new ManualClock(BigInt(await anvil.now()), { followBlocks: true })))
  const start = async (i: number) => {
    const p = await createPeer({ account: [alice, bob][i]!, sessionKey: keys[i]!, manager: stack.manager, channelId, params, store: new MemoryStore(), pollMs: 50, net: net(), clock: clocks[i]! })
    running.push(p)
    return p
  }
  const [a, b] = [await start(0), await start(1)]
  const one = await a.channel.propose(pay(1, ETH1 / 4n))
  await Promise.all([a.channel.waitFinal(one.seq), b.channel.waitFinal(one.seq)])
  // Bob's turn; he does not move in time: Alice's court accuses him.
  const sent: { kind: string; hash: Hex }[] = []
  b.court.on('submitted', ({ action, hash }) => sent.push({ kind: action.kind, hash }))
  const needed = b.court.next('move-needed')
  const cancelled = Promise.all([a.court.next('cancelled'), b.court.next('cancelled')])
  await anvil.increaseTime(params.p2pTime + params.agreementTime + params.chainFallbackTime + 1)
  assert.equal((await needed).seq, one.seq + 1n, 'the move asked for follows the disputed state')
  const answered = b.court.next('submitted', { filter: ({ action }) => action.kind === 'respond' })
  const response = await b.propose(pay(0, ETH1 / 10n))
  assert.equal(response.via, 'response')
  const { action, hash } = await answered
  assert.ok(action.kind === 'respond')
  assert.equal(recoverSigner(response.digest, action.signature), keys[1]!.address.toLowerCase(), 'the move is signed by the session key')
  assert.equal((await anvil.provider.getTransactionReceipt(hash))!.from.toLowerCase(), addresses[1], "the response was sent by Bob's wallet")
  assert.deepEqual((await cancelled).map((x) => x.seq), [response.transaction.seq, response.transaction.seq], 'the response ended the timeout for both')
  // The channel goes on: Alice took the response from the chain and moves after it (by the court's road).
  const { transaction: three } = await a.propose(pay(1, ETH1 / 20n))
  assert.equal(three.seq, response.transaction.seq + 1n)
  await Promise.all([a.channel.waitFinal(three.seq), b.channel.waitFinal(three.seq)])

  const before = await Promise.all(addresses.map((w) => stack.manager.balanceOf(w, ETH)))
  const closed = await a.channel.close()
  const after = await Promise.all(addresses.map((w) => stack.manager.balanceOf(w, ETH)))
  assert.deepEqual(after.map((x, i) => x - before[i]!), [ETH1 - ETH1 / 4n + ETH1 / 10n - ETH1 / 20n + BOND, ETH1 + ETH1 / 4n - ETH1 / 10n + ETH1 / 20n + BOND])
  assert.equal(closed.seq, three.seq)
  assert.deepEqual(sent.map((x) => x.kind), ['respond'])
  await Promise.all([a.stop(), b.stop()])
})

test('the account option: one of wallet and account; an external account needs a session key and a channel with session keys', async () => {
  const { alice, bob } = await accounts()
  const keys = [createSessionKey(), createSessionKey()]
  const { params, channelId } = await open(alice, bob, keys)
  const base = { manager: stack.manager, channelId, params, net: net() }
  const code = (c: string, text?: RegExp) => (e: ParleyError) => (assert.equal(e.code, c), text && assert.match(e.message, text), true)
  await assert.rejects(createPeer({ ...base, account: alice, store: new MemoryStore() }), code('SIGNER_REQUIRED', /external wallet signs consents only/))
  await assert.rejects(createPeer({ ...base, account: alice, wallet: anvil.wallets[1]!, sessionKey: keys[0]!, store: new MemoryStore() }), code('OPTIONS_INVALID'))
  await assert.rejects(createPeer({ ...base, sessionKey: keys[0]!, store: new MemoryStore() }), code('OPTIONS_INVALID'))
  await assert.rejects(createPeer({ ...base, account: {} as never, sessionKey: keys[0]!, store: new MemoryStore() }), code('WALLET_INVALID'))
  await assert.rejects(createPeer({ ...base, account: alice, sessionKey: keys[1]!, store: new MemoryStore() }), code('SIGNER_MISMATCH'))
  // A channel without session keys: its moves would need the wallet each time.
  const hasher = await stack.manager.hasher()
  const now = BigInt((await anvil.provider.getBlock('latest'))!.timestamp)
  const plain = channelParams({ participants: [await alice.getAddress(), bob.address], machine: stack.machines.payments, deposits: [0n, 0n], now })
  const consents = [await requestOpenConsent(consentSignerFromSigner(alice), hasher.domain, plain), await requestOpenConsent(consentSignerFromEip1193(bob.eip1193, bob.address), hasher.domain, plain)]
  const opened = await stack.manager.open(plain, consents)
  await assert.rejects(
    createPeer({ ...base, channelId: opened.channelId, params: plain, account: alice, store: new MemoryStore() }),
    code('SIGNER_REQUIRED', /no session keys/),
  )
})
