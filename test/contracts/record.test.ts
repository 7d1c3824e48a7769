/**
 * The channel record a caller re-supplies (the manager stores one word per channel, a
 * commitment to it): any other record — a field changed, a stale one from before a later event,
 * dirty bits in a word, sent directly or through a relay contract — is refused with a typed error
 * on every kind of entry point, open or disputed, closed to claims; and the record a client rebuilds from the events is the chain's
 * after a dispute, a response, a fork, a reorganisation and a restart (a fresh client); then the
 * attacks on the one word itself (funding word against record word, claims replayed: the last part).
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import type { Contract } from 'ethers'
import { setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, expectRevert, assertSolvent } from '../helpers/court.js'
import { trackOf } from '../helpers/records.js'
import { sendViaRelay } from '../helpers/relay.js'
import { deploy } from '../../src/chain/deploy.js'
import { channelStruct, channelWordOf, type ChannelRecord } from '../../src/chain/records.js'
import { ManagerClient } from '../../src/chain/ManagerClient.js'
import { DisputeKind, ETH, Phase, type Hex } from '../../src/protocol/types.js'

const ALICE = 0
const BOB = 1
const CAROL = 2

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

/** The record as the channel's events give it now. */
const current = async (): Promise<ChannelRecord> => (await trackOf(f.rawManager, sim.channelId))!.record
/** Sends `method` through the raw manager (no record inserted) from participant `i`. */
const raw = (i: number, method: string, ...args: unknown[]) => (f.rawManager.connect(sim.wallets[i]!) as Contract).getFunction(method).staticCall(...args)
/** Every field of a record changed in turn (one at a time). */
const tampered = (r: ChannelRecord): [string, ChannelRecord][] => [
  ['machine', { ...r, machine: f.wallets[4]!.address.toLowerCase() as Hex }],
  ['fork', { ...r, fork: r.fork + 1n }],
  ['n', { ...r, n: r.n + 1 }],
  ['asset', { ...r, asset: `0x${'11'.repeat(20)}` as Hex }],
  ['p2pTime', { ...r, p2pTime: r.p2pTime + 1 }],
  ['agreementTime', { ...r, agreementTime: r.agreementTime * 100 }],
  ['challengeTime', { ...r, challengeTime: 1 }],
  ['active', { ...r, active: r.active | (1n << 5n) }],
  ['slashed', { ...r, slashed: 1n }],
  ['genesisTimestamp', { ...r, genesisTimestamp: r.genesisTimestamp + 10n**6n }],
  ['latestSeq', { ...r, latestSeq: r.latestSeq + 1n }],
  ['participantsHash', { ...r, participantsHash: `0x${'22'.repeat(32)}` as Hex }],
  ['genesisStateHash', { ...r, genesisStateHash: `0x${'33'.repeat(32)}` as Hex }],
  ['locked', { ...r, locked: r.locked * 10n }],
  ['bond', { ...r, bond: 0n }],
]

