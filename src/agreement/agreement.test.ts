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
import { AgreementManager } from './AgreementManager.js'
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

describe('AgreementManager confirmations', () => {
  function setup() {
    const store = new MemoryStore()
    store.putChannel({ channelId, params, me: 0 })
    const finals: bigint[] = []
    const a = new AgreementManager({
      channelId, params, me: 0, store, clock: new ManualClock(150n), timing,
      guard: new SigningGuard(store, channelId, wallets[0]!.signingKey, 0), onFinal: (es) => finals.push(...es.map((e) => e.transaction.seq)),
    })
    const ledger = new Ledger({ ...fork0 }, 1)
    a.setLedger(ledger)
    const tx: Transaction = { channelId, fork: 0n, seq: 1n, timestamp: 120n, actor: 1, previousStateHash: fork0.stateHash, data: '0x', stateHash: d(5) }
    const digest = hasher.transaction(tx)
    const entry: Entry = { transaction: tx, digest, state: '0x05', nextActor: 2, receivedAt: 150n, signatures: new Map([[1, signDigest(wallets[1]!.signingKey, digest)]]), signers: 0n }
    return { a, store, ledger, entry, digest, finals }
  }
  const confirm = (signer: number, digest: Hex, seq = 1n, by = signer) =>
    ({ type: 'confirm' as const, fork: 0n, seq, digest, signer, signature: signDigest(wallets[by]!.signingKey, digest) })

  test('a timely tx is confirmed (signed, logged, queued) and becomes final with all signatures', () => {
    const { a, store, ledger, entry, digest, finals } = setup()
    store.transaction(() => a.onCommit(entry))
    assert.equal(a.lastDecision, undefined)
    const out = a.takeOutbox()
    assert.deepEqual(out.map((m) => m.type), ['confirm'])
    assert.equal(store.getOwnSignature(channelId, 'tx', 0n, 1n)?.digest, digest)
    entry.signers = 0b011n
    ledger.append(entry)
    a.onAppended(entry)
    assert.deepEqual(finals, [])
    assert.equal(a.receiveConfirmation(confirm(2, digest)), 'applied')
    assert.equal(a.receiveConfirmation(confirm(2, digest)), 'duplicate')
    assert.deepEqual(finals, [], 'a peer signature counts only once it is stored')
    assert.equal(a.unsaved, 1)
    assert.equal(store.getSignatures(channelId, digest).has(2), false)
    store.transaction(() => a.writeUnsaved())
    assert.deepEqual(finals, [])
    a.saved()
    assert.equal(a.unsaved, 0)
    assert.equal(store.getSignatures(channelId, digest).get(2), confirm(2, digest).signature)
    assert.deepEqual(finals, [1n])
    assert.equal(a.finalityProof().length, 1)
  })

  test('bad confirmations are rejected with their own codes; early ones are held and stored with their tx', () => {
    const { a, store, ledger, entry, digest } = setup()
    assert.equal(a.receiveConfirmation(confirm(2, digest)), 'held')
    assert.equal(code(() => a.receiveConfirmation({ ...confirm(2, digest), signature: '0x12' as Hex })), 'CONFIRMATION_MALFORMED')
    entry.receivedAt = 191n // late: we do not confirm it, so it is not final
    store.transaction(() => {
      a.onCommit(entry) // the held one applies now, and is written with the tx
      a.writeUnsaved()
    })
    assert.equal(store.getSignatures(channelId, digest).has(2), true)
    entry.signers = 0b010n
    ledger.append(entry)
    a.onAppended(entry)
    assert.equal(ledger.get(1n)!.signers, 0b110n)
    assert.equal(code(() => a.receiveConfirmation(confirm(0, d(9)))), 'CONFIRMATION_MISMATCH')
    assert.equal(code(() => a.receiveConfirmation(confirm(0, digest, 1n, 2))), 'SIGNATURE_INVALID')
    assert.equal(code(() => a.finalityProof(1n)), 'NOT_FINAL')
  })

  test('a tx that arrived after its confirmation deadline is accepted but not confirmed', () => {
    const { a, store, entry } = setup()
    entry.receivedAt = 191n
    store.transaction(() => a.onCommit(entry))
    assert.equal(a.lastDecision, 'late')
    assert.deepEqual(a.takeOutbox(), [])
    assert.equal(store.stats(channelId).ownSignatures, 0)
  })

  test('a tx received while the fork was disputed is confirmed once the dispute is cancelled, if still in time', () => {
    for (const [now, confirmed] of [[190n, true], [191n, false]] as const) {
      const { a, store, ledger, entry, digest } = setup()
      ledger.fork.disputed = true
      store.transaction(() => a.onCommit(entry))
      assert.equal(a.lastDecision, 'disputed')
      ledger.append(entry)
      a.onAppended(entry)
      a.reconsider(now) // still disputed: nothing
      assert.deepEqual(a.takeOutbox(), [])
      ledger.fork.disputed = false // DisputeCancelled
      a.reconsider(now) // judged as received now: in time at 190 (100 + 60 + 30), late at 191
      const out = a.takeOutbox()
      assert.deepEqual(out.map((m) => m.type), confirmed ? ['confirm'] : [])
      assert.equal(store.getOwnSignature(channelId, 'tx', 0n, 1n)?.digest, confirmed ? digest : undefined)
      assert.equal(ledger.get(1n)!.signatures.has(0), confirmed)
      a.reconsider(now) // once only
      assert.deepEqual(a.takeOutbox(), [])
    }
  })
})
