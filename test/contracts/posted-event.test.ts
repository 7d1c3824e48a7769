/**
 * TransactionPosted is the evidence every client reads a posted move and a response from
 * (never the transaction input). The court writes its data from the calldata words (ADisputes
 * _emitPosted) instead of Solidity's re-encoding, so its bytes are held here to exactly
 * `abi.encode(digest, transaction, signature)` — the encoding ethers makes of the event — for
 * data of every length around a word boundary, and for a caller whose calldata is not the
 * canonical encoding (dirty padding after the data, the data placed elsewhere): the log is the
 * canonical encoding all the same. A response (respond) writes the same bytes in its one event,
 * DisputeCancelled (the cancellation carries the move), and no TransactionPosted: there the court
 * builds the move from the dispute and the caller's timestamp, data and state hash, for data of
 * every length and dirty padding alike.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder, Wallet, hexlify, randomBytes, type Log, type TransactionReceipt } from 'ethers'
import { setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc } from '../helpers/court.js'
import { trackOf } from '../helpers/records.js'
import { channelStruct } from '../../src/chain/records.js'
import { responseArgs } from '../../src/protocol/disputes.js'
import type { Hex, Transaction } from '../../src/protocol/types.js'

const ALICE = 0
const BOB = 1
let f: Fixture
let sim: Sim
let restore: () => Promise<void>

before(async () => {
  f = await setup(12)
  sim = await Sim.open(f, f.wallets.slice(1, 4), f.counter)
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

const iface = () => f.rawManager.interface
/** What ethers encodes for `event`(channelId, digest, tx, signature): topics and data. */
const expected = (tx: Transaction, signature: Hex, event = 'TransactionPosted') =>
  iface().encodeEventLog(event, [sim.channelId, f.hasher.transaction(tx), tx, signature])
const logsOf = (receipt: TransactionReceipt, event: string): Log[] => {
  const topic = iface().getEvent(event)!.topicHash
  return receipt.logs.filter((l) => l.topics[0] === topic)
}
const postedLog = (receipt: TransactionReceipt, event = 'TransactionPosted'): Log => {
  const logs = logsOf(receipt, event)
  assert.equal(logs.length, 1, `one ${event}`)
  return logs[0]!
}
const moveWith = (data: Hex, actor = ALICE): Transaction => sim.forge({ actor, data })

