/**
 * EvmStateMachine against the deployed machines on a real anvil: every method's local result
 * (or revert data) equals `eth_call` of the same contract, on random inputs; plus code checks,
 * revert decoding, the gas cap and determinism.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { AbiCoder, Interface, hexlify, keccak256 } from 'ethers'
import { startAnvil, type Anvil } from '../chain/anvil.js'
import { loadArtifact, type ContractName } from '../contracts/artifacts.js'
import { deploy } from '../chain/deploy.js'
import { findRevertData } from '../chain/errors.js'
import { ProtocolError, UsageError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import { MACHINE_INTERFACE, type MachineMethod } from './abi.js'
import { EvmStateMachine } from './EvmStateMachine.js'

const abi = AbiCoder.defaultAbiCoder()
const code = (e: unknown, c: string) => e instanceof ProtocolError && e.code === c
const usage = (e: unknown) => e instanceof UsageError && e.code === 'MACHINE_INPUT_INVALID'

let anvil: Anvil
const at: Partial<Record<ContractName, Hex>> = {}

before(async () => {
  anvil = await startAnvil({ accounts: 2 })
  for (const name of ['Counter', 'Payments', 'TicTacToe', 'LoopingMachine'] as const) {
    at[name] = (await deploy(name, anvil.wallets[0]!)).address
  }
})
after(() => anvil.stop())

type Outcome = { ok: unknown } | { revert: Hex }

/** What the chain says: eth_call of the deployed machine, decoded, or its revert data. */
async function onChain(name: ContractName, method: MachineMethod, args: unknown[]): Promise<Outcome> {
  const data = MACHINE_INTERFACE.encodeFunctionData(method, args)
  try {
    const ret = await anvil.provider.call({ to: at[name]!, data })
    const v = MACHINE_INTERFACE.decodeFunctionResult(method, ret)[0]
    return { ok: typeof v === 'object' && v !== null ? [...(v as Iterable<unknown>)] : method === 'nextActor' ? Number(v) : v }
  } catch (e) {
    if ((e as { code?: string }).code !== 'CALL_EXCEPTION') throw e
    return { revert: (findRevertData(e) ?? '0x') as Hex }
  }
}

/** What the local EVM says, in the same shape. */
async function locally(m: EvmStateMachine, method: MachineMethod, args: unknown[]): Promise<Outcome> {
  try {
    const f = m[method] as (...a: unknown[]) => Promise<unknown>
    return { ok: await f.apply(m, args) }
  } catch (e) {
    assert.ok(code(e, 'MACHINE_REVERTED'), `unexpected ${String(e)}`)
    return { revert: (e as ProtocolError).details!.data as Hex }
  }
}

async function same(m: EvmStateMachine, name: ContractName, method: MachineMethod, args: unknown[]): Promise<Outcome> {
  const [local, chain] = await Promise.all([locally(m, method, args), onChain(name, method, args)])
  assert.deepEqual(local, chain, `${name}.${method}`)
  return local
}

/** Mostly the actor whose turn it is (-1, resolved with nextActor), sometimes anyone. */
const turn = (n: number) => fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: n }) })

const bytes = fc.uint8Array({ maxLength: 200 }).map((b) => hexlify(b) as Hex)
const amount = fc.oneof(fc.bigInt({ min: 0n, max: 3n * 10n ** 18n }), fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }))

interface Spec {
  name: ContractName
  n: fc.Arbitrary<number>
  init: fc.Arbitrary<Hex>
  move: (n: number) => fc.Arbitrary<Hex>
}

const specs: Spec[] = [
  {
    name: 'Counter',
    n: fc.integer({ min: 1, max: 6 }),
    init: fc.oneof(fc.constant('0x' as Hex), fc.bigInt({ min: 0n, max: 20n }).map((t) => abi.encode(['uint64'], [t]) as Hex), bytes),
    move: () => fc.oneof(fc.bigInt({ min: 0n, max: 5n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })).map((v) => abi.encode(['uint64'], [v]) as Hex),
  },
  {
    name: 'Payments',
    n: fc.integer({ min: 1, max: 8 }),
    init: bytes,
    move: (n) =>
      fc.oneof(
        { weight: 1, arbitrary: fc.constant('0x' as Hex) },
        { weight: 1, arbitrary: bytes },
        { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: n }), amount).map(([to, a]) => abi.encode(['uint16', 'uint256'], [to, a]) as Hex) },
      ),
  },
  {
    name: 'TicTacToe',
    n: fc.oneof({ weight: 4, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }),
    init: bytes,
    move: () => fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 9 }).map((c) => abi.encode(['uint256'], [c]) as Hex) }, { weight: 1, arbitrary: bytes }),
  },
]

