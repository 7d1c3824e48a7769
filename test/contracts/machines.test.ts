/**
 * The example machines called directly on the chain: Counter, Payments and TicTacToe —
 * genesis, transitions and turn order, invalid moves with their custom errors, outcome,
 * isTerminal and onRemove.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Contract } from 'ethers'
import { setup, abi, type Fixture } from '../helpers/fixture.js'
import { expectRevert, norm } from '../helpers/revert.js'
import type { Hex } from '../../src/protocol/types.js'

let f: Fixture
before(async () => (f = await setup(1)))
after(() => f.stop())

const call = <T = never>(m: Contract, fn: string, ...args: unknown[]) => m.getFunction(fn)(...args) as Promise<T>
const u64 = (v: number) => abi.encode(['uint64'], [v]) as Hex
const cell = (c: number) => abi.encode(['uint256'], [c]) as Hex
const pay = (to: number, amount: bigint) => abi.encode(['uint16', 'uint256'], [to, amount]) as Hex

/** Applies moves in order; returns every state (genesis first). */
async function play(m: Contract, genesis: Hex, moves: [number, Hex][]): Promise<Hex[]> {
  const states = [genesis]
  for (const [actor, data] of moves) states.push(await call(m, 'transition', states.at(-1)!, actor, data, 0n))
  return states
}
const outcome = async (m: Contract, s: Hex) => norm(await call(m, 'outcome', s))

describe('Counter', () => {
  const T = 'tuple(uint64 active,uint16 turn,uint64 count,uint64 target,uint256[] deposits)'
  const decode = (s: Hex) => norm(abi.decode([T], s)[0])
  let g: Hex
  before(async () => (g = await call(f.counter, 'initialState', [1n, 2n, 3n], u64(3))))

  test('genesis: all active, turn 0, count 0, target from initData (0 when empty)', async () => {
    assert.deepEqual(decode(g), [7n, 0n, 0n, 3n, [1n, 2n, 3n]])
    assert.deepEqual(decode(await call(f.counter, 'initialState', [5n, 5n], '0x')), [3n, 0n, 0n, 0n, [5n, 5n]])
  })

  test('round-robin turns, count grows, terminal at the target, outcome = deposits', async () => {
    const s = await play(f.counter, g, [[0, u64(1)], [1, u64(1)], [2, u64(1)]])
    assert.deepEqual(s.map((x) => (decode(x) as bigint[])[1]), [0n, 1n, 2n, 0n])
    assert.deepEqual(await Promise.all(s.map((x) => call(f.counter, 'isTerminal', x))), [false, false, false, true])
    assert.equal(await call(f.counter, 'nextActor', s[2]!), 2n)
    assert.deepEqual(await outcome(f.counter, s[3]!), [1n, 2n, 3n])
    await expectRevert(call(f.counter, 'transition', s[3]!, 0, u64(1), 0n), 'MachineInvalidMove')
  })

  const cases: [string, number, Hex, string, unknown[]?][] = [
    ['another participant’s turn', 1, u64(1), 'MachineNotYourTurn', [1, 0]],
    ['increment 0', 0, u64(0), 'MachineInvalidMove'],
    ['empty data', 0, '0x', 'MachineInvalidMove'],
    ['64-byte data', 0, (u64(1) + u64(1).slice(2)) as Hex, 'MachineInvalidMove'],
  ]
  for (const [name, actor, data, error, args] of cases) {
    test(`${name} → ${error}`, async () => {
      await expectRevert(call(f.counter, 'transition', g, actor, data, 0n), error, args)
    })
  }

  test('onRemove clears the bit and passes the turn over removed participants', async () => {
    const [, s1] = await play(f.counter, g, [[0, u64(1)]]) // turn 1
    const r = await call<Hex>(f.counter, 'onRemove', s1!, 1)
    assert.deepEqual((decode(r) as unknown[]).slice(0, 2), [0b101n, 2n])
    const after2 = await play(f.counter, r, [[2, u64(1)]])
    assert.equal(await call(f.counter, 'nextActor', after2[1]!), 0n)
    const r0 = await call<Hex>(f.counter, 'onRemove', s1!, 0) // not its turn: turn unchanged
    assert.deepEqual((decode(r0) as unknown[]).slice(0, 2), [0b110n, 1n])
  })
})

