/**
 * Wallets sign only consents, through anvil's own `eth_signTypedData_v4` (its default accounts
 * are unlocked in the node): Alice through an EIP-1193 provider, Bob through an ethers
 * JsonRpcSigner. Their open consents authorize session keys, which sign every move of a
 * Payments channel; the wallets' close consents settle it with exact balances. Also: the typed
 * data hashes to the manager's digests, wallets' other signature forms (v = 0 / 1, EIP-2098
 * compact) are accepted after normalizing, a high s is not, and a wallet that signs for another
 * account is caught before the chain.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Signature, TypedDataEncoder, concat, type Log, type Wallet } from 'ethers'
import { fund, setup, snapshot, type Fixture } from '../helpers/fixture.js'
import { Sim, pay, assertSolvent, expectRevert } from '../helpers/court.js'
import { highS } from '../helpers/sigs.js'
import { channelParams } from '../../src/channel/params.js'
import { decodeManagerLog } from '../../src/chain/decode.js'
import { ParleyError } from '../../src/errors/ParleyError.js'
import { hashState } from '../../src/protocol/eip712.js'
import { memberList } from '../../src/protocol/members.js'
import { closeOthers } from '../../src/protocol/close.js'
import { packSignatures } from '../../src/protocol/signatures.js'
import { ETH, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import {
  closeConsentTypedData, consentSignerFromEip1193, consentSignerFromSigner, createSessionKey, openConsentTypedData, requestCloseConsent,
  requestOpenConsent, type ConsentSigner, type Eip1193Provider,
} from '../../src/wallet/index.js'

const ETH1 = 10n ** 18n
const BOND = ETH1 / 10n

let f: Fixture
let ws: Wallet[]
let rpc: Eip1193Provider
let alice: ConsentSigner
let bob: ConsentSigner
let restore: () => Promise<void>

before(async () => {
  f = await setup(4)
  ws = f.wallets.slice(1, 3)
  // anvil's JSON-RPC as an EIP-1193 provider; the node signs for its unlocked default accounts.
  rpc = { request: ({ method, params }) => f.anvil.provider.send(method, params ?? []) }
  alice = consentSignerFromEip1193(rpc, ws[0]!.address)
  bob = consentSignerFromSigner(await f.anvil.provider.getSigner(ws[1]!.address))
})
after(() => f.stop())
beforeEach(async () => (restore = await snapshot(f)))
afterEach(() => restore())

const sessionParams = (keys: Wallet[]): ChannelParams =>
  channelParams({
    participants: ws.map((w) => w.address), signers: keys.map((k) => k.address), machine: f.payments.target as string,
    deposits: [ETH1, ETH1], bond: BOND, openDeadline: 1n << 40n,
  })

async function openWith(params: ChannelParams, consents: Hex[]): Promise<{ channelId: Hex; genesis: Hex; timestamp: bigint }> {
  await fund(f, ws, params)
  const receipt = (await (await f.manager.getFunction('open')({ ...params, signers: params.signers ?? [] }, concat(consents))).wait())!
  // ChannelOpened names the channel: the id of these params as they were opened (signers or none).
  const opened = (receipt.logs as Log[]).map((l) => decodeManagerLog(f.manager.interface, l)).find((e) => e?.name === 'ChannelOpened')
  assert.equal(opened?.name === 'ChannelOpened' && opened.args.channelId, f.hasher.channelId(params))
  const set = (receipt.logs as Log[]).map((l) => f.manager.interface.parseLog(l)).find((e) => e?.name === 'StateSet')!
  return { channelId: f.hasher.channelId(params), genesis: set.args.state as Hex, timestamp: BigInt(set.args.timestamp) }
}

describe('typed data', () => {
  test('the open and close consents hash to the channel id and the CloseChannel digest', () => {
    const params = sessionParams([createSessionKey(), createSessionKey()])
    const open = openConsentTypedData(f.hasher.domain, params)
    assert.equal(TypedDataEncoder.hash(open.domain, open.types, open.message), f.hasher.channelId(params))
    const payouts = [5n, 0n, 2n ** 256n - 1n]
    const close = closeConsentTypedData(f.hasher.domain, f.hasher.channelId(params), 3n, '0x1234', payouts)
    assert.equal(TypedDataEncoder.hash(close.domain, close.types, close.message), f.hasher.close(f.hasher.channelId(params), 3n, hashState('0x1234'), payouts))
    // The wallet shows what each participant gets: the payouts are in the message, a copy of them.
    assert.deepEqual(close.message.payouts, payouts)
    assert.notEqual(close.message.payouts, payouts)
  })

  test('a channel without session keys opens under the id its params have without signers', async () => {
    const params = channelParams({ participants: ws.map((w) => w.address), machine: f.payments.target as string, deposits: [ETH1, ETH1], openDeadline: 1n << 40n })
    assert.equal(params.signers, undefined)
    await openWith(params, [await requestOpenConsent(alice, f.hasher.domain, params), await requestOpenConsent(bob, f.hasher.domain, params)])
  })

  test('createSessionKey: a fresh key each time', () => {
    const [a, b] = [createSessionKey(), createSessionKey()]
    assert.notEqual(a.address, b.address)
    assert.match(a.privateKey, /^0x[0-9a-f]{64}$/)
  })
})

test('anvil’s eth_signTypedData_v4 consents open a channel with session keys; the keys play, the wallets close with exact balances', async () => {
  const keys = [createSessionKey(), createSessionKey()]
  const params = sessionParams(keys)
  const consents = [await requestOpenConsent(alice, f.hasher.domain, params), await requestOpenConsent(bob, f.hasher.domain, params)]
  const { channelId, genesis, timestamp } = await openWith(params, consents)
  const sim = new Sim(f, ws, params, channelId, genesis, f.payments, keys)
  sim.genesisTimestamp = timestamp

  // Alice pays Bob 0.3, Bob pays Alice 0.1, Alice passes: every move signed by both session keys.
  await sim.move(0, pay(1, 3n * BOND))
  await sim.move(1, pay(0, BOND))
  await sim.move(0, '0x')
  const proof = sim.chain(1n, 3n, () => [0, 1])
  const [stateHash, seq] = await f.manager.getFunction('verifyFinalityProof')(channelId, memberList(params), [proof[2]])
  assert.deepEqual([stateHash, seq], [sim.entry(3n).tx.stateHash, 3n])

  const final = sim.entry(3n).state
  const payouts = await sim.closePayouts(final)
  assert.deepEqual(payouts, [ETH1 - 2n * BOND, ETH1 + 2n * BOND])
  const closeSigs = [
    await requestCloseConsent(alice, f.hasher.domain, channelId, 0n, final, payouts),
    await requestCloseConsent(bob, f.hasher.domain, channelId, 0n, final, payouts),
  ]
  const { signatures } = packSignatures(new Map(closeSigs.map((s, i) => [i, s])))
  const before = await sim.balances()
  // Every participant active: `others` is the session keys (the wallets come back from the consents).
  await sim.send(0, 'close', channelId, hashState(final), payouts, closeOthers(memberList(params), 2, 0b11n), signatures)
  const d = (await sim.balances()).map((b, i) => b - before[i]!)
  assert.deepEqual(d, [ETH1 - 2n * BOND + BOND, ETH1 + 2n * BOND + BOND])
  for (const k of keys) assert.equal(await f.manager.getFunction('balanceOf')(k.address, ETH), 0n)
  await assertSolvent(f)
})

describe('signature forms wallets return', () => {
  /** Alice's wallet, with its signatures rewritten by `form` on the way back. */
  const reshaping = (form: (sig: Hex) => Hex): ConsentSigner =>
    consentSignerFromEip1193({ request: async (a) => form((await rpc.request(a)) as Hex) }, ws[0]!.address)

  test('v = 0 / 1 and 64-byte EIP-2098 compact consents are expanded and open the channel', async () => {
    for (const form of [(s: Hex) => Signature.from(s).compactSerialized as Hex, (s: Hex) => `${s.slice(0, 130)}0${Number.parseInt(s.slice(130), 16) - 27}` as Hex]) {
      const params = sessionParams([createSessionKey(), createSessionKey()])
      const consent = await requestOpenConsent(reshaping(form), f.hasher.domain, params)
      assert.equal(consent.length, 132)
      assert.ok(consent.endsWith('1b') || consent.endsWith('1c'))
      await openWith(params, [consent, await requestOpenConsent(bob, f.hasher.domain, params)])
    }
  })

  test('a high-s consent stays refused: by the client, and by the manager', async () => {
    const params = sessionParams([createSessionKey(), createSessionKey()])
    await assert.rejects(requestOpenConsent(reshaping(highS), f.hasher.domain, params), (e: ParleyError) => e.code === 'SIGNATURE_MALLEABLE')
    const good = await requestOpenConsent(alice, f.hasher.domain, params)
    await fund(f, ws, params)
    await expectRevert(
      f.manager.getFunction('open').staticCall(params, concat([highS(good), await requestOpenConsent(bob, f.hasher.domain, params)])),
      'SignatureMalleable', [0],
    )
  })

  test('a wallet that signs as another account → SIGNER_MISMATCH before the chain', async () => {
    const liar = consentSignerFromEip1193({ request: (a) => rpc.request({ method: a.method, params: [ws[1]!.address, a.params![1]] }) }, ws[0]!.address)
    const params = sessionParams([createSessionKey(), createSessionKey()])
    await assert.rejects(requestOpenConsent(liar, f.hasher.domain, params), (e: ParleyError) => e.code === 'SIGNER_MISMATCH')
  })

  test('a wallet that refuses → WALLET_REJECTED', async () => {
    const refusing = consentSignerFromEip1193({ request: () => Promise.reject(new Error('User rejected the request.')) }, ws[0]!.address)
    const params = sessionParams([createSessionKey(), createSessionKey()])
    await assert.rejects(requestOpenConsent(refusing, f.hasher.domain, params), (e: ParleyError) => e.code === 'WALLET_REJECTED')
  })
})
