/**
 * What the live view (cli/ui) shows of each transaction comes from the Channel's events: a
 * `signature` event as each confirmation is recorded (ours and peers'), and `final` saying which
 * signatures this peer held and whether virtual voting made it final — here carol's
 * confirmations reach alice late, so alice sees seq 1 and 2 final through carol's own later move,
 * while bob, who got carol's confirmations, sees them final signed by all.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder } from 'ethers'
import { startAnvil, type Anvil } from '../chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../chain/stack.js'
import type { Hex } from '../protocol/types.js'
import { openPeers, play, type Peers } from '../../test/helpers/peers.js'
import type { FinalEvent, SignatureEvent } from './events.js'

const pay = (to: number, amount: bigint) => AbiCoder.defaultAbiCoder().encode(['uint16', 'uint256'], [to, amount]) as Hex
let anvil: Anvil
let stack: LocalStack
let peers: Peers | undefined

before(async () => {
  anvil = await startAnvil({ accounts: 4 })
  stack = await deployLocalStack(anvil.wallets[0]!)
})
after(async () => {
  for (const c of peers?.channels ?? []) await c.dispose().catch(() => {})
  await anvil.stop()
})

describe('Channel: signature and final events', () => {
  test('each signature is reported once as it is recorded; final says by whose signatures, or by virtual voting', async () => {
    peers = await openPeers({
      anvil, stack, hasher: await stack.manager.hasher(), machine: 'payments', wallets: anvil.wallets.slice(1, 4),
      hub: { delayMs: (from, to, m) => (from === 2 && to === 0 && m.type === 'confirm' ? 60_000 : 0) }, // carol's confirmations to alice: late
    })
    const [alice, bob] = peers.channels as [NonNullable<Peers['channels'][0]>, NonNullable<Peers['channels'][0]>]
    const signatures: SignatureEvent[][] = [[], []]
    const finals: FinalEvent[][] = [[], []]
    ;[alice, bob].forEach((c, i) => {
      c.on('signature', (s) => signatures[i]!.push(s))
      c.on('final', (f) => finals[i]!.push(f))
    })
    await play(peers.channels, 3, (who) => pay((who + 1) % 3, 10n ** 16n)) // seq 1, 2, 3 by #0, #1, #2

    const seen = (i: number, seq: bigint) => signatures[i]!.filter((s) => s.seq === seq).map((s) => s.signer).sort()
    assert.deepEqual(seen(1, 1n), [1, 2], "bob records his own confirmation of alice's seq 1 and carol's")
    assert.deepEqual(seen(0, 1n), [1], "alice records bob's confirmation; carol's has not arrived")
    assert.deepEqual(seen(0, 2n), [0], 'alice records her own confirmation of seq 2')
    const final = (i: number, seq: bigint) => finals[i]!.find((f) => f.seq === seq)!
    assert.deepEqual([final(1, 1n).signers, final(1, 1n).byVirtualVoting], [[0, 1, 2], false], 'bob: seq 1 final, signed by all')
    assert.deepEqual([final(0, 1n).signers, final(0, 1n).byVirtualVoting], [[0, 1], true], "alice: seq 1 final by virtual voting (carol's seq 3 supports it)")
    assert.deepEqual([final(0, 2n).signers, final(0, 2n).byVirtualVoting], [[0, 1], true])
    assert.equal(new Set(signatures[0]!.map((s) => `${s.seq}:${s.signer}`)).size, signatures[0]!.length, 'no signature reported twice')
  })
})
