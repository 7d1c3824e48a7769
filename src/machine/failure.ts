/**
 * What counts as a failed machine call — the same on the client as in the manager
 * (contracts/manager/AMachineCalls.sol): a revert or halt, running out of the gas cap, or a
 * result that is not exactly the declared type (codec.ts). A transition that fails is invalid;
 * a state whose nextActor fails can be moved on by nobody.
 */
import { ProtocolError } from '../errors/ParleyError.js'
import { MACHINE_FAILURE_CODES } from '../errors/codes.js'
import type { Hex } from '../protocol/types.js'
import type { StateMachine } from './StateMachine.js'


/** The next actor of a state on which the machine's nextActor fails: every transaction on it is invalid. */
export const NO_ACTOR = -1

/**
 * Whether `e` is a failed machine call (not an I/O or usage error).
 * @example try { await machine.transition(s, a, d, t) } catch (e) { if (isMachineFailure(e)) reject() }
 */
export function isMachineFailure(e: unknown): e is ProtocolError {
  return e instanceof ProtocolError && (MACHINE_FAILURE_CODES as readonly string[]).includes(e.code)
}

/**
 * `nextActor(state)`, or {@link NO_ACTOR} when the call fails, as the manager treats it.
 * @example const next = await nextActorOf(machine, state)
 */
export async function nextActorOf(machine: StateMachine, state: Hex): Promise<number> {
  try {
    return await machine.nextActor(state)
  } catch (e) {
    if (isMachineFailure(e)) return NO_ACTOR
    throw e
  }
}
