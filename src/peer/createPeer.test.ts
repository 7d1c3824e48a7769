/**
 * createPeer on a real anvil and a local HyperDHT testnet: two peers find each other and play;
 * a peer stopped and created again from its store resumes (restored) and catches up; the
 * options a caller can get wrong (another hardfork than the chain's included) fail with their codes.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder, keccak256, toUtf8Bytes, type Wallet } from 'ethers'
import createTestnet from '@hyperswarm/testnet'
import { startAnvil, type Anvil } from '../chain/anvil.js'
import { loadArtifact } from '../contracts/artifacts.js'
import { signOpenConsent } from '../chain/consent.js'
import { deployLocalStack, type LocalStack } from '../chain/stack.js'
import type { ParleyError } from '../errors/ParleyError.js'
import { silentLogger } from '../net/logger.js'
import { ETH, type ChannelParams, type Hex } from '../protocol/types.js'
import { MemoryStore } from '../store/MemoryStore.js'
import { createPeer, type CreatePeerOptions, type Peer } from './createPeer.js'
import { defaultTimes } from '../channel/params.js'

const abi = AbiCoder.defaultAbiCoder()
const pay = (to: number, amount: bigint) => abi.encode(['uint16', 'uint256'], [to, amount]) as Hex
const ETH1 = 10n ** 18n

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

async function openChannel(wallets: Wallet[]): Promise<{ params: ChannelParams; channelId: Hex }> {
  const hasher = await stack.manager.hasher()
  const params: ChannelParams = {
    participants: wallets.map((w) => w.address.toLowerCase() as Hex), machine: stack.machines.payments, asset: ETH,
    deposits: wallets.map(() => ETH1), bond: 0n, ...defaultTimes,
    salt: keccak256(toUtf8Bytes(`create-peer-${Date.now()}`)) as Hex, initData: '0x', openDeadline: 1n << 40n,
  }
  for (const w of wallets) await stack.manager.connect(w).deposit(ETH, ETH1)
  const { channelId } = await stack.manager.open(params, wallets.map((w) => signOpenConsent(w.signingKey, hasher, params)))
  return { params, channelId }
}

describe('createPeer', () => {
  test('two peers play over hyperswarm; a peer created again from its store resumes and catches up', async () => {
    const [alice, bob] = [anvil.wallets[1]!, anvil.wallets[2]!]
    const { params, channelId } = await openChannel([alice, bob])
    const stores = [new MemoryStore(), new MemoryStore()]
    const codeHash = keccak256(loadArtifact('Payments').deployedBytecode) as Hex
    const start = async (i: number): Promise<Peer> => {
      const opts: CreatePeerOptions = {
        wallet: [alice, bob][i]!, manager: stack.manager, channelId, params, store: stores[i]!, pollMs: 50, machineCodeHash: codeHash,
        net: { bootstrap: testnet.bootstrap, host: '127.0.0.1', logger: silentLogger },
      }
      const p = await createPeer(opts)
      running.push(p)
      return p
    }
    const [a, b] = [await start(0), await start(1)]
    assert.deepEqual([a.restored, b.restored], [false, false])
    assert.deepEqual([a.machine.hardfork, b.machine.hardfork], ['cancun', 'cancun'], 'the local EVM runs the chain\'s hardfork')
    const one = await a.channel.propose(pay(1, ETH1 / 4n))
    await Promise.all([a.channel.waitFinal(one.seq), b.channel.waitFinal(one.seq)])
    const two = await b.channel.propose(pay(0, ETH1 / 10n))
    await b.channel.waitFinal(two.seq)

    await a.stop()
    const again = await start(0)
    assert.equal(again.restored, true)
    await again.channel.waitFinal(two.seq)
    assert.equal(again.channel.state.stateHash, b.channel.state.stateHash)
    const three = await again.channel.propose(pay(1, ETH1 / 20n))
    await Promise.all([again.channel.waitFinal(three.seq), b.channel.waitFinal(three.seq)])
    assert.deepEqual(await again.machine.outcome(again.channel.state.state), [ETH1 - ETH1 / 4n + ETH1 / 10n - ETH1 / 20n, ETH1 + ETH1 / 4n - ETH1 / 10n + ETH1 / 20n])
  })

  test('a stranger, a channel without params, another machine or another hardfork is refused with its code', async () => {
    const [alice, bob, stranger] = [anvil.wallets[1]!, anvil.wallets[2]!, anvil.wallets[3]!]
    const { params, channelId } = await openChannel([alice, bob])
    const base = { manager: stack.manager, channelId, store: new MemoryStore(), net: { bootstrap: testnet.bootstrap, host: '127.0.0.1', logger: silentLogger } }
    const code = (c: string) => (e: ParleyError) => e.code === c
    await assert.rejects(createPeer({ ...base, wallet: stranger, params }), code('SIGNER_NOT_PARTICIPANT'))
    await assert.rejects(createPeer({ ...base, wallet: alice }), code('PARAMS_REQUIRED'))
    await assert.rejects(createPeer({ ...base, wallet: alice, params: { ...params, bond: 1n } }), code('CHANNEL_ID_MISMATCH'))
    await assert.rejects(createPeer({ ...base, wallet: alice, params, machineCodeHash: keccak256('0x00') as Hex }), code('MACHINE_CODE_MISMATCH'))
    await assert.rejects(createPeer({ ...base, wallet: alice, params, hardfork: 'prague' }), (e: ParleyError) => {
      assert.equal(e.code, 'HARDFORK_MISMATCH')
      assert.deepEqual(e.details, { expected: 'prague', chain: 'cancun' })
      return true
    })
    await assert.rejects(createPeer({ ...base, wallet: alice, params, hardfork: 'shanghai' as never }), code('HARDFORK_INVALID'))
    assert.equal(base.store.getChannel(channelId), undefined, 'nothing was stored')
  })
})
