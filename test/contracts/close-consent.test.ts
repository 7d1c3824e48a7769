/**
 * The close consent CloseChannel(channelId, fork, stateHash, payouts) on a channel with a
 * removed participant (Bob left on fork 0; Alice and Carol continue on fork 1): the consents
 * are the authority — the contract calls no machine, recovers each active participant's account
 * from its consent and checks the member list they make with `others` against the record. Each
 * question the design opens, through the client (error codes) and the raw contract (malformed
 * calls, exact error arguments): payouts other than the machine's outcome that everyone signed
 * are paid; a consent over other terms, a payout to the removed participant, payouts above the
 * locked deposits, a wrong or short `others`, a consent too many or by the wrong participant.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Wallet, type Contract } from 'ethers'
import { ManagerClient } from '../../src/chain/ManagerClient.js'
import { signCloseConsent } from '../../src/chain/consent.js'
import { ProtocolError } from '../../src/errors/ParleyError.js'
import { closeOthers } from '../../src/protocol/close.js'
import { hashState } from '../../src/protocol/eip712.js'
import { packSignatures } from '../../src/protocol/signatures.js'
import { ETH, Phase, type Hex } from '../../src/protocol/types.js'
import { setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, expectRevert, assertSolvent } from '../helpers/court.js'
import { expectEvents } from '../helpers/revert.js'

const ALICE = 0
const BOB = 1
const CAROL = 2
const ETH1 = 10n ** 18n
const BOND = ETH1 / 10n
const LOCKED = 4n * ETH1 // Alice's 1 and Carol's 3 after Bob left with his 2

let f: Fixture
let ws: Wallet[]
let sim: Sim
let client: ManagerClient
let restore: () => Promise<void>

/** Opens Alice, Bob, Carol (deposits 1, 2, 3 ETH) on the Counter, plays a round, and lets Bob leave from it. */
async function withBobGone(keys?: Wallet[]): Promise<Sim> {
  const s = await Sim.open(f, ws, f.counter, { bond: BOND, deposits: [ETH1, 2n * ETH1, 3n * ETH1] }, keys)
  for (const actor of [ALICE, BOB, CAROL]) await s.move(actor, inc())
  await s.exit(BOB, s.final(3n), true)
  await s.resolve(s.entry(3n).state, CAROL)
  assert.deepEqual([s.fork, s.active], [1n, 0b101n])
  return s
}

before(async () => {
  f = await setup(7)
  ws = f.wallets.slice(1, 4)
  sim = await withBobGone()
  client = new ManagerClient((await f.manager.getAddress()) as Hex, f.wallets[5]!) // a non-participant submits
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

/** `wallets[i]`'s consent for each participant i of `who` (default: the active ones) to close on `state` with `payouts`. */
const consents = (state: Hex, payouts: readonly bigint[], who = [ALICE, CAROL], fork = sim.fork, signer = (i: number) => ws[i]!) =>
  new Map(who.map((i) => [i, signCloseConsent(signer(i).signingKey, f.hasher, sim.channelId, fork, state, payouts)]))
const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p
  } catch (e) {
    assert.ok(e instanceof ProtocolError, `expected a ProtocolError, got ${String(e)}`)
    return e.code
  }
  assert.fail('expected the close to be refused')
}
/** The raw close (record inserted): [stateHash, payouts, others, packed signatures]. */
const rawClose = (state: Hex, payouts: bigint[], others: Hex[], sigs: ReadonlyMap<number, Hex>) =>
  f.manager.getFunction('close').staticCall(sim.channelId, hashState(state), payouts, others, packSignatures(sigs).signatures)
const bob = () => sim.participants[BOB]!
const phase = async () => Number((await sim.channel()).phase)

