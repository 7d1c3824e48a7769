/**
 * The verification pipeline through StateManager: every step rejects its bad input with its
 * own code and nothing is persisted or signed for it; provable violations carry evidence;
 * out-of-order txs are held until their parent arrives. Machine = Counter deployed on anvil,
 * run from its bytecode in the local EVM.
 */
import { after, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder, keccak256, toUtf8Bytes, type Wallet } from 'ethers'
import { startAnvil, type Anvil } from '../chain/anvil.js'
import { deployLocalStack } from '../chain/stack.js'
import { EvmStateMachine } from '../machine/EvmStateMachine.js'
import { ProtocolError } from '../errors/ParleyError.js'
import { hashState, type ParleyHasher } from '../protocol/eip712.js'
import { signDigest } from '../protocol/signatures.js'
import { ETH, type ChannelParams, type Hex, type Transaction } from '../protocol/types.js'
import { MemoryStore } from '../store/MemoryStore.js'
import type { StateMachine } from '../machine/StateMachine.js'
import { ManualClock } from '../clock/ManualClock.js'
import { Ledger, type Anchor } from './ledger.js'
import { StateManager } from './StateManager.js'
import { evidenceOf, type Evidence } from './evidence.js'
import { defaultTimes } from '../channel/params.js'

const abi = AbiCoder.defaultAbiCoder()
const inc = (n: number) => abi.encode(['uint64'], [n]) as Hex
const T0 = 1_800_000_000n

let anvil: Anvil
let machine: StateMachine
let hasher: ParleyHasher
let wallets: Wallet[]
let params: ChannelParams
let channelId: Hex
let genesis: Hex

before(async () => {
  anvil = await startAnvil({ accounts: 4 })
  const stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  machine = await EvmStateMachine.fromChain({ provider: anvil.provider, address: stack.machines.counter })
  wallets = anvil.wallets.slice(1, 4)
  params = {
    participants: wallets.map((w) => w.address.toLowerCase() as Hex), machine: stack.machines.counter, asset: ETH,
    deposits: [1n, 2n, 3n], bond: 0n, ...defaultTimes,
    salt: keccak256(toUtf8Bytes('state-test')) as Hex, initData: '0x', openDeadline: 1n << 40n,
  }
  channelId = hasher.channelId(params)
  genesis = await machine.initialState(params.deposits, params.initData)
})
after(() => anvil.stop())

let store: MemoryStore
let clock: ManualClock
let sm: StateManager

beforeEach(async () => {
  store = new MemoryStore()
  clock = new ManualClock(T0)
  store.putChannel({ channelId, params, me: 1 })
  const fork = { fork: 0n, state: genesis, stateHash: hashState(genesis), timestamp: T0, active: 0b111n, disputed: false }
  store.putFork(channelId, fork)
  sm = new StateManager({
    channelId, params, me: 1, store, machine, hasher, clock, timing: { p2pTime: 60, agreementTime: 30, chainFallbackTime: 120, skew: 15n },
  })
  sm.setLedger(new Ledger(fork, 0))
  // What the Engine's recorder does with an accepted tx: sign and log it with the tx — it must
  // never run for a rejected one.
  const receive = sm.receive.bind(sm)
  sm.receive = (input, at, record = (e) => {
    store.transaction(() => {
      store.putOwnSignature(channelId, { kind: 'tx', fork: 0n, seq: e.transaction.seq, digest: e.digest, signature: '0x01' })
      sm.write(e)
    })
    sm.append(e)
  }) => receive(input, at, record)
})

/** A correct next tx from `prev`, signed by the actor unless `signer` says otherwise. */
async function makeTx(prev: Anchor, actor: number, data: Hex, over: Partial<Transaction> = {}, signer = actor) {
  const timestamp = over.timestamp ?? prev.timestamp
  const state = await machine.transition(prev.state, actor, data, timestamp)
  const transaction: Transaction = {
    channelId, fork: 0n, seq: prev.seq + 1n, timestamp, actor, previousStateHash: prev.stateHash, data, stateHash: hashState(state), ...over,
  }
  return { transaction, signature: signDigest(wallets[signer]!.signingKey, hasher.transaction(transaction)) }
}

/** Receives `input`, asserts it left the store and the ledger untouched, and returns the result. */
async function untouched(input: unknown, source: 'peer' | 'sync' = 'peer') {
  const before = store.stats(channelId)
  const head = sm.ledger.head.seq
  const r = await sm.receive(input, { source })
  assert.deepEqual(store.stats(channelId), before, 'nothing persisted or signed')
  assert.equal(sm.ledger.head.seq, head)
  return r
}

