/**
 * EIP-712 digests: for random Transactions, ChannelParams and CloseChannel values, the
 * TypeScript hasher (src/protocol/eip712.ts), ethers' generic TypedDataEncoder and the
 * contracts' own hashing (ParleyHash under ADomain, exposed by
 * contracts/test/HashHarness.sol at its own address: the manager keeps its digests internal) agree
 * byte for byte — ParleyHash.transactionAt (a move's digest hashed from its calldata words) included,
 * on canonical and non-canonical encodings; and the manager's EIP-5267 domain is the one the
 * client hashes under.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { TypedDataEncoder, hexlify, type TypedDataDomain, type TypedDataField } from 'ethers'
import { Contract } from 'ethers'
import { setup, type Fixture } from '../helpers/fixture.js'
import { deploy } from '../../src/chain/deploy.js'
import { DOMAIN_NAME, DOMAIN_VERSION, ParleyHasher, TYPES, domainSeparator } from '../../src/protocol/eip712.js'
import type { ChannelParams, Hex, Transaction } from '../../src/protocol/types.js'

const RUNS = 40
let f: Fixture
let domain: TypedDataDomain
/** The contracts' hashing at the harness's address, and the client's hasher for that domain. */
let harness: Contract
let hasher: ParleyHasher

before(async () => {
  f = await setup(1)
  harness = (await deploy('HashHarness', f.wallets[0]!)) as unknown as Contract
  hasher = new ParleyHasher({ chainId: f.hasher.domain.chainId, verifyingContract: (await harness.getAddress()).toLowerCase() as Hex })
  domain = { name: DOMAIN_NAME, version: DOMAIN_VERSION, chainId: hasher.domain.chainId, verifyingContract: hasher.domain.verifyingContract }
})
after(() => f.stop())

const types = (name: keyof typeof TYPES): Record<string, TypedDataField[]> => ({ [name]: TYPES[name].map((t) => ({ ...t })) })
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => hexlify(b) as Hex)
const bytes32 = bytes(32, 32)
const address = bytes(20, 20)
const uint = (bits: number) => fc.bigInt({ min: 0n, max: 2n ** BigInt(bits) - 1n })
const uint32 = fc.integer({ min: 0, max: 2 ** 32 - 1 })

const transaction: fc.Arbitrary<Transaction> = fc.record({
  channelId: bytes32,
  fork: uint(64),
  seq: uint(64),
  timestamp: uint(64),
  actor: fc.integer({ min: 0, max: 65535 }),
  previousStateHash: bytes32,
  data: fc.oneof(fc.constant('0x' as Hex), bytes(0, 300)),
  stateHash: bytes32,
})

const channelParams: fc.Arbitrary<ChannelParams> = fc.record({
  participants: fc.array(address, { maxLength: 10 }),
  signers: fc.array(address, { maxLength: 10 }),
  machine: address,
  asset: address,
  deposits: fc.array(uint(256), { maxLength: 10 }),
  bond: uint(256),
  p2pTime: uint32,
  agreementTime: uint32,
  chainFallbackTime: uint32,
  challengeTime: uint32,
  salt: bytes32,
  initData: bytes(0, 200), openDeadline: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
})

test('domain separator matches the contract’s EIP-5267 domain', async () => {
  const d = await f.manager.getFunction('eip712Domain')()
  assert.equal(d.name, DOMAIN_NAME)
  assert.equal(d.version, DOMAIN_VERSION)
  assert.equal(d.chainId, f.hasher.domain.chainId)
  assert.equal(d.verifyingContract.toLowerCase(), f.hasher.domain.verifyingContract)
  assert.equal(domainSeparator(f.hasher.domain), TypedDataEncoder.hashDomain({ ...domain, verifyingContract: f.hasher.domain.verifyingContract }))
})

test('Transaction: hasher = ethers TypedDataEncoder = hashTransaction', async () => {
  await fc.assert(
    fc.asyncProperty(transaction, async (tx) => {
      const ours = hasher.transaction(tx)
      assert.equal(ours, TypedDataEncoder.hash(domain, types('Transaction'), tx))
      assert.equal(ours, await harness.getFunction('hashTransaction')(tx))
      assert.equal(ours, await harness.getFunction('hashTransactionAt')(tx))
    }),
    { numRuns: RUNS },
  )
})

/** Calldata of `fn(tx)` as 32-byte words after the selector: [0] the tuple's offset, [1..8] its head. */
function words(fn: string, tx: Transaction): { selector: string; w: string[] } {
  const data = harness.interface.encodeFunctionData(fn, [tx])
  const body = data.slice(10)
  return { selector: data.slice(0, 10), w: body.match(/.{64}/g)! }
}
const call = (selector: string, w: string[]) => f.anvil.provider.call({ to: harness.target as string, data: selector + w.join('') })

