/**
 * Attacks on the one word a channel keeps (h12): before the open it holds the funding
 * (`held << 2 | asset << 96`, phase None in the two low bits), after it a commitment to the
 * record with the phase in those bits. A word of one kind must never be read as the other —
 * fund, reclaim and the funding view on a channel in every later phase — and a closed word,
 * which commits to the record, the payouts and the claimed bitmap, must pay each claim once
 * whatever bitmap, record or payouts a caller replays.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Contract } from 'ethers'
import { setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, expectRevert, assertSolvent } from '../helpers/court.js'
import { trackOf } from '../helpers/records.js'
import { channelStruct } from '../../src/chain/records.js'
import { hashState } from '../../src/protocol/eip712.js'
import { packSignatures, signDigest } from '../../src/protocol/signatures.js'
import { bitIndices } from '../../src/protocol/bitmap.js'
import { ETH, Phase, type Hex } from '../../src/protocol/types.js'

const [ALICE, BOB] = [0, 1]

let f: Fixture
let sim: Sim
let restore: () => Promise<void>

before(async () => {
  f = await setup(5)
  sim = await Sim.open(f, f.wallets.slice(1, 4), f.counter, { bond: 10n ** 17n })
  await sim.move(ALICE, inc())
  await sim.move(BOB, inc())
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

const outsider = () => f.wallets[4]!
const manager = (w = outsider()) => f.rawManager.connect(w) as Contract
const word = async () => (await manager().getFunction('channelWord')(sim.channelId)) as [bigint, string]

/** Closes the channel cooperatively from the head, to claims; returns the track after it. */
async function closedToClaims() {
  const digest = f.hasher.close(sim.channelId, 0n, hashState(sim.head.state))
  const { signers, signatures } = packSignatures(new Map(bitIndices(sim.active).map((i) => [i, signDigest(sim.wallets[i]!.signingKey, digest)])))
  await sim.send(ALICE, 'closeToClaims', sim.channelId, sim.participants, sim.head.state, signers, signatures)
  return (await trackOf(f.rawManager, sim.channelId))!
}

/** fund, reclaim and the funding view on the channel as it is now: none of them reads the word as a funding. */
async function notAFunding(phase: Phase) {
  const [p] = await word()
  assert.equal(Number(p), phase)
  // The funding view names nothing held (it would otherwise decode the commitment's bits 2..95).
  const [held, asset] = (await manager().getFunction('funding')(sim.channelId)) as [bigint, string, bigint, string]
  assert.deepEqual([held, asset.toLowerCase()], [0n, ETH])
  await expectRevert(manager().getFunction('fund').staticCall(sim.channelId, ETH, 0n, 1n, { value: 1n }), 'ChannelExists', [sim.channelId])
  // Whatever `held` a caller guesses from the word's bits, the channel exists.
  const guess = (BigInt((await word())[1]) >> 2n) & (2n ** 94n - 1n)
  await expectRevert(manager().getFunction('fund').staticCall(sim.channelId, ETH, guess, 1n, { value: 1n }), 'ChannelExists', [sim.channelId])
  await expectRevert(manager().getFunction('reclaim').staticCall(sim.params), 'FundsNone', [sim.channelId])
}

describe('a record word is never a funding', () => {
  test('open, disputed, closed (credited) and closed to claims: fund → ChannelExists, reclaim → FundsNone, funding() empty', async () => {
    await notAFunding(Phase.Open)
    await sim.exit(ALICE, sim.final(2n), false)
    await notAFunding(Phase.Disputed)
    await f.anvil.increaseTime(Number(sim.record.deadline - (await sim.now())) + 1)
    await sim.resolve(sim.head.state, BOB)
    await notAFunding(Phase.Closed)
    await assertSolvent(f)
  })

  test('closed to claims too; and the claims word is not a record word (the closed record alone, as after a credited close, is refused)', async () => {
    const t = await closedToClaims()
    await notAFunding(Phase.Closed)
    // The record alone hashed into the word is what a credited close stores: here it is not the word.
    await expectRevert(manager().getFunction('claim').staticCall(sim.channelId, channelStruct(t.record), sim.participants, [], 0n, 1n), 'ClaimsMismatch', [sim.channelId])
    await assertSolvent(f)
  })
})

describe('a claim is paid once', () => {
  test('replays: the same claim with its old bitmap → ClaimsMismatch; with the new one → ClaimsInvalid; the open record or other payouts → ClaimsMismatch; the rest pays once', async () => {
    const t = await closedToClaims()
    const payouts = t.claims!.payouts
    const record = channelStruct(t.record)
    const claim = (w: number, rec: unknown, pays: bigint[], claimed: bigint, which: bigint) => manager(sim.wallets[w]!).getFunction('claim')(sim.channelId, rec, sim.participants, pays, claimed, which)
    await (await claim(ALICE, record, payouts, 0n, 0b001n)).wait()
    const before = await sim.balances()
    await expectRevert(claim(BOB, record, payouts, 0n, 0b001n), 'ClaimsMismatch', [sim.channelId])
    await expectRevert(claim(BOB, record, payouts, 0n, 0b011n), 'ClaimsMismatch', [sim.channelId])
    await expectRevert(claim(BOB, record, payouts, 0b001n, 0b001n), 'ClaimsInvalid', [sim.channelId, 0b001n, 0b001n])
    await expectRevert(claim(BOB, record, payouts, 0b001n, 0b011n), 'ClaimsInvalid', [sim.channelId, 0b011n, 0b001n])
    const open = (await trackOf(f.rawManager, sim.channelId))!.record
    await expectRevert(claim(BOB, channelStruct({ ...open, phase: Phase.Open, locked: open.locked + 1n }), payouts, 0b001n, 0b010n), 'ClaimsMismatch', [sim.channelId])
    // Payouts moved from one entry to another (same total) are not the recorded ones.
    const shifted = [payouts[0]!, payouts[1]! + payouts[2]!, 0n]
    await expectRevert(claim(BOB, record, shifted, 0b001n, 0b010n), 'ClaimsMismatch', [sim.channelId])
    assert.deepEqual(await sim.balances(), before, 'nothing paid by the refused replays')
    await (await claim(BOB, record, payouts, 0b001n, 0b110n)).wait()
    const [, w] = await word()
    await expectRevert(claim(BOB, record, payouts, 0b111n, 0b001n), 'ClaimsInvalid', [sim.channelId, 0b001n, 0b111n])
    assert.equal((await word())[1], w)
    await assertSolvent(f)
  })
})
