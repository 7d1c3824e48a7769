/**
 * Adapts the client's {@link StateMachine} (an EvmStateMachine runs the deployed bytecode with
 * the manager's gas cap and strict decoding) to the machine answers the admission reference
 * needs: a failed call becomes the manager's error name — MachineCallFailed for a revert, a halt,
 * the gas cap or a result longer than its type may be (the manager copies nothing then),
 * MachineResultInvalid for a result that does not decode.
 */
import { ProtocolError } from '../../errors/ParleyError.js'
import type { StateMachine } from '../stateMachine.js'
import type { Hex } from '../types.js'
import type { MachineCalls, MachineError, MachineResult } from './types.js'

/** The manager's name for a client machine failure; rethrows anything else (I/O, usage). */
function failure(e: unknown): MachineError {
  if (!(e instanceof ProtocolError)) throw e
  if (e.code === 'MACHINE_REVERTED' || e.code === 'MACHINE_OUT_OF_GAS') return 'MachineCallFailed'
  if (e.code !== 'MACHINE_RESULT_INVALID') throw e
  // Over-long results: the manager's copy bound fails the call before any decoding.
  const data = String(e.details?.data ?? '0x')
  const method = e.details?.method
  const long = e.message.includes('more than') || ((method === 'nextActor' || method === 'isTerminal') && data.length > 66)
  return long ? 'MachineCallFailed' : 'MachineResultInvalid'
}

async function attempt<T>(call: () => Promise<T>): Promise<MachineResult<T>> {
  try {
    return { ok: true, value: await call() }
  } catch (e) {
    return { ok: false, error: failure(e) }
  }
}

/**
 * @example const v = await admission(facts, call, machineCalls(await EvmStateMachine.fromChain({ provider, address })))
 */
export function machineCalls(machine: StateMachine): MachineCalls {
  return {
    nextActor: (state: Hex) => attempt(() => machine.nextActor(state)),
    isTerminal: (state: Hex) => attempt(() => machine.isTerminal(state)),
    transition: (state: Hex, actor: number, data: Hex, timestamp: bigint) => attempt(() => machine.transition(state, actor, data, timestamp)),
    onRemove: (state: Hex, index: number) => attempt(() => machine.onRemove(state, index)),
    outcome: (state: Hex) => attempt(() => machine.outcome(state)),
  }
}