test('transactionAt: a relocated data field hashes as the canonical encoding; a dirty integer reverts like the decoder', async () => {
  await fc.assert(
    fc.asyncProperty(transaction, fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), async (tx, gap, which) => {
      const expected = hasher.transaction(tx)
      for (const fn of ['hashTransaction', 'hashTransactionAt']) {
        // Data moved `gap` words further (offset word 7 of the head, relative to the tuple): same hash.
        const { selector, w } = words(fn, tx)
        const moved = [...w.slice(0, 9), ...Array(gap).fill('00'.repeat(32)), ...w.slice(9)]
        moved[7] = (BigInt('0x' + w[7]) + 32n * BigInt(gap)).toString(16).padStart(64, '0')
        assert.equal(await call(selector, moved), expected, `${fn}: relocated data`)
        // A dirty bit above fork, seq, timestamp (64 bits) or actor (16 bits): both revert.
        const dirty = [...w]
        const bits = which === 4 ? 16n : 64n
        dirty[1 + which] = (BigInt('0x' + w[1 + which]) | (1n << bits)).toString(16).padStart(64, '0')
        await assert.rejects(call(selector, dirty), `${fn}: dirty word ${which}`)
      }
    }),
    { numRuns: 20 },
  )
})

test('transactionAt: empty data at an offset past the calldata (a "negative" one) reverts, as transaction does', async () => {
  const tx = { ...fc.sample(transaction, 1)[0]!, data: '0x' as Hex }
  for (const fn of ['hashTransaction', 'hashTransactionAt']) {
    const { selector, w } = words(fn, tx)
    assert.equal(await call(selector, w), hasher.transaction(tx), `${fn}: canonical`)
    const at = (offset: bigint) => { const x = [...w]; x[7] = offset.toString(16).padStart(64, '0'); return x }
    // Before the calldata's start: the decoder lets these through with a length read as 0.
    for (const offset of [1n << 255n, (1n << 256n) - 0x400n]) {
      await assert.rejects(call(selector, at(offset)), `${fn}: data offset ${offset.toString(16)}`)
    }
    // −0x40 lands the (empty) data inside the calldata: both take it, with the same hash.
    assert.equal(await call(selector, at((1n << 256n) - 0x40n)), hasher.transaction(tx), `${fn}: data offset −0x40`)
  }
})

test('ChannelParams: hasher = ethers TypedDataEncoder = channelIdOf', async () => {
  await fc.assert(
    fc.asyncProperty(channelParams, async (p) => {
      const ours = hasher.channelId(p)
      assert.equal(ours, TypedDataEncoder.hash(domain, types('ChannelParams'), p))
      assert.equal(ours, await harness.getFunction('channelIdOf')(p))
    }),
    { numRuns: RUNS },
  )
})

test('CloseChannel: hasher = ethers TypedDataEncoder = hashClose', async () => {
  await fc.assert(
    fc.asyncProperty(bytes32, uint(64), bytes32, fc.array(uint(256), { maxLength: 64 }), async (channelId, fork, stateHash, payouts) => {
      const ours = hasher.close(channelId, fork, stateHash, payouts)
      assert.equal(ours, TypedDataEncoder.hash(domain, types('CloseChannel'), { channelId, fork, stateHash, payouts }))
      assert.equal(ours, await harness.getFunction('hashClose')(channelId, fork, stateHash, payouts))
    }),
    { numRuns: RUNS },
  )
})

test('every field is bound: changing any one changes the digest', async () => {
  const tx: Transaction = { channelId: `0x${'01'.repeat(32)}`, fork: 0n, seq: 1n, timestamp: 2n, actor: 3, previousStateHash: `0x${'02'.repeat(32)}`, data: '0x', stateHash: `0x${'03'.repeat(32)}` }
  const variants: Transaction[] = [
    { ...tx, channelId: `0x${'04'.repeat(32)}` }, { ...tx, fork: 1n }, { ...tx, seq: 2n }, { ...tx, timestamp: 3n },
    { ...tx, actor: 4 }, { ...tx, previousStateHash: `0x${'05'.repeat(32)}` }, { ...tx, data: '0x00' }, { ...tx, stateHash: `0x${'06'.repeat(32)}` },
  ]
  const digests = new Set([tx, ...variants].map((t) => hasher.transaction(t)))
  assert.equal(digests.size, variants.length + 1)
  for (const v of variants) assert.equal(await harness.getFunction('hashTransaction')(v), hasher.transaction(v))
})

test('CloseChannel: every field is bound, each payout and their number too', async () => {
  const c = { channelId: `0x${'01'.repeat(32)}` as Hex, fork: 0n, stateHash: `0x${'02'.repeat(32)}` as Hex, payouts: [3n, 4n, 0n] }
  const variants = [
    { ...c, channelId: `0x${'04'.repeat(32)}` as Hex }, { ...c, fork: 1n }, { ...c, stateHash: `0x${'05'.repeat(32)}` as Hex },
    { ...c, payouts: [4n, 3n, 0n] }, { ...c, payouts: [3n, 4n, 1n] }, { ...c, payouts: [3n, 4n] }, { ...c, payouts: [3n, 4n, 0n, 0n] }, { ...c, payouts: [] },
  ]
  const digest = (v: typeof c) => hasher.close(v.channelId, v.fork, v.stateHash, v.payouts)
  assert.equal(new Set([c, ...variants].map(digest)).size, variants.length + 1)
  for (const v of variants) assert.equal(await harness.getFunction('hashClose')(v.channelId, v.fork, v.stateHash, v.payouts), digest(v))
  assert.throws(() => hasher.close(c.channelId, c.fork, c.stateHash, [-1n]), TypeError)
  assert.throws(() => hasher.close(c.channelId, c.fork, c.stateHash, [2n ** 256n]), TypeError)
})
