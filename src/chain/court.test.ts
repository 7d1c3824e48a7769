/**
 * ManagerClient's court methods on a real anvil: typed results from the events, reverts
 * decoded into ProtocolErrors, the caller's index found from its address, and the open dispute
 * read back from the events (matching the chain's commitment). The dispute rules themselves are
 * tested in test/disputes; the client that uses these calls in test/court.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder, Wallet, keccak256, toUtf8Bytes } from 'ethers'
import { startAnvil, type Anvil } from './anvil.js'
import { deployLocalStack, type LocalStack } from './stack.js'
import { signOpenConsent } from './consent.js'
import { RpcStateMachine } from './RpcStateMachine.js'
import { ProtocolError, UsageError } from '../errors/ParleyError.js'
import { channelWordOf } from './records.js'
import { hashState, type ParleyHasher } from '../protocol/eip712.js'
import { packSignedTransaction, signDigest } from '../protocol/signatures.js'
import { DisputeKind, ETH, Phase, type ChannelParams, type Hex, type Transaction } from '../protocol/types.js'
import { defaultTimes } from '../channel/params.js'

const abi = AbiCoder.defaultAbiCoder()
const ONE = 10n ** 18n
let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let users: Wallet[]
let snapshot: string

before(async () => {
  anvil = await startAnvil({ accounts: 4 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  users = anvil.wallets.slice(1, 3)
})
after(() => anvil.stop())
beforeEach(async () => (snapshot = await anvil.provider.send('evm_snapshot', [])))
afterEach(() => anvil.provider.send('evm_revert', [snapshot]))

/** A 2-party Counter channel and its first move (by Alice), signed by both. */
async function channel() {
  const p: ChannelParams = {
    participants: users.map((w) => w.address.toLowerCase() as Hex), machine: stack.machines.counter, asset: ETH,
    deposits: [ONE, ONE], bond: 0n, ...defaultTimes,
    salt: keccak256(toUtf8Bytes('court-client')) as Hex, initData: '0x', openDeadline: 1n << 40n,
  }
  for (const w of users) await stack.manager.connect(w).deposit(ETH, ONE)
  const { channelId, genesis } = await stack.manager.open(p, users.map((w) => signOpenConsent(w.signingKey, hasher, p)))
  const data = abi.encode(['uint64'], [1]) as Hex
  const state = await new RpcStateMachine(stack.machines.counter, anvil.provider).transition(genesis.state, 0, data, genesis.timestamp)
  const tx: Transaction = { channelId, fork: 0n, seq: 1n, timestamp: genesis.timestamp, actor: 0, previousStateHash: genesis.stateHash, data, stateHash: hashState(state) }
  const sigs = new Map(users.map((w, i) => [i, signDigest(w.signingKey, hasher.transaction(tx))]))
  return { p, channelId, genesis, tx, state, sigs, proof: [packSignedTransaction({ transaction: tx, signatures: sigs })] }
}

