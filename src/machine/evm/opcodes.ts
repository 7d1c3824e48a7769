/**
 * Faster versions of the opcodes a pure machine runs most, installed through ethereumjs's own
 * `customOpcodes` option. Semantics and gas are exactly the stock ones (a differential test,
 * `evm.test.ts`, runs random programs on a stock EVM and on ours and compares results and
 * gas); only the work is done differently:
 *
 * - **Synchronous gas functions** for the memory-touching opcodes. ethereumjs declares every
 *   dynamic-gas handler `async`, so each MLOAD/MSTORE costs a promise and an await; the
 *   formulas themselves (memory expansion, copy and hash word costs) are plain arithmetic.
 * - **Word conversion through a DataView** for MLOAD, MSTORE and CALLDATALOAD instead of the
 *   stock hex-string round trip and array spreads (most of the time of a stock MSTORE).
 *
 * The other opcodes keep ethereumjs's handlers, looked up with the public `getOpcodesForHF`.
 */
import { getOpcodesForHF, type EVMOpts } from '@ethereumjs/evm'
import type { Common } from '@ethereumjs/common'

/** The parts of ethereumjs's run state these handlers touch (its type is not exported). */
interface RunState {
  stack: { pop(): bigint; popN(n: number): bigint[]; peek(n?: number): bigint[]; push(v: bigint): void }
  memory: { _store: Uint8Array; extend(offset: number, size: number): void }
  memoryWordCount: bigint
  highestMemCost: bigint
  interpreter: { getCallData(): Uint8Array }
}

type GasFn = (rs: RunState, gas: bigint, common: Common) => bigint
type LogicFn = (rs: RunState, common: Common) => void
type CustomOpcodes = NonNullable<EVMOpts['customOpcodes']>

const M64 = 0xffffffffffffffffn

/** Reads the 32-byte big-endian word at `pos` of `view` (which must hold pos + 32 bytes). */
function readWord(view: DataView, pos: number): bigint {
  const a = view.getBigUint64(pos)
  const b = view.getBigUint64(pos + 8)
  const c = view.getBigUint64(pos + 16)
  const d = view.getBigUint64(pos + 24)
  if (a === 0n && b === 0n && c === 0n) return d // most words are small: offsets, lengths, flags
  return (a << 192n) | (b << 128n) | (c << 64n) | d
}

/** Writes `w` (< 2^256) as a 32-byte big-endian word at `pos` of `view`. */
function writeWord(view: DataView, pos: number, w: bigint): void {
  if (w <= M64) {
    view.setBigUint64(pos, 0n)
    view.setBigUint64(pos + 8, 0n)
    view.setBigUint64(pos + 16, 0n)
    view.setBigUint64(pos + 24, w)
    return
  }
  view.setBigUint64(pos, w >> 192n)
  view.setBigUint64(pos + 8, (w >> 128n) & M64)
  view.setBigUint64(pos + 16, (w >> 64n) & M64)
  view.setBigUint64(pos + 24, w & M64)
}

/** One cached DataView per source (memory, calldata), rebuilt when its buffer changes. */
function viewCache(): (bytes: Uint8Array) => DataView {
  let buffer: ArrayBufferLike | undefined
  let view: DataView | undefined
  return (bytes) => {
    if (bytes.buffer !== buffer || view === undefined) {
      buffer = bytes.buffer
      view = new DataView(bytes.buffer)
    }
    return view
  }
}

const ceilWords = (n: bigint): bigint => (n + 31n) / 32n

/**
 * The custom opcode table for `common`'s hardfork.
 * @example const evm = await createEVM({ common, customOpcodes: fastOpcodes(common) })
 */
