/**
 * Agreement rules and the signing guard, without a chain: refusal rules as a table, refusal
 * detection, "never sign twice at one height" (also across a reopened SQLite store), no tx
 * signatures after CloseChannel or on a disputed fork, and confirmation checks.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Wallet, keccak256, toBeHex } from 'ethers'
import { ParleyError } from '../errors/ParleyError.js'
import { ParleyHasher } from '../protocol/eip712.js'
import { signDigest } from '../protocol/signatures.js'
import type { ChannelParams, Hex, Transaction } from '../protocol/types.js'
import { MemoryStore } from '../store/MemoryStore.js'
import { SqliteStore } from '../store/SqliteStore.js'
import type { ForkRecord, Store } from '../store/types.js'
import { Ledger, type Entry } from '../state/ledger.js'
import { ManualClock } from '../clock/ManualClock.js'
import { noConfirmReason, refusersOf } from './rules.js'
import { SigningGuard } from './SigningGuard.js'
import { AgreementManager, type Recorded, type TxDecision } from './AgreementManager.js'
import { defaultTimes } from '../channel/params.js'

const timing = { ...defaultTimes, skew: 15n }
const wallets = [0, 1, 2].map((i) => new Wallet(keccak256(toBeHex(i + 1, 32))))
const hasher = new ParleyHasher({ chainId: 31337n, verifyingContract: ('0x' + '99'.repeat(20)) as Hex })
const params: ChannelParams = {
  participants: wallets.map((w) => w.address.toLowerCase() as Hex), machine: ('0x' + '33'.repeat(20)) as Hex,
  asset: ('0x' + '00'.repeat(20)) as Hex, deposits: [0n, 0n, 0n], bond: 0n, ...defaultTimes,
  salt: keccak256('0x01') as Hex, initData: '0x', openDeadline: 1n << 40n,
}
const channelId = hasher.channelId(params)
const fork0: ForkRecord = { fork: 0n, state: '0x00', stateHash: keccak256('0x00') as Hex, timestamp: 100n, active: 0b111n, disputed: false }
const d = (n: number) => keccak256(toBeHex(n, 32)) as Hex
const code = (fn: () => unknown) => {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof ParleyError)
    return e.code
  }
  return 'NO_ERROR'
}

describe('refusal rules', () => {
  const base = { author: 1, me: 0, active: 0b111n, receivedAt: 150n, parentTimestamp: 100n, timing, refusers: 0n, disputed: false, closing: false }
  const cases: [string, Partial<typeof base>, string | undefined][] = [
    ['a timely tx by a cooperative peer is confirmed', {}, undefined],
    ['received exactly at T + p2p + agreement is still in time', { receivedAt: 190n }, undefined],
    ['received after T + p2p + agreement', { receivedAt: 191n }, 'late'],
    ['our own tx', { author: 0 }, 'own'],
    ['by a peer that refused ours', { refusers: 0b010n }, 'refuser'],
    ['on a disputed fork', { disputed: true }, 'disputed'],
    ['after we signed CloseChannel', { closing: true }, 'closing'],
    ['when we were removed', { active: 0b110n }, 'inactive'],
  ]
  for (const [name, over, reason] of cases) test(name, () => assert.equal(noConfirmReason({ ...base, ...over }), reason))

  test('peers that did not support our tx by its deadline are refusers', () => {
    // our tx (author 0) with parent at T=100: deadline 190; peer 1 confirmed, peer 2 did not
    const window = [{ author: 0, signers: 0b011n, parentTimestamp: 100n }]
    assert.equal(refusersOf(window, { me: 0, active: 0b111n, now: 190n, timing }), 0n)
    assert.equal(refusersOf(window, { me: 0, active: 0b111n, now: 191n, timing }), 0b100n)
    // a later tx by peer 2 is no confirmation of ours (§6.5: it must sign our tx itself)
    const later = [...window, { author: 2, signers: 0b100n, parentTimestamp: 120n }]
    assert.equal(refusersOf(later, { me: 0, active: 0b111n, now: 500n, timing }), 0b100n)
    // a move published late through the chain (stamped after its broadcast window) makes none
    assert.equal(refusersOf([{ author: 0, signers: 0b001n, parentTimestamp: 100n, timestamp: 161n }], { me: 0, active: 0b111n, now: 500n, timing }), 0n)
    assert.equal(refusersOf([{ author: 0, signers: 0b001n, parentTimestamp: 100n, timestamp: 160n }], { me: 0, active: 0b111n, now: 500n, timing }), 0b110n)
    // someone else's tx past its deadline does not make refusers
    assert.equal(refusersOf([{ author: 1, signers: 0b010n, parentTimestamp: 0n }], { me: 0, active: 0b111n, now: 500n, timing }), 0n)
    // nor does an excused one: its deadline passed while we were stopped
    assert.equal(refusersOf([{ author: 0, signers: 0b001n, parentTimestamp: 100n, timestamp: 120n, excused: true }], { me: 0, active: 0b111n, now: 500n, timing }), 0n)
  })
})

describe('SigningGuard', () => {
  const dirs: string[] = []
  const file = () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-guard-'))
    dirs.push(dir)
    return join(dir, 'g.db')
  }
  process.on('exit', () => dirs.forEach((x) => rmSync(x, { recursive: true, force: true })))

  const fresh = (store: Store) => {
    store.putChannel({ channelId, params, me: 0 })
    return new SigningGuard(store, channelId, wallets[0]!.signingKey, 0)
  }

  test('never signs two different txs at one height, even after a restart', () => {
    const path = file()
    const store = new SqliteStore(path)
    const g = fresh(store)
    const sig = g.signTransaction(fork0, 1n, d(1))
    assert.equal(g.signTransaction(fork0, 1n, d(1)), sig, 'the same digest again is fine')
    assert.equal(code(() => g.signTransaction(fork0, 1n, d(2))), 'DOUBLE_SIGN_REFUSED')
    assert.equal(store.getSignatures(channelId, d(1)).get(0), sig, 'logged before returning')
    store.close()
    const again = new SigningGuard(new SqliteStore(path), channelId, wallets[0]!.signingKey, 0)
    assert.equal(code(() => again.signTransaction(fork0, 1n, d(2))), 'DOUBLE_SIGN_REFUSED')
    assert.equal(code(() => again.signTransaction({ ...fork0, fork: 1n }, 1n, d(2))), 'NO_ERROR', 'another fork is another height')
  })

  test('signs no tx after CloseChannel, nothing on a disputed fork, and one close per fork', () => {
    const g = fresh(new MemoryStore())
    assert.equal(code(() => g.signTransaction({ ...fork0, disputed: true }, 1n, d(1))), 'FORK_DISPUTED')
    assert.equal(code(() => g.signTransaction({ ...fork0, active: 0b110n }, 1n, d(1))), 'NOT_ACTIVE')
    g.signClose(fork0, d(10))
    assert.equal(code(() => g.signClose(fork0, d(10))), 'NO_ERROR')
    assert.equal(code(() => g.signClose(fork0, d(11))), 'CLOSE_ALREADY_SIGNED')
    assert.equal(code(() => g.signTransaction(fork0, 1n, d(1))), 'CHANNEL_CLOSING')
    assert.equal(g.closeSigned(0n), d(10))
  })
})

describe('AgreementManager: the transaction step (decide → store → recorded)', () => {
  function setup() {
    const store = new MemoryStore()
    store.putChannel({ channelId, params, me: 0 })
    const clock = new ManualClock(150n)
    const guard = new SigningGuard(store, channelId, wallets[0]!.signingKey, 0)
    const a = new AgreementManager({ channelId, params, me: 0, store, clock, timing, guard })
    const ledger = new Ledger({ ...fork0 }, 1)
    a.setLedger(ledger)
    const tx: Transaction = { channelId, fork: 0n, seq: 1n, timestamp: 120n, actor: 1, previousStateHash: fork0.stateHash, data: '0x', stateHash: d(5) }
    const digest = hasher.transaction(tx)
    const entry: Entry = { transaction: tx, digest, state: '0x05', nextActor: 2, receivedAt: 150n, signatures: new Map([[1, signDigest(wallets[1]!.signingKey, digest)]]), signers: 0n }
    /** What the Engine does with a decision: one store transaction (our signature when we confirm, the waiting signatures), then the ledger, then `recorded`. */
    const apply = (e: Entry, dec: TxDecision, own = false) => {
      store.transaction(() => {
        store.putTx(channelId, { transaction: e.transaction, digest: e.digest, state: e.state, nextActor: e.nextActor, receivedAt: e.receivedAt })
        if (own || dec.noConfirm === undefined) e.signatures.set(0, guard.signTransaction(ledger.fork, e.transaction.seq, e.digest))
        for (const [signer, sig] of dec.confirmations) store.putSignature(channelId, e.digest, signer, sig)
        a.writeUnsaved()
      })
      ledger.append(e)
      return a.recorded(e, dec)
    }
    return { a, store, clock, ledger, entry, digest, apply }
  }
  const confirm = (signer: number, digest: Hex, seq = 1n, by = signer) =>
    ({ type: 'confirm' as const, fork: 0n, seq, digest, signer, signature: signDigest(wallets[by]!.signingKey, digest) })
  const seqs = (r: Recorded) => r.finals.map((e) => e.transaction.seq)

  test('deciding changes nothing: a timely tx is to be confirmed; once stored it counts, and a peer signature counts once stored too', () => {
    const { a, store, entry, digest, apply } = setup()
    const before = store.stats(channelId)
    const dec = a.decide(entry)
    assert.deepEqual(dec, { noConfirm: undefined, refusers: undefined, confirmations: new Map(), errors: [] })
    assert.deepEqual(store.stats(channelId), before, 'a decision writes nothing')
    const r = apply(entry, dec)
    assert.equal(store.getOwnSignature(channelId, 'tx', 0n, 1n)?.digest, digest, 'our confirmation logged in that commit')
    assert.equal(entry.signers, 0b011n)
    assert.deepEqual(seqs(r), [], 'two of three signed')
    assert.equal(a.receiveConfirmation(confirm(2, digest)), 'applied')
    assert.equal(a.receiveConfirmation(confirm(2, digest)), 'duplicate')
    assert.equal(a.unsaved, 1)
    assert.equal(store.getSignatures(channelId, digest).has(2), false, 'not stored yet')
    assert.equal(code(() => a.finalityProof()), 'NOT_FINAL', 'a signature not stored proves nothing')
    store.transaction(() => a.writeUnsaved())
    const saved = a.saved()
    assert.equal(a.unsaved, 0)
    assert.equal(store.getSignatures(channelId, digest).get(2), confirm(2, digest).signature)
    assert.deepEqual(saved.signed.map((x) => x.signer), [2])
    assert.deepEqual(seqs(saved), [1n], 'final once the third signature is stored')
    assert.equal(a.finalityProof().length, 1)
  })

  test('confirmations that came before their tx are verified by the decision and stored with it; bad ones are refused with their codes', () => {
    const { a, store, ledger, entry, digest, apply } = setup()
    assert.equal(a.receiveConfirmation(confirm(2, digest)), 'held')
    assert.equal(a.receiveConfirmation(confirm(0, digest, 1n, 2)), 'held') // "ours", signed by #2
    assert.equal(code(() => a.receiveConfirmation({ ...confirm(2, digest), signature: '0x12' as Hex })), 'CONFIRMATION_MALFORMED')
    entry.receivedAt = 191n // late: we do not confirm it, so it is not final
    const dec = a.decide(entry)
    assert.equal(dec.noConfirm, 'late')
    assert.deepEqual([...dec.confirmations.keys()], [2])
    assert.deepEqual(dec.errors, [], 'a confirmation in our own name is not taken from a peer')
    const r = apply(entry, dec)
    assert.equal(store.getSignatures(channelId, digest).has(2), true, 'stored with the tx')
    assert.equal(ledger.get(1n)!.signers, 0b110n)
    assert.deepEqual(r.signed.map((x) => x.signer), [2])
    assert.equal(code(() => a.receiveConfirmation(confirm(0, d(9)))), 'CONFIRMATION_MISMATCH')
    assert.equal(code(() => a.receiveConfirmation(confirm(0, digest, 1n, 2))), 'SIGNATURE_INVALID')
    assert.equal(code(() => a.finalityProof(1n)), 'NOT_FINAL')
  })

  test('a waiting confirmation with a bad signature is an error of the decision, not a refusal of the tx', () => {
    const { a, entry, digest } = setup()
    assert.equal(a.receiveConfirmation(confirm(2, digest, 1n, 1)), 'held') // #2's slot, #1's key
    const dec = a.decide(entry)
    assert.equal(dec.noConfirm, undefined)
    assert.deepEqual(dec.errors.map((e) => e.code), ['SIGNATURE_INVALID'])
    assert.equal(dec.confirmations.size, 0)
  })

  test('a tx that arrived after its confirmation deadline is accepted but not confirmed', () => {
    const { a, store, entry, apply } = setup()
    entry.receivedAt = 191n
    const dec = a.decide(entry)
    assert.equal(dec.noConfirm, 'late')
    apply(entry, dec)
    assert.equal(a.lastDecision, 'late')
    assert.equal(store.stats(channelId).ownSignatures, 0)
  })

  test('the refusals a tx reveals are part of its decision: a peer that let our move pass its deadline is a refuser, its move not confirmed', () => {
    const { a, clock, ledger, apply } = setup()
    // our move at seq 1 (parent 100: confirmation deadline 190), signed by #1 only
    const ours: Transaction = { channelId, fork: 0n, seq: 1n, timestamp: 120n, actor: 0, previousStateHash: fork0.stateHash, data: '0x', stateHash: d(6) }
    const od = hasher.transaction(ours)
    const mine: Entry = { transaction: ours, digest: od, state: '0x06', nextActor: 2, receivedAt: 120n, signatures: new Map(), signers: 0n }
    apply(mine, a.decide(mine), true)
    mine.signatures.set(1, signDigest(wallets[1]!.signingKey, od))
    mine.signers = 0b011n
    clock.set(195n) // #2 never signed it: past its deadline
    const theirs: Transaction = { channelId, fork: 0n, seq: 2n, timestamp: 195n, actor: 2, previousStateHash: d(6), data: '0x', stateHash: d(7) }
    const td = hasher.transaction(theirs)
    const next: Entry = { transaction: theirs, digest: td, state: '0x07', nextActor: 0, receivedAt: 195n, signatures: new Map([[2, signDigest(wallets[2]!.signingKey, td)]]), signers: 0n }
    const dec = a.decide(next)
    assert.equal(dec.refusers, 0b100n)
    assert.equal(dec.noConfirm, 'refuser')
    assert.equal(a.refused, 0n, 'taken on only once stored')
    apply(next, dec)
    assert.equal(a.refused, 0b100n)
    assert.equal(ledger.head.seq, 2n)
  })

  test('a tx received while the fork was disputed is confirmed once the dispute is cancelled, if still in time', () => {
    for (const [now, confirmed] of [[190n, true], [191n, false]] as const) {
      const { a, store, ledger, entry, digest, apply } = setup()
      ledger.fork.disputed = true
      const dec = a.decide(entry)
      assert.equal(dec.noConfirm, 'disputed')
      apply(entry, dec)
      assert.deepEqual(a.reconsider(now), [], 'still disputed: nothing')
      ledger.fork.disputed = false // DisputeCancelled
      const again = a.reconsider(now) // judged as received now: in time at 190 (100 + 60 + 30), late at 191
      assert.deepEqual(again.map((e) => e.transaction.seq), confirmed ? [1n] : [])
      const guard = new SigningGuard(store, channelId, wallets[0]!.signingKey, 0)
      for (const e of again) e.signatures.set(0, guard.signTransaction(ledger.fork, e.transaction.seq, e.digest))
      const r = a.confirmed(again)
      assert.deepEqual(r.signed.map((x) => x.signer), confirmed ? [0] : [])
      assert.equal(store.getOwnSignature(channelId, 'tx', 0n, 1n)?.digest, confirmed ? digest : undefined)
      assert.equal(ledger.get(1n)!.signers & 1n, confirmed ? 1n : 0n)
      assert.deepEqual(a.reconsider(now), [], 'once only')
    }
  })
})
