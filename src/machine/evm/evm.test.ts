/**
 * The tuned EVM (custom opcodes, fast loop, direct frames) against ethereumjs as it comes:
 * same outcome, same return or revert data, same gas — on random programs and on the example
 * machines, under every hardfork the client supports. No chain needed: this pins our changes to ethereumjs's semantics; the anvil test
 * (EvmStateMachine.test.ts) pins both to the chain's.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { AbiCoder } from 'ethers'
import { loadArtifact, type ContractName } from '../../contracts/artifacts.js'
import { HARDFORKS, type Hardfork } from '../../chain/hardfork.js'
import type { Hex } from '../../protocol/types.js'
import { decodeBytes, encodeInitialState, encodeTransition } from '../codec.js'
import { MachineEvm, type ExecOutcome } from './MachineEvm.js'

/** Comparable view of an outcome (halt reasons without ethereumjs's code location suffix). */
function view(o: ExecOutcome) {
  if (o.kind === 'halt') return { kind: o.kind, reason: o.reason.split(' at ')[0], gasUsed: o.gasUsed }
  if (o.kind === 'outOfGas') return o
  return { kind: o.kind, data: Buffer.from(o.data).toString('hex'), gasUsed: o.gasUsed }
}

const push = (v: bigint): number[] => {
  const hex = v.toString(16)
  const bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex')
  return [0x5f + bytes.length, ...bytes]
}

// Operand values: mostly memory-sized, sometimes huge (expansion → out of gas), any 256-bit word.
const operand = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 130n }) },
  { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 3000n }) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }) },
  { weight: 2, arbitrary: fc.constantFrom(31n, 32n, 33n, (1n << 64n) - 1n, 1n << 64n, (1n << 128n) - 1n, 1n << 191n, 1n << 255n) },
)

/** [opcode, stack operands, pushes a result] for the opcodes we replace, plus a few neighbours. */
const OPS: [number, number, boolean][] = [
  [0x51, 1, true], [0x52, 2, false], [0x53, 2, false], [0x35, 1, true], [0x37, 3, false], [0x39, 3, false],
  [0x5e, 3, false], [0x20, 2, true], [0x0a, 2, true], [0x01, 2, true], [0x03, 2, true], [0x10, 2, true],
  [0x16, 2, true], [0x59, 0, true], [0x5a, 0, true], [0x56, 1, false], [0xf3, 2, false], [0xfd, 2, false], [0xfe, 0, false],
]

/** Opcodes a hardfork adds that the fast loop must run through ethereumjs's own handlers. */
const NEW_OPS: Record<Hardfork, [number, number, boolean][]> = { cancun: [], prague: [], osaka: [[0x1e, 1, true]] } // CLZ

/** One opcode with its operands; a result is stored to a memory slot so the final RETURN shows it. */
const segment = (ops: [number, number, boolean][]) => fc.tuple(fc.constantFrom(...ops), fc.integer({ min: 0, max: 63 })).chain(([[op, arity, result], slot]) =>
  fc.array(operand, { minLength: arity, maxLength: arity }).map((args) => [
    ...[...args].reverse().flatMap(push),
    op,
    ...(result ? [...push(BigInt(slot * 32)), 0x52] : []),
  ]),
)

/** A random program that ends by returning its whole memory (MSIZE PUSH0 RETURN). */
const program = (hardfork: Hardfork) =>
  fc.array(segment([...OPS, ...NEW_OPS[hardfork]]), { minLength: 1, maxLength: 25 }).map((segs) => Uint8Array.from([...segs.flat(), 0x59, 0x5f, 0xf3]))

for (const hardfork of HARDFORKS) {
  test(`random programs under ${hardfork}: same outcome, data and gas as stock ethereumjs`, async () => {
    await fc.assert(
      fc.asyncProperty(program(hardfork), fc.uint8Array({ maxLength: 100 }), fc.bigInt({ min: 100n, max: 3_000_000n }), async (code, calldata, gas) => {
        const stock = await MachineEvm.create(code, { fast: false, hardfork })
        const fast = await MachineEvm.create(code, { hardfork })
        assert.equal(fast.fastRun, true)
        assert.equal(fast.hardfork, hardfork)
        assert.deepEqual(view(await fast.execute(calldata, gas)), view(await stock.execute(calldata, gas)))
      }),
      { numRuns: 200 },
    )
  })
}

