/**
 * The runtime-independent interface of a channel's state machine, as the client uses it.
 * `EvmStateMachine` implements it by running the deployed machine bytecode in a local EVM;
 * other runtimes can plug in later. Every method mirrors contracts/interfaces/IStateMachine.sol.
 *
 * Errors: a machine that rejects its input throws a ProtocolError with code
 * `MACHINE_REVERTED` whose `details` hold the decoded custom error (name and args) when the
 * machine's ABI knows it; a call that exceeds the gas cap throws `MACHINE_OUT_OF_GAS`.
 */
import type { Hex } from './types.js'

export interface StateMachine {
  /** Genesis state for `deposits` (index = participant) and the channel's `initData`. */
  initialState(deposits: readonly bigint[], initData: Hex): Promise<Hex>
  /** The state after `actor` applies `data` at `timestamp`; throws if the move is invalid. */
  transition(state: Hex, actor: number, data: Hex, timestamp: bigint): Promise<Hex>
  /** The only participant allowed to author the next transaction. */
  nextActor(state: Hex): Promise<number>
  /** Payout per participant if the channel settled in `state`. */
  outcome(state: Hex): Promise<bigint[]>
  /** Whether no further transaction is possible. */
  isTerminal(state: Hex): Promise<boolean>
  /** The genesis of the next fork after participant `index` is removed. */
  onRemove(state: Hex, index: number): Promise<Hex>
}
