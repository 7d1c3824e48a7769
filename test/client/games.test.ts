/**
 * N = 2, 3 and 5 participants play through the Channel facade over the in-memory transport,
 * machines run from the bytecode deployed on anvil, to finality; then close cooperatively.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { RpcStateMachine } from '../../src/chain/RpcStateMachine.js'
import { ChannelPhase } from '../../src/channel/phase.js'
import { ETH, type Hex } from '../../src/protocol/types.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { openPeers, play } from '../helpers/peers.js'

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
    assert.equal((await closed).stateHash, result.stateHash)
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
