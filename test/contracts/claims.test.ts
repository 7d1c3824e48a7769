/**
 * closeToClaims and claim: the cooperative close that records every payout (with its bond) as a
 * claim instead of paying or crediting it, and the claim that pays any set of them later — to
 * each participant's own account, whoever sends it, credited where the transfer fails. Exact
 * deltas, events and solvency (the unclaimed claims count as held), and every revert.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Contract, hexlify, randomBytes, type Wallet } from 'ethers'
import { ManagerClient } from '../../src/chain/ManagerClient.js'
import { hashState } from '../../src/protocol/eip712.js'
import { ETH, Phase, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import { setup, snapshot, makeParams, openChannel, signTx, step, abi, type Fixture } from '../helpers/fixture.js'
import { expectEvents, expectRevert } from '../helpers/revert.js'
import { expectSharedCloseReverts, join, signEach } from '../helpers/sigs.js'
import { assertSolvent } from '../helpers/solvency.js'

let f: Fixture
let restore: () => Promise<void>
let ws: Wallet[]
let client: ManagerClient
const DEPOSITS = [10n, 20n, 31n]
const BOND = 5n
const PAID = DEPOSITS.map((d) => d + BOND)
const counterState = (deposits: bigint[]) => abi.encode(['tuple(uint64,uint16,uint64,uint64,uint256[])'], [[0b111n, 0, 0n, 0n, deposits]]) as Hex

before(async () => {
  f = await setup(5)
  ws = f.wallets.slice(1, 4)
  client = new ManagerClient((await f.manager.getAddress()) as Hex, f.wallets[0]!) // a non-participant sends every call
})
after(() => f.stop())
beforeEach(async () => (restore = await snapshot(f)))
afterEach(() => restore())

const params = async (over: Partial<ChannelParams> = {}): Promise<ChannelParams> =>
  makeParams(ws, (await f.counter.getAddress()) as Hex, { deposits: DEPOSITS, bond: BOND, initData: abi.encode(['uint64'], [3]) as Hex, ...over })
/** Every participant's consent to close `id` on `state` with `payouts` (the Counter outcome: the state's deposits). */
const sigMap = (id: Hex, state: Hex, payouts: bigint[]) => new Map(signEach(ws, f.hasher.close(id, 0n, hashState(state), payouts)).map((s, i) => [i, s]))
const ethOf = (i: number) => f.anvil.provider.getBalance(ws[i]!.address)
const creditOf = (i: number) => f.manager.getFunction('balanceOf')(ws[i]!.address, ETH) as Promise<bigint>
const deltas = async (run: () => Promise<unknown>) => {
  const before = await Promise.all([0, 1, 2].map(ethOf))
  await run()
  return (await Promise.all([0, 1, 2].map(ethOf))).map((b, i) => b - before[i]!)
}

/** Opens a channel and closes it to claims from `state` (default: the genesis, outcome = deposits). */
async function closedToClaims(over: Partial<ChannelParams> = {}, state?: Hex) {
  const p = await params(over)
  const { channelId: id, genesis } = await openChannel(f, ws, p)
  const s = state ?? genesis
  const before = await Promise.all([0, 1, 2].map(ethOf))
  const payouts = await client.closePayouts(id, s)
  const r = await client.closeToClaims(id, p.participants, s, payouts, sigMap(id, s, payouts))
  return { id, p, state: s, r, before }
}

describe('closeToClaims', () => {
  test('settles and records the claims: nothing paid or credited, the channel closed, the funds still held', async () => {
    const { id, p, state, r, before } = await closedToClaims()
    assert.deepEqual(r.closed.payouts, DEPOSITS)
    assert.deepEqual(r.credits, [])
    expectEvents(r.receipt, f.manager, 'ChannelClosed', [[id, 0n, hashState(state), DEPOSITS]])
    expectEvents(r.receipt, f.manager, 'ClaimsRecorded', [[id]])
    assert.deepEqual(await Promise.all([0, 1, 2].map(ethOf)), before)
    assert.deepEqual(await Promise.all([0, 1, 2].map(creditOf)), [0n, 0n, 0n])
    assert.equal(Number((await f.manager.getFunction('getChannel')(id)).phase), Phase.Closed)
    const [report] = await assertSolvent(f, [ETH])
    assert.equal(report!.locked, PAID.reduce((a, b) => a + b)) // the unclaimed claims
    const sigs = join(signEach(ws, f.hasher.close(id, 0n, hashState(state), DEPOSITS)))
    for (const fn of ['close', 'closeAndPay', 'closeToClaims']) {
      await expectRevert(f.manager.getFunction(fn).staticCall(id, hashState(state), DEPOSITS, [], sigs), 'ChannelNotOpen', [id, Phase.Closed])
    }
  })

  test('the same consent as close: too few signers, another fork, other payouts, another member list', async () => {
    const p = await params()
    const { channelId: id, genesis } = await openChannel(f, ws, p)
    const h = hashState(genesis)
    const call = (sigs: Hex, others: Hex[] = [], payouts = DEPOSITS) =>
      f.manager.getFunction('closeToClaims').staticCall(id, h, payouts, others, sigs)
    await expectSharedCloseReverts(f.hasher, ws, id, h, DEPOSITS, call)
    // The consents in another order recover the members in another order.
    await expectRevert(call(join(signEach([...ws].reverse(), f.hasher.close(id, 0n, h, DEPOSITS)))), 'CloseSignersMismatch', [id])
  })
})

