/**
 * The example machines as the CLI knows them: how a typed move (`pay 1 0.5`, `cell 4`,
 * `inc 2`, `pass`) becomes move data, and how a state's bytes read as text. Any other machine
 * still works with raw `0x…` move data; its states print as their hash.
 */
import { AbiCoder, isHexString } from 'ethers'
import type { Hex } from '../../src/protocol/types.js'
import { formatAmount, parseAmount, type Asset } from './assets.js'
import type { Deployment } from './deployment.js'
import { argError } from './errors.js'

export const MACHINE_NAMES = ['payments', 'tictactoe', 'counter'] as const
export type MachineName = (typeof MACHINE_NAMES)[number]

/** What move parsing and state printing need to know about the channel. */
export interface MachineContext {
  participants: readonly Hex[]
  asset: Asset
}

/** A decoded state: one line of text and the fields as data (for `--json`). */
export interface StateView {
  text: string
  data: Record<string, unknown>
}

const abi = AbiCoder.defaultAbiCoder()

const PAYMENTS = 'tuple(uint64 active, uint16 turn, uint256[] balances)'
const COUNTER = 'tuple(uint64 active, uint16 turn, uint64 count, uint64 target, uint256[] deposits)'
const TICTACTOE = 'tuple(uint8[9] board, uint16 turn, uint8 result, uint256[2] stakes)'

/** Move syntax per machine, for help texts. */
export const MOVE_HELP: Record<MachineName, string> = {
  payments: 'pay <to> <amount> (to: participant index or address; amount in the channel asset) · pass',
  tictactoe: 'cell <0-8> (row-major; participant 0 plays X)',
  counter: 'inc <n> (n ≥ 1)',
}

/** The example machine at `address` in the deployment, if it is one. */
export function machineNameOf(address: Hex, deployment?: Deployment): MachineName | undefined {
  if (!deployment) return undefined
  return MACHINE_NAMES.find((n) => deployment.machines[n].toLowerCase() === address.toLowerCase())
}

/**
 * Move data for a typed move: raw `0x…` for any machine, or the machine's own syntax.
 * ArgumentError `MOVE_UNKNOWN` / `MOVE_INVALID` with the expected syntax otherwise.
 * @example parseMove('pay 1 0.5', 'payments', ctx)
 */
export function parseMove(line: string, machine: MachineName | undefined, ctx: MachineContext): Hex {
  const words = line.trim().split(/\s+/)
  const [verb, ...rest] = words
  if (verb?.startsWith('0x')) {
    if (rest.length > 0 || !isHexString(verb, true)) throw argError('MOVE_INVALID', `raw move data must be one 0x-hex string of whole bytes, got ${JSON.stringify(line)}`)
    return verb.toLowerCase() as Hex
  }
  const wrong = (syntax: string) => argError('MOVE_INVALID', `${JSON.stringify(line.trim())}: expected ${syntax}`)
  if (machine === 'payments' && verb === 'pass' && rest.length === 0) return '0x'
  if (machine === 'payments' && verb === 'pay') {
    if (rest.length !== 2) throw wrong('pay <to> <amount>')
    const to = participantOf(rest[0]!, ctx.participants)
    return abi.encode(['uint16', 'uint256'], [to, parseAmount(rest[1]!, ctx.asset)]) as Hex
  }
  if (machine === 'tictactoe' && verb === 'cell') {
    if (rest.length !== 1 || !/^[0-8]$/.test(rest[0]!)) throw wrong('cell <0-8>')
    return abi.encode(['uint256'], [Number(rest[0])]) as Hex
  }
  if (machine === 'counter' && verb === 'inc') {
    if (rest.length !== 1 || !/^\d+$/.test(rest[0]!) || BigInt(rest[0]!) < 1n || BigInt(rest[0]!) >= 2n ** 64n) throw wrong('inc <n> with 1 ≤ n < 2^64')
    return abi.encode(['uint64'], [BigInt(rest[0]!)]) as Hex
  }
  const syntax = machine ? `${MOVE_HELP[machine]} · 0x<data>` : '0x<data> (not an example machine: raw move data only)'
  throw argError('MOVE_UNKNOWN', `unknown move ${JSON.stringify(line.trim())}: moves are ${syntax}`)
}

function participantOf(text: string, participants: readonly Hex[]): number {
  const byAddress = participants.indexOf(text.toLowerCase() as Hex)
  if (byAddress >= 0) return byAddress
  if (/^\d+$/.test(text) && Number(text) < participants.length) return Number(text)
  throw argError('MOVE_INVALID', `${JSON.stringify(text)} is not a participant (0..${participants.length - 1} or an address)`)
}

/**
 * Reads a state of an example machine; undefined for other machines or bytes that do not
 * decode (the caller prints the hash).
 * @example describeState(state, 'payments', ctx)?.text // 'balances #0 0.75 ETH · #1 1.25 ETH · turn #1'
 */
export function describeState(state: Hex, machine: MachineName | undefined, ctx: MachineContext): StateView | undefined {
  try {
    if (machine === 'payments') {
      const [s] = abi.decode([PAYMENTS], state) as unknown as [{ turn: bigint; balances: bigint[] }]
      const balances = [...s.balances].map((b) => BigInt(b))
      return {
        text: `balances ${balances.map((b, i) => `#${i} ${formatAmount(b, ctx.asset)}`).join(' · ')} · turn #${s.turn}`,
        data: { balances, turn: Number(s.turn) },
      }
    }
    if (machine === 'counter') {
      const [s] = abi.decode([COUNTER], state) as unknown as [{ turn: bigint; count: bigint; target: bigint }]
      return { text: `count ${s.count}${s.target > 0n ? `/${s.target}` : ''} · turn #${s.turn}`, data: { count: BigInt(s.count), target: BigInt(s.target), turn: Number(s.turn) } }
    }
    if (machine === 'tictactoe') {
      const [s] = abi.decode([TICTACTOE], state) as unknown as [{ board: bigint[]; turn: bigint; result: bigint }]
      const marks = [...s.board].map((c) => ['.', 'X', 'O'][Number(c)] ?? '?')
      const rows = [0, 3, 6].map((r) => marks.slice(r, r + 3).join('')).join('/')
      const result = ['ongoing', 'X won', 'O won', 'draw'][Number(s.result)] ?? `result ${s.result}`
      return { text: `board ${rows} · ${result}${Number(s.result) === 0 ? ` · turn #${s.turn}` : ''}`, data: { board: marks.join(''), result, turn: Number(s.turn) } }
    }
  } catch {
    return undefined // not this machine's encoding: print the hash instead
  }
  return undefined
}