test('word loads and stores at every byte offset match stock ethereumjs', async () => {
  // calldata → memory, then CALLDATALOAD and MLOAD at every offset up to 2 past the end,
  // each result stored to its own slot; the program returns its whole memory.
  // Runs of zeros then a few random bytes: words with every number of leading zero bytes.
  const chunk = fc.tuple(fc.integer({ min: 0, max: 30 }), fc.uint8Array({ minLength: 1, maxLength: 8 }))
  const zeroHeavy = fc
    .array(chunk, { minLength: 1, maxLength: 8, size: 'max' })
    .map((chunks) => Uint8Array.from(chunks.flatMap(([zeros, bytes]) => [...new Uint8Array(zeros), ...bytes])))
  await fc.assert(
    fc.asyncProperty(zeroHeavy, async (calldata) => {
      const L = BigInt(calldata.length)
      const code: number[] = [...push(L), 0x5f, 0x5f, 0x37]
      for (let p = 0n; p <= L + 2n; p++) code.push(...push(p), 0x35, ...push(1024n + 32n * p), 0x52)
      for (let p = 0n; p <= L + 2n; p++) code.push(...push(p), 0x51, ...push(4096n + 32n * p), 0x52)
      code.push(0x59, 0x5f, 0xf3)
      const bytecode = Uint8Array.from(code)
      const fast = await MachineEvm.create(bytecode)
      const stock = await MachineEvm.create(bytecode, { fast: false })
      const a = view(await fast.execute(calldata, 1_000_000n))
      assert.equal(a.kind, 'ok')
      assert.deepEqual(a, view(await stock.execute(calldata, 1_000_000n)))
    }),
    { numRuns: 60 },
  )
})

const abi = AbiCoder.defaultAbiCoder()
const machines: { name: ContractName; n: number; move: fc.Arbitrary<Hex> }[] = [
  { name: 'Counter', n: 3, move: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => abi.encode(['uint64'], [v]) as Hex) },
  { name: 'Payments', n: 5, move: fc.oneof(fc.constant('0x' as Hex), fc.tuple(fc.integer({ min: 0, max: 6 }), fc.bigInt({ min: 0n, max: 2n * 10n ** 18n })).map(([to, a]) => abi.encode(['uint16', 'uint256'], [to, a]) as Hex)) },
  { name: 'TicTacToe', n: 2, move: fc.integer({ min: 0, max: 10 }).map((c) => abi.encode(['uint256'], [c]) as Hex) },
]

for (const [m, hardfork] of machines.flatMap((m) => HARDFORKS.map((h) => [m, h] as const))) {
  test(`${m.name} under ${hardfork}: transitions cost the same gas as on stock ethereumjs, down to the out-of-gas boundary`, async () => {
    const code = Buffer.from(loadArtifact(m.name).deployedBytecode.slice(2), 'hex')
    const stock = await MachineEvm.create(code, { fast: false, hardfork })
    const fast = await MachineEvm.create(code, { hardfork })
    const genesisOut = await fast.execute(encodeInitialState(Array.from({ length: m.n }, () => 10n ** 18n), '0x'), 5_000_000n)
    assert.equal(genesisOut.kind, 'ok')
    const genesis = decodeBytes('initialState', (genesisOut as { data: Uint8Array }).data)
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: m.n - 1 }), m.move), { minLength: 1, maxLength: 8 }), async (moves) => {
        let state = genesis
        for (const [actor, data] of moves) {
          const calldata = encodeTransition(state, actor, data, 1_700_000_000n)
          const a = await fast.execute(calldata, 5_000_000n)
          assert.deepEqual(view(a), view(await stock.execute(calldata, 5_000_000n)))
          if (a.kind !== 'ok') continue
          // One gas less than it needs: out of gas on both.
          assert.equal((await fast.execute(calldata, a.gasUsed - 1n)).kind, 'outOfGas')
          assert.equal((await stock.execute(calldata, a.gasUsed - 1n)).kind, 'outOfGas')
          assert.equal((await fast.execute(calldata, a.gasUsed)).kind, 'ok')
          state = decodeBytes('transition', a.data)
        }
      }),
      { numRuns: 25 },
    )
  })
}

