/**
 * A {@link StateMachine} that asks a node to run the deployed machine (`eth_call`). Simple and
 * exactly the chain's result, but one RPC round trip per call: the client's EVM runtime
 * (machine/EvmStateMachine) runs the same bytecode locally and is what peers use for speed.
 * Useful for tools, tests and cross-checks (the demo runs the machine in the local EVM).
 */
import { Contract, Interface, getBytes, type ContractRunner } from 'ethers'
import { ProtocolError } from '../errors/ParleyError.js'
import type { StateMachine } from '../machine/StateMachine.js'
import { MACHINE_GAS } from '../contracts/evm.js'
import type { Hex } from '../protocol/types.js'
import { decodeRevert, errorMentions, findRevertData, isExecutionFailure, toParleyError } from './errors.js'

/** The IStateMachine ABI (contracts/interfaces/IStateMachine.sol). */
const MACHINE_ABI = new Interface([
  'function initialState(uint256[] deposits, bytes initData) view returns (bytes)',
  'function transition(bytes state, uint16 actor, bytes data, uint64 timestamp) view returns (bytes)',
  'function nextActor(bytes state) view returns (uint16)',
  'function outcome(bytes state) view returns (uint256[])',
  'function isTerminal(bytes state) view returns (bool)',
  'function onRemove(bytes state, uint16 index) view returns (bytes)',
])

export { MACHINE_GAS }

/**
 * @example
 * const machine = new RpcStateMachine(paymentsAddress, provider)
 * const next = await machine.transition(state, 0, data, now)
 */
export class RpcStateMachine implements StateMachine {
  readonly address: Hex
  private readonly contract: Contract
  private readonly gasCap: bigint

  /** `gasCap` bounds each call's execution like the manager does (default MACHINE_GAS). */
  constructor(address: string, runner: ContractRunner, opts: { gasCap?: bigint } = {}) {
    this.address = address.toLowerCase() as Hex
    this.contract = new Contract(this.address, MACHINE_ABI, runner)
    this.gasCap = opts.gasCap ?? MACHINE_GAS
  }

  async initialState(deposits: readonly bigint[], initData: Hex): Promise<Hex> {
    return lower(await this.call('initialState', [deposits, initData]))
  }

  async transition(state: Hex, actor: number, data: Hex, timestamp: bigint): Promise<Hex> {
    return lower(await this.call('transition', [state, actor, data, timestamp]))
  }

  async nextActor(state: Hex): Promise<number> {
    return Number(await this.call('nextActor', [state]))
  }

  async outcome(state: Hex): Promise<bigint[]> {
    return [...((await this.call('outcome', [state])) as Iterable<bigint>)].map((v) => BigInt(v))
  }

  async isTerminal(state: Hex): Promise<boolean> {
    return Boolean(await this.call('isTerminal', [state]))
  }

  async onRemove(state: Hex, index: number): Promise<Hex> {
    return lower(await this.call('onRemove', [state, index]))
  }

  /**
   * eth_call with gas = cap + intrinsic + calldata, so the machine's execution gets about
   * the cap the manager grants it. Reverts become ProtocolError `MACHINE_REVERTED` with the
   * decoded custom error in `details`; running out of the cap is `MACHINE_OUT_OF_GAS`.
   */
  private async call(method: string, args: unknown[]): Promise<unknown> {
    const fn = this.contract.getFunction(method)
    const calldata = getBytes(MACHINE_ABI.encodeFunctionData(method, args))
    const calldataGas = calldata.reduce((g, b) => g + (b === 0 ? 4n : 16n), 0n)
    try {
      return await fn.staticCall(...args, { gasLimit: this.gasCap + 21_000n + calldataGas })
    } catch (e) {
      const data = findRevertData(e)
      if (!data && errorMentions(e, /out of gas|OutOfGas/i)) {
        throw new ProtocolError('MACHINE_OUT_OF_GAS', `machine ${method} exceeded its gas cap of ${this.gasCap}`, {
          details: { method, machine: this.address, gasCap: this.gasCap }, cause: e,
        })
      }
      if (!isExecutionFailure(e)) throw toParleyError(e, `machine ${method}`)
      const decoded = data ? decodeRevert(data) : undefined
      throw new ProtocolError('MACHINE_REVERTED', `machine ${method} reverted${decoded ? `: ${decoded.name}` : ''}`, {
        details: { method, machine: this.address, ...(decoded ? { error: decoded.name, args: decoded.args } : {}), ...(data ? { data } : {}) },
        cause: e,
      })
    }
  }
}

function lower(v: unknown): Hex {
  return String(v).toLowerCase() as Hex
}