describe('EvmStateMachine equals eth_call of the deployed machine', () => {
  for (const s of specs) {
    test(`${s.name}: all six methods along random walks`, async () => {
      const m = await EvmStateMachine.fromChain({ provider: anvil.provider, address: at[s.name]! })
      assert.equal(m.fastRun, true)
      const walk = s.n.chain((n) =>
        fc.record({
          deposits: fc.array(amount, { minLength: n, maxLength: n }),
          init: s.init,
          steps: fc.array(fc.record({ actor: turn(n), move: s.move(n), ts: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), index: fc.integer({ min: 0, max: n }) }), { minLength: 1, maxLength: 8 }),
        }),
      )
      let applied = 0
      await fc.assert(
        fc.asyncProperty(walk, async ({ deposits, init, steps }) => {
          const genesis = await same(m, s.name, 'initialState', [deposits, init])
          if (!('ok' in genesis)) return
          let state = genesis.ok as Hex
          for (const step of steps) {
            const next = await same(m, s.name, 'nextActor', [state])
            for (const method of ['outcome', 'isTerminal'] as const) await same(m, s.name, method, [state])
            await same(m, s.name, 'onRemove', [state, step.index])
            const actor = step.actor >= 0 || !('ok' in next) ? Math.max(step.actor, 0) : (next.ok as number)
            const after = await same(m, s.name, 'transition', [state, actor, step.move, step.ts])
            if ('ok' in after) {
              state = after.ok as Hex
              applied++
            }
          }
        }),
        { numRuns: 20 },
      )
      assert.ok(applied >= 10, `only ${applied} transitions succeeded: the walks test little`)
    })

    test(`${s.name}: garbage states revert the same way`, async () => {
      const m = await EvmStateMachine.fromChain({ provider: anvil.provider, address: at[s.name]! })
      await fc.assert(
        fc.asyncProperty(bytes, fc.integer({ min: 0, max: 3 }), async (state, i) => {
          for (const method of ['nextActor', 'outcome', 'isTerminal'] as const) await same(m, s.name, method, [state])
          await same(m, s.name, 'onRemove', [state, i])
          await same(m, s.name, 'transition', [state, i, '0x', 0n])
        }),
        { numRuns: 15 },
      )
    })
  }
})