export function fastOpcodes(common: Common): CustomOpcodes {
  const stock = getOpcodesForHF(common)
  const memoryGas = common.param('memoryGas')
  const quadCoefficient = common.param('quadCoefficientDivGas')
  const copyGas = common.param('copyGas')
  const keccakWordGas = common.param('keccak256WordGas')
  const expByteGas = common.param('expByteGas')
  const memView = viewCache()
  const dataView = viewCache()

  /** Memory expansion cost of touching [offset, offset + length), as the Yellow Paper (and ethereumjs's subMemUsage) charge it. */
  const memCost = (rs: RunState, offset: bigint, length: bigint): bigint => {
    if (length === 0n) return 0n
    const words = ceilWords(offset + length)
    if (words <= rs.memoryWordCount) return 0n
    let cost = words * memoryGas + (words * words) / quadCoefficient
    if (cost > rs.highestMemCost) {
      const before = rs.highestMemCost
      rs.highestMemCost = cost
      cost -= before
    }
    rs.memoryWordCount = words
    return cost
  }

  const gas: Record<number, GasFn> = {
    0x51: (rs, g) => g + memCost(rs, rs.stack.peek()[0]!, 32n), // MLOAD
    0x52: (rs, g) => g + memCost(rs, rs.stack.peek()[0]!, 32n), // MSTORE
    0x53: (rs, g) => g + memCost(rs, rs.stack.peek()[0]!, 1n), // MSTORE8
    0xf3: (rs, g) => { const [o, l] = rs.stack.peek(2); return g + memCost(rs, o!, l!) }, // RETURN
    0xfd: (rs, g) => { const [o, l] = rs.stack.peek(2); return g + memCost(rs, o!, l!) }, // REVERT
    0x20: (rs, g) => { // KECCAK256
      const [o, l] = rs.stack.peek(2)
      return g + memCost(rs, o!, l!) + keccakWordGas * ceilWords(l!)
    },
    0x37: (rs, g) => { // CALLDATACOPY
      const [m, , l] = rs.stack.peek(3)
      g += memCost(rs, m!, l!)
      return l === 0n ? g : g + copyGas * ceilWords(l!)
    },
    0x39: (rs, g) => { // CODECOPY (no EIP-6800/7864 code-chunk charge: not active before Verkle)
      const [m, , l] = rs.stack.peek(3)
      g += memCost(rs, m!, l!)
      return l === 0n ? g : g + copyGas * ceilWords(l!)
    },
    0x5e: (rs, g) => { // MCOPY: 3 gas per word copied (EIP-5656), plus expansion for both ranges
      const [dst, src, l] = rs.stack.peek(3)
      g += 3n * ceilWords(l!)
      g += memCost(rs, src!, l!)
      return g + memCost(rs, dst!, l!)
    },
    0x0a: (rs, g) => { // EXP: per byte of the exponent
      const [, e] = rs.stack.peek(2)
      if (e === 0n) return g
      return g + BigInt(Math.ceil(e!.toString(2).length / 8)) * expByteGas
    },
  }

  const logic: Record<number, LogicFn> = {
    0x51: (rs) => { // MLOAD
      const pos = Number(rs.stack.pop())
      rs.memory.extend(pos, 32)
      rs.stack.push(readWord(memView(rs.memory._store), rs.memory._store.byteOffset + pos))
    },
    0x52: (rs) => { // MSTORE
      const [offset, word] = rs.stack.popN(2)
      const pos = Number(offset)
      rs.memory.extend(pos, 32)
      writeWord(memView(rs.memory._store), rs.memory._store.byteOffset + pos, word!)
    },
    0x35: (rs) => { // CALLDATALOAD: 32 bytes from `pos`, zero-padded on the right
      const pos = rs.stack.pop()
      const data = rs.interpreter.getCallData()
      if (pos >= BigInt(data.length)) return rs.stack.push(0n)
      const i = Number(pos)
      if (i + 32 <= data.length) return rs.stack.push(readWord(dataView(data), data.byteOffset + i))
      const padded = new Uint8Array(32)
      padded.set(data.subarray(i))
      rs.stack.push(readWord(new DataView(padded.buffer), 0))
    },
  }

  const codes = new Set([...Object.keys(gas), ...Object.keys(logic)].map(Number))
  return [...codes].map((code) => {
    const entry = stock.opcodeMap[code]
    const stockLogic = stock.handlers.get(code)
    if (!entry || !stockLogic) throw new Error(`ethereumjs has no opcode 0x${code.toString(16)} in this hardfork`)
    // Replacing a dynamic-gas opcode without its gas function would make it cheaper.
    if (entry.opcodeInfo.dynamicGas && !gas[code]) throw new Error(`opcode 0x${code.toString(16)} needs a gas function`)
    return {
      opcode: code,
      opcodeName: entry.opcodeInfo.name,
      baseFee: entry.opcodeInfo.fee,
      ...(gas[code] ? { gasFunction: gas[code] as never } : {}),
      logicFunction: (logic[code] ?? stockLogic) as never,
    }
  })
}
