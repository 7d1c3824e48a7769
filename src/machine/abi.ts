/**
 * The IStateMachine ABI (contracts/interfaces/IStateMachine.sol) and the custom errors every
 * machine built on AStateMachine may throw. `abi.test.ts` checks these against the compiled
 * artifacts, so a change to the Solidity interface cannot drift silently.
 */
import { Interface } from 'ethers'
import type { Hex } from '../protocol/types.js'

/** The six IStateMachine methods. */
export type MachineMethod = 'initialState' | 'transition' | 'nextActor' | 'outcome' | 'isTerminal' | 'onRemove'

/**
 * IStateMachine plus AStateMachine's errors, as an ethers Interface.
 * @example MACHINE_INTERFACE.encodeFunctionData('nextActor', [state])
 */
export const MACHINE_INTERFACE = new Interface([
  'function initialState(uint256[] deposits, bytes initData) pure returns (bytes state)',
  'function transition(bytes state, uint16 actor, bytes data, uint64 timestamp) pure returns (bytes next)',
  'function nextActor(bytes state) pure returns (uint16 actor)',
  'function outcome(bytes state) pure returns (uint256[] payouts)',
  'function isTerminal(bytes state) pure returns (bool)',
  'function onRemove(bytes state, uint16 index) pure returns (bytes next)',
  'error MachineNotYourTurn(uint16 actor, uint16 expected)',
  'error MachineInvalidMove()',
  'error MachineInvalidState()',
])

const METHODS: readonly MachineMethod[] = ['initialState', 'transition', 'nextActor', 'outcome', 'isTerminal', 'onRemove']

/** 4-byte selector of each method. */
export const SELECTORS = Object.fromEntries(
  METHODS.map((m) => [m, MACHINE_INTERFACE.getFunction(m)!.selector as Hex]),
) as Record<MachineMethod, Hex>
