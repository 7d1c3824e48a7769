/**
 * A leaner main loop for ethereumjs's interpreter, switched on per EVM instance, and a direct
 * way to run a top-level static frame ({@link runStaticFrame}).
 *
 * ethereumjs's `Interpreter.run` awaits an async `runStep` for every opcode and redoes the
 * jump-destination analysis of the whole contract (one BigInt per PUSH) on every call. For a
 * pure machine call of ~1,000 opcodes those two costs dominate. This loop:
 * - analyses each code array once (cached by identity; nobody mutates code arrays);
 * - calls the opcode's gas and logic handlers directly and awaits only when a handler
 *   actually returns a promise (state-touching opcodes; with `opcodes.ts` the memory opcodes
 *   are synchronous);
 * - keeps ethereumjs's handlers, gas rules, error objects and result shape, so everything
 *   outside the loop (calls, reverts, precompiles) is untouched.
 *
 * It runs only for EVMs marked with {@link enableFastRun}, for legacy (non-EOF) code, with no
 * `step` listener, no DEBUG and no profiler, under hardforks without Verkle code-chunk gas or
 * Amsterdam frame accounting (checked when enabling). Anything else takes the stock loop.
 * `evm.test.ts` compares both loops on random programs (same output, gas and errors).
 *
 * The patch is applied to ethereumjs's `Interpreter` prototype, reached through its module
 * file (the package does not export the class). If that file or method is missing, the
 * patch is skipped and {@link enableFastRun} reports false: slower, never wrong.
 */
import { EVMError, type EVM } from '@ethereumjs/evm'
import { createZeroAddress, type Account, type Address } from '@ethereumjs/util'

const FAST = Symbol.for('parley.fastRun')

/** One code array's analysis, as ethereumjs's `_getValidJumpDestinations` returns it. */
interface Analysis {
  jumps: Uint8Array
  pushes: Record<number, bigint>
  opcodesCached: OpEntry[]
}

interface OpEntry {
  opcodeInfo: { code: number; feeBigInt: bigint; dynamicGas: boolean; isAsync: boolean; isInvalid: boolean }
  opHandler: (rs: unknown, common: unknown) => unknown
  gasHandler?: (rs: unknown, gas: bigint, common: unknown) => bigint | Promise<bigint>
}

/** The interpreter fields the loop uses (ethereumjs does not export these types). */
interface InterpreterLike {
  _evm: EVM & { [FAST]?: boolean; _optsCached: { profiler?: { enabled?: boolean } } }
  common: unknown
  _runState: {
    code: Uint8Array
    programCounter: number
    opCode: number
    gasLeft: bigint
    validJumps: Uint8Array
    cachedPushes: Record<number, bigint>
    shouldDoJumpAnalysis: boolean
    env: { eof?: unknown }
  }
  _getValidJumpDestinations(code: Uint8Array): Analysis
}

type RunResult = { runState: unknown; exceptionError?: EVMError }
type Run = (this: InterpreterLike, code: Uint8Array, opts?: { pc?: number }) => Promise<RunResult>

const analyses = new WeakMap<Uint8Array, Analysis>()
let installed: Promise<boolean> | undefined
/** ethereumjs's Interpreter class, once {@link install} found it. */
let InterpreterClass: (new (...args: unknown[]) => InterpreterLike & { _result: { returnValue?: Uint8Array; selfdestruct: unknown }; run: Run }) | undefined

/** Patches the interpreter prototype once; resolves whether the fast loop is available. */
function install(): Promise<boolean> {
  installed ??= (async () => {
    try {
      const url = new URL('./interpreter.js', import.meta.resolve('@ethereumjs/evm'))
      const mod = (await import(url.href)) as { Interpreter?: { prototype: Record<string, unknown> } }
      const proto = mod.Interpreter?.prototype
      if (!proto || typeof proto.run !== 'function' || typeof proto._getValidJumpDestinations !== 'function') return false
      InterpreterClass = mod.Interpreter as never
      const stockRun = proto.run as Run
      proto.run = function (this: InterpreterLike, code: Uint8Array, opts: { pc?: number } = {}) {
        const evm = this._evm
        const eligible =
          evm[FAST] === true &&
          code[0] !== 0xef &&
          this._runState.env.eof === undefined &&
          !evm.DEBUG &&
          evm.events.listenerCount('step') === 0 &&
          evm._optsCached.profiler?.enabled !== true
        return eligible ? fastRun.call(this, code, opts) : stockRun.call(this, code, opts)
      } satisfies Run
      return true
    } catch {
      return false
    }
  })()
  return installed
}

const STOP = EVMError.errorMessages.STOP
const OUT_OF_GAS = EVMError.errorMessages.OUT_OF_GAS
const INVALID_OPCODE = EVMError.errorMessages.INVALID_OPCODE

