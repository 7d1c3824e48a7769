/**
 * How the CLI speaks a channel's machine: typed moves to move data, states to text, reverts to
 * error names. Three kinds, chosen from the params file and the deployment:
 *
 * - an example machine (payments, tictactoe, counter): its hand-made syntax (lib/machines.ts:
 *   amounts in the asset, participants by address);
 * - a machine deployed with `parley machine deploy`: its ABI (src/machine/MachineAbi.ts) —
 *   moves are calls of its encoders, run in a local EVM; states come from its decodeState;
 *   errors are named by its ABI — once the chain's code matches the metadata;
 * - any other machine: raw `0x…` moves, states as their hash.
 */
import { describeRevert, formatState, MachineAbi } from '../../src/machine/MachineAbi.js'
import { EvmStateMachine } from '../../src/machine/EvmStateMachine.js'
import type { Hex } from '../../src/protocol/types.js'
import type { Asset } from './assets.js'
import type { ChannelContext } from './channel.js'
import { checkMachineRecord, readMachineRecord } from './machineRecords.js'
import { MACHINE_NAMES, MOVE_HELP, describeState, machineNameOf, parseMove, type MachineContext, type MachineName, type StateView } from './machines.js'

export interface MachineSpeaker {
  /** The machine's name (example or deployed), if it has one. */
  name?: string
  /** Move syntax for help texts (without the raw `0x<data>`). */
  moves: string
  /** Move data for a typed line, synchronously, when the machine's syntax allows (the examples). */
  encodeSync?: (line: string) => Hex
  /** Move data for a typed line (raw `0x…` always works). */
  encode(line: string): Promise<Hex>
  /** A state as text and data; undefined: print its hash. */
  describe(state: Hex): Promise<StateView | undefined>
  /** A machine revert in `e` by name and arguments, if it carries one. */
  explain(e: unknown): string | undefined
}

/**
 * The speaker of an example machine (its hand-made syntax), or with no name, of a machine
 * known only by its address (raw moves, states as their hash).
 * @example const speaker = exampleSpeaker('payments', { participants, asset })
 */
export function exampleSpeaker(example: MachineName | undefined, mctx: MachineContext): MachineSpeaker {
  const encodeSync = (line: string) => parseMove(line, example, mctx)
  return {
    ...(example ? { name: example } : {}), moves: example ? MOVE_HELP[example] : '', encodeSync, encode: async (line) => encodeSync(line),
    describe: async (state) => describeState(state, example, mctx), explain: (e) => describeRevert(e),
  }
}

/**
 * The speaker for the channel in `ctx`; a deployed machine's metadata is checked against the
 * chain first (ArgumentError `MACHINE_NOT_FOUND`, `MACHINE_METADATA_MISMATCH`).
 * @example const speaker = await speakerFor(ctx, asset)
 */
export async function speakerFor(ctx: ChannelContext, asset: Asset): Promise<MachineSpeaker> {
  const mctx = { participants: ctx.params.participants, asset }
  const example = (MACHINE_NAMES as readonly string[]).includes(ctx.machineName ?? '') ? (ctx.machineName as MachineName) : machineNameOf(ctx.params.machine, ctx.chain.deployment)
  if (example || !ctx.machineName) return exampleSpeaker(example, mctx)
  const record = readMachineRecord(ctx.machineName)
  await checkMachineRecord(record, ctx.chain.provider, ctx.chain.chainId, ctx.params.machine)
  const abi = new MachineAbi(record.abi as never)
  const evm = await EvmStateMachine.fromChain({ provider: ctx.chain.provider, address: record.address, expectedCodeHash: record.codeHash })
  return {
    name: record.name,
    moves: abi.moveSyntax,
    encode: async (line) => (line.trim().startsWith('0x') ? parseMove(line, undefined, mctx) : abi.encodeMove(evm, line)),
    async describe(state) {
      const fields = await abi.decodeState(evm, state).catch(() => undefined) // a state it cannot decode prints as its hash
      return fields ? { text: formatState(fields), data: Object.fromEntries(fields.map((f) => [f.name, f.value])) } : undefined
    },
    explain: (e) => abi.describeRevert(e),
  }
}
