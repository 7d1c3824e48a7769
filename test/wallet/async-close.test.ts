/**
 * The close consent of an external wallet (the account of a peer with a session key), on the
 * in-memory hub and stores (the machine's real bytecode from anvil, manual clocks): the digest
 * is reserved in the signing log before the wallet is asked, so nothing else is signed on the
 * fork while it is; the wallet's answer is checked and stored before it is broadcast; a refusal
 * or another account's signature (or one of another close) leaves a state close() retries for the same digest; a crash
 * after the store write and before the send re-sends that very signature, and the wallet is not
 * asked again; a channel disposed while the wallet is asked stores nothing of its late answer.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder, Signature, type Wallet } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { signCloseConsent } from '../../src/chain/consent.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { Channel, engineOf } from '../../src/channel/Channel.js'
import { channelParams } from '../../src/channel/params.js'
import { ManualClock } from '../../src/clock/ManualClock.js'
import type { ParleyError } from '../../src/errors/ParleyError.js'
import { EvmStateMachine } from '../../src/machine/EvmStateMachine.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import type { ChannelParams, Hex } from '../../src/protocol/types.js'
import { MemoryStore } from '../../src/store/MemoryStore.js'
import { closePayouts } from '../../src/protocol/close.js'
import { RESERVED_SIGNATURE, type Store } from '../../src/store/types.js'
import { MemoryHub } from '../../src/transport/MemoryHub.js'
import type { Transport } from '../../src/transport/Transport.js'
import type { Message } from '../../src/transport/messages.js'
import { createSessionKey, type ConsentSigner, type ConsentTypedData } from '../../src/wallet/index.js'
import { settle } from '../helpers/peers.js'

const pay = (to: number, amount: bigint) => AbiCoder.defaultAbiCoder().encode(['uint16', 'uint256'], [to, amount]) as Hex
const ETH1 = 10n ** 18n
/** A macrotask: a wallet's answer reaches the channel's queue. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 20))
const code = (c: string) => (e: ParleyError) => (assert.equal(e.code, c), true)

let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher

before(async () => {
  anvil = await startAnvil({ accounts: 3 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
})
after(() => anvil.stop())

/** A wallet whose every request waits for the test: approve (as `as`, in a wallet's `form`) or refuse it. */
class GatedWallet implements ConsentSigner {
  asks: { data: ConsentTypedData; resolve: (s: string) => void; reject: (e: unknown) => void; atAsk: unknown }[] = []
  constructor(private readonly key: Wallet, private readonly onAsk: () => unknown = () => undefined) {}
  getAddress = () => Promise.resolve(this.key.address.toLowerCase() as Hex)
  signTypedData = (data: ConsentTypedData) => new Promise<Hex>((resolve, reject) => this.asks.push({ data, resolve: resolve as (s: string) => void, reject, atAsk: this.onAsk() }))
  async approve(i: number, o: { as?: Wallet; form?: 'compact' | 'v01'; message?: Record<string, unknown> } = {}): Promise<Hex> {
    const { data, resolve } = this.asks[i]!
    let sig = await (o.as ?? this.key).signTypedData(data.domain, data.types, { ...data.message, ...o.message })
    if (o.form === 'compact') sig = Signature.from(sig).compactSerialized
    if (o.form === 'v01') sig = sig.slice(0, 130) + (parseInt(sig.slice(130), 16) - 27).toString(16).padStart(2, '0')
    resolve(sig)
    return sig as Hex
  }
}

/** A transport that hands nothing to the network while `muted` (a process killed before its send). */
function mutable(t: Transport): Transport & { muted: boolean } {
  const m = {
    muted: false, me: t.me,
    send: (to: number, msg: Message) => (m.muted ? Promise.resolve() : t.send(to, msg)),
    broadcast: (msg: Message) => (m.muted ? Promise.resolve() : t.broadcast(msg)),
    onMessage: t.onMessage.bind(t), close: () => t.close(),
  }
  return m
}