describe('a close with a removed participant', () => {
  test('the machine’s payouts, inactive zeroed, close it; `others` is the removed participant’s account', async () => {
    const state = sim.genesis
    const payouts = await client.closePayouts(sim.channelId, state)
    assert.equal(payouts[BOB], 0n, 'nothing for Bob, paid at his removal')
    assert.deepEqual(closeOthers(sim.participants, 3, sim.active), [bob()])
    const before = await sim.balances()
    const r = await client.close(sim.channelId, sim.participants, state, payouts, consents(state, payouts))
    expectEvents(r.receipt, f.manager, 'ChannelClosed', [[sim.channelId, 1n, hashState(state), payouts]])
    const d = (await sim.balances()).map((b, i) => b - before[i]!)
    assert.deepEqual(d, [payouts[ALICE]! + BOND, 0n, payouts[CAROL]! + BOND])
    assert.equal(payouts[ALICE]! + payouts[CAROL]!, LOCKED)
    assert.equal(await phase(), Phase.Closed)
    await assertSolvent(f)
  })

  test('payouts other than the machine’s outcome, signed by every active participant, are accepted: the credits follow the signed payouts', async () => {
    const state = sim.genesis
    const outcome = await client.closePayouts(sim.channelId, state)
    const signed = [ETH1 * 7n / 2n, 0n, ETH1 / 4n] // 3.75 of the 4 locked: 0.25 left, split 0.125 / 0.125
    assert.notDeepEqual(signed, outcome)
    const before = await sim.balances()
    const r = await client.close(sim.channelId, sim.participants, state, signed, consents(state, signed))
    const paid = [signed[0]! + ETH1 / 8n, 0n, signed[2]! + ETH1 / 8n]
    assert.deepEqual(r.closed.payouts, paid)
    expectEvents(r.receipt, f.manager, 'Credited', [[sim.channelId, ws[ALICE]!.address, ETH, paid[0]! + BOND], [sim.channelId, ws[CAROL]!.address, ETH, paid[2]! + BOND]])
    assert.deepEqual((await sim.balances()).map((b, i) => b - before[i]!), [paid[0]! + BOND, 0n, paid[2]! + BOND])
    await assertSolvent(f)
  })

  test('a consent over other payouts than submitted → CLOSE_SIGNERS_MISMATCH', async () => {
    const state = sim.genesis
    const payouts = await client.closePayouts(sim.channelId, state)
    const other = [payouts[0]! + 1n, 0n, payouts[2]! - 1n]
    // Both consents over other payouts, or only Carol's.
    assert.equal(await codeOf(client.close(sim.channelId, sim.participants, state, payouts, consents(state, other))), 'CLOSE_SIGNERS_MISMATCH')
    const mixed = new Map([...consents(state, payouts, [ALICE]), ...consents(state, other, [CAROL])])
    assert.equal(await codeOf(client.close(sim.channelId, sim.participants, state, payouts, mixed)), 'CLOSE_SIGNERS_MISMATCH')
    assert.equal(await codeOf(client.close(sim.channelId, sim.participants, state, other, mixed)), 'CLOSE_SIGNERS_MISMATCH')
    // A consent over another state or the fork Bob left is another close too.
    assert.equal(await codeOf(client.close(sim.channelId, sim.participants, '0x1234', payouts, consents(state, payouts))), 'CLOSE_SIGNERS_MISMATCH')
    assert.equal(await codeOf(client.close(sim.channelId, sim.participants, state, payouts, consents(state, payouts, [ALICE, CAROL], 0n))), 'CLOSE_SIGNERS_MISMATCH')
    await expectRevert(rawClose(state, payouts, [bob()], consents(state, other)), 'CloseSignersMismatch', [sim.channelId])
    assert.equal(await phase(), Phase.Open)
  })

  test('a payout to the removed participant → PAYOUT_TO_INACTIVE, even when every active participant signed it', async () => {
    const state = sim.genesis
    for (const payouts of [[ETH1, 1n, 3n * ETH1 - 1n], [0n, ETH1, 0n]]) {
      assert.equal(await codeOf(client.close(sim.channelId, sim.participants, state, payouts, consents(state, payouts))), 'PAYOUT_TO_INACTIVE')
      await expectRevert(rawClose(state, payouts, [bob()], consents(state, payouts)), 'PayoutToInactive', [BigInt(BOB)])
    }
    assert.equal(await phase(), Phase.Open)
  })

  test('payouts above the locked deposits → OUTCOME_EXCEEDS_LOCKED', async () => {
    const state = sim.genesis
    const payouts = [LOCKED, 0n, 1n]
    assert.equal(await codeOf(client.close(sim.channelId, sim.participants, state, payouts, consents(state, payouts))), 'OUTCOME_EXCEEDS_LOCKED')
    await expectRevert(rawClose(state, payouts, [bob()], consents(state, payouts)), 'OutcomeExceedsLocked', [LOCKED + 1n, LOCKED])
    // Exactly the locked deposits is fine (no remainder).
    const all = [ETH1, 0n, 3n * ETH1]
    await rawClose(state, all, [bob()], consents(state, all))
  })

  test('wrong `others` → CLOSE_SIGNERS_MISMATCH; too short → CLOSE_OTHERS_INVALID', async () => {
    const state = sim.genesis
    const payouts = await client.closePayouts(sim.channelId, state)
    const sigs = consents(state, payouts)
    // Through the client: a member list naming another account in Bob's place, or missing him.
    const outsider = f.wallets[6]!.address.toLowerCase() as Hex
    assert.equal(await codeOf(client.close(sim.channelId, [sim.participants[0]!, outsider, sim.participants[2]!], state, payouts, sigs)), 'CLOSE_SIGNERS_MISMATCH')
    assert.equal(await codeOf(client.close(sim.channelId, [sim.participants[0]!], state, payouts, sigs)), 'CLOSE_OTHERS_INVALID')
    // Raw: an active participant's account for Bob's, Bob twice, a word too many, none at all.
    await expectRevert(rawClose(state, payouts, [sim.participants[CAROL]!], sigs), 'CloseSignersMismatch', [sim.channelId])
    await expectRevert(rawClose(state, payouts, [bob(), bob()], sigs), 'CloseSignersMismatch', [sim.channelId])
    await expectRevert(rawClose(state, payouts, [bob(), outsider], sigs), 'CloseSignersMismatch', [sim.channelId])
    await expectRevert(rawClose(state, payouts, [], sigs), 'CloseOthersInvalid', [0n, 1n])
    // The right one closes.
    await rawClose(state, payouts, [bob()], sigs)
    assert.equal(await phase(), Phase.Open)
  })

  test('the removed participant’s consent is one too many; in an active participant’s place it is another member list', async () => {
    const state = sim.genesis
    const payouts = await client.closePayouts(sim.channelId, state)
    const all3 = consents(state, payouts, [ALICE, BOB, CAROL])
    assert.equal(await codeOf(client.close(sim.channelId, sim.participants, state, payouts, all3)), 'SIGNATURES_LENGTH_INVALID')
    await expectRevert(rawClose(state, payouts, [bob()], all3), 'SignaturesLengthInvalid', [130n, 195n])
    // Bob signs in Carol's slot (the packed list has Alice's and Bob's consents): Carol's account is not recovered.
    const bobForCarol = new Map([...consents(state, payouts, [ALICE]), [CAROL, signCloseConsent(ws[BOB]!.signingKey, f.hasher, sim.channelId, sim.fork, state, payouts)]])
    assert.equal(await codeOf(client.close(sim.channelId, sim.participants, state, payouts, bobForCarol)), 'CLOSE_SIGNERS_MISMATCH')
    // Alice alone: one consent for two active participants.
    assert.equal(await codeOf(client.close(sim.channelId, sim.participants, state, payouts, consents(state, payouts, [ALICE]))), 'SIGNATURES_LENGTH_INVALID')
    // An outsider's key in Carol's place.
    const outsider = consents(state, payouts, [CAROL], sim.fork, () => new Wallet(Wallet.createRandom().privateKey))
    assert.equal(await codeOf(client.close(sim.channelId, sim.participants, state, payouts, new Map([...consents(state, payouts, [ALICE]), ...outsider]))), 'CLOSE_SIGNERS_MISMATCH')
    assert.equal(await phase(), Phase.Open)
  })

  test('closeToClaims records nothing for the removed participant; closeAndPay pays the active ones only', async () => {
    const state = sim.genesis
    const payouts = await client.closePayouts(sim.channelId, state)
    const eth = () => Promise.all(ws.map((w) => f.anvil.provider.getBalance(w.address)))
    const deltas = async (run: () => Promise<unknown>) => {
      const before = await eth()
      await run()
      return (await eth()).map((b, i) => b - before[i]!)
    }
    const restoreHere = await sim.checkpoint()
    const r = await client.closeToClaims(sim.channelId, sim.participants, state, payouts, consents(state, payouts))
    assert.deepEqual(r.closed.payouts, payouts)
    // Bob has nothing to claim (no payout, his bond paid at his removal): he cannot be named.
    await expectRevert(f.manager.getFunction('claim').staticCall(sim.channelId, sim.participants, payouts, 0n, 0b010n), 'ClaimsInvalid', [sim.channelId, 0b010n, 0n])
    assert.deepEqual(await deltas(() => client.claim(sim.channelId, sim.participants, payouts, 0n, 0b101n)), [payouts[ALICE]! + BOND, 0n, payouts[CAROL]! + BOND])
    await assertSolvent(f)
    await restoreHere()
    let sent = 0n
    assert.deepEqual(await deltas(async () => ({ sent } = await client.closeAndPay(sim.channelId, sim.participants, state, payouts, consents(state, payouts)))), [payouts[ALICE]! + BOND, 0n, payouts[CAROL]! + BOND])
    assert.equal(sent, 0b101n)
    await assertSolvent(f)
  })
})

