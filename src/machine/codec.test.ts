import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Interface, hexlify } from 'ethers'
import { ProtocolError, UsageError } from '../errors/ParleyError.js'
import { loadArtifact } from '../contracts/artifacts.js'
import type { Hex } from '../protocol/types.js'
import { MACHINE_INTERFACE, SELECTORS } from './abi.js'
import {
  decodeBool,
  decodeBytes,
  decodeUint16,
  decodeUintArray,
  encodeInitialState,
  encodeOnRemove,
  encodeStateCall,
  encodeTransition,
} from './codec.js'

const bytes = fc.uint8Array({ maxLength: 300 }).map((b) => hexlify(b) as Hex)
const uint16 = fc.integer({ min: 0, max: 0xffff })
const uint64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
const uint256 = fc.bigInt({ min: 0n, max: (1n << 256n) - 1n })
const hex = (b: Uint8Array) => hexlify(b)
const bin = (h: string) => Buffer.from(h.slice(2), 'hex')
const usage = (e: unknown) => e instanceof UsageError && e.code === 'MACHINE_INPUT_INVALID'
const bad = (e: unknown) => e instanceof ProtocolError && e.code === 'MACHINE_RESULT_INVALID'

test('the IStateMachine ABI matches the compiled machines (functions and AStateMachine errors)', () => {
  const compiled = new Interface(loadArtifact('Counter').abi as never)
  for (const f of MACHINE_INTERFACE.fragments) {
    if (f.type === 'function' || f.type === 'error') {
      const sig = (f as unknown as { format(): string }).format()
      assert.ok(f.type === 'function' ? compiled.getFunction(sig) : compiled.getError(sig), `${sig} missing from Counter`)
    }
  }
  assert.equal(SELECTORS.transition, compiled.getFunction('transition')!.selector)
})

test('encoders produce exactly ethers encodeFunctionData', () => {
  fc.assert(
    fc.property(bytes, uint16, bytes, uint64, (state, actor, data, ts) => {
      assert.equal(hex(encodeTransition(state, actor, data, ts)), MACHINE_INTERFACE.encodeFunctionData('transition', [state, actor, data, ts]))
    }),
  )
  fc.assert(
    fc.property(fc.array(uint256, { maxLength: 70 }), bytes, (deposits, init) => {
      assert.equal(hex(encodeInitialState(deposits, init)), MACHINE_INTERFACE.encodeFunctionData('initialState', [deposits, init]))
    }),
  )
  fc.assert(
    fc.property(bytes, uint16, (state, index) => {
      for (const m of ['nextActor', 'outcome', 'isTerminal'] as const) {
        assert.equal(hex(encodeStateCall(m, state)), MACHINE_INTERFACE.encodeFunctionData(m, [state]))
      }
      assert.equal(hex(encodeOnRemove(state, index)), MACHINE_INTERFACE.encodeFunctionData('onRemove', [state, index]))
    }),
  )
})

test('decoders agree with ethers on well-formed results', () => {
  fc.assert(
    fc.property(bytes, uint16, fc.boolean(), fc.array(uint256, { maxLength: 70 }), (b, n, flag, arr) => {
      assert.equal(decodeBytes('transition', bin(MACHINE_INTERFACE.encodeFunctionResult('transition', [b]))), b)
      assert.equal(decodeUint16('nextActor', bin(MACHINE_INTERFACE.encodeFunctionResult('nextActor', [n]))), n)
      assert.equal(decodeBool('isTerminal', bin(MACHINE_INTERFACE.encodeFunctionResult('isTerminal', [flag]))), flag)
      assert.deepEqual(decodeUintArray('outcome', bin(MACHINE_INTERFACE.encodeFunctionResult('outcome', [arr]))), arr)
    }),
  )
})

test('decoders reject malformed results with MACHINE_RESULT_INVALID, never a wrong value', () => {
  const word = (v: bigint) => Buffer.from(v.toString(16).padStart(64, '0'), 'hex')
  assert.throws(() => decodeBytes('transition', Buffer.alloc(0)), bad)
  assert.throws(() => decodeBytes('transition', word(1n << 200n)), bad) // offset far out
  assert.throws(() => decodeBytes('transition', Buffer.concat([word(32n), word(100n)])), bad) // length past end
  assert.throws(() => decodeUint16('nextActor', word(0x10000n)), bad)
  assert.throws(() => decodeUint16('nextActor', Buffer.alloc(31)), bad)
  assert.throws(() => decodeBool('isTerminal', word(2n)), bad)
  assert.throws(() => decodeUintArray('outcome', Buffer.concat([word(32n), word(3n), word(1n)])), bad)
  // Random bytes: either the decoders return what ethers decodes, or they refuse.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
      const buf = Buffer.from(raw)
      let ours: Hex | undefined
      try {
        ours = decodeBytes('transition', buf)
      } catch (e) {
        assert.ok(bad(e))
      }
      if (ours !== undefined) assert.equal(ours, MACHINE_INTERFACE.decodeFunctionResult('transition', buf)[0])
    }),
  )
})

test('encoders reject bad input with UsageError MACHINE_INPUT_INVALID', () => {
  assert.throws(() => encodeTransition('0x0' as Hex, 0, '0x', 0n), usage) // odd length
  assert.throws(() => encodeTransition('0xzz' as Hex, 0, '0x', 0n), usage) // not hex
  assert.throws(() => encodeTransition('abcd' as Hex, 0, '0x', 0n), usage) // no prefix
  assert.throws(() => encodeTransition('0x', 0, '0x12g4' as Hex, 0n), usage)
  assert.throws(() => encodeTransition('0x', 65536, '0x', 0n), usage)
  assert.throws(() => encodeTransition('0x', -1, '0x', 0n), usage)
  assert.throws(() => encodeTransition('0x', 1.5, '0x', 0n), usage)
  assert.throws(() => encodeTransition('0x', 0, '0x', -1n), usage)
  assert.throws(() => encodeTransition('0x', 0, '0x', 1n << 64n), usage)
  assert.throws(() => encodeTransition('0x', 0, '0x', 5 as unknown as bigint), usage)
  assert.throws(() => encodeInitialState([1n, -1n], '0x'), usage)
  assert.throws(() => encodeInitialState([1n << 256n], '0x'), usage)
  assert.throws(() => encodeInitialState([1 as unknown as bigint], '0x'), usage)
  assert.throws(() => encodeInitialState('nope' as unknown as bigint[], '0x'), usage)
  assert.throws(() => encodeOnRemove('0x', 70_000), usage)
  assert.throws(() => encodeStateCall('nextActor', 42 as unknown as Hex), usage)
})
