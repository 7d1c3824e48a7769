/**
 * Machines shared between channels: one EVM per (code, address, hardfork), every channel's own
 * results through it — interleaved calls, reverts, gas caps and error ABIs stay per channel —
 * and the code still checked per channel.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { AbiCoder, keccak256, type Provider } from 'ethers'
import { loadArtifact } from '../../contracts/artifacts.js'
import { ProtocolError } from '../../errors/ParleyError.js'
import type { Hex } from '../../protocol/types.js'
import { EvmStateMachine } from '../EvmStateMachine.js'
import { MachineEvmCache } from './MachineEvmCache.js'

const abi = AbiCoder.defaultAbiCoder()
const counter = loadArtifact('Counter')
const ttt = loadArtifact('TicTacToe')
const COUNTER = counter.deployedBytecode as Hex
const TTT = ttt.deployedBytecode as Hex
/** Returns `address(this)`: ADDRESS PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN. */
const WHO_AM_I = '0x3060005260206000f3' as Hex
/**
 * Returns whether a staticcall to 0x0b with no input succeeds: an empty account before prague
 * (success), BLS12_G1ADD from prague on (fails: the input must be 256 bytes).
 */
const PROBE_0B = '0x6000600060006000600b5afa60005260206000f3' as Hex
const A = '0x00000000000000000000000000000000000000a1'
const B = '0x00000000000000000000000000000000000000b2'
const word = (n: number) => abi.encode(['uint64'], [n]) as Hex
const reverted = (e: unknown) => e instanceof ProtocolError && e.code === 'MACHINE_REVERTED'

test('two channels with the same machine share one EVM; the results are the private EVM’s', async () => {
  const cache = new MachineEvmCache()
  const one = await EvmStateMachine.fromBytecode(COUNTER, undefined, { address: A, evmCache: cache })
  const two = await EvmStateMachine.fromBytecode(COUNTER, undefined, { address: A, evmCache: cache })
  assert.deepEqual(cache.stats(), { builds: 1, hits: 1, entries: 1 })
  const own = await EvmStateMachine.fromBytecode(COUNTER, undefined, { address: A, evmCache: false })
  assert.deepEqual(cache.stats().builds, 1, 'evmCache: false builds outside the cache')
  const g = await one.initialState([1n, 2n], word(0))
  assert.equal(await two.initialState([1n, 2n], word(0)), g)
  assert.equal(await own.transition(g, 0, word(5), 1n), await two.transition(g, 0, word(5), 1n))
})

test('a different address, hardfork or code gets its own EVM, and its own results', async () => {
  const cache = new MachineEvmCache()
  const at = (address: string) => EvmStateMachine.fromBytecode(WHO_AM_I, undefined, { address, evmCache: cache })
  const [a, b] = [await at(A), await at(B)]
  assert.equal(cache.stats().builds, 2)
  assert.equal(await a.staticCall('0x'), abi.encode(['address'], [A]))
  assert.equal(await b.staticCall('0x'), abi.encode(['address'], [B]))

  const under = (hardfork: 'cancun' | 'prague') => EvmStateMachine.fromBytecode(PROBE_0B, undefined, { address: A, hardfork, evmCache: cache })
  const [cancun, prague] = [await under('cancun'), await under('prague')]
  assert.equal(cache.stats().builds, 4)
  assert.equal(await cancun.staticCall('0x'), word(1), 'no precompile at 0x0b under cancun')
  assert.equal(await prague.staticCall('0x'), word(0), 'BLS12_G1ADD rejects an empty input under prague')

  await EvmStateMachine.fromBytecode(COUNTER, undefined, { address: A, evmCache: cache })
  await EvmStateMachine.fromBytecode(TTT, undefined, { address: A, evmCache: cache })
  assert.equal(cache.stats().builds, 6)
  assert.equal(cache.stats().hits, 0)
})

test('interleaved transitions of two channels through one EVM each get their own result', async () => {
  const cache = new MachineEvmCache()
  const [x, y] = [await EvmStateMachine.fromBytecode(COUNTER, undefined, { evmCache: cache }), await EvmStateMachine.fromBytecode(COUNTER, undefined, { evmCache: cache })]
  const ref = await EvmStateMachine.fromBytecode(COUNTER, undefined, { evmCache: false })
  assert.equal(cache.stats().builds, 1)
  // Two channels of different sizes and increments, every call of both in flight at once.
  const gx = await x.initialState([1n, 2n], word(0))
  const gy = await y.initialState([1n, 2n, 3n], word(0))
  const calls = Array.from({ length: 40 }, (_, i) =>
    i % 2 === 0 ? () => x.transition(gx, 0, word(i + 1), 0n) : () => y.transition(gy, 0, word(1000 + i), 0n))
  const got = await Promise.all(calls.map((c) => c()))
  for (let i = 0; i < 40; i++) {
    const want = i % 2 === 0 ? await ref.transition(gx, 0, word(i + 1), 0n) : await ref.transition(gy, 0, word(1000 + i), 0n)
    assert.equal(got[i], want, `call ${i}`)
  }
  // And whole games, interleaved: each channel's chain of states is the private EVM's.
  let [sx, sy] = [gx, gy]
  for (let k = 0; k < 6; k++) {
    const [nx, ny] = await Promise.all([x.transition(sx, await x.nextActor(sx), word(k + 1), 0n), y.transition(sy, await y.nextActor(sy), word(7), 0n)])
    assert.equal(nx, await ref.transition(sx, await ref.nextActor(sx), word(k + 1), 0n))
    assert.equal(ny, await ref.transition(sy, await ref.nextActor(sy), word(7), 0n))
    ;[sx, sy] = [nx, ny]
  }
})