describe('EvmStateMachine', () => {
  test('fromChain checks the code at the machine address', async () => {
    const payments = at.Payments!
    const hash = keccak256(loadArtifact('Payments').deployedBytecode) as Hex
    const m = await EvmStateMachine.fromChain({ provider: anvil.provider, address: payments, expectedCodeHash: hash.toUpperCase().replace('0X', '0x') as Hex })
    assert.equal(m.codeHash, hash)
    assert.equal(m.address, payments)
    const counterHash = keccak256(loadArtifact('Counter').deployedBytecode) as Hex
    await assert.rejects(EvmStateMachine.fromChain({ provider: anvil.provider, address: payments, expectedCodeHash: counterHash }), (e) => code(e, 'MACHINE_CODE_MISMATCH'))
    await assert.rejects(EvmStateMachine.fromChain({ provider: anvil.provider, address: anvil.wallets[1]!.address }), (e) => code(e, 'MACHINE_CODE_MISSING'))
    await assert.rejects(EvmStateMachine.fromChain({ provider: anvil.provider, address: '0x1234' }), usage)
  })

  test('reverts surface as MACHINE_REVERTED with the decoded custom error', async () => {
    const payments = await EvmStateMachine.fromChain({ provider: anvil.provider, address: at.Payments! })
    const genesis = await payments.initialState([5n, 7n], '0x')
    const pay = (to: number, a: bigint) => abi.encode(['uint16', 'uint256'], [to, a]) as Hex
    await assert.rejects(payments.transition(genesis, 0, pay(1, 6n), 1n), (e) => {
      assert.ok(code(e, 'MACHINE_REVERTED'))
      const d = (e as ProtocolError).details!
      assert.equal(d.method, 'transition')
      assert.equal(d.errorName, 'PaymentsInsufficientBalance')
      assert.equal(d.error, 'PaymentsInsufficientBalance') // the key RpcStateMachine uses too
      assert.deepEqual(d.args, { from: 0n, balance: 5n, amount: 6n })
      return true
    })
    await assert.rejects(payments.transition(genesis, 1, '0x', 1n), (e) => {
      const d = (e as ProtocolError).details!
      return code(e, 'MACHINE_REVERTED') && d.errorName === 'MachineNotYourTurn' && (d.args as { actor: bigint }).actor === 1n && (d.args as { expected: bigint }).expected === 0n
    })
    const counter = await EvmStateMachine.fromChain({ provider: anvil.provider, address: at.Counter! })
    const c0 = await counter.transition(await counter.initialState([1n, 1n], '0x'), 0, abi.encode(['uint64'], [(1n << 64n) - 1n]) as Hex, 1n)
    await assert.rejects(counter.transition(c0, 1, abi.encode(['uint64'], [1n]) as Hex, 1n), (e) => code(e, 'MACHINE_REVERTED') && (e as ProtocolError).details!.errorName === 'Panic')

    // An error only the machine's own ABI knows: raw data without it, decoded with it.
    const looping = loadArtifact('LoopingMachine')
    const plain = await EvmStateMachine.fromChain({ provider: anvil.provider, address: at.LoopingMachine! })
    const withAbi = await EvmStateMachine.fromChain({ provider: anvil.provider, address: at.LoopingMachine!, abi: looping.abi as never })
    const selector = new Interface(looping.abi as never).getError('LoopingMachineRefused')!.selector
    await assert.rejects(plain.nextActor('0x1234'), (e) => {
      const d = (e as ProtocolError).details!
      return code(e, 'MACHINE_REVERTED') && d.errorName === undefined && String(d.data).startsWith(selector)
    })
    await assert.rejects(withAbi.nextActor('0x1234'), (e) => {
      const d = (e as ProtocolError).details!
      return d.errorName === 'LoopingMachineRefused' && (d.args as { stateLength: bigint }).stateLength === 2n
    })
  })

  test('the gas cap is enforced: MACHINE_OUT_OF_GAS, as the chain runs out too', async () => {
    const m = await EvmStateMachine.fromChain({ provider: anvil.provider, address: at.LoopingMachine! })
    assert.equal(m.gasCap, 5_000_000n)
    const state = await m.initialState([1n, 2n], '0x')
    const rounds = (r: bigint) => abi.encode(['uint256'], [r]) as Hex
    assert.equal(await m.transition(state, 0, rounds(10n), 1n), state)
    await assert.rejects(m.transition(state, 0, '0x', 1n), (e) => code(e, 'MACHINE_OUT_OF_GAS') && (e as ProtocolError).details!.gasCap === 5_000_000n)
    // The chain, given the manager's cap for the machine frame, fails as well.
    const data = MACHINE_INTERFACE.encodeFunctionData('transition', [state, 0, '0x', 1n])
    await assert.rejects(anvil.provider.call({ to: at.LoopingMachine!, data, gasLimit: 5_100_000n }))
    // A smaller cap bites earlier.
    const tight = await EvmStateMachine.fromChain({ provider: anvil.provider, address: at.LoopingMachine!, gasCap: 30_000n })
    await assert.rejects(tight.transition(state, 0, rounds(1_000n), 1n), (e) => code(e, 'MACHINE_OUT_OF_GAS'))
    await assert.rejects(EvmStateMachine.fromChain({ provider: anvil.provider, address: at.LoopingMachine!, gasCap: 0n }), usage)
  })

  test('deterministic: independent instances, repeated and concurrent calls agree', async () => {
    const art = loadArtifact('TicTacToe')
    const a = await EvmStateMachine.fromChain({ provider: anvil.provider, address: at.TicTacToe! })
    const b = await EvmStateMachine.fromBytecode(art.deployedBytecode, art.abi as never)
    const cell = (c: number) => abi.encode(['uint8'], [c]) as Hex
    const run = async (m: EvmStateMachine) => {
      let s = await m.initialState([3n, 4n], '0x')
      const trace: unknown[] = [s]
      for (const [k, c] of [4, 0, 2, 1, 6].entries()) { // X wins on the 2-4-6 diagonal
        s = await m.transition(s, k % 2, cell(c), BigInt(k))
        trace.push(s, await m.nextActor(s), await m.isTerminal(s), await m.outcome(s))
      }
      return trace
    }
    const first = await run(a)
    assert.deepEqual(await run(a), first)
    assert.deepEqual(await run(b), first)
    const [c1, c2, c3] = await Promise.all([run(a), run(a), run(b)])
    assert.deepEqual([c1, c2, c3], [first, first, first])
    assert.equal(first.at(-2), true) // terminal after the last move
    assert.deepEqual(first.at(-1), [7n, 0n]) // the winner takes both stakes
  })

  test('bad input is a UsageError; broken machines are ProtocolErrors, never a wrong value', async () => {
    const m = await EvmStateMachine.fromChain({ provider: anvil.provider, address: at.Counter! })
    await assert.rejects(m.transition('0x123' as Hex, 0, '0x', 0n), usage)
    await assert.rejects(m.transition('0x', 70_000, '0x', 0n), usage)
    await assert.rejects(m.transition('0x', 0, 'zz' as Hex, 0n), usage)
    await assert.rejects(m.transition('0x', 0, '0x', -1n), usage)
    await assert.rejects(m.initialState([-1n], '0x'), usage)
    await assert.rejects(EvmStateMachine.fromBytecode('0x' as Hex), usage)
    await assert.rejects(EvmStateMachine.fromBytecode('0xabc' as Hex), usage)
    // INVALID opcode: an exceptional halt, reported as a revert without data.
    const invalid = await EvmStateMachine.fromBytecode('0xfe')
    await assert.rejects(invalid.nextActor('0x'), (e) => code(e, 'MACHINE_REVERTED') && (e as ProtocolError).details!.halt === 'invalid opcode')
    // Returns 32 bytes of 0xff to everything: not a uint16, not a bool, not a bytes offset.
    const garbage = await EvmStateMachine.fromBytecode(`0x7f${'ff'.repeat(32)}5f5260205ff3` as Hex)
    await assert.rejects(garbage.nextActor('0x'), (e) => code(e, 'MACHINE_RESULT_INVALID'))
    await assert.rejects(garbage.isTerminal('0x'), (e) => code(e, 'MACHINE_RESULT_INVALID'))
    await assert.rejects(garbage.transition('0x', 0, '0x', 0n), (e) => code(e, 'MACHINE_RESULT_INVALID'))
  })
})
