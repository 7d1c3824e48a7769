/**
 * createPeer with session keys on a real anvil and a local HyperDHT testnet: the wallets'
 * open consents come from anvil's `eth_signTypedData_v4` (an EIP-1193 provider over its
 * JSON-RPC), the session keys sign every move and confirmation and find each other on the
 * network, and the cooperative close (signed by the wallets) pays the wallets exactly. Also the
 * sessionKey option's errors.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder, type Wallet } from 'ethers'
import createTestnet from '@hyperswarm/testnet'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { channelParams } from '../../src/channel/params.js'
import type { ParleyError } from '../../src/errors/ParleyError.js'
import { silentLogger } from '../../src/net/logger.js'
import { recoverSigner } from '../../src/protocol/signatures.js'
import { ETH, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import { MemoryStore } from '../../src/store/MemoryStore.js'
import { createPeer, type Peer } from '../../src/peer/createPeer.js'
import { consentSignerFromEip1193, createSessionKey, requestOpenConsent } from '../../src/wallet/index.js'

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

/** Opens a Payments channel whose consents anvil's eth_signTypedData_v4 signs for `wallets`. */
async function openWithSessionKeys(wallets: Wallet[], keys: Wallet[]): Promise<{ params: ChannelParams; channelId: Hex }> {
  const hasher = await stack.manager.hasher()
  const now = BigInt((await anvil.provider.getBlock('latest'))!.timestamp)
  const params = channelParams({
    participants: wallets.map((w) => w.address), signers: keys.map((k) => k.address), machine: stack.machines.payments,
    deposits: wallets.map(() => ETH1), bond: BOND, now,
  })
  const rpc = { request: ({ method, params: p }: { method: string; params?: unknown[] }) => anvil.provider.send(method, p ?? []) }
  const consents: Hex[] = []
  for (const w of wallets) consents.push(await requestOpenConsent(consentSignerFromEip1193(rpc, w.address), hasher.domain, params))
  for (const w of wallets) await stack.manager.connect(w).deposit(ETH, ETH1 + BOND)
  const { channelId } = await stack.manager.open(params, consents)
  return { params, channelId }
}

const net = () => ({ bootstrap: testnet.bootstrap, host: '127.0.0.1', logger: silentLogger })

test('session keys play over hyperswarm; the wallets’ close consents settle it with exact balances', async () => {
  const wallets = [anvil.wallets[1]!, anvil.wallets[2]!]
  const keys = [createSessionKey(), createSessionKey()]
  const { params, channelId } = await openWithSessionKeys(wallets, keys)
  const stores = [new MemoryStore(), new MemoryStore()]
  const start = async (i: number, sessionKey: Wallet | null = keys[i]!) => {
    const p = await createPeer({ wallet: wallets[i]!, ...(sessionKey ? { sessionKey } : {}), manager: stack.manager, channelId, params, store: stores[i]!, pollMs: 50, net: net() })
    running.push(p)
    return p
  }
  let [a, b] = [await start(0), await start(1)]
  const one = await a.channel.propose(pay(1, ETH1 / 4n))
  await Promise.all([a.channel.waitFinal(one.seq), b.channel.waitFinal(one.seq)])

  // Alice restarts from her store: the session key is hers to keep (the store does not hold it).
  await a.stop()
  await assert.rejects(start(0, null), (e: ParleyError) => e.code === 'SIGNER_REQUIRED')
  a = await start(0)
  assert.equal(a.restored, true)
  const two = await b.channel.propose(pay(0, ETH1 / 10n))
  await Promise.all([a.channel.waitFinal(two.seq), b.channel.waitFinal(two.seq)])

  // Every signature on the moves is a session key's, none a wallet's.
  const hasher = await stack.manager.hasher()
  const proof = a.channel.finalityProof()
  for (const st of proof) {
    const digest = hasher.transaction(st.transaction)
    const sigs = st.signatures.slice(2).match(/.{130}/g)!.map((s) => `0x${s}` as Hex)
    const who = sigs.map((s) => recoverSigner(digest, s))
    assert.ok(who.every((w) => keys.some((k) => k.address.toLowerCase() === w)), `signed by ${who.join(', ')}`)
  }

  const before = await Promise.all(wallets.map((w) => stack.manager.balanceOf(w.address as Hex, ETH)))
  await a.channel.close()
  const after = await Promise.all(wallets.map((w) => stack.manager.balanceOf(w.address as Hex, ETH)))
  assert.deepEqual(after.map((x, i) => x - before[i]!), [ETH1 - ETH1 / 4n + ETH1 / 10n + BOND, ETH1 + ETH1 / 4n - ETH1 / 10n + BOND])
  for (const k of keys) assert.equal(await stack.manager.balanceOf(k.address as Hex, ETH), 0n)
})

test('the sessionKey option: required with session keys, must be ours', async () => {
  const wallets = [anvil.wallets[1]!, anvil.wallets[2]!]
  const keys = [createSessionKey(), createSessionKey()]
  const { params, channelId } = await openWithSessionKeys(wallets, keys)
  const base = { wallet: wallets[0]!, manager: stack.manager, channelId, params, net: net() }
  const code = (c: string) => (e: ParleyError) => e.code === c
  await assert.rejects(createPeer({ ...base, store: new MemoryStore() }), code('SIGNER_REQUIRED'))
  await assert.rejects(createPeer({ ...base, sessionKey: keys[1]!, store: new MemoryStore() }), code('SIGNER_MISMATCH'))
  await assert.rejects(createPeer({ ...base, sessionKey: createSessionKey(), store: new MemoryStore() }), code('SIGNER_MISMATCH'))
})