interface Setup {
  params: ChannelParams
  channelId: Hex
  hub: MemoryHub
  stores: Store[]
  clocks: ManualClock[]
  keys: Wallet[]
  genesis: { state: Hex; timestamp: bigint }
  /** Alice (#0) with `wallet` as her account; Bob (#1) with his key. */
  alice(wallet: ConsentSigner | Wallet, restore?: boolean, transport?: Transport): Promise<Channel>
  bob: Channel
}

async function setup(): Promise<Setup> {
  const accounts = [anvil.wallets[1]!, anvil.wallets[2]!]
  const keys = [createSessionKey(), createSessionKey()]
  const now = BigInt((await anvil.provider.getBlock('latest'))!.timestamp)
  const params = channelParams({ participants: accounts.map((w) => w.address), signers: keys.map((k) => k.address), machine: stack.machines.payments, deposits: [ETH1, ETH1], now })
  const machine = () => EvmStateMachine.fromChain({ provider: anvil.provider, address: params.machine })
  const genesis = { state: await (await machine()).initialState(params.deposits, params.initData), timestamp: now }
  const hub = new MemoryHub()
  const stores = [new MemoryStore(), new MemoryStore()]
  const clocks = [new ManualClock(now), new ManualClock(now)]
  const common = { hasher, genesis, params }
  const bob = await Channel.create({ ...common, signer: accounts[1]!, sessionKey: keys[1]!, machine: await machine(), store: stores[1]!, transport: hub.connect(1), clock: clocks[1]! })
  const alice = async (wallet: ConsentSigner | Wallet, restore = false, transport: Transport = hub.connect(0)) => {
    const o = { signer: wallet, sessionKey: keys[0]!, machine: await machine(), store: stores[0]!, transport, clock: clocks[0]!, hasher }
    return restore ? Channel.restore({ ...o, channelId: bob.channelId }) : Channel.create({ ...o, params, genesis })
  }
  return { params, channelId: bob.channelId, hub, stores, clocks, keys, genesis, alice, bob }
}

/** The payouts of a close of `c` on `state` (default: its latest final state): its machine's outcome, inactive participants zeroed. */
async function payoutsOf(c: Channel, state: Hex = c.state.finalState): Promise<bigint[]> {
  const machine = await EvmStateMachine.fromChain({ provider: anvil.provider, address: stack.machines.payments })
  return closePayouts(await machine.outcome(state), c.state.active)
}

/** The CloseChannel digest of `c`'s latest final state with its machine's payouts. */
async function closeDigest(s: Setup, c: Channel): Promise<Hex> {
  return hasher.close(s.channelId, 0n, c.state.finalStateHash, await payoutsOf(c))
}

/** Two moves, final for both. */
async function playTwo(s: Setup, a: Channel): Promise<void> {
  const one = await a.propose(pay(1, ETH1 / 4n))
  await settle(s.hub, [a, s.bob])
  const two = await s.bob.propose(pay(0, ETH1 / 10n))
  await settle(s.hub, [a, s.bob])
  assert.deepEqual([a.state.finalSeq, s.bob.state.finalSeq], [two.seq, two.seq], `final after seq ${one.seq} and ${two.seq}`)
}

const closeMessages = (hub: MemoryHub, from: number): Message[] => sent.filter((x) => x.hub === hub && x.from === from && x.m.type === 'close').map((x) => x.m)
const sent: { hub: MemoryHub; from: number; m: Message }[] = []
function watch(hub: MemoryHub, transport: Transport): Transport {
  return {
    me: transport.me,
    send: (to, m) => (sent.push({ hub, from: transport.me, m }), transport.send(to, m)),
    broadcast: (m) => (sent.push({ hub, from: transport.me, m }), transport.broadcast(m)),
    onMessage: transport.onMessage.bind(transport), close: () => transport.close(),
  }
}

