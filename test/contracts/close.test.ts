/**
 * conclude (finality proof of a terminal state) and close (CloseChannel signed by every active
 * participant): settlement, Credited and ChannelClosed events, the remainder split, and every
 * revert case with its custom error.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Wallet, hexlify, randomBytes } from 'ethers'
import { setup, snapshot, makeParams, openChannel, signTx, step, abi, type Fixture } from '../helpers/fixture.js'
import { expectEvents, expectRevert } from '../helpers/revert.js'
import { join, signEach } from '../helpers/sigs.js'
import { assertSolvent } from '../helpers/solvency.js'
import { hashState } from '../../src/protocol/eip712.js'
import { ETH, Phase, type ChannelParams, type Hex, type Transaction } from '../../src/protocol/types.js'

let f: Fixture
let restore: () => Promise<void>
let ws: Wallet[]
let params: ChannelParams
let id: Hex
let parts: Hex[]
const states: Hex[] = []
const txs: Transaction[] = [] // txs[k] leads to states[k + 1]
const DEPOSITS = [10n, 20n, 31n]
const BOND = 5n
const rand32 = () => hexlify(randomBytes(32)) as Hex
const counterState = (deposits: bigint[], count = 0n) =>
  abi.encode(['tuple(uint64,uint16,uint64,uint64,uint256[])'], [[0b111n, 0, count, 0n, deposits]]) as Hex

before(async () => {
  f = await setup(4)
  ws = f.wallets.slice(1, 4)
  const target = abi.encode(['uint64'], [3]) as Hex
  params = makeParams(ws, (await f.counter.getAddress()) as Hex, { deposits: DEPOSITS, bond: BOND, initData: target })
  const opened = await openChannel(f, ws, params)
  id = opened.channelId
  parts = params.participants
  states.push(opened.genesis)
  for (let k = 0; k < 3; k++) {
    const s = await step(f.counter, id, { state: states[k]!, seq: BigInt(k) }, k, abi.encode(['uint64'], [1]) as Hex)
    txs.push(s.tx)
    states.push(s.state)
  }
})
after(() => f.stop())
beforeEach(async () => (restore = await snapshot(f)))
afterEach(() => restore())

const bal = (i: number) => f.manager.getFunction('balanceOf')(ws[i]!.address, ETH) as Promise<bigint>
const conclude = (proof: unknown[], state: Hex, channelId = id, participants = parts, over: object = {}) =>
  f.manager.getFunction('conclude').staticCall(channelId, participants, proof, state, over)
const closeSigs = (stateHash: Hex, fork = 0n, channelId = id) => join(signEach(ws, f.hasher.close(channelId, fork, stateHash)))
const close = (state: Hex, signers: bigint, sigs: Hex, channelId = id, participants = parts, over: object = {}) =>
  f.manager.getFunction('close').staticCall(channelId, participants, state, signers, sigs, over)
const all = (tx: Transaction) => signTx(f, ws, tx, [0, 1, 2])

describe('conclude', () => {
  test('final terminal state settles by outcome plus bond; the channel closes', async () => {
    const receipt = (await (await f.manager.getFunction('conclude')(id, parts, [all(txs[2]!)], states[3]!)).wait())!
    expectEvents(receipt, f.manager, 'Credited', ws.map((w, i) => [id, w.address, ETH, DEPOSITS[i]! + BOND]))
    expectEvents(receipt, f.manager, 'ChannelClosed', [[id, 0n, hashState(states[3]!), DEPOSITS]])
    assert.deepEqual([await bal(0), await bal(1), await bal(2)], DEPOSITS.map((d) => d + BOND))
    const ch = await f.manager.getFunction('getChannel')(id)
    assert.equal(Number(ch.phase), Phase.Closed)
    assert.equal(ch.locked, 0n)
    await assertSolvent(f)
    await expectRevert(conclude([all(txs[2]!)], states[3]!), 'ChannelNotOpen', [id, Phase.Closed])
    await expectRevert(close(states[3]!, 0b111n, closeSigs(hashState(states[3]!))), 'ChannelNotOpen', [id, Phase.Closed])
  })

  const t3 = (over: Partial<Transaction>) => ({ ...txs[2]!, ...over })
  type Case = { name: string; proof: () => unknown[]; state?: () => Hex; error: string; args?: () => unknown[] }
  const cases: Case[] = [
    { name: 'only the author signed', proof: () => [signTx(f, ws, txs[2]!, [2])], error: 'ProofNotFinal', args: () => [0b011n] },
    { name: 'author’s signature missing', proof: () => [signTx(f, ws, txs[2]!, [0, 1])], error: 'ProofActorNotSigned', args: () => [0, 2] },
    { name: 'signer bit beyond n', proof: () => [{ ...all(txs[2]!), signers: 0b1111n }], error: 'SignerInactive', args: () => [3] },
    { name: 'author index beyond n', proof: () => [all(t3({ actor: 5 }))], error: 'ProofActorInvalid', args: () => [0, 5] },
    { name: 'another channel', proof: () => [all(t3({ channelId: rand32() }))], error: 'ProofChannelMismatch', args: () => [0] },
    { name: 'another fork', proof: () => [all(t3({ fork: 1n }))], error: 'ProofForkMismatch', args: () => [0, 1n, 0n] },
    { name: 'seq 0', proof: () => [all(t3({ seq: 0n }))], error: 'ProofNotLinked', args: () => [0] },
    { name: 'previous hash not linked', proof: () => [signTx(f, ws, txs[1]!, [1]), signTx(f, ws, t3({ previousStateHash: rand32() }), [0, 2])], error: 'ProofNotLinked', args: () => [1] },
    { name: 'seq gap', proof: () => [signTx(f, ws, txs[0]!, [0]), signTx(f, ws, t3({ previousStateHash: txs[0]!.stateHash }), [1, 2])], error: 'ProofNotLinked', args: () => [1] },
    { name: 'proof longer than the active count', proof: () => [...txs.map((t) => signTx(f, ws, t, [t.actor])), all(t3({ seq: 4n, previousStateHash: txs[2]!.stateHash }))], error: 'ProofLengthInvalid', args: () => [4, 3] },
    { name: 'empty proof', proof: () => [], error: 'ProofLengthInvalid', args: () => [0, 3] },
    { name: 'a forged signature', proof: () => [{ ...all(txs[2]!), signatures: join(signEach([ws[0]!, new Wallet(rand32()), ws[2]!], f.hasher.transaction(txs[2]!))) }], error: 'SignerNotParticipant', args: () => [1] },
    { name: 'state bytes of another state', proof: () => [all(txs[2]!)], state: () => states[2]!, error: 'StateHashMismatch', args: () => [hashState(states[3]!), hashState(states[2]!)] },
    { name: 'final but not terminal', proof: () => [all(txs[1]!)], state: () => states[2]!, error: 'StateNotTerminal', args: () => [hashState(states[2]!)] },
  ]
  for (const c of cases) {
    test(`${c.name} → ${c.error}`, async () => {
      const r = await expectRevert(conclude(c.proof(), c.state?.() ?? states[3]!), c.error)
      if (c.args) assert.deepEqual(r.args.slice(0, c.args().length).map(String), c.args().map(String))
    })
  }

  test('wrong participant list, unknown channel, starved machine call', async () => {
    const proof = [all(txs[2]!)]
    await expectRevert(conclude(proof, states[3]!, id, [parts[1]!, parts[0]!, parts[2]!]), 'ChannelParticipantsMismatch', [id])
    await expectRevert(conclude(proof, states[3]!, id, parts.slice(0, 2)), 'ChannelParticipantsMismatch', [id])
    const other = rand32()
    await expectRevert(conclude(proof, states[3]!, other), 'ChannelNotOpen', [other, Phase.None])
    await expectRevert(conclude(proof, states[3]!, id, parts, { gasLimit: 1_500_000 }), 'MachineGasTooLow')
  })
})

describe('close', () => {
  test('every participant signed CloseChannel: settles from any state', async () => {
    const h = hashState(states[1]!)
    const receipt = (await (await f.manager.getFunction('close')(id, parts, states[1]!, 0b111n, closeSigs(h))).wait())!
    expectEvents(receipt, f.manager, 'ChannelClosed', [[id, 0n, h, DEPOSITS]])
    expectEvents(receipt, f.manager, 'Credited', ws.map((w, i) => [id, w.address, ETH, DEPOSITS[i]! + BOND]))
    assert.equal(Number((await f.manager.getFunction('getChannel')(id)).phase), Phase.Closed)
    await assertSolvent(f)
  })

  test('what the outcome leaves is split among active participants, dust to the lowest', async () => {
    const state = counterState([1n, 1n, 1n]) // locked 61, outcome 3: 58 = 3 × 19 + 1
    const receipt = (await (await f.manager.getFunction('close')(id, parts, state, 0b111n, closeSigs(hashState(state)))).wait())!
    const payouts = [21n, 20n, 20n]
    expectEvents(receipt, f.manager, 'ChannelClosed', [[id, 0n, hashState(state), payouts]])
    assert.deepEqual([await bal(0), await bal(1), await bal(2)], payouts.map((p) => p + BOND))
    await assertSolvent(f)
  })

  const h1 = () => hashState(states[1]!)
  type Case = { name: string; state?: () => Hex; signers?: bigint; sigs: () => Hex; error: string; args?: () => unknown[] }
  const cases: Case[] = [
    { name: 'two of three signed', signers: 0b011n, sigs: () => join(signEach(ws.slice(0, 2), f.hasher.close(id, 0n, h1()))), error: 'SignaturesBelowThreshold', args: () => [2n, 3n] },
    { name: 'signer bit beyond n', signers: 0b1111n, sigs: () => closeSigs(h1()), error: 'SignerInactive', args: () => [3n] },
    { name: 'signed for another fork', sigs: () => closeSigs(h1(), 1n), error: 'SignerNotParticipant' },
    { name: 'signed another state', state: () => states[2]!, sigs: () => closeSigs(h1()), error: 'SignerNotParticipant' },
    { name: 'signed for another channel', sigs: () => closeSigs(h1(), 0n, rand32()), error: 'SignerNotParticipant' },
    { name: 'transaction signatures are not CloseChannel', sigs: () => all(txs[0]!).signatures, error: 'SignerNotParticipant' },
    { name: 'outcome above the locked deposits', state: () => counterState([60n, 1n, 1n]), sigs: () => closeSigs(hashState(counterState([60n, 1n, 1n]))), error: 'OutcomeExceedsLocked', args: () => [62n, 61n] },
    { name: 'outcome that overflows uint256', state: () => counterState([2n ** 256n - 1n, 1n, 0n]), sigs: () => closeSigs(hashState(counterState([2n ** 256n - 1n, 1n, 0n]))), error: 'OutcomeExceedsLocked' },
    { name: 'outcome shorter than n', state: () => counterState([1n, 1n]), sigs: () => closeSigs(hashState(counterState([1n, 1n]))), error: 'OutcomeLengthInvalid', args: () => [2n, 3n] },
    { name: 'outcome empty', state: () => counterState([]), sigs: () => closeSigs(hashState(counterState([]))), error: 'OutcomeLengthInvalid', args: () => [0n, 3n] },
    // Longer than n words is more return data than the type can need: a failed call, nothing copied.
    { name: 'outcome longer than n', state: () => counterState([1n, 1n, 1n, 1n]), sigs: () => closeSigs(hashState(counterState([1n, 1n, 1n, 1n]))), error: 'MachineCallFailed', args: () => [f.counter.interface.getFunction('outcome')!.selector, '0x'] },
    { name: 'state the machine cannot decode', state: () => '0x1234', sigs: () => closeSigs(hashState('0x1234')), error: 'MachineCallFailed', args: () => [f.counter.interface.getFunction('outcome')!.selector, '0x'] },
  ]
  for (const c of cases) {
    test(`${c.name} → ${c.error}`, async () => {
      await expectRevert(close(c.state?.() ?? states[1]!, c.signers ?? 0b111n, c.sigs()), c.error, c.args?.())
      assert.equal(Number((await f.manager.getFunction('getChannel')(id)).phase), Phase.Open)
    })
  }

  test('wrong participant list, unknown channel, starved machine call', async () => {
    const sigs = closeSigs(h1())
    await expectRevert(close(states[1]!, 0b111n, sigs, id, [...parts].reverse()), 'ChannelParticipantsMismatch', [id])
    const other = rand32()
    await expectRevert(close(states[1]!, 0b111n, sigs, other), 'ChannelNotOpen', [other, Phase.None])
    await expectRevert(close(states[1]!, 0b111n, sigs, id, parts, { gasLimit: 1_500_000 }), 'MachineGasTooLow')
  })
})
