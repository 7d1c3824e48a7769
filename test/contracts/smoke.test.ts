import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Contract } from 'ethers'
import { setup, makeParams, openChannel, signTx, step, abi } from '../helpers/fixture.js'
import { hashState } from '../../src/protocol/eip712.js'
import type { Hex } from '../../src/protocol/types.js'

test('open → transactions → conclude on TicTacToe settles to the winner', async () => {
  const f = await setup(3)
  try {
    const ws = f.wallets.slice(1, 3)
    const params = makeParams(ws, (await f.tictactoe.getAddress()) as Hex)
    const { channelId, genesis } = await openChannel(f, ws, params)
    let prev = { state: genesis, seq: 0n }
    const moves = [0, 3, 1, 4, 2] // X wins on the top row
    let last
    for (const [k, cell] of moves.entries()) {
      const s = await step(f.tictactoe, channelId, prev, k % 2, abi.encode(['uint8'], [cell]) as Hex)
      last = s
      prev = { state: s.state, seq: s.tx.seq }
    }
    const proof = [signTx(f, ws, last!.tx, [0, 1])]
    const [h] = await f.manager.getFunction('verifyFinalityProof')(channelId, params.participants, proof)
    assert.equal(h, hashState(last!.state))
    await (await f.manager.getFunction('conclude')(channelId, params.participants, proof, last!.state)).wait()
    assert.equal(await f.manager.getFunction('balanceOf')(ws[0]!.address, params.asset), 2n * 10n ** 18n)
    assert.equal(await f.manager.getFunction('balanceOf')(ws[1]!.address, params.asset), 0n)
  } finally {
    await f.stop()
  }
})
