/**
 * A close undoes nothing that moved since (docs/protocol.md §9.1): an honest client signs
 * CloseChannel only on its latest final state, and only while no later transaction it signed
 * can still become final. Payments, where a later move pays us: a close of an older state would
 * hand that payment back.
 * (1) A request on an older final state is refused, CLOSE_STALE: nothing signed.
 * (2) A request on our final state while a later move we confirmed waits for a confirmation is
 *     held, then refused once that move is final; close() waits for it and closes on it.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { RpcStateMachine } from '../../src/chain/RpcStateMachine.js'
import { ChannelPhase } from '../../src/channel/phase.js'
import { engineOf, type Channel } from '../../src/channel/Channel.js'
import type { Hex } from '../../src/protocol/types.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { signDigest } from '../../src/protocol/signatures.js'
import { closePayouts } from '../../src/protocol/close.js'
import { openPeers, play, settle } from '../helpers/peers.js'

const abi = AbiCoder.defaultAbiCoder()
const pay = (to: number, amount: bigint) => abi.encode(['uint16', 'uint256'], [to, amount]) as Hex
let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher

before(async () => {
  anvil = await startAnvil({ accounts: 12 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
})
after(() => anvil.stop())

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
