/**
 * N = 2, 3 and 5 participants play through the Channel facade over the in-memory transport,
 * machines run from the bytecode deployed on anvil, to finality; then close cooperatively. No
 * court here: the tests hand each channel the chain's ChannelClosed, as a listener would.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder, keccak256 } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { RpcStateMachine } from '../../src/chain/RpcStateMachine.js'
import { ChannelPhase } from '../../src/channel/phase.js'
import { engineOf, type Channel } from '../../src/channel/Channel.js'
import { ETH, type Hex } from '../../src/protocol/types.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { parseEvents, toChannelClosed } from '../../src/chain/events.js'
import { signDigest } from '../../src/protocol/signatures.js'
import { closePayouts } from '../../src/protocol/close.js'
import { openPeers, play, settle } from '../helpers/peers.js'

const abi = AbiCoder.defaultAbiCoder()
let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher

before(async () => {
  anvil = await startAnvil({ accounts: 12 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
})
after(() => anvil.stop())

/** What a listener would do: hands every channel the ChannelClosed of transaction `hash`. */
async function feedClosed(channels: Channel[], hash: Hex): Promise<void> {
  const receipt = (await anvil.provider.getTransactionReceipt(hash))!
  const ev = parseEvents(stack.manager.contract.interface, stack.manager.address, receipt).find((e) => e.name === 'ChannelClosed')!
  await Promise.all(channels.map((c) => c.applyClosed(toChannelClosed(ev.args), { transactionHash: hash })))
}

describe('games through the facade', () => {
  test('N = 2: TicTacToe to a win, final everywhere, closed cooperatively on-chain', async () => {
    const wallets = anvil.wallets.slice(1, 3)
    const p = await openPeers({ anvil, stack, hasher, machine: 'tictactoe', wallets, withChain: true })
    const cells = [0, 3, 1, 4, 2] // X takes the top row
    await play(p.channels, cells.length, (_, seq) => abi.encode(['uint8'], [cells[Number(seq) - 1]]) as Hex)
    const machine = new RpcStateMachine(p.params.machine, anvil.provider)
    for (const c of p.channels) {
      assert.equal(c.state.finalSeq, 5n)
      assert.ok(await machine.isTerminal(c.state.finalState))
    }
    assert.deepEqual(await machine.outcome(p.channels[0]!.state.finalState), [2n * 10n ** 18n, 0n])
    const closed = p.channels[1]!.next('closed')
    const result = await p.channels[0]!.close()
    assert.ok(result.transactionHash, 'the initiator submitted close on-chain')
    for (const c of p.channels) assert.equal(c.phase, ChannelPhase.Closing, 'closed only when the chain says so')
    await feedClosed(p.channels, result.transactionHash)
    assert.equal((await closed).stateHash, result.stateHash)
    assert.equal((await closed).transactionHash, result.transactionHash)
    for (const c of p.channels) assert.equal(c.phase, ChannelPhase.Closed)
    assert.equal(await stack.manager.balanceOf(p.params.participants[0]!, ETH), 2n * 10n ** 18n)
    await assert.rejects(p.channels[0]!.propose('0x'), (e: Error & { code?: string }) => e.code === 'CHANNEL_NOT_OPEN')
  })

  for (const n of [3, 5]) {
    test(`N = ${n}: Payments round-robin to finality; every peer holds the same final state`, async () => {
      const wallets = anvil.wallets.slice(1, 1 + n)
      const p = await openPeers({ anvil, stack, hasher, machine: 'payments', wallets })
      const rounds = 2 * n
      // participant i pays i+1 (mod n) i+1 wei; every third move is a pass
      await play(p.channels, rounds, (who, seq) =>
        seq % 3n === 0n ? '0x' : (abi.encode(['uint16', 'uint256'], [(who + 1) % n, who + 1]) as Hex),
      )
      const finals = p.channels.map((c) => c.state.finalStateHash)
      assert.ok(finals.every((h) => h === finals[0]))
      assert.ok(p.channels.every((c) => c.state.finalSeq === BigInt(rounds)))
      const outcome = await new RpcStateMachine(p.params.machine, anvil.provider).outcome(p.channels[0]!.state.finalState)
      assert.equal(outcome.reduce((a, b) => a + b, 0n), BigInt(n) * 10n ** 18n, 'payments conserve the total')
      // the latest final state's proof verifies on-chain
      const proof = p.channels[n - 1]!.finalityProof()
      const v = await stack.manager.verifyFinalityProof(p.channelId, p.params.participants, proof)
      assert.deepEqual([v.seq, v.stateHash], [BigInt(rounds), finals[0]])
      await Promise.all(p.channels.map((c) => c.dispose()))
    })
  }
})