describe('a close with a removed participant and session keys', () => {
  test('`others` is the removed participant’s account, then every session key; in another order → CLOSE_SIGNERS_MISMATCH', async () => {
    const keys = ws.map(() => new Wallet(Wallet.createRandom().privateKey))
    const s = await withBobGone(keys)
    const state = s.genesis
    const [stateHash, payouts, others, signatures] = await s.closeTerms(state)
    assert.deepEqual(others, [s.participants[BOB]!, ...keys.map((k) => k.address.toLowerCase() as Hex)])
    const m = f.manager as Contract
    await expectRevert(m.getFunction('close').staticCall(s.channelId, stateHash, payouts, [...others.slice(1), others[0]!], signatures), 'CloseSignersMismatch', [s.channelId])
    await expectRevert(m.getFunction('close').staticCall(s.channelId, stateHash, payouts, others.slice(1), signatures), 'CloseSignersMismatch', [s.channelId])
    await expectRevert(m.getFunction('close').staticCall(s.channelId, stateHash, payouts, [], signatures), 'CloseOthersInvalid', [0n, 1n])
    // Consents by the session keys of the active participants recover the keys, not the accounts.
    const byKeys = packSignatures(new Map([ALICE, CAROL].map((i) => [i, signCloseConsent(keys[i]!.signingKey, f.hasher, s.channelId, s.fork, state, payouts)])))
    await expectRevert(m.getFunction('close').staticCall(s.channelId, stateHash, payouts, others, byKeys.signatures), 'CloseSignersMismatch', [s.channelId])
    const before = await s.balances()
    await s.closeCoop(state)
    assert.deepEqual((await s.balances()).map((b, i) => b - before[i]!), [payouts[ALICE]! + BOND, 0n, payouts[CAROL]! + BOND])
    await assertSolvent(f)
  })
})
