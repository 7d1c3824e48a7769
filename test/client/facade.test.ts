/**
 * The facade's contract with applications: pleasant typed errors on bad input, phases with
 * illegal moves rejected, observers that can be undone and iterators that end, and the
 * reaction to chain events (dispute: stop signing; StateSet: switch fork, report removals).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder, Wallet } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { Channel } from '../../src/channel/Channel.js'
import { ChannelPhase, assertTransition, canTransition } from '../../src/channel/phase.js'
import { ManualClock } from '../../src/clock/ManualClock.js'
import { ParleyError } from '../../src/errors/ParleyError.js'
import { hashState, type ParleyHasher } from '../../src/protocol/eip712.js'
import type { Hex } from '../../src/protocol/types.js'
import { MemoryStore } from '../../src/store/MemoryStore.js'
import { MemoryHub } from '../../src/transport/MemoryHub.js'
import { openPeers, play, settle, type Peers } from '../helpers/peers.js'

const abi = AbiCoder.defaultAbiCoder()
const cell = (c: number) => abi.encode(['uint8'], [c]) as Hex
const pay = (to: number, amount: number) => abi.encode(['uint16', 'uint256'], [to, amount]) as Hex
let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher

before(async () => {
  anvil = await startAnvil({ accounts: 8 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
})
after(() => anvil.stop())

const code = async (p: Promise<unknown> | (() => unknown)): Promise<string> => {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (e) {
    assert.ok(e instanceof ParleyError, `expected a ParleyError, got ${e}`)
    return e.code
  }
  return 'NO_ERROR'
}

describe('facade', () => {
  let ttt: Peers
  before(async () => {
    ttt = await openPeers({ anvil, stack, hasher, machine: 'tictactoe', wallets: anvil.wallets.slice(1, 3), salt: 'facade' })
  })

  test('propose: typed errors for the wrong turn, an invalid move, bad data', async () => {
    const [x, o] = ttt.channels as [Channel, Channel]
    assert.equal(await code(o.propose(cell(0))), 'NOT_YOUR_TURN')
    assert.equal(await code(x.propose('0xzz' as Hex)), 'DATA_INVALID')
    const invalid = await x.propose(cell(9)).catch((e: ParleyError) => e)
    assert.ok(invalid instanceof ParleyError)
    assert.equal(invalid.code, 'MOVE_INVALID')
    assert.equal(invalid.details?.error, 'TicTacToeCellUnavailable', 'the machine error is decoded')
    assert.equal(x.state.seq, 0n, 'nothing happened')
    assert.equal(ttt.stores[0]!.stats(ttt.channelId).ownSignatures, 0, 'nothing signed')
  })

  test('create / restore: every bad option is a UsageError with its own code', async () => {
    const base = {
      params: ttt.params, genesis: ttt.genesis, signer: ttt.wallets[0]!, machine: await ttt.machine(), store: new MemoryStore(),
      transport: new MemoryHub().connect(0), clock: new ManualClock(ttt.genesis.timestamp), hasher,
    }
    const cases: [string, Partial<typeof base> & Record<string, unknown>][] = [
      ['SIGNER_INVALID', { signer: 'alice' as never }],
      ['SIGNER_NOT_PARTICIPANT', { signer: Wallet.createRandom() as never }],
      ['TRANSPORT_INDEX_MISMATCH', { transport: new MemoryHub().connect(1) }],
      ['MACHINE_INVALID', { machine: {} as never }],
      ['STORE_INVALID', { store: {} as never }],
      ['CLOCK_INVALID', { clock: {} as never }],
      ['HASHER_INVALID', { hasher: {} as never }],
      ['PARAMS_INVALID', { params: { ...ttt.params, p2pTime: 0 } }],
      ['PARAMS_INVALID', { params: { ...ttt.params, participants: [ttt.params.participants[0]!, ttt.params.participants[0]!] } }],
      ['GENESIS_INVALID', { genesis: { state: '0x00' as Hex } as never }],
      ['GENESIS_MISMATCH', { genesis: { state: '0x00', timestamp: 1n } }],
      ['CHANNEL_ID_MISMATCH', { channelId: hashState('0x01') }],
      ['SKEW_INVALID', { skew: 0n }],
      ['SKEW_TOO_LARGE', { skew: BigInt(Math.floor(ttt.params.agreementTime / 2)) + 1n }],
      ['PARAMS_INVALID', { params: { ...ttt.params, openDeadline: -1n } }],
    ]
    for (const [expected, over] of cases) assert.equal(await code(Channel.create({ ...base, ...over } as never)), expected, expected)
    assert.equal(await code(Channel.create({ ...base, store: ttt.stores[0]!, transport: new MemoryHub().connect(0) })), 'CHANNEL_EXISTS')
    assert.equal(await code(Channel.restore({ ...base, channelId: hashState('0x02') })), 'CHANNEL_NOT_FOUND')
    assert.equal(await code(Channel.restore({ ...base, channelId: ttt.channelId, store: ttt.stores[0]!, signer: ttt.wallets[1]! })), 'SIGNER_MISMATCH')
  })

  test('states() yields every state; breaking out unsubscribes; on() returns its undo', async () => {
    const [x] = ttt.channels as [Channel, Channel]
    let counted = 0
    const off = x.on('state', () => counted++)
    const seen: bigint[] = []
    const reader = (async () => {
      for await (const s of x.states()) {
        seen.push(s.seq)
        if (s.seq === 2n) break
      }
    })()
    await play(ttt.channels, 3, (_, seq) => cell([0, 4, 8][Number(seq) - 1]!))
    await reader
    off()
    await play(ttt.channels, 1, () => cell(1))
    assert.deepEqual(seen, [1n, 2n])
    assert.equal(counted, 3, 'the listener saw states 1-3, not 4')
  })

  test('phases: illegal moves are rejected', () => {
    assert.ok(canTransition(ChannelPhase.Open, ChannelPhase.Closing))
    assert.ok(canTransition(ChannelPhase.Disputed, ChannelPhase.Open))
    assert.ok(canTransition(ChannelPhase.Closing, ChannelPhase.Open), 'a new fork voids a close on the old one')
    assert.ok(canTransition(ChannelPhase.Disputed, ChannelPhase.Closing), 'a cancelled timeout leaves a signed close valid')
    for (const [from, to] of [[ChannelPhase.Closed, ChannelPhase.Open], [ChannelPhase.Closed, ChannelPhase.Closing], [ChannelPhase.Closed, ChannelPhase.Disputed]] as const) {
      assert.throws(() => assertTransition(from, to), (e: ParleyError) => e.code === 'PHASE_TRANSITION_INVALID')
    }
  })

  test('dispose: the instance refuses further use and its iterators end', async () => {
    const [x] = ttt.channels as [Channel, Channel]
    const it = x.finals()
    const drained = (async () => {
      for await (const _ of it) void _
      return 'ended'
    })()
    await x.dispose()
    assert.equal(await drained, 'ended')
    assert.equal(await code(() => x.propose(cell(5))), 'CHANNEL_DISPOSED')
    await ttt.channels[1]!.dispose()
  })
})

describe('chain events', () => {
  test('dispute stops signing on the fork; StateSet switches fork, reports removals, and play goes on', async () => {
    const p = await openPeers({ anvil, stack, hasher, machine: 'payments', wallets: anvil.wallets.slice(3, 6), salt: 'forks' })
    const [a, b, c] = p.channels as [Channel, Channel, Channel]
    await play(p.channels, 2, (who) => pay((who + 1) % 3, 7))
    // participant 1 (b) is accused on-chain: everyone sees DisputeRaised on fork 0
    await Promise.all(p.channels.map((ch) => ch.applyDispute({ fork: 0n })))
    assert.equal(a.phase, ChannelPhase.Disputed)
    assert.equal(await code(c.propose(pay(0, 1))), 'CHANNEL_NOT_OPEN')
    const signedBefore = p.stores[0]!.stats(p.channelId).ownSignatures

    // the dispute resolves: b removed, new genesis on fork 1 (what the chain would emit)
    const machine = await p.machine()
    const genesis1 = await machine.onRemove(a.state.finalState, 1)
    const stateSet = { channelId: p.channelId, fork: 1n, stateHash: hashState(genesis1), state: genesis1, timestamp: a.state.timestamp + 5n, active: 0b101n, locked: 0n }
    const removed: number[] = []
    a.on('removed', (r) => removed.push(r.index))
    const forked = a.next('fork')
    await Promise.all(p.channels.map((ch) => ch.applyStateSet(stateSet)))
    assert.equal((await forked).fork, 1n)
    assert.deepEqual(removed, [1])
    assert.deepEqual([a.phase, a.state.fork, a.state.seq, a.state.active], [ChannelPhase.Open, 1n, 0n, 0b101n])
    assert.equal(p.stores[0]!.stats(p.channelId).ownSignatures, signedBefore, 'nothing signed while disputed')
    assert.equal(await code(b.propose(pay(0, 1))), 'NOT_ACTIVE')

    // a and c play on fork 1; finality needs only the active two
    for (const ch of [a, c]) p.clocks[ch.me]!.advance(5n)
    await play([a, c], 4, (who) => pay(who === 0 ? 2 : 0, 1))
    assert.equal(a.state.finalSeq, 4n)
    const proof = a.finalityProof()
    assert.ok(proof.every((t) => t.transaction.fork === 1n && (t.signers & 0b010n) === 0n), 'no removed signer in the proof')
    await settle(p.hub, p.channels)

    // the chain settles (say, by conclude): the channel is closed, nothing more can be signed
    await a.applyClosed({ channelId: p.channelId, fork: 1n, stateHash: a.state.finalStateHash, payouts: [] })
    assert.equal(a.phase, ChannelPhase.Closed)
    assert.equal(await code(a.close()), 'CHANNEL_CLOSED')
    assert.equal(await code(a.propose(pay(2, 1))), 'CHANNEL_NOT_OPEN')
    const left: unknown[] = []
    for await (const s of a.states()) left.push(s)
    assert.deepEqual(left, [], 'iterators over a closed channel are empty')
    await Promise.all(p.channels.map((ch) => ch.dispose()))
  })
})
