/**
 * postTransaction (calldata posts for data availability), table-driven on one anvil.
 * Base: Counter channel of Alice (0), Bob (1), Carol (2); Alice's tx1 is the move to post.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { getBytes, hexlify, type Wallet } from 'ethers'
import { setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, expectRevert, assertSolvent, type Entry } from '../helpers/court.js'
import { SECP256K1_HALF_N } from '../../src/protocol/signatures.js'
import { Phase, type Hex, type Transaction } from '../../src/protocol/types.js'

const ALICE = 0
const BOB = 1
const CAROL = 2

let f: Fixture
let sim: Sim
let other: Sim
let outsider: Wallet
let tx1: Entry
let restore: () => Promise<void>

/** The malleable twin of a signature (s' = n - s, v flipped): same signer, rejected. */
function malleable(sig: Hex): Hex {
  const b = getBytes(sig)
  const s = BigInt(hexlify(b.slice(32, 64)))
  const twin = 2n * SECP256K1_HALF_N + 1n - s
  const out = new Uint8Array(b)
  out.set(getBytes('0x' + twin.toString(16).padStart(64, '0')), 32)
  out[64] = b[64] === 27 ? 28 : 27
  return hexlify(out) as Hex
}

before(async () => {
  f = await setup(6)
  outsider = f.wallets[5]!
  sim = await Sim.open(f, f.wallets.slice(1, 4), f.counter)
  other = await Sim.open(f, f.wallets.slice(1, 4), f.counter)
  tx1 = await sim.move(ALICE, inc(), undefined, false)
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

describe('postTransaction', () => {
  test('the author posts its move: TransactionPosted carries digest, transaction and signature', async () => {
    const signature = sim.sig(tx1.tx, ALICE)
    await sim.post(ALICE, tx1.tx, signature)
    const [ev] = sim.events('TransactionPosted')
    assert.equal(ev!.channelId, sim.channelId)
    assert.equal(ev!.digest, f.hasher.transaction(tx1.tx))
    assert.equal(ev!.signature, signature)
    const t = ev!.transaction as Transaction
    assert.deepEqual([t.seq, t.actor, t.data, t.stateHash], [1n, BigInt(ALICE), tx1.tx.data, tx1.tx.stateHash])
    await assertSolvent(f)
  })

  test('anyone may relay a signed move (the signature is what counts)', async () => {
    await sim.send(outsider, 'postTransaction', sim.channelId, sim.participants, tx1.tx, sim.sig(tx1.tx, ALICE))
    assert.equal(sim.events('TransactionPosted').length, 1)
  })

  test('stores nothing: only the event records the post', async () => {
    const before = await sim.channel()
    await sim.post(ALICE, tx1.tx, sim.sig(tx1.tx, ALICE))
    assert.deepEqual(await sim.channel(), before)
  })

  const cases: { name: string; run: () => Promise<unknown>; error: string; args?: () => unknown[] }[] = [
    { name: 'replayed on another channel', error: 'TransactionChannelMismatch', args: () => [other.channelId],
      run: () => sim.post(ALICE, { ...tx1.tx, channelId: other.channelId }, sim.sig({ ...tx1.tx, channelId: other.channelId }, ALICE)) },
    { name: 'replayed from another channel (its own participants)', error: 'TransactionChannelMismatch', args: () => [sim.channelId],
      run: () => other.post(ALICE, tx1.tx, sim.sig(tx1.tx, ALICE)) },
    { name: 'on another fork', error: 'TransactionForkMismatch', args: () => [3n, 0n],
      run: () => { const t = { ...tx1.tx, fork: 3n }; return sim.post(ALICE, t, sim.sig(t, ALICE)) } },
    { name: 'author out of range', error: 'TransactionActorInvalid', args: () => [7n],
      run: () => { const t = { ...tx1.tx, actor: 7 }; return sim.post(ALICE, t, sim.sig(t, ALICE)) } },
    { name: 'data above MAX_DATA_BYTES', error: 'TransactionDataTooLarge', args: () => [4097n, 4096n],
      run: () => { const t = { ...tx1.tx, data: `0x${'ab'.repeat(4097)}` as Hex }; return sim.post(ALICE, t, sim.sig(t, ALICE)) } },
    { name: 'a forged signature (Bob signs as Alice)', error: 'SignerMismatch', args: () => [0n, sim.wallets[BOB]!.address],
      run: () => sim.post(BOB, tx1.tx, sim.sig(tx1.tx, BOB)) },
    { name: 'a non-participant\'s signature', error: 'SignerNotParticipant',
      run: () => sim.post(ALICE, tx1.tx, outsider.signingKey.sign(f.hasher.transaction(tx1.tx)).serialized as Hex) },
    { name: 'a malleable signature', error: 'SignatureMalleable', args: () => [0n],
      run: () => sim.post(ALICE, tx1.tx, malleable(sim.sig(tx1.tx, ALICE))) },
    { name: 'a truncated signature', error: 'SignaturesLengthInvalid', args: () => [65n, 64n],
      run: () => sim.post(ALICE, tx1.tx, sim.sig(tx1.tx, ALICE).slice(0, 130) as Hex) },
    { name: 'a wrong participant list', error: 'ChannelParticipantsMismatch', args: () => [sim.channelId],
      run: () => sim.send(ALICE, 'postTransaction', sim.channelId, [...sim.participants].reverse(), tx1.tx, sim.sig(tx1.tx, ALICE)) },
    { name: 'an unknown channel', error: 'ChannelNotOpen', args: () => [`0x${'11'.repeat(32)}`, BigInt(Phase.None)],
      run: () => sim.send(ALICE, 'postTransaction', `0x${'11'.repeat(32)}`, sim.participants, tx1.tx, sim.sig(tx1.tx, ALICE)) },
    { name: 'while a dispute is open (the accused answers with respond)', error: 'ChannelNotOpen', args: () => [sim.channelId, BigInt(Phase.Disputed)],
      run: async () => { await sim.exit(BOB, [], false); return sim.post(ALICE, tx1.tx, sim.sig(tx1.tx, ALICE)) } },
    { name: 'a closed channel', error: 'ChannelNotOpen', args: () => [sim.channelId, BigInt(Phase.Closed)],
      run: async () => { await sim.exit(BOB, [], false); await sim.resolve(sim.genesis); return sim.post(ALICE, tx1.tx, sim.sig(tx1.tx, ALICE)) } },
    { name: 'by a removed author', error: 'TransactionActorInvalid', args: () => [BigInt(CAROL)],
      run: async () => {
        await sim.exit(CAROL, [], true); await sim.resolve(sim.genesis)
        const t = { ...tx1.tx, fork: 1n, actor: CAROL }; return sim.post(CAROL, t, sim.sig(t, CAROL))
      } },
  ]
  for (const c of cases) test(`rejected: ${c.name}`, async () => { await expectRevert(c.run(), c.error, c.args?.()) })
})
