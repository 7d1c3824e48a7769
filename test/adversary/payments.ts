/**
 * The Payments machine's state as plain values (contracts/examples/Payments.sol:
 * `abi.encode(State(uint64 active, uint16 turn, uint256[] balances))`), its move data, and the
 * states an adversary invents. Pure.
 */
import { AbiCoder } from 'ethers'
import { bitIndices, hasBit } from '../../src/protocol/bitmap.js'
import type { Hex } from '../../src/protocol/types.js'

const abi = AbiCoder.defaultAbiCoder()
const STATE = ['tuple(uint64,uint16,uint256[])']

/** A decoded Payments state. */
export interface PaymentsState {
  active: bigint
  turn: number
  balances: bigint[]
}

/** Decodes a Payments state; undefined for bytes that are not one. */
export function decodePayments(state: Hex): PaymentsState | undefined {
  try {
    const [[active, turn, balances]] = abi.decode(STATE, state) as unknown as [[bigint, bigint, bigint[]]]
    return { active: BigInt(active), turn: Number(turn), balances: [...balances].map((b) => BigInt(b)) }
  } catch {
    return undefined
  }
}

/** Encodes a Payments state. */
export function encodePayments(s: PaymentsState): Hex {
  return abi.encode(STATE, [[s.active, s.turn, s.balances]]) as Hex
}

/** Participant `i`'s balance in `state` (undefined if it does not decode). */
export function balanceIn(state: Hex, i: number): bigint | undefined {
  return decodePayments(state)?.balances[i]
}

/** Move data: pay `amount` to `to`; `'0x'` is a pass. */
export function payData(to: number, amount: bigint): Hex {
  return abi.encode(['uint16', 'uint256'], [to, amount]) as Hex
}

/**
 * A honest-looking move for `actor` on `state`: pay `share`/4 of its balance to the `to`-th
 * other active participant (share 0, or nobody to pay: a pass).
 */
export function chooseMove(state: Hex, actor: number, share: number, to: number): Hex {
  const s = decodePayments(state)
  if (!s || share <= 0) return '0x'
  const others = bitIndices(s.active).filter((i) => i !== actor)
  const balance = s.balances[actor] ?? 0n
  if (others.length === 0 || balance === 0n) return '0x'
  return payData(others[to % others.length]!, (balance * BigInt(Math.min(share, 4))) / 4n)
}

/**
 * A state no valid move leads to: every balance given to `thief`, the turn passed to the first
 * active participant after it (so a timeout on it accuses someone else).
 */
export function inventedState(state: Hex, thief: number): Hex {
  const s = decodePayments(state)
  if (!s) return encodePayments({ active: 0b11n, turn: 0, balances: [0n, 0n] })
  const total = s.balances.reduce((a, b) => a + b, 0n)
  const n = s.balances.length
  let turn = thief
  for (let k = 1; k <= n; k++) {
    const c = (thief + k) % n
    if (hasBit(s.active, c) && c !== thief) {
      turn = c
      break
    }
  }
  return encodePayments({ active: s.active, turn, balances: s.balances.map((_, i) => (i === thief ? total : 0n)) })
}
