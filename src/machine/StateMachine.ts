/** The client's view of a state machine: the interface lives with the protocol's rules (src/protocol/stateMachine.ts). */
export type { StateMachine } from '../protocol/stateMachine.js'
