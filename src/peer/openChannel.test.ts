/**
 * openChannel on a real anvil: consents in any order, from signatures or keys, checked before
 * anything is sent (count, garbage, a foreign signer, a duplicate, a missing deposit, a channel
 * opened twice), then the open itself.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Signature, type Wallet } from 'ethers'
import { startAnvil, type Anvil } from '../chain/anvil.js'
import { signOpenConsent } from '../chain/consent.js'
import { deployLocalStack, type LocalStack } from '../chain/stack.js'
import { channelParams } from '../channel/params.js'
import { ParleyError } from '../errors/ParleyError.js'
import { ETH, Phase, type ChannelParams, type Hex } from '../protocol/types.js'
import { openChannel, orderConsents } from './openChannel.js'

const ONE = 10n ** 18n
let anvil: Anvil
let stack: LocalStack
let alice: Wallet, bob: Wallet, carol: Wallet

before(async () => {
  anvil = await startAnvil({ accounts: 4 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  ;[, alice, bob, carol] = anvil.wallets as [Wallet, Wallet, Wallet, Wallet]
  for (const w of [alice, bob]) await stack.manager.connect(w).deposit(ETH, ONE)
})
after(() => anvil.stop())

const code = (c: string) => (e: unknown) => e instanceof ParleyError && e.code === c
const params = async (): Promise<ChannelParams> =>
  channelParams({ participants: [alice.address, bob.address], machine: stack.machines.payments, deposits: [ONE / 2n, ONE / 2n], now: BigInt(await anvil.now()) })

describe('openChannel', () => {
  it('refuses bad consents before sending anything', async () => {
    const p = await params()
    const hasher = await stack.manager.hasher()
    const bobSig = signOpenConsent(bob.signingKey, hasher, p)
    const m = stack.manager.connect(alice)
    await assert.rejects(openChannel(m, p, [alice]), code('CONSENT_COUNT_MISMATCH'))
    await assert.rejects(openChannel(m, p, [alice, '0x1234']), code('CONSENT_INVALID'))
    await assert.rejects(openChannel(m, p, [alice, carol]), code('CONSENT_SIGNER_UNKNOWN'))
    await assert.rejects(openChannel(m, p, [bobSig, bobSig]), code('CONSENT_DUPLICATE'))
    const other = signOpenConsent(bob.signingKey, hasher, { ...p, bond: 1n })
    await assert.rejects(openChannel(m, p, [alice, other]), code('CONSENT_SIGNER_UNKNOWN'))
    const poor = { ...p, deposits: [ONE / 2n, 2n * ONE] }
    await assert.rejects(openChannel(m, poor, [alice, bob]), (e: unknown) => code('DEPOSIT_MISSING')(e) && (e as ParleyError).details?.participant === 1)
    assert.equal((await stack.manager.getChannel(hasher.channelId(p))).phase, Phase.None)
  })

  it('opens with consents in any order, signatures and keys mixed; not twice', async () => {
    const p = await params()
    const bobSig = signOpenConsent(bob.signingKey, await stack.manager.hasher(), p) as Hex
    const r = await openChannel(stack.manager.connect(carol), p, [bobSig, alice])
    assert.equal((await stack.manager.getChannel(r.channelId)).phase, Phase.Open)
    assert.equal(r.genesis.fork, 0n)
    await assert.rejects(openChannel(stack.manager.connect(carol), p, [bobSig, alice]), code('CHANNEL_EXISTS'))
  })

  it('takes the forms wallets return: a 64-byte EIP-2098 consent and one with v = 0 / 1', async () => {
    const p = await params()
    const hasher = await stack.manager.hasher()
    const aliceSig = signOpenConsent(alice.signingKey, hasher, p)
    const bobSig = signOpenConsent(bob.signingKey, hasher, p)
    const compact = Signature.from(aliceSig).compactSerialized
    const raw = `${bobSig.slice(0, 130)}0${Number.parseInt(bobSig.slice(130), 16) - 27}`
    assert.deepEqual(orderConsents(hasher.channelId(p), p, [raw, compact]), [aliceSig, bobSig])
    const r = await openChannel(stack.manager.connect(carol), p, [raw, compact])
    assert.equal((await stack.manager.getChannel(r.channelId)).phase, Phase.Open)
  })
})