describe('close consent through an external wallet', () => {
  test('the digest is reserved before the wallet is asked; its answer (EIP-2098 compact) is stored, then sent; the close completes', async () => {
    const s = await setup()
    let store!: Store
    const wallet = new GatedWallet(anvil.wallets[1]!, () => store.getOwnSignature(s.channelId, 'close', 0n, 0n))
    store = s.stores[0]!
    const a = await s.alice(wallet, false, watch(s.hub, s.hub.connect(0)))
    await playTwo(s, a)
    const digest = await closeDigest(s, a)

    const closing = a.close()
    const again = a.close() // a second close joins the first: one wallet request
    await settle(s.hub, [a, s.bob])
    assert.equal(wallet.asks.length, 1, 'the wallet is asked once')
    assert.deepEqual(wallet.asks[0]!.atAsk, { kind: 'close', fork: 0n, seq: 0n, digest, signature: RESERVED_SIGNATURE }, 'reserved in the signing log before the wallet was asked')
    assert.equal(wallet.asks[0]!.data.primaryType, 'CloseChannel')
    assert.equal(a.state.phase, 'closing')
    assert.deepEqual(closeMessages(s.hub, 0), [], 'nothing sent before the wallet answered')
    // While the wallet is asked, the fork takes no other close and no transaction of ours.
    const guard = engineOf(a).internals().guard
    const fork = engineOf(a).internals().sm.ledger.fork
    const genesisPayouts = await payoutsOf(a, s.genesis.state)
    assert.throws(() => guard.reserveClose(fork, hasher.close(s.channelId, 0n, fork.stateHash, genesisPayouts)), code('CLOSE_ALREADY_SIGNED'))
    assert.throws(() => guard.signTransaction(fork, 3n, digest), code('CHANNEL_CLOSING'))
    await assert.rejects(a.propose(pay(1, 1n)), code('CHANNEL_NOT_OPEN'))
    // A peer's request to close on another state (the genesis) is a conflict, not a second consent.
    const other = { type: 'close' as const, fork: 0n, seq: 0n, stateHash: fork.stateHash, payouts: genesisPayouts, signer: 1, signature: signCloseConsent(anvil.wallets[2]!.signingKey, hasher, s.channelId, 0n, s.genesis.state, genesisPayouts) }
    await assert.rejects(engineOf(a).internals().closer.receive(other), code('CLOSE_CONFLICT'))
    // So is one on our state with other payouts than we asked the wallet to sign.
    const mine = await payoutsOf(a)
    const skewed = [mine[0]! + 1n, mine[1]! - 1n]
    const otherPayouts = { type: 'close' as const, fork: 0n, seq: a.state.finalSeq, stateHash: a.state.finalStateHash, payouts: skewed, signer: 1, signature: signCloseConsent(anvil.wallets[2]!.signingKey, hasher, s.channelId, 0n, a.state.finalState, skewed) }
    await assert.rejects(engineOf(a).internals().closer.receive(otherPayouts), code('CLOSE_CONFLICT'))
    assert.equal(wallet.asks.length, 1)
    assert.deepEqual(wallet.asks[0]!.data.message.payouts, mine, 'the wallet is shown the payouts of our machine')

    const given = await wallet.approve(0, { form: 'compact' })

    await tick()
    assert.equal(given.length, 2 + 128, 'the wallet answered in the 64-byte form')
    await settle(s.hub, [a, s.bob])
    const ours = s.stores[0]!.getOwnSignature(s.channelId, 'close', 0n, 0n)!
    assert.equal(ours.signature.length, 2 + 130, 'stored in the 65-byte form')
    assert.deepEqual(closeMessages(s.hub, 0).map((m) => (m as { signature: Hex }).signature), [ours.signature], 'sent once, what was stored')
    assert.equal(s.stores[1]!.getSignatures(s.channelId, digest).get(0), ours.signature, 'Bob holds it')
    assert.equal(s.stores[1]!.getOwnSignature(s.channelId, 'close', 0n, 0n)?.digest, digest, 'Bob signed the same close')
    assert.equal(engineOf(a).internals().closer.ready()?.signatures.size, 2, 'every signature in')
    await a.dispose()
    await Promise.all([assert.rejects(closing, code('CHANNEL_DISPOSED')), assert.rejects(again, code('CHANNEL_DISPOSED'))])
    await s.bob.dispose()
  })

  test("a refusal, another account's signature or a signature of another close (state or payouts) leaves the reservation: close() asks again for the same digest; v = 0 / 1 is taken", async () => {
    const s = await setup()
    const wallet = new GatedWallet(anvil.wallets[1]!)
    const a = await s.alice(wallet, false, watch(s.hub, s.hub.connect(0)))
    await playTwo(s, a)
    const digest = await closeDigest(s, a)
    const reserved = { kind: 'close', fork: 0n, seq: 0n, digest, signature: RESERVED_SIGNATURE }

    const first = a.close()
    await settle(s.hub, [a, s.bob])
    wallet.asks[0]!.reject(Object.assign(new Error('User rejected the request.'), { code: 4001 }))
    await assert.rejects(first, code('WALLET_REJECTED'))
    assert.deepEqual(s.stores[0]!.getOwnSignature(s.channelId, 'close', 0n, 0n), reserved, 'still reserved, nothing else')
    assert.equal(s.stores[0]!.getSignatures(s.channelId, digest).get(0), undefined)

    const second = a.close()
    await settle(s.hub, [a, s.bob])
    assert.equal(wallet.asks.length, 2)
    assert.deepEqual(wallet.asks[1]!.data, wallet.asks[0]!.data, 'the same close asked again')
    const refused = assert.rejects(second, code('SIGNER_MISMATCH'))
    await wallet.approve(1, { as: anvil.wallets[2]! })
    await tick()
    await refused
    await settle(s.hub, [a, s.bob])
    assert.deepEqual(s.stores[0]!.getOwnSignature(s.channelId, 'close', 0n, 0n), reserved, 'another account’s signature is not stored')
    assert.deepEqual(closeMessages(s.hub, 0), [], 'nor sent')
    // Our own account's signature, but of another close (the genesis): refused the same way.
    const fourth = a.close()
    await settle(s.hub, [a, s.bob])
    const otherState = assert.rejects(fourth, code('SIGNER_MISMATCH'))
    await wallet.approve(2, { message: { stateHash: engineOf(a).internals().sm.ledger.fork.stateHash } })
    await tick()
    await otherState
    await settle(s.hub, [a, s.bob])
    assert.deepEqual(s.stores[0]!.getOwnSignature(s.channelId, 'close', 0n, 0n), reserved, 'a signature of another close is not stored')
    assert.deepEqual(closeMessages(s.hub, 0), [], 'nor sent')
    // Our own account's signature of our state, but with other payouts: refused the same way.
    const fifth = a.close()
    await settle(s.hub, [a, s.bob])
    const otherPayouts = assert.rejects(fifth, code('SIGNER_MISMATCH'))
    const mine = await payoutsOf(a)
    await wallet.approve(3, { message: { payouts: [mine[0]! + 1n, mine[1]! - 1n] } })
    await tick()
    await otherPayouts
    await settle(s.hub, [a, s.bob])
    assert.deepEqual(s.stores[0]!.getOwnSignature(s.channelId, 'close', 0n, 0n), reserved, 'a signature of other payouts is not stored')
    assert.deepEqual(closeMessages(s.hub, 0), [], 'nor sent')

    const third = a.close()
    await settle(s.hub, [a, s.bob])
    await wallet.approve(4, { form: 'v01' })
    await tick()
    await settle(s.hub, [a, s.bob])
    const ours = s.stores[0]!.getOwnSignature(s.channelId, 'close', 0n, 0n)!.signature
    assert.ok(ours !== RESERVED_SIGNATURE && ['1b', '1c'].includes(ours.slice(130)), `stored with v = 27 / 28: ${ours}`)
    assert.equal(s.stores[1]!.getSignatures(s.channelId, digest).get(0), ours)
    assert.equal(engineOf(s.bob).internals().closer.ready()?.signatures.size, 2)
    await a.dispose()
    await assert.rejects(third, code('CHANNEL_DISPOSED'))
    await s.bob.dispose()
  })

  test('a crash after the store write, before the send: the restored peer re-sends the stored signature; the wallet is not asked again', async () => {
    const s = await setup()
    const wallet = new GatedWallet(anvil.wallets[1]!)
    const t = mutable(s.hub.connect(0))
    const a = await s.alice(wallet, false, t)
    await playTwo(s, a)
    const digest = await closeDigest(s, a)
    const closing = a.close()
    await settle(s.hub, [a, s.bob])
    t.muted = true // the process dies between the store write and the send
    await wallet.approve(0)
    await tick()
    await a.idle()
    const stored = s.stores[0]!.getOwnSignature(s.channelId, 'close', 0n, 0n)!.signature
    assert.notEqual(stored, RESERVED_SIGNATURE)
    assert.equal(s.stores[1]!.getSignatures(s.channelId, digest).get(0), undefined, 'Bob got nothing')
    await a.dispose()
    await assert.rejects(closing, code('CHANNEL_DISPOSED'))

    const fresh = new GatedWallet(anvil.wallets[1]!)
    const again = await s.alice(fresh, true, watch(s.hub, s.hub.connect(0)))
    await settle(s.hub, [again, s.bob])
    assert.equal(fresh.asks.length, 0, 'the restored peer did not ask the wallet')
    assert.deepEqual(closeMessages(s.hub, 0).map((m) => (m as { signature: Hex }).signature), [stored], 'it re-sent the stored signature')
    assert.equal(s.stores[1]!.getSignatures(s.channelId, digest).get(0), stored)
    assert.equal(engineOf(s.bob).internals().closer.ready()?.signatures.size, 2, 'Bob signed too: the close is complete')
    await again.dispose()
    await s.bob.dispose()
  })

  test('disposed while the wallet is asked: its late answer is not stored; the restored peer asks again; a dispute meanwhile preempts close()', async () => {
    const s = await setup()
    const wallet = new GatedWallet(anvil.wallets[1]!)
    const a = await s.alice(wallet)
    await playTwo(s, a)
    const digest = await closeDigest(s, a)
    const closing = a.close()
    await settle(s.hub, [a, s.bob])
    await a.dispose()
    await assert.rejects(closing, code('CHANNEL_DISPOSED'))
    await wallet.approve(0)
    await tick()
    assert.equal(s.stores[0]!.getOwnSignature(s.channelId, 'close', 0n, 0n)?.signature, RESERVED_SIGNATURE, 'a late answer to a disposed instance is not stored')

    const fresh = new GatedWallet(anvil.wallets[1]!)
    const again = await s.alice(fresh, true)
    assert.equal(again.state.phase, 'closing')
    const retry = again.close()
    await settle(s.hub, [again, s.bob])
    assert.equal(fresh.asks.length, 1, 'close() on the restored peer asks the wallet again')
    await again.applyDispute({ fork: 0n })
    await assert.rejects(retry, code('CLOSE_PREEMPTED'))
    assert.throws(() => engineOf(again).internals().guard.signTransaction(engineOf(again).internals().sm.ledger.fork, 3n, digest, { response: true }), code('CHANNEL_CLOSING'))
    await fresh.approve(0)
    await tick()
    await settle(s.hub, [again, s.bob])
    const ours = s.stores[0]!.getOwnSignature(s.channelId, 'close', 0n, 0n)!.signature
    assert.notEqual(ours, RESERVED_SIGNATURE, 'the close it committed to before the dispute is signed (as a signed close stays signed)')
    assert.equal(s.stores[1]!.getSignatures(s.channelId, digest).get(0), ours)
    await again.dispose()
    await s.bob.dispose()
  })

  test('a close reserved by the wallet, restored with the account as a key: close() signs the same digest in process', async () => {
    const s = await setup()
    const wallet = new GatedWallet(anvil.wallets[1]!)
    const a = await s.alice(wallet)
    await playTwo(s, a)
    const digest = await closeDigest(s, a)
    const closing = a.close()
    await settle(s.hub, [a, s.bob])
    await a.dispose()
    await assert.rejects(closing, code('CHANNEL_DISPOSED'))
    const again = await s.alice(anvil.wallets[1]!, true)
    void again.close().catch(() => {})
    await settle(s.hub, [again, s.bob])
    const ours = s.stores[0]!.getOwnSignature(s.channelId, 'close', 0n, 0n)!
    assert.equal(ours.digest, digest)
    assert.notEqual(ours.signature, RESERVED_SIGNATURE)
    assert.equal(s.stores[1]!.getSignatures(s.channelId, digest).get(0), ours.signature)
    assert.equal(engineOf(s.bob).internals().closer.ready()?.signatures.size, 2)
    await again.dispose()
    await s.bob.dispose()
  })
})