describe('cooperative close', () => {
  test('close() joins a pending request only on a final state we hold under its hash: a made-up one is not signed', async () => {
    const wallets = anvil.wallets.slice(9, 11)
    const p = await openPeers({ anvil, stack, hasher, machine: 'payments', wallets, salt: 'made-up-close', manualClose: [0] })
    await play(p.channels, 2, (who) => abi.encode(['uint16', 'uint256'], [1 - who, 5]) as Hex)
    const [a, b] = p.channels as [Channel, Channel]
    await b.dispose() // participant 1 talks raw protocol
    const mallory = p.hub.connect(1)
    const made = keccak256('0xbad0') as Hex
    const payouts = [10n ** 18n, 10n ** 18n]
    await mallory.send(0, { type: 'close', fork: 0n, seq: 2n, stateHash: made, payouts, signer: 1, signature: signDigest(wallets[1]!.signingKey, hasher.close(p.channelId, 0n, made, payouts)) })
    await settle(p.hub, [a])
    await assert.rejects(a.close({ signal: AbortSignal.timeout(300) }), (e: Error) => e.name === 'TimeoutError', 'Mallory never signs ours')
    const ours = closePayouts(await new RpcStateMachine(p.params.machine, anvil.provider).outcome(a.state.finalState), a.state.active)
    assert.equal(p.stores[0]!.getOwnSignature(p.channelId, 'close', 0n, 0n)?.digest, hasher.close(p.channelId, 0n, a.state.finalStateHash, ours), 'signed on our own final state, with our machine’s payouts')
    await a.dispose()
  })

  /** Two Payments peers, two moves final; participant 1 then talks raw protocol (Mallory). */
  async function withMallory(salt: string, manualClose: number[]) {
    const wallets = anvil.wallets.slice(9, 11)
    const p = await openPeers({ anvil, stack, hasher, machine: 'payments', wallets, salt, manualClose })
    await play(p.channels, 2, (who) => abi.encode(['uint16', 'uint256'], [1 - who, 5]) as Hex)
    const [a, b] = p.channels as [Channel, Channel]
    await b.dispose()
    const ours = closePayouts(await new RpcStateMachine(p.params.machine, anvil.provider).outcome(a.state.finalState), a.state.active)
    // Mallory's request: our final state, signed by her account, but paying her 5 wei more than the machine does.
    const theirs = [ours[0]! - 5n, ours[1]! + 5n]
    const request = { type: 'close' as const, fork: 0n, seq: a.state.finalSeq, stateHash: a.state.finalStateHash, payouts: theirs, signer: 1, signature: signDigest(wallets[1]!.signingKey, hasher.close(p.channelId, 0n, a.state.finalStateHash, theirs)) }
    return { p, a, ours, theirs, request, mallory: p.hub.connect(1) }
  }

  test('a close request naming other payouts than our machine gives its state is refused CLOSE_CONFLICT: nothing signed', async () => {
    const { p, a, request, mallory } = await withMallory('payouts-conflict-auto', [])
    const errors: { error: unknown; from?: number }[] = []
    a.on('error', (e) => errors.push(e))
    await mallory.send(0, request)
    await settle(p.hub, [a])
    assert.deepEqual(errors.map((e) => [(e.error as { code?: string }).code, e.from]), [['CLOSE_CONFLICT', 1]])
    assert.equal(p.stores[0]!.getOwnSignature(p.channelId, 'close', 0n, 0n), undefined, 'no close signed')
    assert.equal(a.phase, ChannelPhase.Open)
    await a.dispose()
  })

  test('close() does not join a held request whose payouts are not our machine’s: CLOSE_CONFLICT, nothing signed', async () => {
    const { p, a, request, mallory } = await withMallory('payouts-conflict-held', [0])
    await mallory.send(0, request)
    await settle(p.hub, [a])
    await assert.rejects(a.close({ signal: AbortSignal.timeout(2000) }), (e: Error & { code?: string }) => e.code === 'CLOSE_CONFLICT')
    assert.equal(p.stores[0]!.getOwnSignature(p.channelId, 'close', 0n, 0n), undefined, 'no close signed')
    assert.equal(a.phase, ChannelPhase.Open)
    await a.dispose()
  })

  test('a close request with the machine’s payouts is signed: the digest both hold names them', async () => {
    const { p, a, ours, mallory } = await withMallory('payouts-agree', [])
    const digest = hasher.close(p.channelId, 0n, a.state.finalStateHash, ours)
    const wallets = anvil.wallets.slice(9, 11)
    await mallory.send(0, { type: 'close', fork: 0n, seq: a.state.finalSeq, stateHash: a.state.finalStateHash, payouts: ours, signer: 1, signature: signDigest(wallets[1]!.signingKey, digest) })
    await settle(p.hub, [a])
    assert.equal(p.stores[0]!.getOwnSignature(p.channelId, 'close', 0n, 0n)?.digest, digest)
    assert.equal(a.phase, ChannelPhase.Closing)
    await a.dispose()
  })

  test('a close request on a state not yet final for a peer is held until it is, then signed', async () => {
    const wallets = anvil.wallets.slice(6, 9)
    // participant 2's confirmation of seq 4 reaches participant 1 late
    const p = await openPeers({
      anvil, stack, hasher, machine: 'payments', wallets, withChain: true, salt: 'held-close',
      hub: { delayMs: (from, to, m) => (from === 2 && to === 1 && m.type === 'confirm' && m.seq === 4n ? 300 : 0) },
    })
    const pay = (who: number) => abi.encode(['uint16', 'uint256'], [(who + 1) % 3, 5]) as Hex
    await play(p.channels, 3, pay)
    const [a, b] = p.channels as [Channel, Channel, Channel]
    const order: string[] = []
    b.on('final', (f) => order.push(`final ${f.seq}`))
    b.on('phase', (ph) => order.push(ph.to))
    const streams = p.channels.map(async (c) => {
      let n = 0
      for await (const _ of c.states()) n++
      return n
    })
    await a.propose(pay(0)) // seq 4
    await a.waitFinal(4n)
    assert.equal(b.state.finalSeq, 3n, 'b still waits for a confirmation of seq 4')
    const result = await a.close({ signal: AbortSignal.timeout(20_000) })
    assert.equal(result.seq, 4n)
    assert.ok(result.transactionHash)
    await settle(p.hub, p.channels)
    await feedClosed(p.channels, result.transactionHash)
    assert.deepEqual(order, ['final 4', ChannelPhase.Closing, ChannelPhase.Closed], 'b signed only once seq 4 was final for it')
    assert.deepEqual(await Promise.all(streams), [1, 1, 1], 'state iterators end when the channel closes')
    const outcome = await new RpcStateMachine(p.params.machine, anvil.provider).outcome(result.state)
    for (const [i, w] of wallets.entries()) assert.equal(await stack.manager.balanceOf(w.address.toLowerCase() as Hex, ETH), outcome[i])
  })
})

