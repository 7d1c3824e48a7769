/**
 * open / getChannel: every parameter and consent-signature error, all-or-nothing
 * on a failed open, the ChannelOpened and StateSet events, and the stored record.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder, Contract, Wallet, hexlify, keccak256, randomBytes } from 'ethers'
import { setup, snapshot, makeParams, fund, signOpen, type Fixture } from '../helpers/fixture.js'
import { expectEvents, expectRevert } from '../helpers/revert.js'
import { highS, join, signEach, trim, withV } from '../helpers/sigs.js'
import { assertSolvent } from '../helpers/solvency.js'
import { trackOf } from '../helpers/records.js'
import { channelWordOf } from '../../src/chain/records.js'
import { hashState } from '../../src/protocol/eip712.js'
import { ETH, Phase, type ChannelParams, type Hex } from '../../src/protocol/types.js'

let f: Fixture
let restore: () => Promise<void>
let ws: Wallet[]
let counter: Hex
const DAY = 24 * 3600
const TIMES = ['p2pTime', 'agreementTime', 'chainFallbackTime', 'challengeTime'] as const

before(async () => {
  f = await setup(5)
  ws = f.wallets.slice(1, 4)
  counter = (await f.counter.getAddress()).toLowerCase() as Hex
})
after(() => f.stop())
beforeEach(async () => (restore = await snapshot(f)))
afterEach(() => restore())

const open = (p: ChannelParams, sigs: Hex, over: object = {}) => f.manager.getFunction('open').staticCall(p, sigs, over)
const randomAddr = () => hexlify(randomBytes(20)) as Hex
const phaseOf = async (id: Hex) => Number((await f.manager.getFunction('getChannel')(id)).phase)
const balances = (p: ChannelParams) => Promise.all(p.participants.map((a) => f.manager.getFunction('balanceOf')(a, p.asset) as Promise<bigint>))

test('opens: moves deposit + bond, stores the record, emits ChannelOpened and StateSet', async () => {
  const initData = ('0x' + '00'.repeat(31) + '09') as Hex // Counter target = 9
  const params = makeParams(ws, counter, { deposits: [3n, 5n, 7n], bond: 2n, initData })
  await fund(f, ws, params)
  const id = f.hasher.channelId(params)
  assert.equal(await open(params, signOpen(f, ws, params)), id)
  const receipt = (await (await f.manager.getFunction('open')(params, signOpen(f, ws, params))).wait())!
  const block = await f.anvil.provider.getBlock(receipt.blockNumber)
  const genesis = (await f.counter.getFunction('initialState')(params.deposits, params.initData)) as Hex
  expectEvents(receipt, f.manager, 'StateSet', [[id, 0n, hashState(genesis), genesis, BigInt(block!.timestamp), 0b111n, 15n]])
  // The record (from ChannelOpened) is what the channel's one stored word commits to.
  const track = await trackOf(f.rawManager, id)
  assert.deepEqual([...(await f.manager.getFunction('channelWord')(id))], [BigInt(Phase.Open), channelWordOf(track!)])
  assert.equal(track!.record.participantsHash, keccak256(AbiCoder.defaultAbiCoder().encode(params.participants.map(() => 'address'), params.participants)))
  const ch = await f.manager.getFunction('getChannel')(id)
  assert.deepEqual(
    [ch.machine.toLowerCase(), ch.fork, Number(ch.phase), ch.n, ch.asset, ch.p2pTime, ch.agreementTime, ch.chainFallbackTime, ch.active, ch.slashed, ch.genesisTimestamp, ch.challengeTime, ch.genesisStateHash, ch.locked, ch.bond],
    [counter, 0n, Phase.Open, 3n, ETH, 60n, 30n, 120n, 0b111n, 0n, BigInt(block!.timestamp), 300n, hashState(genesis), 15n, 2n],
  )
  assert.deepEqual(await balances(params), [0n, 0n, 0n])
  await assertSolvent(f)
})

test('boundaries accepted: 64 participants, zero deposits, every time = 30 days', async () => {
  const many = Array.from({ length: 64 }, () => new Wallet(hexlify(randomBytes(32))))
  const params = makeParams(many, counter, { deposits: many.map(() => 0n), p2pTime: 30 * DAY, agreementTime: 30 * DAY, chainFallbackTime: 30 * DAY, challengeTime: 30 * DAY })
  await (await f.manager.getFunction('open')(params, signOpen(f, many, params))).wait()
  const ch = await f.manager.getFunction('getChannel')(f.hasher.channelId(params))
  assert.equal(ch.n, 64n)
  assert.equal(ch.active, 2n ** 64n - 1n)
})

test('unknown channel: getChannel is all zeros (phase None)', async () => {
  assert.equal(await phaseOf(hexlify(randomBytes(32)) as Hex), Phase.None)
})

describe('parameter errors', () => {
  type Case = { name: string; edit: (p: ChannelParams) => void; error: string; args?: (p: ChannelParams) => unknown[] }
  const cases: Case[] = [
    { name: 'one participant', edit: (p) => { p.participants = p.participants.slice(0, 1); p.deposits = [0n] }, error: 'ChannelParticipantCountInvalid', args: () => [1n] },
    { name: 'no participants', edit: (p) => { p.participants = []; p.deposits = [] }, error: 'ChannelParticipantCountInvalid', args: () => [0n] },
    { name: '65 participants', edit: (p) => { p.participants = Array.from({ length: 65 }, randomAddr); p.deposits = p.participants.map(() => 0n) }, error: 'ChannelParticipantCountInvalid', args: () => [65n] },
    { name: 'fewer deposits', edit: (p) => { p.deposits = p.deposits.slice(0, 2) }, error: 'ChannelDepositsLengthMismatch', args: () => [3n, 2n] },
    { name: 'more deposits', edit: (p) => { p.deposits = [...p.deposits, 0n] }, error: 'ChannelDepositsLengthMismatch', args: () => [3n, 4n] },
    { name: 'zero participant', edit: (p) => { p.participants[2] = ETH }, error: 'ChannelParticipantInvalid', args: () => [2n] },
    { name: 'duplicate participant', edit: (p) => { p.participants[2] = p.participants[0]! }, error: 'ChannelParticipantDuplicate', args: (p) => [2n, p.participants[0]] },
    { name: 'machine without code', edit: (p) => { p.machine = randomAddr() }, error: 'ChannelMachineInvalid', args: (p) => [p.machine] },
    { name: 'asset without code', edit: (p) => { p.asset = randomAddr() }, error: 'BalanceAssetInvalid', args: (p) => [p.asset] },
  ]
  for (const [which, key] of TIMES.entries()) {
    cases.push({ name: `${key} = 0`, edit: (p) => { p[key] = 0 }, error: 'ChannelTimeInvalid', args: () => [BigInt(which), 0n] })
    cases.push({ name: `${key} = 30 days + 1`, edit: (p) => { p[key] = 30 * DAY + 1 }, error: 'ChannelTimeInvalid', args: () => [BigInt(which), BigInt(30 * DAY + 1)] })
  }
  for (const c of cases) {
    test(`${c.name} → ${c.error}`, async () => {
      const params = makeParams(ws, counter, { deposits: [0n, 0n, 0n] })
      c.edit(params)
      await expectRevert(open(params, signOpen(f, ws, params)), c.error, c.args?.(params))
    })
  }

  test('machine whose initialState reverts → MachineCallFailed with the machine error', async () => {
    const params = makeParams(ws, (await f.tictactoe.getAddress()) as Hex, { deposits: [0n, 0n, 0n] })
    const r = await expectRevert(open(params, signOpen(f, ws, params)), 'MachineCallFailed')
    assert.equal(r.args[0], f.tictactoe.interface.getFunction('initialState')!.selector)
    assert.equal(r.args[1], f.tictactoe.interface.encodeErrorResult('TicTacToeNeedsTwoPlayers', [3]))
  })

  test('too little gas for the capped machine call → MachineGasTooLow', async () => {
    const params = makeParams(ws, counter, { deposits: [0n, 0n, 0n] })
    await expectRevert(open(params, signOpen(f, ws, params), { gasLimit: 1_500_000 }), 'MachineGasTooLow')
  })

  test('consents used after their openDeadline → ChannelConsentExpired; at the deadline itself they still open', async () => {
    const now = BigInt(await f.anvil.now())
    const late = makeParams(ws, counter, { deposits: [0n, 0n, 0n], openDeadline: now - 1n })
    await expectRevert(open(late, signOpen(f, ws, late)), 'ChannelConsentExpired')
    const exact = makeParams(ws, counter, { deposits: [0n, 0n, 0n], openDeadline: now + 20n })
    await f.anvil.provider.send('evm_setNextBlockTimestamp', [Number(now + 20n)])
    await (await f.manager.getFunction('open')(exact, signOpen(f, ws, exact))).wait()
    assert.equal((await f.manager.getFunction('getChannel')(f.hasher.channelId(exact))).phase, 1n)
  })

  test('the same parameters twice → ChannelExists', async () => {
    const params = makeParams(ws, counter, { deposits: [0n, 0n, 0n] })
    await (await f.manager.getFunction('open')(params, signOpen(f, ws, params))).wait()
    await expectRevert(open(params, signOpen(f, ws, params)), 'ChannelExists', [f.hasher.channelId(params)])
  })
})

describe('consent signature errors', () => {
  const params = () => makeParams(ws, counter, { deposits: [0n, 0n, 0n], salt: ('0x' + '11'.repeat(32)) as Hex })
  type Case = { name: string; sigs: (s: Hex[], p: ChannelParams) => Hex; error: string; args?: (p: ChannelParams) => unknown[] }
  const stranger = new Wallet(hexlify(randomBytes(32)))
  const cases: Case[] = [
    { name: 'missing (empty)', sigs: () => '0x', error: 'SignaturesLengthInvalid', args: () => [195n, 0n] },
    { name: 'one missing', sigs: (s) => join(s.slice(0, 2)), error: 'SignaturesLengthInvalid', args: () => [195n, 130n] },
    { name: 'short by one byte', sigs: (s) => trim(join(s), 1), error: 'SignaturesLengthInvalid', args: () => [195n, 194n] },
    { name: 'one extra byte', sigs: (s) => trim(join(s), -1), error: 'SignaturesLengthInvalid', args: () => [195n, 196n] },
    { name: 'forged by a stranger', sigs: (s, p) => join([s[0]!, signEach([stranger], f.hasher.channelId(p))[0]!, s[2]!]), error: 'SignerNotParticipant', args: () => [1n, stranger.address] },
    { name: 'signed other params', sigs: (_, p) => join(signEach(ws, f.hasher.channelId({ ...p, bond: 1n }))), error: 'SignerNotParticipant' },
    { name: 'malleable (high s)', sigs: (s) => join([s[0]!, s[1]!, highS(s[2]!)]), error: 'SignatureMalleable', args: () => [2n] },
    { name: 'v = 29', sigs: (s) => join([withV(s[0]!, 29), s[1]!, s[2]!]), error: 'SignatureInvalid', args: () => [0n] },
    { name: 'misordered', sigs: (s) => join([s[1]!, s[0]!, s[2]!]), error: 'SignatureDuplicate', args: (p) => [0n, p.participants[1]] },
    { name: 'duplicated', sigs: (s) => join([s[0]!, s[0]!, s[2]!]), error: 'SignatureDuplicate', args: (p) => [1n, p.participants[0]] },
  ]
  for (const c of cases) {
    test(`${c.name} → ${c.error}`, async () => {
      const p = params()
      await expectRevert(open(p, c.sigs(signEach(ws, f.hasher.channelId(p)), p)), c.error, c.args?.(p))
    })
  }
})

describe('all or nothing', () => {
  for (const [i, asset] of [[0, 'ETH'], [1, 'ETH'], [2, 'ETH'], [2, 'token']] as const) {
    test(`participant ${i} short of funds (${asset}) → BalanceInsufficient; nothing moved`, async () => {
      const assetAddr = asset === 'ETH' ? ETH : ((await f.token.getAddress()).toLowerCase() as Hex)
      const params = makeParams(ws, counter, { asset: assetAddr, deposits: [4n, 5n, 6n], bond: 1n })
      await fund(f, ws, params)
      const m = f.manager.connect(ws[i]!) as Contract
      await (await m.getFunction('withdraw')(assetAddr, 1n, ws[i]!.address)).wait()
      const before = await balances(params)
      const sigs = signOpen(f, ws, params)
      await expectRevert(open(params, sigs), 'BalanceInsufficient', [params.participants[i], assetAddr, params.deposits[i]!, params.deposits[i]! + 1n])
      // Mine the failing transaction for real (fixed gas skips estimation), then look at state.
      const tx = await f.manager.getFunction('open')(params, sigs, { gasLimit: 8_000_000 })
      await assert.rejects(tx.wait(), (e: { receipt?: { status: number } }) => e.receipt?.status === 0)
      assert.deepEqual(await balances(params), before)
      assert.equal(await phaseOf(f.hasher.channelId(params)), Phase.None)
      await assertSolvent(f)
    })
  }
})

describe('amount bounds', () => {
  const big = 2n ** 128n
  const tokenParams = async (over: Partial<ChannelParams>) =>
    makeParams(ws.slice(0, 2), counter, { asset: (await f.token.getAddress()).toLowerCase() as Hex, ...over })

  test('locked total above 2^128 - 1 → ChannelAmountTooLarge', async () => {
    const params = await tokenParams({ deposits: [big, 0n] })
    await fund(f, ws.slice(0, 2), params)
    await expectRevert(open(params, signOpen(f, ws.slice(0, 2), params)), 'ChannelAmountTooLarge')
  })

  test('bond above (2^128 - 1) / n → ChannelAmountTooLarge', async () => {
    const params = await tokenParams({ deposits: [0n, 0n], bond: big / 2n })
    await fund(f, ws.slice(0, 2), params)
    await expectRevert(open(params, signOpen(f, ws.slice(0, 2), params)), 'ChannelAmountTooLarge')
  })

  test('deposit + bond overflowing uint256 → ChannelAmountTooLarge, not a panic', async () => {
    const params = await tokenParams({ deposits: [1n, 0n], bond: 2n ** 256n - 1n })
    await expectRevert(open(params, signOpen(f, ws.slice(0, 2), params)), 'ChannelAmountTooLarge')
  })
})