test('a revert or out-of-gas in one channel leaves the other’s call and the next ones intact', async () => {
  const cache = new MachineEvmCache()
  // Three channels on one EVM: x with the machine's ABI, one with a tiny gas cap, y plain.
  const x = await EvmStateMachine.fromBytecode(TTT, ttt.abi as never, { evmCache: cache })
  const starved = await EvmStateMachine.fromBytecode(TTT, undefined, { evmCache: cache, gasCap: 500n })
  const y = await EvmStateMachine.fromBytecode(TTT, undefined, { evmCache: cache })
  assert.equal(cache.stats().builds, 1)
  const g = await x.initialState([0n, 0n], '0x')
  const afterCell4 = await y.transition(g, 0, word(4), 0n)
  const [bad, good, oog] = await Promise.allSettled([
    x.transition(afterCell4, 1, word(4), 0n), // cell 4 is taken
    y.transition(afterCell4, 1, word(0), 0n),
    starved.transition(afterCell4, 1, word(0), 0n),
  ])
  assert.ok(bad.status === 'rejected' && reverted(bad.reason))
  assert.equal((bad.reason as ProtocolError).details!.errorName, 'TicTacToeCellUnavailable')
  assert.ok(oog.status === 'rejected' && (oog.reason as ProtocolError).code === 'MACHINE_OUT_OF_GAS')
  assert.ok(good.status === 'fulfilled')
  const ref = await EvmStateMachine.fromBytecode(TTT, undefined, { evmCache: false })
  assert.equal(good.value, await ref.transition(afterCell4, 1, word(0), 0n))
  await assert.rejects(y.transition(afterCell4, 1, word(4), 0n), reverted)
  assert.equal(await x.transition(afterCell4, 1, word(0), 0n), good.value)
})

test('fromChain still fetches and checks the code per channel before sharing', async () => {
  const cache = new MachineEvmCache()
  const codeAt = new Map<string, Hex>([[A, COUNTER], [B, TTT]])
  let fetches = 0
  const provider = { getCode: async (a: string) => (fetches++, codeAt.get(a.toLowerCase()) ?? '0x') } as unknown as Provider
  const m1 = await EvmStateMachine.fromChain({ provider, address: A, expectedCodeHash: keccak256(COUNTER) as Hex, evmCache: cache })
  const m2 = await EvmStateMachine.fromChain({ provider, address: A, evmCache: cache })
  assert.equal(fetches, 2)
  assert.deepEqual([cache.stats().builds, cache.stats().hits], [1, 1])
  assert.equal(await m2.initialState([1n, 1n], '0x'), await m1.initialState([1n, 1n], '0x'))
  // A cached Counter does not vouch for another address or another committed hash.
  await assert.rejects(EvmStateMachine.fromChain({ provider, address: A, expectedCodeHash: keccak256(TTT) as Hex, evmCache: cache }), (e) => e instanceof ProtocolError && e.code === 'MACHINE_CODE_MISMATCH')
  const t = await EvmStateMachine.fromChain({ provider, address: B, evmCache: cache })
  assert.equal(cache.stats().builds, 2)
  await assert.rejects(t.initialState([1n, 2n, 3n], '0x'), reverted) // TicTacToe needs two players
})

test('an EVM no machine uses any more is released', async () => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const cache = new MachineEvmCache()
  let m: EvmStateMachine | undefined = await EvmStateMachine.fromBytecode(COUNTER, undefined, { evmCache: cache })
  assert.equal(cache.stats().entries, 1)
  m = undefined
  for (let i = 0; i < 20 && cache.stats().entries > 0; i++) {
    await new Promise((r) => setTimeout(r, 10))
    gc()
  }
  assert.equal(m, undefined)
  assert.equal(cache.stats().entries, 0)
  await EvmStateMachine.fromBytecode(COUNTER, undefined, { evmCache: cache })
  assert.equal(cache.stats().builds, 2)
})