describe('concludeToClaims', () => {
  /** A Counter channel terminal at count `target`, one move played (by participant 0, signed by all). */
  async function oneMove(target: number) {
    const p = await params({ initData: abi.encode(['uint64'], [target]) as Hex })
    const { channelId: id, genesis } = await openChannel(f, ws, p)
    const s = await step(f.counter, id, { state: genesis, seq: 0n }, 0, abi.encode(['uint64'], [1]) as Hex)
    return { id, p, proof: [signTx(f, ws, s.tx, [0, 1, 2])], state: s.state }
  }

  test('a final terminal state settles to claims; one claim pays everyone', async () => {
    const { id, p, proof, state } = await oneMove(1)
    const r = await client.concludeToClaims(id, p.participants, proof, state)
    assert.deepEqual(r.credits, [])
    expectEvents(r.receipt, f.manager, 'ChannelClosed', [[id, 0n, hashState(state), DEPOSITS]])
    expectEvents(r.receipt, f.manager, 'ClaimsRecorded', [[id]])
    const [held] = await assertSolvent(f, [ETH])
    assert.equal(held!.locked, PAID.reduce((a, b) => a + b))
    assert.deepEqual(await deltas(() => client.claim(id, p.participants, r.closed.payouts, 0n, 0b111n)), PAID)
    await assertSolvent(f, [ETH])
    await expectRevert(f.manager.getFunction('concludeToClaims').staticCall(id, p.participants, proof, state), 'ChannelNotOpen', [id, Phase.Closed])
  })

  test('the same checks as conclude: a state that is not terminal, a proof that is not final, other bytes', async () => {
    const { id, p, proof, state } = await oneMove(2)
    const call = (pr: unknown[], st: Hex) => f.manager.getFunction('concludeToClaims').staticCall(id, p.participants, pr, st)
    await expectRevert(call(proof, state), 'StateNotTerminal', [hashState(state)])
    await expectRevert(call([signTx(f, ws, proof[0]!.transaction, [0])], state), 'ProofNotFinal', [0b110n])
    await expectRevert(call(proof, '0x1234'), 'StateHashMismatch', [hashState(state), hashState('0x1234')])
  })
})