describe('Payments', () => {
  const T = 'tuple(uint64 active,uint16 turn,uint256[] balances)'
  const decode = (s: Hex) => norm(abi.decode([T], s)[0])
  let g: Hex
  before(async () => (g = await call(f.payments, 'initialState', [10n, 20n, 30n], '0x')))

  test('payments and passes move balances round-robin; never terminal', async () => {
    const s = await play(f.payments, g, [[0, pay(2, 4n)], [1, '0x'], [2, pay(1, 34n)], [0, pay(1, 6n)]])
    assert.deepEqual(s.map(decode), [
      [7n, 0n, [10n, 20n, 30n]], [7n, 1n, [6n, 20n, 34n]], [7n, 2n, [6n, 20n, 34n]], [7n, 0n, [6n, 54n, 0n]], [7n, 1n, [0n, 60n, 0n]],
    ])
    assert.deepEqual(await outcome(f.payments, s[4]!), [0n, 60n, 0n])
    for (const x of s) assert.equal(await call(f.payments, 'isTerminal', x), false)
  })

  const cases: [string, number, Hex, string, unknown[]?][] = [
    ['another participant’s turn', 2, pay(0, 1n), 'MachineNotYourTurn', [2, 0]],
    ['pay oneself', 0, pay(0, 1n), 'PaymentsInvalidRecipient', [0]],
    ['recipient out of range', 0, pay(3, 1n), 'PaymentsInvalidRecipient', [3]],
    ['more than the balance', 0, pay(1, 11n), 'PaymentsInsufficientBalance', [0, 10n, 11n]],
    ['32-byte data', 0, u64(1), 'MachineInvalidMove'],
  ]
  for (const [name, actor, data, error, args] of cases) {
    test(`${name} → ${error}`, async () => {
      await expectRevert(call(f.payments, 'transition', g, actor, data, 0n), error, args)
    })
  }

  test('onRemove: the removed keep their balance, cannot receive, lose their turn', async () => {
    const r = await call<Hex>(f.payments, 'onRemove', g, 0)
    assert.deepEqual(decode(r), [0b110n, 1n, [10n, 20n, 30n]])
    await expectRevert(call(f.payments, 'transition', r, 1, pay(0, 1n), 0n), 'PaymentsInvalidRecipient', [0])
    const [, s1] = await play(f.payments, r, [[1, pay(2, 5n)]])
    assert.deepEqual(decode(s1!), [0b110n, 2n, [10n, 15n, 35n]])
    assert.deepEqual(await outcome(f.payments, s1!), [10n, 15n, 35n])
  })
})

describe('TicTacToe', () => {
  const T = 'tuple(uint8[9] board,uint16 turn,uint8 result,uint256[2] stakes)'
  const decode = (s: Hex) => norm(abi.decode([T], s)[0]) as [bigint[], bigint, bigint, bigint[]]
  let g: Hex
  before(async () => (g = await call(f.tictactoe, 'initialState', [3n, 5n], '0x')))
  const moves = (cells: number[]): [number, Hex][] => cells.map((c, k) => [k % 2, cell(c)])

  test('needs exactly two players', async () => {
    await expectRevert(call(f.tictactoe, 'initialState', [1n], '0x'), 'TicTacToeNeedsTwoPlayers', [1])
    await expectRevert(call(f.tictactoe, 'initialState', [1n, 1n, 1n], '0x'), 'TicTacToeNeedsTwoPlayers', [3])
  })

  const games: [string, number[], bigint, bigint[]][] = [
    ['X wins the top row', [0, 3, 1, 4, 2], 1n, [8n, 0n]],
    ['O wins a diagonal', [1, 2, 3, 4, 8, 6], 2n, [0n, 8n]],
    ['draw on a full board', [0, 1, 2, 4, 3, 5, 7, 6, 8], 3n, [3n, 5n]],
  ]
  for (const [name, cells, result, payout] of games) {
    test(`${name}: result ${result}, terminal, outcome ${payout.join('/')}`, async () => {
      const s = await play(f.tictactoe, g, moves(cells))
      const last = s.at(-1)!
      assert.equal(decode(last)[2], result)
      assert.equal(await call(f.tictactoe, 'isTerminal', last), true)
      assert.equal(await call(f.tictactoe, 'isTerminal', s.at(-2)!), false)
      assert.deepEqual(await outcome(f.tictactoe, last), payout)
      assert.deepEqual(await outcome(f.tictactoe, s.at(-2)!), [3n, 5n]) // unfinished: stakes back
      await expectRevert(call(f.tictactoe, 'transition', last, cells.length % 2, cell(0), 0n), 'MachineInvalidMove')
    })
  }

  test('turns alternate from X', async () => {
    const s = await play(f.tictactoe, g, moves([4, 0]))
    assert.deepEqual(await Promise.all(s.map((x) => call(f.tictactoe, 'nextActor', x))), [0n, 1n, 0n])
    assert.deepEqual(decode(s[2]!)[0], [2n, 0n, 0n, 0n, 1n, 0n, 0n, 0n, 0n])
  })

  test('invalid moves', async () => {
    const [, s1] = await play(f.tictactoe, g, moves([4]))
    await expectRevert(call(f.tictactoe, 'transition', g, 1, cell(0), 0n), 'MachineNotYourTurn', [1, 0])
    await expectRevert(call(f.tictactoe, 'transition', s1!, 1, cell(4), 0n), 'TicTacToeCellUnavailable', [4])
    await expectRevert(call(f.tictactoe, 'transition', g, 0, cell(9), 0n), 'TicTacToeCellUnavailable', [9])
    await expectRevert(call(f.tictactoe, 'transition', g, 0, u64(1).slice(0, 40) as Hex, 0n), 'MachineInvalidMove')
  })

  test('onRemove: the removed player forfeits; a finished game stays as it is', async () => {
    const [, s1] = await play(f.tictactoe, g, moves([4]))
    assert.equal(decode(await call(f.tictactoe, 'onRemove', s1!, 0))[2], 2n)
    assert.equal(decode(await call(f.tictactoe, 'onRemove', s1!, 1))[2], 1n)
    assert.deepEqual(await outcome(f.tictactoe, await call(f.tictactoe, 'onRemove', s1!, 1)), [8n, 0n])
    const won = (await play(f.tictactoe, g, moves([0, 3, 1, 4, 2]))).at(-1)!
    assert.equal(decode(await call(f.tictactoe, 'onRemove', won, 0))[2], 1n)
  })
})
