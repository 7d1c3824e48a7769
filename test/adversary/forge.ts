/**
 * What a byzantine participant signs outside the protocol: transactions on top of a given
 * head (or at an older height), wrong in one chosen way — an invented resulting state, a move
 * the machine rejects, a move out of turn, a timestamp before the parent or far in the future,
 * data over MAX_DATA_BYTES — or valid moves used against the rules: a second move at a height
 * it already signed (equivocation), two different moves sent to different peers (a split), a
 * valid move it keeps to itself (withheld, stamped as early as the rules allow). Built and
 * signed with the shared toolkit (test/helpers/byzantine.ts); pure apart from the machine call
 * that computes a valid resulting state.
 */
import { hashState } from '../../src/protocol/eip712.js'
import { MAX_DATA_BYTES, type Hex, type Transaction } from '../../src/protocol/types.js'
import { bytes, type Byzantine as Toolkit } from '../helpers/byzantine.js'
import { chooseMove, inventedState, payData } from './payments.js'

/** The ways a forged transaction can be wrong (or valid and abused). */
export const FORGE_KINDS = ['badHash', 'overpay', 'wrongTurn', 'backdated', 'future', 'oversized', 'equivocate', 'split', 'withheld'] as const
export type ForgeKind = (typeof FORGE_KINDS)[number]

/** A head to build on: the state at `seq` on `fork` and its transaction's timestamp. */
export interface Head {
  channelId: Hex
  fork: bigint
  seq: bigint
  state: Hex
  stateHash: Hex
  timestamp: bigint
  /** Whose move is next on it (NO_ACTOR = -1). */
  nextActor: number
}

/** A signed transaction and the state bytes it claims (invented ones included). */
export interface Forged {
  transaction: Transaction
  signature: Hex
  /** The bytes that hash to `transaction.stateHash`. */
  state: Hex
  label: string
}

export interface ForgeContext {
  /** The byzantine participant's toolkit (signs anything, runs the machine). */
  tools: Toolkit
  /** The chain's time now (seconds). */
  now: bigint
}

async function valid(ctx: ForgeContext, head: Head, data: Hex, timestamp: bigint): Promise<Hex | undefined> {
  try {
    return (await ctx.tools.move(head, head.state, data, { timestamp })).state
  } catch {
    return undefined
  }
}

/**
 * One forged transaction of `kind` on `head` (for 'split', the second version is
 * {@link forgeSplit}), stamped `at` (default: now, never before the head). A kind that needs our
 * turn when it is not ours yields a move out of turn with an invented state (still provable).
 */
export async function forge(ctx: ForgeContext, head: Head, kind: ForgeKind, variant = 0, at?: bigint): Promise<Forged> {
  const me = ctx.tools.me
  const ts = at ?? (ctx.now > head.timestamp ? ctx.now : head.timestamp)
  const invented = inventedState(head.state, me)
  const make = (label: string, data: Hex, timestamp: bigint, state: Hex): Forged => {
    const transaction = ctx.tools.tx(head, { timestamp, data, stateHash: hashState(state) })
    return { transaction, signature: ctx.tools.sign(transaction), state, label }
  }
  const move = chooseMove(head.state, me, 1 + (variant % 4), variant)
  switch (kind) {
    case 'badHash':
      return make('invented state', move, ts, invented)
    case 'overpay':
      return make('pays more than its balance', payData((me + 1) % 2, 1n << 200n), ts, invented)
    case 'oversized':
      return make(`${MAX_DATA_BYTES + 904}-byte data`, bytes(MAX_DATA_BYTES + 904), ts, invented)
    case 'future': {
      const s = (await valid(ctx, head, move, ctx.now + 10_000n)) ?? invented
      return make('stamped 10,000 s ahead', move, ctx.now + 10_000n, s)
    }
    case 'backdated': {
      const at = head.timestamp > 50n ? head.timestamp - 50n : 0n
      const s = (await valid(ctx, head, move, at)) ?? invented
      return make('stamped before its parent', move, at, s)
    }
    case 'withheld': {
      const s = await valid(ctx, head, move, head.timestamp)
      return s ? make('valid, withheld, stamped at its parent', move, head.timestamp, s) : make('out of turn', move, head.timestamp, invented)
    }
    case 'wrongTurn':
    case 'equivocate':
    case 'split': {
      const s = head.nextActor === me ? await valid(ctx, head, move, ts) : undefined
      return s ? make(kind === 'wrongTurn' ? 'valid move' : 'one version', move, ts, s) : make('out of turn', move, ts, invented)
    }
  }
}

/** A second, different valid move on the same head (a pass if the first paid, else a payment). */
export async function forgeSplit(ctx: ForgeContext, head: Head, first: Forged): Promise<Forged> {
  const data = first.transaction.data === '0x' ? chooseMove(head.state, ctx.tools.me, 1, 1) : '0x'
  const ts = first.transaction.timestamp
  const state = (await valid(ctx, head, data, ts)) ?? inventedState(head.state, ctx.tools.me)
  const transaction: Transaction = { ...first.transaction, data, stateHash: hashState(state) }
  if (data === first.transaction.data) transaction.timestamp = ts + 1n
  return { transaction, signature: ctx.tools.sign(transaction), state, label: 'the other version' }
}
