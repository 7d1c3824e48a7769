/**
 * MachineAbi against the example machines' real bytecode (local EVM): typed moves through
 * the machines' own encoders, states through their decodeState, reverts by their error names,
 * and bad arguments refused with MOVE_ARGS_INVALID / MOVE_UNKNOWN before anything runs.
 */
import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder, Interface, keccak256 } from 'ethers'
import { loadArtifact, type ContractName } from '../contracts/artifacts.js'
import { ParleyError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import { MACHINE_INTERFACE } from './abi.js'
import { EvmStateMachine } from './EvmStateMachine.js'
import { MachineAbi, describeRevert, formatState } from './MachineAbi.js'

const coder = AbiCoder.defaultAbiCoder()
const SALT = `0x${'5e'.repeat(32)}` as Hex
const machines = {} as Record<string, { m: EvmStateMachine; abi: MachineAbi }>

before(async () => {
  for (const name of ['Payments', 'TicTacToe', 'Counter', 'RockPaperScissors'] as ContractName[]) {
    const a = loadArtifact(name)
    machines[name] = { m: await EvmStateMachine.fromBytecode(a.deployedBytecode), abi: new MachineAbi(a.abi as never) }
  }
})

/** The error `f` rejects with (its code and message), or fails. */
async function rejection(f: () => unknown): Promise<{ code: string; message: string }> {
  try {
    await f()
  } catch (e) {
    assert.ok(e instanceof ParleyError, String(e))
    return { code: e.code, message: e.message }
  }
  assert.fail('no error')
}

describe('MachineAbi', () => {
  it('finds the move encoders (pure, one `bytes move` output) and decodeState by convention', () => {
    assert.deepEqual(machines.Payments!.abi.encoders.map((f) => f.name).sort(), ['pass', 'pay'])
    assert.equal(machines.RockPaperScissors!.abi.moveSyntax, 'commit <shape:string> <salt:bytes32> · play <shape:string> · reveal <shape:string> <salt:bytes32>')
    assert.ok(machines.TicTacToe!.abi.decodesState)
    const bare = new MachineAbi(MACHINE_INTERFACE) // IStateMachine alone: bytes outputs, but none named `move`
    assert.deepEqual([bare.encoders.length, bare.decodesState], [0, false])
  })

  it("typed moves are the examples' own move data, encoded by their bytecode", async () => {
    const { Payments: p, TicTacToe: t, Counter: c } = machines
    assert.equal(await p!.abi.encodeMove(p!.m, 'pay 1 500'), coder.encode(['uint16', 'uint256'], [1, 500]))
    assert.equal(await p!.abi.encodeMove(p!.m, 'pass'), '0x')
    assert.equal(await t!.abi.encodeMove(t!.m, 'cell 4'), coder.encode(['uint256'], [4]))
    assert.equal(await c!.abi.encodeMove(c!.m, 'inc 0x10'), coder.encode(['uint64'], [16]))
  })

  it('decodeState prints a state field by field', async () => {
    const { Payments: p, TicTacToe: t } = machines
    const s0 = await p!.m.initialState([7n, 9n], '0x')
    const s1 = await p!.m.transition(s0, 0, await p!.abi.encodeMove(p!.m, 'pay 1 2'), 1n)
    const fields = (await p!.abi.decodeState(p!.m, s1))!
    assert.deepEqual(fields.map((f) => [f.name, f.value]), [['turn', 1n], ['balances', [5n, 11n]]])
    assert.equal(formatState(fields), 'turn=1 · balances=[5, 11]')
    let b = await t!.m.initialState([1n, 1n], '0x')
    for (const [actor, cell] of [[0, 4], [1, 0]] as const) b = await t!.m.transition(b, actor, await t!.abi.encodeMove(t!.m, `cell ${cell}`), 1n)
    assert.equal(formatState((await t!.abi.decodeState(t!.m, b))!), 'board=O../.X./... · turn=0 · result=ongoing')
  })

  it('rock-paper-scissors: the commit hides shape and salt; a wrong reveal and a wrong turn are named', async () => {
    const { m, abi } = machines.RockPaperScissors!
    let s = await m.initialState([10n, 10n], '0x')
    const commit = await abi.encodeMove(m, `commit paper ${SALT}`)
    assert.equal(commit.includes(SALT.slice(2, 20)), false, 'the salt is not in the move')
    assert.deepEqual(coder.decode(['uint8', 'uint8', 'bytes32'], commit).toArray(), [0n, 0n, keccak256(coder.encode(['uint8', 'bytes32'], [2, SALT]))])
    s = await m.transition(s, 0, commit, 1n)
    const wrongTurn = await rejection(() => m.transition(s, 0, commit, 1n))
    assert.equal(wrongTurn.code, 'MACHINE_REVERTED')
    s = await m.transition(s, 1, await abi.encodeMove(m, 'play rock'), 1n)
    const lie = await m.transition(s, 0, await abi.encodeMove(m, `reveal scissors ${SALT}`), 1n).catch((e: unknown) => e)
    assert.equal(abi.describeRevert(lie), 'RpsRevealMismatch(shape=3)')
    s = await m.transition(s, 0, await abi.encodeMove(m, `reveal paper ${SALT}`), 1n)
    assert.equal(formatState((await abi.decodeState(m, s))!), `stage=done · commitment=${keccak256(coder.encode(['uint8', 'bytes32'], [2, SALT]))} · played=rock · revealed=paper · result=#0 won`)
    assert.deepEqual([await m.isTerminal(s), await m.outcome(s)], [true, [20n, 0n]])
  })

  it('describeRevert names custom errors with their arguments, from a ParleyError or raw data', async () => {
    const { m, abi } = machines.Payments!
    const s0 = await m.initialState([1n, 1n], '0x')
    const notYours = await m.transition(s0, 1, '0x', 1n).catch((e: unknown) => e)
    assert.equal(abi.describeRevert(notYours), 'MachineNotYourTurn(actor=1, expected=0)')
    const broke = await m.transition(s0, 0, await abi.encodeMove(m, 'pay 1 5'), 1n).catch((e: unknown) => e)
    assert.equal(describeRevert(broke), 'PaymentsInsufficientBalance(from=0, balance=1, amount=5)') // Parley's known ABIs
    const own = new Interface(['error NotYourTurn(uint16 player)'])
    assert.equal(describeRevert(own.encodeErrorResult('NotYourTurn', [1]), own), 'NotYourTurn(player=1)')
    assert.equal(describeRevert('0xdeadbeef', own), undefined)
    assert.equal(describeRevert(new Error('plain')), undefined)
  })

  it('bad arguments are MOVE_ARGS_INVALID (also when the encoder refuses them); unknown verbs MOVE_UNKNOWN', async () => {
    const { Payments: p, RockPaperScissors: r } = machines
    const cases: [MachineAbi, EvmStateMachine, string, string, RegExp][] = [
      [p!.abi, p!.m, 'pay x 1', 'MOVE_ARGS_INVALID', /to must be an integer \(uint16\)/],
      [p!.abi, p!.m, 'pay 65536 1', 'MOVE_ARGS_INVALID', /uint16 \(0\.\.65535\)/],
      [p!.abi, p!.m, 'pay -1 1', 'MOVE_ARGS_INVALID', /uint16/],
      [p!.abi, p!.m, 'pay 1', 'MOVE_ARGS_INVALID', /takes 2 argument\(s\), got 1/],
      [r!.abi, r!.m, 'commit rock 0x1234', 'MOVE_ARGS_INVALID', /salt must be 32 bytes of 0x-hex/],
      [r!.abi, r!.m, 'play lizard', 'MOVE_ARGS_INVALID', /play refuses its arguments: RpsUnknownShape\(shape="lizard"\)/],
      [r!.abi, r!.m, 'dance', 'MOVE_UNKNOWN', /moves are commit <shape:string>/],
    ]
    for (const [abi, m, line, code, message] of cases) {
      const e = await rejection(() => abi.encodeMove(m, line))
      assert.equal(e.code, code, line)
      assert.match(e.message, message, line)
    }
  })

  it('staticCall runs any function locally and checks its calldata', async () => {
    const { m } = machines.Counter!
    const iface = new Interface(loadArtifact('Counter').abi as never)
    const ret = await m.staticCall(iface.encodeFunctionData('inc', [3]) as Hex)
    assert.equal(iface.decodeFunctionResult('inc', ret)[0], coder.encode(['uint64'], [3]))
    assert.equal((await rejection(() => m.staticCall('0x123' as Hex))).code, 'MACHINE_INPUT_INVALID')
  })
})