test('every call starts cold: touching an account costs the same on every call', async () => {
  // EXTCODESIZE(0x…1234) twice, STATICCALL sha256 precompile, then return the gas left.
  const code = Uint8Array.from([
    ...push(0x1234n), 0x3b, 0x50, ...push(0x1234n), 0x3b, 0x50,
    0x5f, 0x5f, 0x5f, 0x5f, ...push(2n), 0x5a, 0xfa, 0x50,
    0x5a, 0x5f, 0x52, ...push(32n), 0x5f, 0xf3,
  ])
  const fast = await MachineEvm.create(code)
  const stock = await MachineEvm.create(code, { fast: false })
  const first = view(await fast.execute(new Uint8Array(0), 100_000n))
  assert.equal(first.kind, 'ok')
  assert.deepEqual(view(await fast.execute(new Uint8Array(0), 100_000n)), first)
  assert.deepEqual(view(await stock.execute(new Uint8Array(0), 100_000n)), first)
  // Cold account access is 2,600 gas; the second is warm (100). A precompile is always warm.
  assert.ok(first.gasUsed > 2_600n && first.gasUsed < 3_200n, `gas ${first.gasUsed}`)
})

test("the hardfork's precompiles are warm, as in a machine frame on chain", async () => {
  // GAS, STATICCALL(gas 0, address, no input), GAS: the difference is the account access
  // (warm 100, cold 2,600) plus a constant; return it.
  const probe = (address: bigint) => Uint8Array.from([
    0x5a, 0x5f, 0x5f, 0x5f, 0x5f, ...push(address), 0x5f, 0xfa, 0x50, 0x5a, 0x90, 0x03, 0x5f, 0x52, ...push(32n), 0x5f, 0xf3,
  ])
  const cost = async (hardfork: Hardfork, address: bigint) => {
    const out = await (await MachineEvm.create(probe(address), { hardfork })).execute(new Uint8Array(0), 100_000n)
    assert.equal(out.kind, 'ok')
    return BigInt(`0x${Buffer.from((out as { data: Uint8Array }).data).toString('hex')}`)
  }
  const warm = await cost('cancun', 0x01n) // ecrecover, a precompile on every hardfork
  const cold = await cost('cancun', 0x0bn)
  assert.equal(cold - warm, 2_500n) // EIP-2929: cold 2,600, warm 100
  assert.equal(await cost('prague', 0x0bn), warm) // BLS12-381 G1ADD from prague on
  assert.equal(await cost('prague', 0x100n), cold)
  assert.equal(await cost('osaka', 0x100n), warm) // P256VERIFY from osaka on
})

test('an unsupported hardfork is a UsageError', async () => {
  await assert.rejects(MachineEvm.create(Uint8Array.of(0x00), { hardfork: 'shanghai' as Hardfork }), (e: unknown) => (e as { code?: string }).code === 'HARDFORK_INVALID')
})

test('concurrent calls on one EVM give the same results as sequential ones', async () => {
  const code = Buffer.from(loadArtifact('Payments').deployedBytecode.slice(2), 'hex')
  const evm = await MachineEvm.create(code)
  const genesis = decodeBytes('initialState', ((await evm.execute(encodeInitialState([5n, 5n, 5n], '0x'), 5_000_000n)) as { data: Uint8Array }).data)
  const calls = [0, 1, 2, 0, 1].map((actor) => encodeTransition(genesis, actor, abi.encode(['uint16', 'uint256'], [(actor + 1) % 3, 1]) as Hex, 1n))
  const sequential = []
  for (const c of calls) sequential.push(view(await evm.execute(c, 5_000_000n)))
  const concurrent = (await Promise.all(calls.map((c) => evm.execute(c, 5_000_000n)))).map(view)
  assert.deepEqual(concurrent, sequential)
  assert.deepEqual(sequential.map((s) => s.kind), ['ok', 'revert', 'revert', 'ok', 'revert'])
})