describe('ManagerClient court calls', () => {
  test('force-close, answer, resolve: typed results; the open dispute read back from events', async () => {
    const { p, channelId, genesis, state, proof } = await channel()
    const [alice, bob] = users.map((w) => stack.manager.connect(w))
    const { raised } = await alice!.exit(channelId, p.participants, [], false, genesis.state)
    assert.deepEqual([raised.dispute.kind, raised.dispute.disputer, raised.dispute.seq, raised.state], [DisputeKind.ForceClose, 0, 0n, genesis.state])
    const open = await stack.manager.currentDispute(channelId)
    assert.deepEqual(open?.record, raised.dispute)
    const track = await stack.manager.track(channelId)
    assert.deepEqual(track?.dispute, raised.dispute)
    assert.deepEqual(await stack.manager.channelWord(channelId), { phase: Phase.Disputed, word: channelWordOf(track!) }, 'the rebuilt record and dispute are what the chain commits to')

    const { answered } = await bob!.answer(channelId, p.participants, raised.dispute, proof, state)
    assert.deepEqual([answered.dispute.seq, answered.dispute.stateHash], [1n, hashState(state)])
    assert.deepEqual((await stack.manager.currentDispute(channelId))?.record, answered.dispute)

    const early = await alice!.resolve(channelId, p.participants, answered.dispute, state).catch((e: unknown) => e)
    assert.ok(early instanceof ProtocolError && early.code === 'DISPUTE_PENDING', String(early))
    await anvil.increaseTime(601) // a force-close: an answer window, then a challenge window
    const r = await alice!.resolve(channelId, p.participants, answered.dispute, state)
    assert.ok(r.closed && !r.stateSet)
    assert.deepEqual(r.credits.map((c) => c.amount), [ONE, ONE], 'Counter pays deposits back whoever leaves')
    assert.equal(await stack.manager.currentDispute(channelId), undefined)
    assert.equal((await stack.manager.getChannel(channelId)).phase, Phase.Closed)
    assert.equal((await stack.manager.channelWord(channelId)).word, channelWordOf((await stack.manager.track(channelId))!))
  })

  test('timeout and refute: the lying disputer slashed; a reverted call is a ProtocolError named after the custom error', async () => {
    const { p, channelId, genesis, tx, sigs } = await channel()
    const [alice, bob] = users.map((w) => stack.manager.connect(w))
    const early = await bob!.disputeTimeout(channelId, p.participants, [], genesis.state).catch((e: unknown) => e)
    assert.ok(early instanceof ProtocolError && early.code === 'DISPUTE_TOO_EARLY', String(early))
    await anvil.increaseTime(211)
    // Bob claims he signed nothing on this fork and accuses Alice; Alice shows his signature on tx 1.
    const { raised } = await bob!.disputeTimeout(channelId, p.participants, [], genesis.state)
    assert.equal(raised.dispute.removals, 0b01n)
    assert.equal((await stack.manager.currentDispute(channelId))?.state, genesis.state, 'a timeout publishes its candidate')
    const { answered, slashed } = await alice!.refute(channelId, p.participants, raised.dispute, tx, sigs.get(1)!, [], genesis.state)
    assert.deepEqual(slashed, [{ channelId, index: 1, beneficiary: 0 }])
    assert.equal(answered.dispute.kind, DisputeKind.Fraud)
    const again = await alice!.refute(channelId, p.participants, raised.dispute, tx, sigs.get(1)!, [], genesis.state).catch((e: unknown) => e)
    assert.ok(again instanceof ProtocolError && again.code === 'DISPUTE_RECORD_MISMATCH', String(again))
  })

  test('respond: a move that is not the accused\'s on the candidate is a UsageError before anything is sent; the accused\'s cancels the timeout', async () => {
    const { p, channelId, genesis, tx, sigs } = await channel()
    const [alice, bob] = users.map((w) => stack.manager.connect(w))
    await anvil.increaseTime(211)
    // Bob accuses Alice on the genesis (he hides tx 1); Alice answers with tx 1 itself.
    const { raised } = await bob!.disputeTimeout(channelId, p.participants, [], genesis.state)
    const block = await anvil.provider.getBlockNumber()
    for (const wrong of [{ ...tx, seq: 2n }, { ...tx, actor: 1 }, { ...tx, previousStateHash: tx.stateHash }, { ...tx, channelId: tx.stateHash }]) {
      const e = await alice!.respond(channelId, p.participants, raised.dispute, wrong, sigs.get(0)!).catch((x: unknown) => x)
      assert.ok(e instanceof UsageError && e.code === 'RESPONSE_MISMATCH', String(e))
    }
    assert.equal(await anvil.provider.getBlockNumber(), block, 'nothing sent')
    const { cancelled } = await alice!.respond(channelId, p.participants, raised.dispute, tx, sigs.get(0)!)
    assert.deepEqual([cancelled.seq, cancelled.transaction.stateHash, cancelled.signature], [1n, tx.stateHash, sigs.get(0)!.toLowerCase()])
  })

  test('a signer that is not a participant: UsageError before anything is sent', async () => {
    const { p, channelId } = await channel()
    const stranger = stack.manager.connect(new Wallet(keccak256(toUtf8Bytes('stranger')), anvil.provider))
    const e = await stranger.exit(channelId, p.participants, [], true, '0x').catch((x: unknown) => x)
    assert.ok(e instanceof UsageError && e.code === 'CALLER_NOT_PARTICIPANT', String(e))
  })
})