describe('claim', () => {
  test('anyone pays every claim at once: each participant gets its payout plus bond in its account', async () => {
    const { id, p, r } = await closedToClaims()
    let claimed: Awaited<ReturnType<ManagerClient['claim']>> | undefined
    const got = await deltas(async () => (claimed = await client.claim(id, p.participants, r.closed.payouts, 0n, 0b111n)))
    assert.deepEqual(got, PAID)
    assert.equal(claimed!.claimed, 0b111n)
    assert.equal(claimed!.sent, 0b111n)
    assert.deepEqual(claimed!.credits, [])
    expectEvents(claimed!.receipt, f.manager, 'PayoutsClaimed', [[id, 0b111n, 0b111n]])
    const [report] = await assertSolvent(f, [ETH])
    assert.equal(report!.locked, 0n)
    // Paid once: the same entries again, or a stale bitmap, are refused.
    await expectRevert(f.manager.getFunction('claim').staticCall(id, p.participants, r.closed.payouts, 0b111n, 0b001n), 'ClaimsInvalid', [id, 0b001n, 0b111n])
    await expectRevert(f.manager.getFunction('claim').staticCall(id, p.participants, r.closed.payouts, 0n, 0b001n), 'ClaimsMismatch', [id])
  })

  test('claims in two calls: each pays only what it names; the second re-supplies the first one\'s bitmap', async () => {
    const { id, p, r } = await closedToClaims()
    assert.deepEqual(await deltas(() => client.claim(id, p.participants, r.closed.payouts, 0n, 0b010n)), [0n, PAID[1]!, 0n])
    const [mid] = await assertSolvent(f, [ETH])
    assert.equal(mid!.locked, PAID[0]! + PAID[2]!)
    await expectRevert(f.manager.getFunction('claim').staticCall(id, p.participants, r.closed.payouts, 0b010n, 0b011n), 'ClaimsInvalid', [id, 0b011n, 0b010n])
    assert.deepEqual(await deltas(() => client.claim(id, p.participants, r.closed.payouts, 0b010n, 0b101n)), [PAID[0]!, 0n, PAID[2]!])
    await assertSolvent(f, [ETH])
  })

  test('a transfer that fails (code that reverts) is credited instead; the claim still counts', async () => {
    const { id, p, r } = await closedToClaims()
    await f.anvil.provider.send('anvil_setCode', [ws[2]!.address, '0x60006000fd'])
    let claimed: Awaited<ReturnType<ManagerClient['claim']>> | undefined
    assert.deepEqual(await deltas(async () => (claimed = await client.claim(id, p.participants, r.closed.payouts, 0n, 0b111n))), [PAID[0]!, PAID[1]!, 0n])
    assert.equal(claimed!.sent, 0b011n)
    expectEvents(claimed!.receipt, f.manager, 'Credited', [[id, ws[2]!.address, ETH, PAID[2]!]])
    assert.equal(await creditOf(2), PAID[2]!)
    await assertSolvent(f, [ETH])
  })

  test('the remainder and a zero payout: a participant with nothing to claim cannot be named', async () => {
    // Outcome [0, 30, 30] of 61 locked, no bond: the remainder 1 goes to participant 0.
    const { id, p, r } = await closedToClaims({ bond: 0n }, counterState([0n, 30n, 30n]))
    assert.deepEqual(r.closed.payouts, [1n, 30n, 30n])
    assert.deepEqual(await deltas(() => client.claim(id, p.participants, r.closed.payouts, 0n, 0b111n)), [1n, 30n, 30n])
    await assertSolvent(f, [ETH])
    const zero = await closedToClaims({ bond: 0n, deposits: [0n, 30n, 31n] }, counterState([0n, 30n, 31n]))
    assert.deepEqual(zero.r.closed.payouts, [0n, 30n, 31n])
    await expectRevert(f.manager.getFunction('claim').staticCall(zero.id, zero.p.participants, zero.r.closed.payouts, 0n, 0b111n), 'ClaimsInvalid', [zero.id, 0b111n, 0n])
    assert.deepEqual(await deltas(() => client.claim(zero.id, zero.p.participants, zero.r.closed.payouts, 0n, 0b110n)), [0n, 30n, 31n])
  })

  test('reverts: wrong payouts or participants, no claims recorded, an open or unknown channel, an empty or out-of-range bitmap', async () => {
    const { id, p, r } = await closedToClaims()
    const call = (over: { id?: Hex; participants?: Hex[]; payouts?: bigint[]; claimed?: bigint; which?: bigint }) =>
      f.manager.getFunction('claim').staticCall(over.id ?? id, over.participants ?? p.participants, over.payouts ?? r.closed.payouts, over.claimed ?? 0n, over.which ?? 0b111n)
    await expectRevert(call({ payouts: [10n, 20n, 32n] }), 'ClaimsMismatch', [id])
    await expectRevert(call({ payouts: [10n, 20n] }), 'ClaimsMismatch', [id])
    // The member list is checked against the record (the claims commit to the record's hash).
    await expectRevert(call({ participants: [...p.participants].reverse() }), 'ChannelParticipantsMismatch', [id])
    await expectRevert(call({ which: 0n }), 'ClaimsInvalid', [id, 0n, 0n])
    await expectRevert(call({ which: 0b1000n }), 'ClaimsInvalid', [id, 0b1000n, 0n])
    const unknown = hexlify(randomBytes(32)) as Hex
    await expectRevert(call({ id: unknown }), 'ChannelNotClosed', [unknown, Phase.None])
    // An open channel, and one settled by close (credits, no claims).
    const q = await params()
    const open = await openChannel(f, ws, q)
    await expectRevert(call({ id: open.channelId, participants: q.participants }), 'ChannelNotClosed', [open.channelId, Phase.Open])
    await (await (f.manager.connect(f.wallets[0]!) as Contract).getFunction('close')(open.channelId, hashState(open.genesis), DEPOSITS, [], join(signEach(ws, f.hasher.close(open.channelId, 0n, hashState(open.genesis), DEPOSITS))))).wait()
    await expectRevert(call({ id: open.channelId, participants: q.participants, payouts: DEPOSITS }), 'ClaimsMismatch', [open.channelId])
  })
})