/**
 * A close undoes nothing that moved since (docs/protocol.md §9.1): an honest client signs
 * CloseChannel only on its latest final state, and only while no later transaction it signed
 * that gives it more can still become final. Payments, where a later move pays us: a close of an
 * older state would hand that payment back.
 */
describe('close requests that would undo a later state', () => {
  const pay = (to: number, amount: bigint) => abi.encode(['uint16', 'uint256'], [to, amount]) as Hex
  const errorsOf = (c: Channel): string[] => {
    const codes: string[] = []
    c.on('error', (e) => codes.push((e.error as { code?: string }).code ?? 'unknown'))
    return codes
  }

  test('(1) a close request on an older final state, where we had less, is refused CLOSE_STALE: nothing signed', async () => {
    const wallets = anvil.wallets.slice(9, 11)
    const p = await openPeers({ anvil, stack, hasher, machine: 'payments', wallets, salt: 'stale-close', manualClose: [] })
    // seq 1: Alice pays Mallory 5; seq 2: Mallory pays Alice 7. Both final.
    await play(p.channels, 2, (who) => pay(1 - who, who === 0 ? 5n : 7n))
    const [a, b] = p.channels as [Channel, Channel]
    assert.equal(a.state.finalSeq, 2n)
    await b.dispose()
    const machine = new RpcStateMachine(p.params.machine, anvil.provider)
    const old = p.stores[0]!.getTx(p.channelId, 0n, 1n)!
    const oldPayouts = closePayouts(await machine.outcome(old.state), a.state.active)
    const latest = closePayouts(await machine.outcome(a.state.finalState), a.state.active)
    assert.equal(latest[0]! - oldPayouts[0]!, 7n, 'Alice has 7 more at her latest final state')
    const digest = hasher.close(p.channelId, 0n, old.transaction.stateHash, oldPayouts)
    const errors = errorsOf(a)
    await p.hub.connect(1).send(0, { type: 'close', fork: 0n, seq: 1n, stateHash: old.transaction.stateHash, payouts: oldPayouts, signer: 1, signature: signDigest(wallets[1]!.signingKey, digest) })
    await settle(p.hub, [a])
    assert.deepEqual(errors, ['CLOSE_STALE'])
    assert.equal(p.stores[0]!.getOwnSignature(p.channelId, 'close', 0n, 0n), undefined, 'no close signed')
    assert.equal(a.phase, ChannelPhase.Open)
    await a.dispose()
  })

  test('(2) a close request on our final state while a later move we confirmed is pending: held, then CLOSE_STALE; close() waits and closes on the later state', async () => {
    const wallets = anvil.wallets.slice(6, 9)
    // Bob's confirmation of seq 3 reaches Alice late: until then seq 3 is signed by Alice (and its author) but not final for her.
    const p = await openPeers({
      anvil, stack, hasher, machine: 'payments', wallets, withChain: true, salt: 'stale-close-pending',
      hub: { delayMs: (from, to, m) => (from === 1 && to === 0 && m.type === 'confirm' && m.seq === 3n ? 400 : 0) },
    })
    // seq 1: Alice pays Bob 1; seq 2: Bob pays Carol 1; seq 3: Carol pays Alice 7.
    await play(p.channels, 2, (who) => pay((who + 1) % 3, 1n))
    const [a, , c] = p.channels as [Channel, Channel, Channel]
    const errors = errorsOf(a)
    const applied = a.next('state', { filter: (s) => s.seq === 3n })
    await c.propose(pay(0, 7n))
    await applied
    for (let i = 0; i < 100 && !p.stores[0]!.getOwnSignature(p.channelId, 'tx', 0n, 3n); i++) await new Promise((r) => setTimeout(r, 10))
    assert.equal(a.state.finalSeq, 2n, 'seq 3 is not final for Alice yet')
    assert.ok(p.stores[0]!.getOwnSignature(p.channelId, 'tx', 0n, 3n), 'Alice signed seq 3')
    // Carol (say) asks to close on seq 2, Alice's final state, with the machine's payouts of it.
    const machine = new RpcStateMachine(p.params.machine, anvil.provider)
    const payouts = closePayouts(await machine.outcome(a.state.finalState), a.state.active)
    const digest = hasher.close(p.channelId, 0n, a.state.finalStateHash, payouts)
    const request = { type: 'close' as const, fork: 0n, seq: 2n, stateHash: a.state.finalStateHash, payouts, signer: 2, signature: signDigest(wallets[2]!.signingKey, digest) }
    await engineOf(a).internals().closer.receive(request)
    assert.equal(p.stores[0]!.getOwnSignature(p.channelId, 'close', 0n, 0n), undefined, 'held, not signed')
    // close() waits for seq 3, then closes on it.
    const closing = a.close({ signal: AbortSignal.timeout(20_000) })
    await a.waitFinal(3n)
    const result = await closing
    assert.equal(result.seq, 3n, 'closed on the later state')
    assert.ok(errors.includes('CLOSE_STALE'), `the held request is stale once seq 3 is final: ${errors.join(', ')}`)
    const own = p.stores[0]!.getOwnSignature(p.channelId, 'close', 0n, 0n)
    assert.notEqual(own?.digest, digest, 'never signed the close of seq 2')
    for (const ch of p.channels) await ch.dispose()
  })

  test('(3) close() by a peer whose later signed move pays someone else waits for it to be final: the close is on it, and the peer it pays signs', async () => {
    const wallets = anvil.wallets.slice(3, 6)
    // Alice's confirmation of seq 3 reaches Bob late: until then seq 3 (Carol pays Alice) is signed by Bob but not final for him.
    const p = await openPeers({
      anvil, stack, hasher, machine: 'payments', wallets, withChain: true, salt: 'close-waits-for-pending',
      hub: { delayMs: (from, to, m) => (from === 0 && to === 1 && m.type === 'confirm' && m.seq === 3n ? 400 : 0) },
    })
    await play(p.channels, 2, (who) => pay((who + 1) % 3, 1n))
    const [a, b, c] = p.channels as [Channel, Channel, Channel]
    const applied = b.next('state', { filter: (s) => s.seq === 3n })
    await c.propose(pay(0, 7n))
    await applied
    for (let i = 0; i < 100 && !p.stores[1]!.getOwnSignature(p.channelId, 'tx', 0n, 3n); i++) await new Promise((r) => setTimeout(r, 10))
    assert.equal(b.state.finalSeq, 2n, 'seq 3 is not final for Bob yet')
    const errors = errorsOf(a)
    const result = await b.close({ signal: AbortSignal.timeout(20_000) })
    assert.equal(result.seq, 3n, 'closed on the state that pays Alice')
    assert.deepEqual(errors, [], 'Alice refused nothing')
    for (const ch of p.channels) await ch.dispose()
  })
})