describe('a record other than the committed one is refused', () => {
  test('open channel: every field changed → ChannelRecordMismatch on close, posts, timeouts, exits, fraud proofs and proof checks', async () => {
    const r = await current()
    const head = sim.head
    const terms = await sim.closeTerms(head.state)
    const t = sim.entry(2n).tx
    for (const [field, bad] of tampered(r)) {
      const rec = channelStruct(bad)
      await expectRevert(raw(ALICE, 'close', sim.channelId, rec, ...terms), 'ChannelRecordMismatch', [sim.channelId])
      await expectRevert(raw(ALICE, 'postTransaction', sim.channelId, rec, sim.participants, t, sim.sig(t, BOB)), 'ChannelRecordMismatch', [sim.channelId])
      await expectRevert(raw(CAROL, 'disputeTimeout', sim.channelId, rec, sim.participants, CAROL, sim.chain(1n, 2n, () => [CAROL]), head.state), 'ChannelRecordMismatch', [sim.channelId])
      await expectRevert(raw(ALICE, 'verifyFinalityProof', sim.channelId, rec, sim.participants, sim.final(2n)), 'ChannelRecordMismatch', [sim.channelId])
    }
    // The committed record itself passes (the control).
    assert.deepEqual([...(await raw(ALICE, 'verifyFinalityProof', sim.channelId, channelStruct(r), sim.participants, sim.final(2n)))], [head.hash, 2n])
  })

  test('a word with dirty bits (the phase word, an address word) is refused, not read as its clean value', async () => {
    const r = await current()
    const data = f.rawManager.interface.encodeFunctionData('verifyFinalityProof', [sim.channelId, channelStruct(r), sim.participants, sim.final(2n)])
    // Word 2 of the record (phase, = 1) starts at byte 4 + 32 + 2·32; give it a high bit.
    const at = 2 + 2 * (4 + 32 + 2 * 32)
    const word = data.slice(at, at + 64)
    assert.equal(BigInt(`0x${word}`), BigInt(Phase.Open))
    const dirty = data.slice(0, at) + '01' + word.slice(2) + data.slice(at + 64)
    const to = await f.rawManager.getAddress()
    await assert.rejects(f.anvil.provider.call({ to, data: dirty }))
    const machineAt = 2 + 2 * (4 + 32)
    const dirtyMachine = data.slice(0, machineAt) + 'ff' + data.slice(machineAt + 2)
    await assert.rejects(f.anvil.provider.call({ to, data: dirtyMachine }))
    assert.ok(await f.anvil.provider.call({ to, data }), 'the clean calldata passes')
  })

  test('stale records: the one before a response (latestSeq) and the one before a fork are refused', async () => {
    // A timeout on the head, answered by the accused's move: latestSeq becomes 3.
    const accused = await sim.turn()
    const now = await sim.now()
    const T = sim.head.timestamp
    const wait = T + BigInt(sim.params.p2pTime + sim.params.agreementTime + sim.params.chainFallbackTime) + 1n - now
    if (wait > 0n) await f.anvil.increaseTime(Number(wait))
    const disputer = [ALICE, BOB, CAROL].find((i) => i !== accused)!
    await sim.timeout(disputer, sim.chain(1n, 2n, () => [disputer]), sim.head.state)
    const beforeResponse = await current()
    assert.equal(beforeResponse.phase, Phase.Disputed)
    const move = await sim.move(accused, inc())
    await sim.respond(accused, move.tx, sim.sig(move.tx, accused))
    const after = await current()
    assert.deepEqual([after.phase, after.latestSeq], [Phase.Open, 3n])
    // The stale record (phase Disputed, latestSeq 0) and the open one with the old latestSeq.
    for (const stale of [beforeResponse, { ...after, latestSeq: 0n }]) {
      await expectRevert(raw(ALICE, 'verifyFinalityProof', sim.channelId, channelStruct(stale), sim.participants, sim.final(2n)), 'ChannelRecordMismatch', [sim.channelId])
    }
    await assertSolvent(f)
  })

  test('disputed channel: the right dispute record with another channel record → DisputeRecordMismatch; resolve with a stale one too', async () => {
    await sim.exit(ALICE, sim.final(2n), true)
    assert.equal(sim.record.kind, DisputeKind.Exit)
    const r = await current()
    assert.equal(r.phase, Phase.Disputed)
    for (const [field, bad] of tampered(r)) {
      await expectRevert(raw(BOB, 'answer', sim.channelId, channelStruct(bad), sim.participants, BOB, sim.record, sim.final(2n), sim.head.state), 'DisputeRecordMismatch', [sim.channelId])
    }
    // The record of the open phase (before the exit) no longer matches either.
    await expectRevert(raw(BOB, 'answer', sim.channelId, channelStruct({ ...r, phase: Phase.Open }), sim.participants, BOB, sim.record, sim.final(2n), sim.head.state), 'DisputeRecordMismatch', [sim.channelId])
    await f.anvil.increaseTime(Number(sim.record.deadline - (await sim.now())) + 1)
    await expectRevert(raw(BOB, 'resolve', sim.channelId, channelStruct({ ...r, locked: r.locked + 1n }), sim.participants, sim.record, sim.head.state), 'DisputeRecordMismatch', [sim.channelId])
    await sim.resolve(sim.head.state, BOB)
    // After the fork, the record of fork 0 is stale.
    const forked = await current()
    assert.deepEqual([forked.phase, forked.fork, forked.active], [Phase.Open, 1n, 0b110n])
    await expectRevert(raw(BOB, 'verifyFinalityProof', sim.channelId, channelStruct({ ...r, phase: Phase.Open }), sim.participants, []), 'ChannelRecordMismatch', [sim.channelId])
    await assertSolvent(f)
  })

  test('claims: a closed record changed (locked, active, bond) → ClaimsMismatch; the committed one pays', async () => {
    const state = sim.head.state
    const receipt = await sim.send(ALICE, 'closeToClaims', sim.channelId, ...(await sim.closeTerms(state)))
    assert.ok(receipt.status === 1)
    const t = (await trackOf(f.rawManager, sim.channelId))!
    assert.ok(t.claims)
    const payouts = t.claims.payouts
    for (const bad of [{ ...t.record, locked: 1n }, { ...t.record, active: 0b011n }, { ...t.record, bond: 0n }, { ...t.record, phase: Phase.Open }]) {
      await expectRevert(raw(ALICE, 'claim', sim.channelId, channelStruct(bad), sim.participants, payouts, 0n, 0b111n), 'ClaimsMismatch', [sim.channelId])
    }
    await (await (f.rawManager.connect(sim.wallets[ALICE]!) as Contract).getFunction('claim')(sim.channelId, channelStruct(t.record), sim.participants, payouts, 0n, 0b111n)).wait()
    await assertSolvent(f)
  })
})

