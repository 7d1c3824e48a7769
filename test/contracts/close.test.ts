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
import { highS, join, signEach, trim, withV } from '../helpers/sigs.js'
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
/** Every participant's consent (in order) to close on `stateHash` with `payouts` (default: the Counter outcome of the genesis, its deposits). */
const closeSigs = (stateHash: Hex, fork = 0n, channelId = id, payouts = DEPOSITS) => join(signEach(ws, f.hasher.close(channelId, fork, stateHash, payouts)))
const close = (stateHash: Hex, payouts: bigint[], sigs: Hex, channelId = id, others: Hex[] = [], over: object = {}) =>
  f.manager.getFunction('close').staticCall(channelId, stateHash, payouts, others, sigs, over)
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
    await expectRevert(close(hashState(states[3]!), DEPOSITS, closeSigs(hashState(states[3]!))), 'ChannelNotOpen', [id, Phase.Closed])
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
    const receipt = (await (await f.manager.getFunction('close')(id, h, DEPOSITS, [], closeSigs(h))).wait())!
    expectEvents(receipt, f.manager, 'ChannelClosed', [[id, 0n, h, DEPOSITS]])
    expectEvents(receipt, f.manager, 'Credited', ws.map((w, i) => [id, w.address, ETH, DEPOSITS[i]! + BOND]))
    assert.equal(Number((await f.manager.getFunction('getChannel')(id)).phase), Phase.Closed)
    await assertSolvent(f)
  })

  test('what the payouts leave is split among active participants, dust to the lowest', async () => {
    const state = counterState([1n, 1n, 1n]) // locked 61, outcome 3: 58 = 3 × 19 + 1
    const h = hashState(state)
    const receipt = (await (await f.manager.getFunction('close')(id, h, [1n, 1n, 1n], [], closeSigs(h, 0n, id, [1n, 1n, 1n]))).wait())!
    const payouts = [21n, 20n, 20n]
    expectEvents(receipt, f.manager, 'ChannelClosed', [[id, 0n, h, payouts]])
    assert.deepEqual([await bal(0), await bal(1), await bal(2)], payouts.map((p) => p + BOND))
    await assertSolvent(f)
  })

  test('the consents are the authority: payouts other than the machine’s outcome, signed by everyone, are paid', async () => {
    // The Counter outcome of states[1] is its deposits [10, 20, 31]; everyone signed [30, 20, 11] instead.
    const h = hashState(states[1]!)
    const signed = [30n, 20n, 11n]
    assert.notDeepEqual(((await f.counter.getFunction('outcome')(states[1]!)) as bigint[]).map(BigInt), signed)
    const receipt = (await (await f.manager.getFunction('close')(id, h, signed, [], closeSigs(h, 0n, id, signed))).wait())!
    expectEvents(receipt, f.manager, 'ChannelClosed', [[id, 0n, h, signed]])
    expectEvents(receipt, f.manager, 'Credited', ws.map((w, i) => [id, w.address, ETH, signed[i]! + BOND]))
    assert.deepEqual([await bal(0), await bal(1), await bal(2)], signed.map((p) => p + BOND))
    await assertSolvent(f)
  })

  test('the machine is not called: a close on bytes it cannot decode settles on the signed payouts', async () => {
    const h = hashState('0x1234')
    const receipt = (await (await f.manager.getFunction('close')(id, h, DEPOSITS, [], closeSigs(h))).wait())!
    expectEvents(receipt, f.manager, 'ChannelClosed', [[id, 0n, h, DEPOSITS]])
    assert.deepEqual([await bal(0), await bal(1), await bal(2)], DEPOSITS.map((d) => d + BOND))
    await assertSolvent(f)
  })

  const h1 = () => hashState(states[1]!)
  const MAX = 2n ** 256n - 1n
  type Case = { name: string; hash?: () => Hex; payouts?: bigint[]; others?: () => Hex[]; sigs: () => Hex; error: string; args?: () => unknown[] }
  const cases: Case[] = [
    // One 65-byte consent per active participant, no more, no less.
    { name: 'two of three signed', sigs: () => join(signEach(ws.slice(0, 2), f.hasher.close(id, 0n, h1(), DEPOSITS))), error: 'SignaturesLengthInvalid', args: () => [195n, 130n] },
    { name: 'a fourth consent (a signer beyond n)', sigs: () => join([...signEach(ws, f.hasher.close(id, 0n, h1(), DEPOSITS)), signEach([f.wallets[0]!], f.hasher.close(id, 0n, h1(), DEPOSITS))[0]!]), error: 'SignaturesLengthInvalid', args: () => [195n, 260n] },
    { name: 'signatures one byte short', sigs: () => trim(closeSigs(h1()), 1), error: 'SignaturesLengthInvalid', args: () => [195n, 194n] },
    // A consent over other terms, or by another key, recovers another account: the member list is not the record's.
    { name: 'signed for another fork', sigs: () => closeSigs(h1(), 1n), error: 'CloseSignersMismatch', args: () => [id] },
    { name: 'signed another state', hash: () => hashState(states[2]!), sigs: () => closeSigs(h1()), error: 'CloseSignersMismatch', args: () => [id] },
    { name: 'signed for another channel', sigs: () => closeSigs(h1(), 0n, rand32()), error: 'CloseSignersMismatch', args: () => [id] },
    { name: 'signed other payouts than submitted', payouts: [11n, 20n, 30n], sigs: () => closeSigs(h1()), error: 'CloseSignersMismatch', args: () => [id] },
    { name: 'one consent by another key', sigs: () => join(signEach([ws[0]!, new Wallet(rand32()), ws[2]!], f.hasher.close(id, 0n, h1(), DEPOSITS))), error: 'CloseSignersMismatch', args: () => [id] },
    { name: 'the consents in another order', sigs: () => join(signEach([ws[1]!, ws[0]!, ws[2]!], f.hasher.close(id, 0n, h1(), DEPOSITS))), error: 'CloseSignersMismatch', args: () => [id] },
    { name: 'transaction signatures are not CloseChannel', sigs: () => all(txs[0]!).signatures, error: 'CloseSignersMismatch', args: () => [id] },
    { name: 'every participant active, yet others not empty', others: () => [parts[0]!], sigs: () => closeSigs(h1()), error: 'CloseSignersMismatch', args: () => [id] },
    { name: 'a malleable (high-s) consent', sigs: () => join(signEach(ws, f.hasher.close(id, 0n, h1(), DEPOSITS)).map((s, i) => (i === 1 ? highS(s) : s))), error: 'SignatureMalleable', args: () => [1n] },
    { name: 'a consent nothing recovers (bad v)', sigs: () => join(signEach(ws, f.hasher.close(id, 0n, h1(), DEPOSITS)).map((s, i) => (i === 2 ? withV(s, 29) : s))), error: 'SignatureInvalid', args: () => [2n] },
    // The payouts, signed by everyone, checked as the machine's outcome was.
    { name: 'payouts above the locked deposits', payouts: [60n, 1n, 1n], sigs: () => closeSigs(h1(), 0n, id, [60n, 1n, 1n]), error: 'OutcomeExceedsLocked', args: () => [62n, 61n] },
    { name: 'payouts that overflow uint256', payouts: [MAX, 1n, 0n], sigs: () => closeSigs(h1(), 0n, id, [MAX, 1n, 0n]), error: 'OutcomeExceedsLocked', args: () => [MAX, 61n] },
    { name: 'payouts shorter than n', payouts: [1n, 1n], sigs: () => closeSigs(h1(), 0n, id, [1n, 1n]), error: 'OutcomeLengthInvalid', args: () => [2n, 3n] },
    { name: 'payouts empty', payouts: [], sigs: () => closeSigs(h1(), 0n, id, []), error: 'OutcomeLengthInvalid', args: () => [0n, 3n] },
    { name: 'payouts longer than n', payouts: [1n, 1n, 1n, 1n], sigs: () => closeSigs(h1(), 0n, id, [1n, 1n, 1n, 1n]), error: 'OutcomeLengthInvalid', args: () => [4n, 3n] },
  ]
  for (const c of cases) {
    test(`${c.name} → ${c.error}`, async () => {
      await expectRevert(close(c.hash?.() ?? h1(), c.payouts ?? DEPOSITS, c.sigs(), id, c.others?.() ?? []), c.error, c.args?.())
      assert.equal(Number((await f.manager.getFunction('getChannel')(id)).phase), Phase.Open)
    })
  }

  test('wrong others, unknown channel; no machine call to starve', async () => {
    const sigs = closeSigs(h1())
    await expectRevert(close(h1(), DEPOSITS, sigs, id, [...parts].reverse()), 'CloseSignersMismatch', [id])
    await expectRevert(close(h1(), DEPOSITS, sigs, id, [rand32().slice(0, 42) as Hex]), 'CloseSignersMismatch', [id])
    const other = rand32()
    await expectRevert(close(h1(), DEPOSITS, sigs, other), 'ChannelNotOpen', [other, Phase.None])
    // The gas that starves conclude's machine call (MachineGasTooLow above) is plenty for a close.
    await close(h1(), DEPOSITS, sigs, id, [], { gasLimit: 1_500_000 })
  })
})