/** Asserts `input` is rejected with `code` (a result, not an exception), leaves the store untouched, and returns the error. */
async function rejects(input: unknown, code: string, source: 'peer' | 'sync' = 'peer'): Promise<ProtocolError> {
  const r = await untouched(input, source)
  if (r.kind !== 'rejected') assert.fail(`expected ${code}, but the tx was ${r.kind}`)
  assert.ok(r.error instanceof ProtocolError)
  assert.equal(r.error.code, code, r.error.message)
  return r.error
}

describe('StateManager pipeline', () => {
  test('a valid tx is accepted, persisted with its state and handed to agreement', async () => {
    const tx = await makeTx(sm.ledger.head, 0, inc(5))
    const r = await sm.receive(tx, { source: 'peer' })
    assert.ok(r.kind === 'accepted' && r.accepted.length === 1)
    assert.equal(sm.ledger.head.seq, 1n)
    assert.equal(sm.ledger.head.nextActor, 1)
    assert.deepEqual(store.stats(channelId), { txs: 1, signatures: 1, ownSignatures: 1, forks: 1 })
    assert.equal(hashState(store.getTx(channelId, 0n, 1n)!.state), tx.transaction.stateHash)
  })

  test('each step rejects its bad input with its own code', async () => {
    const g = sm.ledger.head
    const good = await makeTx(g, 0, inc(1))
    // 1 well-formed
    await rejects({ ...good, signature: '0x1234' }, 'TX_MALFORMED')
    await rejects({ ...good, transaction: { ...good.transaction, actor: 7 } }, 'TX_MALFORMED')
    await rejects({ ...good, transaction: { ...good.transaction, seq: 1 } }, 'TX_MALFORMED')
    await rejects({ ...good, transaction: { ...good.transaction, data: '0x' + '00'.repeat(4097) } }, 'TX_MALFORMED')
    await rejects('hello', 'TX_MALFORMED')
    // 2 channel, 3 fork (correctly signed, so only that step can object)
    await rejects(await makeTx(g, 0, inc(1), { channelId: keccak256('0x01') as Hex }), 'TX_WRONG_CHANNEL')
    // A later fork's transaction is not refused: it is ahead of us (the chain's StateSet brings that fork).
    assert.deepEqual(await untouched(await makeTx(g, 0, inc(1), { fork: 1n })), { kind: 'ahead', fork: 1n })
    // 4 seq: 0 and far future are not held
    await rejects(await makeTx(g, 0, inc(1), { seq: 0n }), 'TX_BAD_SEQ')
    await rejects(await makeTx(g, 0, inc(1), { seq: 1000n }), 'TX_BAD_SEQ')
    // 5 actor: participant 2 signs a move at participant 0's turn → provable
    const t5 = { ...good.transaction, actor: 2 }
    const e5 = await rejects({ transaction: t5, signature: signDigest(wallets[2]!.signingKey, hasher.transaction(t5)) }, 'NOT_YOUR_TURN')
    const ev5 = evidenceOf(e5) as Extract<Evidence, { kind: 'InvalidTransition' }>
    assert.deepEqual([ev5.kind, ev5.reason, ev5.culprit, ev5.previousState], ['InvalidTransition', 'actor', 2, genesis])
    // … but on a parent we do not hold, the turn rule says nothing: the unknown parent is the reason
    const t5b = { ...t5, previousStateHash: keccak256('0x05') as Hex }
    await rejects({ transaction: t5b, signature: signDigest(wallets[2]!.signingKey, hasher.transaction(t5b)) }, 'TX_PREVIOUS_HASH_MISMATCH')
    // 6 author signature
    await rejects(await makeTx(g, 0, inc(1), {}, 1), 'SIGNATURE_INVALID')
    // 8 timestamp (regressed, ahead of our clock, behind it, after the broadcast window)
    await rejects(await makeTx(g, 0, inc(1), { timestamp: T0 - 1n }), 'TX_TIMESTAMP_REGRESSED')
    await rejects(await makeTx(g, 0, inc(1), { timestamp: T0 + 16n }), 'TX_TIMESTAMP_SKEW')
    // 9 previous hash
    await rejects(await makeTx(g, 0, inc(1), { previousStateHash: keccak256('0x02') as Hex }), 'TX_PREVIOUS_HASH_MISMATCH')
    // 10 execute: the machine reverts (increment 0), or the claimed state is wrong → provable
    const bad = { ...good.transaction, data: inc(0) }
    const e10 = await rejects({ transaction: bad, signature: signDigest(wallets[0]!.signingKey, hasher.transaction(bad)) }, 'TX_INVALID_TRANSITION')
    assert.deepEqual([evidenceOf(e10)?.kind, (evidenceOf(e10) as { reason: string }).reason], ['InvalidTransition', 'reverted'])
    const e11 = await rejects(await makeTx(g, 0, inc(1), { stateHash: keccak256('0x03') as Hex }), 'TX_STATE_MISMATCH')
    const ev11 = evidenceOf(e11) as Extract<Evidence, { kind: 'InvalidTransition' }>
    assert.deepEqual([ev11.reason, ev11.previousState, ev11.signed.transaction.stateHash], ['stateHash', genesis, keccak256('0x03')])
    // 7 duplicate and equivocation (need an accepted tx first)
    await sm.receive(good, { source: 'peer' })
    assert.deepEqual(await untouched(good), { kind: 'duplicate' })
    const other = await makeTx(g, 0, inc(2))
    const e7 = await rejects(other, 'TX_EQUIVOCATION')
    const ev7 = evidenceOf(e7) as Extract<Evidence, { kind: 'Equivocation' }>
    assert.equal(ev7.culprit, 0)
    assert.deepEqual([ev7.a.transaction, ev7.b.transaction], [good.transaction, other.transaction])
    // a different author at an already-filled height is a wrong actor, provable from the stored genesis
    const t2 = { ...other.transaction, actor: 1 }
    const e8 = await rejects({ transaction: t2, signature: signDigest(wallets[1]!.signingKey, hasher.transaction(t2)) }, 'NOT_YOUR_TURN')
    assert.equal((evidenceOf(e8) as { previousState: Hex }).previousState, genesis)
  })

  test('timestamp: too far behind our clock, or after the broadcast window', async () => {
    const g = sm.ledger.head
    clock.advance(40n)
    await rejects(await makeTx(g, 0, inc(1), { timestamp: T0 + 20n }), 'TX_TIMESTAMP_SKEW')
    clock.advance(30n)
    await rejects(await makeTx(g, 0, inc(1), { timestamp: T0 + 61n }), 'TX_LATE')
  })

  test('a tx from a sync response may be older than the skew, but not in our future', async () => {
    const tx = await makeTx(sm.ledger.head, 0, inc(1))
    clock.advance(50n)
    await rejects(tx, 'TX_TIMESTAMP_SKEW', 'peer')
    const r = await sm.receive(tx, { source: 'sync' })
    assert.ok(r.kind === 'accepted' && r.accepted.length === 1)
  })

  test('out-of-order txs are held until their parent arrives, then applied in order', async () => {
    const t1 = await makeTx(sm.ledger.head, 0, inc(1))
    const a1 = { seq: 1n, state: await machine.transition(genesis, 0, inc(1), T0), stateHash: t1.transaction.stateHash, timestamp: T0, nextActor: 1 }
    const t2 = await makeTx(a1, 1, inc(2))
    const a2 = { seq: 2n, state: await machine.transition(a1.state, 1, inc(2), T0), stateHash: t2.transaction.stateHash, timestamp: T0, nextActor: 2 }
    const t3 = await makeTx(a2, 2, inc(3))
    for (const t of [t3, t2]) {
      const r = await sm.receive(t, { source: 'peer' })
      assert.equal(r.kind, 'held')
    }
    assert.equal(sm.heldSize, 2)
    assert.equal(store.stats(channelId).txs, 0)
    const r = await sm.receive(t1, { source: 'peer' })
    assert.ok(r.kind === 'accepted')
    assert.deepEqual(r.accepted.map((e) => e.transaction.seq), [1n, 2n, 3n])
    assert.equal(sm.heldSize, 0)
    assert.equal(sm.ledger.head.seq, 3n)
    assert.equal(store.stats(channelId).txs, 3)
  })

  test('a held tx that turns out invalid is reported, not applied', async () => {
    const t1 = await makeTx(sm.ledger.head, 0, inc(1))
    const badT2 = { ...t1.transaction, seq: 2n, actor: 1, previousStateHash: t1.transaction.stateHash, data: inc(0) }
    await sm.receive({ transaction: badT2, signature: signDigest(wallets[1]!.signingKey, hasher.transaction(badT2)) }, { source: 'peer' })
    const r = await sm.receive(t1, { source: 'peer' })
    assert.ok(r.kind === 'accepted' && r.accepted.length === 1)
    assert.deepEqual(r.rejected.map((e) => e.code), ['TX_INVALID_TRANSITION'])
  })
})