describe('TransactionPosted: the bytes of abi.encode(digest, transaction, signature)', () => {
  for (const size of [0, 1, 31, 32, 33, 64, 65, 100]) {
    test(`postTransaction with ${size} bytes of data`, async () => {
      const tx = moveWith(hexlify(randomBytes(size)) as Hex)
      const signature = sim.sig(tx, ALICE)
      const log = postedLog(await sim.post(ALICE, tx, signature))
      const want = expected(tx, signature)
      assert.equal(log.data, want.data)
      assert.deepEqual([...log.topics], want.topics)
    })
  }

  test('a caller’s non-canonical calldata (dirty padding, the data placed after the signature) still logs the canonical encoding', async () => {
    const data = hexlify(randomBytes(33)) as Hex
    const tx = moveWith(data)
    const signature = sim.sig(tx, ALICE)
    const record = channelStruct((await trackOf(f.rawManager, sim.channelId))!.record)
    const canonical = iface().encodeFunctionData('postTransaction', [sim.channelId, record, sim.participants, tx, signature])
    // The data's 33 bytes, then 31 bytes of padding: make the padding dirty.
    const at = canonical.indexOf(data.slice(2), 10)
    assert.ok(at > 0 && canonical.indexOf(data.slice(2), at + 1) < 0, 'the data occurs once in the calldata')
    const padStart = at + 66
    const dirty = canonical.slice(0, padStart) + 'ff'.repeat(31) + canonical.slice(padStart + 62)
    // The data placed elsewhere: a copy appended after the signature, the tuple's data offset
    // (head word 6, 0x100) pointing at it, and the old place overwritten with other bytes — a
    // court that read the old place would hash other data and refuse the signature.
    const coder = AbiCoder.defaultAbiCoder()
    const lengthAt = at - 64
    assert.equal(BigInt('0x' + dirty.slice(lengthAt, at)), 33n)
    const offsetAt = lengthAt - 2 * 64 // the data offset word, then stateHash, then the length
    assert.equal(BigInt('0x' + dirty.slice(offsetAt, offsetAt + 64)), 0x100n)
    const tupleAt = offsetAt - 6 * 64
    const appended = coder.encode(['bytes'], [data]).slice(2 + 64) // length word, data, zero padding
    const newOffset = (dirty.length - tupleAt) / 2
    const moved = dirty.slice(0, offsetAt) + coder.encode(['uint256'], [newOffset]).slice(2) + dirty.slice(offsetAt + 64, at) + 'ee'.repeat(33) + dirty.slice(at + 66) + appended
    for (const calldata of [canonical, dirty, moved]) {
      const before = await sim.checkpoint()
      const sent = await f.wallets[1]!.sendTransaction({ to: await f.rawManager.getAddress(), data: calldata })
      const log = postedLog((await sent.wait())!)
      assert.equal(log.data, expected(tx, signature).data)
      await before()
    }
  })

  /** Two moves, then a timeout on the head once its time is up: returns the accused. */
  const timedOut = async (s = sim): Promise<number> => {
    for (const actor of [ALICE, BOB]) await s.move(actor, inc())
    const accused = await s.turn()
    const T = s.head.timestamp
    const wait = T + BigInt(s.params.p2pTime + s.params.agreementTime + s.params.chainFallbackTime) + 1n - (await s.now())
    if (wait > 0n) await f.anvil.increaseTime(Number(wait))
    const disputer = [0, 1, 2].find((i) => i !== accused)!
    await s.timeout(disputer, s.chain(1n, 2n, () => [disputer]), s.head.state)
    return accused
  }
  const cancelled = (receipt: TransactionReceipt, tx: Transaction, signature: Hex, s = sim) => {
    const log = postedLog(receipt, 'DisputeCancelled')
    const want = iface().encodeEventLog('DisputeCancelled', [s.channelId, f.hasher.transaction(tx), tx, signature])
    assert.equal(log.data, want.data)
    assert.deepEqual([...log.topics], want.topics)
    assert.equal(log.data, iface().encodeEventLog('TransactionPosted', [s.channelId, f.hasher.transaction(tx), tx, signature]).data, 'the bytes a post of the move logs')
    assert.equal(logsOf(receipt, 'TransactionPosted').length, 0, 'no TransactionPosted')
    assert.equal(receipt.logs.length, 1, 'one log')
  }

  test('respond logs the same encoding for the accused’s move, in DisputeCancelled alone', async () => {
    const accused = await timedOut()
    const move = await sim.move(accused, inc())
    const signature = sim.sig(move.tx, accused)
    cancelled(await sim.respond(accused, move.tx, signature), move.tx, signature)
  })

  // respond takes the move's timestamp, data and state hash; the court builds the transaction
  // (the rest from the dispute), hashes it and writes the event in one memory image: its padding
  // and offsets are the court's, whatever the caller's encoding.
  for (const size of [0, 1, 31, 32, 33, 64, 65, 100]) {
    test(`respond with ${size} bytes of data: the whole move, rebuilt from the dispute, in DisputeCancelled`, async () => {
      const accused = await timedOut()
      const tx = sim.forge({ actor: accused, data: hexlify(randomBytes(size)) as Hex, stateHash: hexlify(randomBytes(32)) as Hex })
      const signature = sim.sig(tx, accused)
      cancelled(await sim.respond(accused, tx, signature), tx, signature)
    })
  }

  test('a response’s non-canonical calldata (dirty padding after the data and the signature) still logs the canonical encoding', async () => {
    const accused = await timedOut()
    const data = hexlify(randomBytes(33)) as Hex
    const tx = sim.forge({ actor: accused, data })
    const signature = sim.sig(tx, accused)
    const record = channelStruct((await trackOf(f.rawManager, sim.channelId))!.record)
    const canonical = iface().encodeFunctionData('respond', [sim.channelId, record, sim.participants, accused, sim.record, ...responseArgs(tx), signature])
    const dirtyAfter = (hex: string, bytes: string, pad: number): string => {
      const at = hex.indexOf(bytes.slice(2), 10)
      assert.ok(at > 0 && hex.indexOf(bytes.slice(2), at + 1) < 0, 'the bytes occur once in the calldata')
      const padStart = at + bytes.length - 2
      return hex.slice(0, padStart) + 'ff'.repeat(pad) + hex.slice(padStart + 2 * pad)
    }
    // 33 bytes of data then 31 of padding; 65 bytes of signature then 31.
    const dirty = dirtyAfter(dirtyAfter(canonical, data, 31), signature, 31)
    assert.notEqual(dirty, canonical)
    const sent = await f.wallets[1 + accused]!.sendTransaction({ to: await f.rawManager.getAddress(), data: dirty })
    cancelled((await sent.wait())!, tx, signature)
  })

  // The court hashes the member list and the dispute record in scratch memory above the free
  // pointer, where the event is then written: with ten participants and their session keys (20
  // member words), stale words lie under the data's and the signature's padding. The padding
  // must be zeroed, not left as found (a byte of data: 31 bytes of padding).
  test('with 10 participants and session keys: the padding of a post’s and a response’s event is zeroed over stale scratch memory', async () => {
    const wallets = f.wallets.slice(1, 11)
    const keys = wallets.map(() => new Wallet(Wallet.createRandom().privateKey))
    const big = await Sim.open(f, wallets, f.counter, {}, keys)
    const data = '0xab' as Hex
    const post = big.forge({ actor: await big.turn(), data })
    const posted = postedLog(await big.post(ALICE, post, big.sig(post, post.actor)))
    assert.equal(posted.data, iface().encodeEventLog('TransactionPosted', [big.channelId, f.hasher.transaction(post), post, big.sig(post, post.actor)]).data)
    const accused = await timedOut(big)
    const tx = big.forge({ actor: accused, data })
    const signature = big.sig(tx, accused)
    cancelled(await big.respond(accused, tx, signature), tx, signature, big)
  })
})
