/**
 * Bitmap.index, the bit search `respond` names the accused with (the one bit of a timeout's
 * removals), against the client's rule for the same move (responseTransaction: the highest set
 * bit of the record's removals): every single bit of 64, random bitmaps with several bits, and 0.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { Contract } from 'ethers'
import { setup, type Fixture } from '../helpers/fixture.js'
import { deploy } from '../../src/chain/deploy.js'
import { responseTransaction } from '../../src/protocol/disputes.js'
import { DisputeKind, type Hex, type Transaction } from '../../src/protocol/types.js'

let f: Fixture
let harness: Contract

before(async () => {
  f = await setup(1)
  harness = (await deploy('BitmapHarness', f.wallets[0]!)) as unknown as Contract
})
after(() => f.stop())

const ZERO = `0x${'00'.repeat(32)}` as Hex
const move: Transaction = { channelId: ZERO, fork: 0n, seq: 9n, timestamp: 1n, actor: 63, previousStateHash: ZERO, data: '0x', stateHash: ZERO }
/** The author the client puts on a response to a timeout whose removals are `removals`. */
const clientActor = (removals: bigint): number =>
  responseTransaction(ZERO, 0n, { kind: DisputeKind.Timeout, disputer: 0, seq: 0n, timestamp: 0n, deadline: 0n, removals, stateHash: ZERO }, move).actor

test('every single bit: index(1 << i) = i, the accused the client names', async () => {
  for (let i = 0; i < 64; i++) {
    const x = 1n << BigInt(i)
    assert.equal(await harness.getFunction('index')(x), BigInt(i), `bit ${i}`)
    assert.equal(clientActor(x), i)
  }
})

test('several bits: the highest, as the client; none: 0', async () => {
  assert.equal(await harness.getFunction('index')(0n), 0n)
  assert.equal(clientActor(0n), 0)
  await fc.assert(
    fc.asyncProperty(fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), async (x) => {
      assert.equal(Number(await harness.getFunction('index')(x)), clientActor(x))
      assert.equal(clientActor(x), x.toString(2).length - 1)
    }),
    { numRuns: 200 },
  )
})
