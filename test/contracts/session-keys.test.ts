/**
 * Session keys on the manager (ChannelParams.signers): the open checks, the member list every
 * later call takes, who signs what (session keys: transactions and finality proofs; wallets:
 * open and close consents and calls), and a session key's equivocation slashing its
 * participant's bond, paid to the proving wallet.
 *
 * Base: Counter channel of Alice (0), Bob (1), Carol (2) with session keys kA, kB, kC; deposits
 * 1, 2, 3 ETH, bond 0.1 ETH; tx1..tx3 (one per participant) signed by the session keys.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Wallet, hexlify, randomBytes } from 'ethers'
import { fund, makeParams, setup, signOpen, snapshot, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, assertSolvent, expectRevert } from '../helpers/court.js'
import { join, signEach } from '../helpers/sigs.js'
import { hashState } from '../../src/protocol/eip712.js'
import { memberList } from '../../src/protocol/members.js'
import { packSignatures, signDigest } from '../../src/protocol/signatures.js'
import { ETH, type ChannelParams, type Hex, type PackedSignedTransaction } from '../../src/protocol/types.js'

const [ALICE, BOB, CAROL] = [0, 1, 2]
const ETH1 = 10n ** 18n
const BOND = ETH1 / 10n
const key = () => new Wallet(hexlify(randomBytes(32)))

let f: Fixture
let ws: Wallet[]
let keys: Wallet[]
let counter: Hex
let restore: () => Promise<void>

before(async () => {
  f = await setup(5)
  ws = f.wallets.slice(1, 4)
  keys = ws.map(key)
  counter = (await f.counter.getAddress()).toLowerCase() as Hex
})
after(() => f.stop())
beforeEach(async () => (restore = await snapshot(f)))
afterEach(() => restore())

const addr = (w: Wallet) => w.address.toLowerCase() as Hex
const withKeys = (over: Partial<ChannelParams> = {}) => makeParams(ws, counter, { signers: keys.map(addr), ...over })
const open = (p: ChannelParams) => f.manager.getFunction('open').staticCall(p, signOpen(f, ws, p))

describe('open: the signers list', () => {
  type Case = { name: string; signers: () => Hex[]; error: string; args: () => unknown[] }
  const cases: Case[] = [
    { name: 'fewer signers than participants', signers: () => keys.slice(0, 2).map(addr), error: 'ChannelSignerCountMismatch', args: () => [3, 2] },
    { name: 'more signers than participants', signers: () => [...keys.map(addr), addr(key())], error: 'ChannelSignerCountMismatch', args: () => [3, 4] },
    { name: 'a zero signer', signers: () => [addr(keys[0]!), ETH, addr(keys[2]!)], error: 'ChannelSignerInvalid', args: () => [1] },
    { name: 'a participant as its own signer', signers: () => [addr(keys[0]!), addr(ws[1]!), addr(keys[2]!)], error: 'ChannelSignerDuplicate', args: () => [1, ws[1]!.address] },
    { name: 'another participant as a signer', signers: () => [addr(ws[2]!), addr(keys[1]!), addr(keys[2]!)], error: 'ChannelSignerDuplicate', args: () => [0, ws[2]!.address] },
    { name: 'one key for two participants', signers: () => [addr(keys[0]!), addr(keys[1]!), addr(keys[0]!)], error: 'ChannelSignerDuplicate', args: () => [2, keys[0]!.address] },
  ]
  for (const c of cases) {
    test(`${c.name} → ${c.error}`, async () => {
      const p = withKeys({ signers: c.signers() })
      await fund(f, ws, p)
      await expectRevert(open(p), c.error, c.args())
    })
  }

  test('no signers and one per participant both open; the signers are part of the channel id', async () => {
    const p = withKeys()
    const plain = { ...p, signers: [] }
    assert.notEqual(f.hasher.channelId(p), f.hasher.channelId(plain))
    await fund(f, ws, p)
    assert.equal(await open(p), f.hasher.channelId(p))
    assert.equal(await open(plain), f.hasher.channelId(plain))
  })

  test('the consents are the wallets’: consents by the session keys → SignerNotParticipant', async () => {
    const p = withKeys()
    await fund(f, ws, p)
    const bySessionKeys = join(signEach(keys, f.hasher.channelId(p)))
    await expectRevert(f.manager.getFunction('open').staticCall(p, bySessionKeys), 'SignerNotParticipant', [0, keys[0]!.address])
  })

  test('the transient markers are cleared: a second channel with the same members opens in a later call', async () => {
    const p = withKeys()
    const q = withKeys()
    await fund(f, ws, p)
    await fund(f, ws, q)
    await (await f.manager.getFunction('open')(p, signOpen(f, ws, p))).wait()
    await (await f.manager.getFunction('open')(q, signOpen(f, ws, q))).wait()
  })
})

describe('an open channel with session keys', () => {
  let sim: Sim
  beforeEach(async () => {
    sim = await Sim.open(f, ws, f.counter, { bond: BOND, deposits: [1n, 2n, 3n].map((k) => k * ETH1) }, keys)
    for (const actor of [ALICE, BOB, CAROL]) await sim.move(actor, inc())
  })

  test('calls take the member list participants ‖ signers; the participants alone → ChannelParticipantsMismatch', async () => {
    assert.deepEqual(sim.participants, memberList(sim.params))
    assert.equal(sim.participants.length, 6)
    const proof = sim.final(3n)
    const [hash, seq] = await f.manager.getFunction('verifyFinalityProof')(sim.channelId, sim.participants, proof)
    assert.deepEqual([hash, seq], [sim.entry(3n).tx.stateHash, 3n])
    await expectRevert(f.manager.getFunction('verifyFinalityProof')(sim.channelId, sim.params.participants, proof), 'ChannelParticipantsMismatch', [sim.channelId])
  })

  test('transactions signed by the wallets instead of the session keys → SignerNotParticipant', async () => {
    const tx = sim.entry(3n).tx
    const digest = f.hasher.transaction(tx)
    const byWallets = { transaction: tx, ...packSignatures(new Map(ws.map((w, i) => [i, signDigest(w.signingKey, digest)]))) }
    await expectRevert(f.manager.getFunction('verifyFinalityProof')(sim.channelId, sim.participants, [byWallets]), 'SignerNotParticipant', [0, ws[0]!.address])
    // Another participant's session key in a slot: named as that participant's.
    const swapped = { transaction: tx, ...packSignatures(new Map([[0, signDigest(keys[1]!.signingKey, digest)]])) }
    await expectRevert(f.manager.getFunction('verifySignatures')(sim.channelId, sim.participants, digest, swapped.signers, swapped.signatures, 1), 'SignerMismatch', [0, keys[1]!.address])
  })

  test('a session key cannot call: its place in the member list is never active', async () => {
    const args = [sim.channelId, sim.participants, 3 + BOB, sim.final(3n), sim.entry(3n).state] as const
    const asKey = f.manager.connect(f.anvil.provider) as typeof f.manager
    await expectRevert(asKey.getFunction('disputeTimeout').staticCall(...args, { from: keys[BOB]!.address }), 'CallerInactive', [3 + BOB])
  })

  test('conclude from a proof the session keys signed pays the wallets; close consents must be the wallets’', async () => {
    const state = sim.entry(3n).state
    const [stateHash, payouts, others] = await sim.closeTerms(state)
    assert.deepEqual(others, sim.participants.slice(3), 'every participant active: others = the session keys')
    const digest = f.hasher.close(sim.channelId, 0n, stateHash, payouts)
    const byKeys = packSignatures(new Map(keys.map((k, i) => [i, signDigest(k.signingKey, digest)])))
    // Consents by the session keys recover the keys in the wallets' places: not the channel's member list.
    await expectRevert(
      f.manager.getFunction('close').staticCall(sim.channelId, stateHash, payouts, others, byKeys.signatures),
      'CloseSignersMismatch', [sim.channelId],
    )
    // Nor with the wallets passed in `others` instead of the keys (a list of the keys twice, then the wallets).
    await expectRevert(
      f.manager.getFunction('close').staticCall(sim.channelId, stateHash, payouts, sim.params.participants, byKeys.signatures),
      'CloseSignersMismatch', [sim.channelId],
    )
    const before = await sim.balances()
    await sim.closeCoop(state)
    const after = await sim.balances()
    // Counter's outcome returns each deposit; every bond comes back.
    assert.deepEqual(after.map((b, i) => b - before[i]!), [1n, 2n, 3n].map((k) => k * ETH1 + BOND))
    for (const k of keys) assert.equal(await f.manager.getFunction('balanceOf')(k.address, ETH), 0n)
    await assertSolvent(f)
  })

  test('Bob’s session key equivocates: Alice proves it, Bob’s share and bond go to Alice’s wallet', async () => {
    const a = sim.forge({ actor: ALICE, data: inc(1n) })
    const first: PackedSignedTransaction = sim.signed(a, [BOB])
    const second: PackedSignedTransaction = sim.signed({ ...a, data: inc(2n) }, [BOB])
    await sim.proveEquivocation(ALICE, first, second, sim.final(3n))
    assert.deepEqual(sim.events('ParticipantSlashed').map((e) => [e.index, e.beneficiary]), [[1n, 0n]])
    const before = await sim.balances()
    await sim.resolve(sim.entry(3n).state)
    const d = (await sim.balances()).map((b, i) => b - before[i]!)
    assert.deepEqual(d, [2n * ETH1 + BOND, 0n, 0n])
    for (const k of keys) assert.equal(await f.manager.getFunction('balanceOf')(k.address, ETH), 0n)
    await assertSolvent(f)
  })

  test('the same equivocation signed by Bob’s wallet proves nothing: SignerNotParticipant', async () => {
    const a = sim.forge({ actor: ALICE, data: inc(1n) })
    const byWallet = (data: Hex): PackedSignedTransaction => {
      const tx = { ...a, data }
      return { transaction: tx, ...packSignatures(new Map([[BOB, signDigest(ws[BOB]!.signingKey, f.hasher.transaction(tx))]])) }
    }
    await expectRevert(sim.proveEquivocation(ALICE, byWallet(inc(1n)), byWallet(inc(2n)), sim.final(3n)), 'SignerNotParticipant', [BOB, ws[BOB]!.address])
  })

  test('a stolen session key costs at most its own channel: no withdrawal, no open, no close, nothing of the wallet’s free balance or of its other channel', async () => {
    // Bob also holds 5 ETH free in the manager and a second channel (its own session keys) with Alice and Carol.
    const free = 5n * ETH1
    await (await (f.manager.connect(ws[BOB]!) as typeof f.manager).getFunction('deposit')(ETH, ws[BOB]!.address, free, { value: free })).wait()
    const keys2 = ws.map(key)
    const other = await Sim.open(f, ws, f.counter, { bond: BOND, deposits: [1n, 2n, 3n].map((k) => k * ETH1) }, keys2)
    for (const actor of [ALICE, BOB, CAROL]) await other.move(actor, inc())
    const start = (await sim.balances())[BOB]!
    assert.equal(start, free)

    // The thief holds Bob's session key of the first channel, with gas, and an accomplice's wallet.
    const thief = keys[BOB]!.connect(f.anvil.provider)
    await (await f.wallets[0]!.sendTransaction({ to: thief.address, value: ETH1 })).wait()
    const asThief = f.manager.connect(thief) as typeof f.manager
    // Withdraw: the key's own balance is empty, and a withdrawal debits only the caller.
    await expectRevert(asThief.getFunction('withdraw').staticCall(ETH, 1n, thief.address), 'BalanceInsufficient', [thief.address, ETH, 0n, 1n])
    // Open a channel that moves Bob's free balance to the accomplice: Bob's consent must be his wallet's.
    const accomplice = f.wallets[4]!
    const steal = makeParams([accomplice, ws[BOB]!], counter, { deposits: [0n, free] })
    const consents = join([signDigest(accomplice.signingKey, f.hasher.channelId(steal)), signDigest(keys[BOB]!.signingKey, f.hasher.channelId(steal))])
    await expectRevert(asThief.getFunction('open').staticCall(steal, consents), 'SignerNotParticipant', [1, keys[BOB]!.address])
    // Close the first channel on a state of its choosing: close consents are the wallets'.
    const head = sim.entry(3n).state
    const [headHash, headPayouts, headOthers] = await sim.closeTerms(head)
    const digest = f.hasher.close(sim.channelId, 0n, headHash, headPayouts)
    const byKey = packSignatures(new Map([[ALICE, signDigest(ws[ALICE]!.signingKey, digest)], [BOB, signDigest(keys[BOB]!.signingKey, digest)], [CAROL, signDigest(ws[CAROL]!.signingKey, digest)]]))
    await expectRevert(asThief.getFunction('close').staticCall(sim.channelId, headHash, headPayouts, headOthers, byKey.signatures), 'CloseSignersMismatch', [sim.channelId])
    // Sign for Bob in his other channel: that channel knows another key.
    const tx = other.forge({ actor: BOB, data: inc(1n) })
    const stolen = packSignatures(new Map([[BOB, signDigest(keys[BOB]!.signingKey, f.hasher.transaction(tx))]]))
    await expectRevert(
      f.manager.getFunction('verifySignatures')(other.channelId, other.participants, f.hasher.transaction(tx), stolen.signers, stolen.signatures, 1),
      'SignerNotParticipant', [BOB, keys[BOB]!.address],
    )

    // The worst it can do: equivocate as Bob in the first channel. Bob is slashed there — his share and bond, no more.
    const a = sim.forge({ actor: ALICE, data: inc(1n) })
    await sim.proveEquivocation(ALICE, sim.signed(a, [BOB]), sim.signed({ ...a, data: inc(2n) }, [BOB]), sim.final(3n))
    await sim.resolve(head)
    assert.equal((await sim.balances())[BOB]!, start, 'the first channel pays Bob nothing; his free balance is whole')
    // His other channel closes as it would have: his deposit and bond back.
    await other.closeCoop(other.entry(3n).state)
    assert.equal((await other.balances())[BOB]!, start + 2n * ETH1 + BOND)
    // Bob's wallet withdraws everything it has; the key never held anything.
    await (await (f.manager.connect(ws[BOB]!) as typeof f.manager).getFunction('withdraw')(ETH, start + 2n * ETH1 + BOND, ws[BOB]!.address)).wait()
    assert.equal(await f.manager.getFunction('balanceOf')(thief.address, ETH), 0n)
    await assertSolvent(f)
  })
})