async function fastRun(this: InterpreterLike, code: Uint8Array, opts: { pc?: number }): Promise<RunResult> {
  const rs = this._runState
  rs.code = code
  rs.programCounter = opts.pc ?? rs.programCounter
  let analysis = analyses.get(code)
  if (!analysis) {
    analysis = this._getValidJumpDestinations(code)
    analyses.set(code, analysis)
  }
  rs.validJumps = analysis.jumps
  rs.cachedPushes = analysis.pushes
  rs.shouldDoJumpAnalysis = false
  const ops = analysis.opcodesCached
  const common = this.common
  const end = code.length
  let err: EVMError | undefined
  while (rs.programCounter < end) {
    const entry = ops[rs.programCounter]!
    const info = entry.opcodeInfo
    rs.opCode = info.code
    try {
      let gas = info.feeBigInt
      if (info.dynamicGas) {
        const g = entry.gasHandler!(rs, gas, common)
        gas = typeof g === 'bigint' ? g : await g
      }
      if (info.isInvalid) throw new EVMError(INVALID_OPCODE)
      rs.gasLeft -= gas
      if (rs.gasLeft < 0n) {
        rs.gasLeft = 0n
        throw new EVMError(OUT_OF_GAS)
      }
      rs.programCounter++
      const r = entry.opHandler(rs, common)
      if (info.isAsync && r !== undefined) await r
    } catch (e) {
      if (!(e instanceof EVMError) && (e as { errorType?: string })?.errorType !== 'EVMError') throw e
      if ((e as EVMError).error !== STOP) err = e as EVMError
      break
    }
  }
  return err === undefined ? { runState: rs } : { runState: rs, exceptionError: err }
}

/**
 * Turns the fast loop on for `evm` if its hardfork allows; resolves whether it is on.
 * @example const fast = await enableFastRun(evm) // true under cancun
 */
export async function enableFastRun(evm: EVM): Promise<boolean> {
  // Verkle code-chunk gas (6800/7864), block access lists (7928) and state-gas frames
  // (8037) add per-step work the fast loop does not do.
  if ([6800, 7864, 7928, 8037].some((eip) => evm.common.isActivatedEIP(eip))) return false
  if (!(await install())) return false
  ;(evm as { [FAST]?: boolean })[FAST] = true
  return true
}

/** One top-level static call: the code, its address and account, the input and the gas. */
export interface StaticFrame {
  code: Uint8Array
  data: Uint8Array
  gasLimit: bigint
  to: Address
  contract: Account
}

/** What a top-level frame produced (the fields of ethereumjs's ExecResult we need). */
export interface FrameResult {
  returnValue: Uint8Array
  exceptionError?: EVMError
  gasLeft: bigint
}

/**
 * Runs a depth-0 static call on `evm` by constructing the interpreter directly, as
 * `EVM.runInterpreter` does, minus the result object it assembles from three object
 * spreads: under Node 20's V8 that literal alone costs tens of microseconds (a second spread
 * into a non-empty literal takes a slow path), more than a whole small machine call.
 * Nested calls still go through ethereumjs's `runCall`. Returns undefined when the
 * interpreter class is unavailable (the caller then uses `evm.runCode`). The EVM's block
 * and transaction context must have been set by one `runCode` call first.
 */
export function runStaticFrame(evm: EVM, frame: StaticFrame): Promise<FrameResult> | undefined {
  if (!InterpreterClass || (evm as { [FAST]?: boolean })[FAST] !== true) return undefined
  const e = evm as unknown as EvmInternals
  if (e._block === undefined || e._tx === undefined) return undefined
  // Same fields, in the same order, as EVM.runInterpreter's `env` for a runCode message.
  const env = {
    address: frame.to,
    caller: ZERO,
    callData: frame.data,
    callValue: 0n,
    code: frame.code,
    isStatic: true,
    isCreate: false,
    depth: 0,
    gasPrice: e._tx.gasPrice,
    origin: e._tx.origin ?? ZERO,
    block: e._block,
    contract: frame.contract,
    codeAddress: frame.to,
    gasRefund: 0n,
    chargeCodeAccesses: undefined,
    blobVersionedHashes: [],
    accessWitness: undefined,
    createdAddresses: undefined,
    initialLogs: undefined,
  }
  const interpreter = new InterpreterClass(evm, evm.stateManager, evm.blockchain, env, frame.gasLimit, evm.journal, e.performanceLogger, e._optsCached.profiler)
  interpreter._result.selfdestruct = new Map()
  return interpreter.run(frame.code, {}).then((r) => ({
    returnValue: interpreter._result.returnValue ?? new Uint8Array(0),
    ...(r.exceptionError ? { exceptionError: r.exceptionError } : {}),
    gasLeft: interpreter._runState.gasLeft,
  }))
}

/** EVM fields runStaticFrame reads (protected in ethereumjs's typings). */
interface EvmInternals {
  _block?: unknown
  _tx?: { gasPrice: bigint; origin?: Address }
  performanceLogger: unknown
  _optsCached: { profiler?: unknown }
}

const ZERO = createZeroAddress()
