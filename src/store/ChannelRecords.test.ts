/**
 * ChannelRecords: the one mapping between a stored transaction and the ledger's entry (its
 * signatures and their bitmap come along), and each per-channel fact under the key metaKeys.ts
 * names — the same on both stores.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { keccak256, toBeHex } from 'ethers'
import { ChannelRecords, type SignedRecord } from './ChannelRecords.js'
import { MemoryStore } from './MemoryStore.js'
import { META } from './metaKeys.js'
import type { ChannelParams, Hex } from '../protocol/types.js'
import { defaultTimes } from '../channel/params.js'

const CH = keccak256('0x01') as Hex
const h = (n: number) => keccak256(toBeHex(n, 32)) as Hex
const sig = (n: number) => ('0x' + n.toString(16).padStart(2, '0').repeat(65)) as Hex
const params: ChannelParams = {
  participants: ['0x' + '11'.repeat(20), '0x' + '22'.repeat(20), '0x' + '33'.repeat(20)] as Hex[], machine: ('0x' + '44'.repeat(20)) as Hex,
  asset: ('0x' + '00'.repeat(20)) as Hex, deposits: [0n, 0n, 0n], bond: 0n, ...defaultTimes,
  salt: h(9), initData: '0x', openDeadline: 1n << 40n,
}
const entry = (seq: bigint, signers: number[]): SignedRecord => ({
  transaction: { channelId: CH, fork: 0n, seq, timestamp: 100n + seq, actor: 0, previousStateHash: h(Number(seq) - 1), data: '0x01', stateHash: h(Number(seq)) },
  digest: h(1000 + Number(seq)), state: '0x05', nextActor: 1, receivedAt: 100n + seq,
  signatures: new Map(signers.map((i) => [i, sig(i + 1)])), signers: 0n,
})

describe('ChannelRecords', () => {
  test('an entry comes back with every signature stored for it, whoever stored it, and their bitmap', () => {
    const store = new MemoryStore()
    store.putChannel({ channelId: CH, params, me: 0 })
    const r = new ChannelRecords(store, CH)
    r.putEntry(entry(1n, [0]))
    r.putEntry(entry(2n, [0, 1]))
    r.putSignature(h(1001), 2, sig(3)) // a confirmation stored later
    const one = r.entry(0n, 1n)!
    assert.deepEqual([...one.signatures.keys()], [0, 2])
    assert.equal(one.signers, 0b101n)
    assert.equal(one.transaction.seq, 1n)
    assert.deepEqual(r.entries(0n, 1n).map((e) => [e.transaction.seq, e.signers]), [[1n, 0b101n], [2n, 0b011n]])
    assert.deepEqual(r.txs(0n, 2n).map((t) => t.digest), [h(1002)])
    assert.equal(r.entry(0n, 3n), undefined)
  })

  test('each fact under its key (metaKeys.ts), with its default when absent', () => {
    const store = new MemoryStore()
    store.putChannel({ channelId: CH, params, me: 0 })
    const r = new ChannelRecords(store, CH)
    assert.deepEqual([r.phase(), r.finalHint(0n), r.refusers(0n), r.excused(0n), r.close(), r.courtState()], [undefined, 0n, 0n, 0n, undefined, undefined])
    r.setPhase('open')
    r.setFinalHint(1n, 32n)
    r.setRefusers(1n, 0b100n)
    r.setExcused(1n, 7n)
    r.setClose('{"fork":"1"}')
    r.setCourtState('{}')
    assert.deepEqual(
      [META.phase, META.final(1n), META.refusers(1n), META.excused(1n), META.close, META.courtState].map((k) => store.getMeta(CH, k)),
      ['open', '32', '4', '7', '{"fork":"1"}', '{}'],
    )
    assert.deepEqual([r.finalHint(1n), r.refusers(1n), r.excused(1n), r.finalHint(0n)], [32n, 0b100n, 7n, 0n])
  })
})