test('the record is 17 static words: ACore.CHANNEL_WORDS, which hashing and copying it in place rely on, must follow the struct', () => {
  const input = f.rawManager.interface.getFunction('close')!.inputs[1]!
  assert.equal(input.baseType, 'tuple')
  assert.deepEqual(input.components!.map((c) => c.type), ['address', 'uint40', 'uint8', 'uint8', 'address', 'uint32', 'uint32', 'uint32', 'uint32', 'uint64', 'uint64', 'uint40', 'uint64', 'bytes32', 'bytes32', 'uint128', 'uint128'],
    'Channel changed: update CHANNEL_WORDS in contracts/manager/ACore.sol (every field must stay static) and CHANNEL_TUPLE in src/chain/records.ts')
  const source = readFileSync(new URL('../../contracts/manager/ACore.sol', import.meta.url), 'utf8')
  assert.match(source, /uint256 private constant CHANNEL_WORDS = 17;/)
})

describe('the record a client rebuilds from the events', () => {
  test('matches the stored word after a reorganisation that removes a dispute, and from a fresh client (a restart)', async () => {
    const client = new ManagerClient(await f.rawManager.getAddress(), f.anvil.provider)
    const word = async () => (await client.channelWord(sim.channelId)).word
    const open = (await client.track(sim.channelId))!
    assert.equal(channelWordOf(open), await word())
    const snapshot = (await f.anvil.provider.send('evm_snapshot', [])) as string
    await sim.exit(ALICE, sim.final(2n), false)
    const disputed = (await client.track(sim.channelId))!
    assert.deepEqual([disputed.record.phase, disputed.dispute?.kind], [Phase.Disputed, DisputeKind.ForceClose])
    assert.equal(channelWordOf(disputed), await word())
    // The dispute's block reorganised away (a longer chain without it): the client's record is the open one again.
    await f.anvil.provider.send('evm_revert', [snapshot])
    await f.anvil.provider.send('anvil_mine', ['0x3'])
    const back = (await client.track(sim.channelId))!
    assert.deepEqual(back.record, open.record)
    assert.equal(back.dispute, undefined)
    assert.equal(channelWordOf(back), await word())
    // A one-block reorg that replaces a block holding the exit by one holding nothing.
    await sim.exit(ALICE, sim.final(2n), false)
    await f.anvil.provider.send('anvil_reorg', [1, []])
    assert.equal(channelWordOf((await client.track(sim.channelId))!), await word())
    assert.equal((await client.getChannel(sim.channelId)).phase, Phase.Open)
    // A client started now, with nothing but the chain, rebuilds the same record and can act on it.
    const fresh = new ManagerClient(await f.rawManager.getAddress(), f.anvil.provider)
    assert.deepEqual((await fresh.track(sim.channelId))!.record, open.record)
    const proven = await fresh.verifyFinalityProof(sim.channelId, sim.participants, sim.final(2n))
    assert.deepEqual(proven, { stateHash: sim.head.hash, seq: 2n })
  })

  test('through a relay contract (msg.sender = the relay): a stale record reverts, the current one closes the channel', async () => {
    const forwarder = (await deploy('Forwarder', f.wallets[0]!)).address
    const to = await f.rawManager.getAddress()
    const state = sim.head.state
    const terms = await sim.closeTerms(state)
    const r = await current()
    const closeWith = (rec: ChannelRecord) => f.rawManager.interface.encodeFunctionData('close', [sim.channelId, channelStruct(rec), ...terms]) as Hex
    // The relay bubbles the manager's revert data: the stale record's typed error comes back.
    await expectRevert(sendViaRelay(forwarder, f.wallets[4]!, to, closeWith({ ...r, latestSeq: 7n })), 'ChannelRecordMismatch', [sim.channelId])
    await sendViaRelay(forwarder, f.wallets[4]!, to, closeWith(r))
    const closed = await current()
    assert.deepEqual([closed.phase, closed.locked], [Phase.Closed, 0n])
    // The record of the open channel is stale now, through the relay or not.
    await expectRevert(sendViaRelay(forwarder, f.wallets[4]!, to, closeWith(r)), 'ChannelNotOpen', [sim.channelId, Phase.Closed])
    await assertSolvent(f)
  })
})

/*
 * Attacks on the one word a channel keeps (h12): before the open it holds the funding
 * (`held << 2 | asset << 96`, phase None in the two low bits), after it a commitment to the
 * record with the phase in those bits. A word of one kind must never be read as the other —
 * fund, reclaim and the funding view on a channel in every later phase — and a closed word,
 * which commits to the record, the payouts and the claimed bitmap, must pay each claim once
 * whatever bitmap, record or payouts a caller replays.
 */
const outsider = () => f.wallets[4]!
const manager = (w = outsider()) => f.rawManager.connect(w) as Contract
const word = async () => (await manager().getFunction('channelWord')(sim.channelId)) as [bigint, string]

/** Closes the channel cooperatively from the head, to claims; returns the track after it. */
async function closedToClaims() {
  await sim.send(ALICE, 'closeToClaims', sim.channelId, ...(await sim.closeTerms(sim.head.state)))
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
