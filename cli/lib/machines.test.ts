/**
 * Move syntax and state printing of the example machines, against the machines themselves:
 * every typed move is run through the real bytecode (local EVM), and the states it produces
 * must read back as the move says.
 */
import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder } from 'ethers'
import { loadArtifact } from '../../src/contracts/artifacts.js'
import { EvmStateMachine } from '../../src/machine/EvmStateMachine.js'
import { ParleyError } from '../../src/errors/ParleyError.js'
import type { Hex } from '../../src/protocol/types.js'
import { ETH_ASSET } from './assets.js'
import { describeState, parseMove, type MachineContext, type MachineName } from './machines.js'

const ETH = 10n ** 18n
const ctx: MachineContext = { participants: ['0x00000000000000000000000000000000000000a1', '0x00000000000000000000000000000000000000b2'], asset: ETH_ASSET }
const machines = {} as Record<MachineName, EvmStateMachine>

before(async () => {
  for (const [name, contract] of [['payments', 'Payments'], ['tictactoe', 'TicTacToe'], ['counter', 'Counter']] as const) {
    machines[name] = await EvmStateMachine.fromBytecode(loadArtifact(contract).deployedBytecode)
  }
})

/** Plays typed moves from `state`; returns each resulting state's text. */
async function play(name: MachineName, state: Hex, moves: [number, string][]): Promise<string[]> {
  const texts: string[] = []
  for (const [actor, line] of moves) {
    state = (await machines[name].transition(state, actor, parseMove(line, name, ctx), 1n)) as Hex
    texts.push(describeState(state, name, ctx)!.text)
  }
  return texts
}

const code = (f: () => unknown): string => {
  try {
    f()
  } catch (e) {
    return e instanceof ParleyError ? e.code : 'NOT_PARLEY'
  }
  return 'NO_ERROR'
}

describe('example machines in the CLI', () => {
  it('payments: pay and pass, balances in the asset', async () => {
    const s0 = (await machines.payments.initialState([ETH, 2n * ETH], '0x')) as Hex
    assert.equal(describeState(s0, 'payments', ctx)!.text, 'balances #0 1 ETH · #1 2 ETH · turn #0')
    assert.deepEqual(await play('payments', s0, [[0, 'pay 1 0.25'], [1, 'pass'], [0, `pay ${ctx.participants[1]} 0.75`]]), [
      'balances #0 0.75 ETH · #1 2.25 ETH · turn #1',
      'balances #0 0.75 ETH · #1 2.25 ETH · turn #0',
      'balances #0 0 ETH · #1 3 ETH · turn #1',
    ])
    assert.deepEqual(describeState(s0, 'payments', ctx)!.data, { balances: [ETH, 2n * ETH], turn: 0 })
  })

  it('tictactoe: cells in row-major order, X first', async () => {
    const s0 = (await machines.tictactoe.initialState([ETH, ETH], '0x')) as Hex
    assert.deepEqual(await play('tictactoe', s0, [[0, 'cell 4'], [1, 'cell 0'], [0, 'cell 2'], [1, 'cell 1'], [0, 'cell 6']]), [
      'board .../.X./... · ongoing · turn #1',
      'board O../.X./... · ongoing · turn #0',
      'board O.X/.X./... · ongoing · turn #1',
      'board OOX/.X./... · ongoing · turn #0',
      'board OOX/.X./X.. · X won',
    ])
  })

  it('counter: inc toward the target', async () => {
    const s0 = (await machines.counter.initialState([0n, 0n], AbiCoder.defaultAbiCoder().encode(['uint64'], [5]) as Hex)) as Hex
    assert.deepEqual(await play('counter', s0, [[0, 'inc 2'], [1, 'inc 3']]), ['count 2/5 · turn #1', 'count 5/5 · turn #0'])
  })

  it('bad moves are typed errors; raw data passes for any machine; foreign states are not misread', () => {
    assert.equal(code(() => parseMove('pay 2 1', 'payments', ctx)), 'MOVE_INVALID') // no participant #2
    assert.equal(code(() => parseMove('pay 1 lots', 'payments', ctx)), 'AMOUNT_INVALID')
    assert.equal(code(() => parseMove('pay 1', 'payments', ctx)), 'MOVE_INVALID')
    assert.equal(code(() => parseMove('cell 9', 'tictactoe', ctx)), 'MOVE_INVALID')
    assert.equal(code(() => parseMove('inc 0', 'counter', ctx)), 'MOVE_INVALID')
    assert.equal(code(() => parseMove('inc 1', 'payments', ctx)), 'MOVE_UNKNOWN')
    assert.equal(code(() => parseMove('pass', undefined, ctx)), 'MOVE_UNKNOWN')
    assert.equal(code(() => parseMove('0x123', undefined, ctx)), 'MOVE_INVALID')
    assert.equal(parseMove('0xABcd', undefined, ctx), '0xabcd')
    assert.equal(describeState('0x1234', 'payments', ctx), undefined)
    assert.equal(describeState('0x', undefined, ctx), undefined)
  })
})
