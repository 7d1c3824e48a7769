/**
 * Our move answering a peer's transaction in the commit of that transaction (Channel.onTurn):
 * asking the application's handler, bounded in time, and running an input inside one held store
 * transaction (Store.hold). The Engine decides when; these are the mechanics.
 */
import { RuntimeError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'
import type { Store } from '../store/types.js'

/** How long an input waits for the turn handler's move before it ends without it (the move is then proposed on its own). */
export const TURN_WAIT_MS = 250

/** Our next move when a peer's transaction made it our turn, or undefined to make none (Channel.onTurn). */
export type TurnHandler = () => Hex | undefined | Promise<Hex | undefined>

/** The handler's answer in time (`data`, undefined for no move), or its answer still to come (`late`). */
export type TurnAnswer = { data: Hex | undefined; late?: undefined } | { data?: undefined; late: Promise<Hex | undefined> }

/**
 * Asks `handler` for our move and waits {@link TURN_WAIT_MS} at most: the channel's other
 * inputs (its court's among them) queue behind the answer. A handler that throws in time throws here.
 * @example const a = await askTurn(handler); if (a.late) a.late.then(proposeLater); else if (a.data) await propose(a.data)
 */
export async function askTurn(handler: TurnHandler, waitMs = TURN_WAIT_MS): Promise<TurnAnswer> {
  const slow = Symbol('slow')
  let timer: NodeJS.Timeout | undefined
  const asked = Promise.resolve().then(handler)
  try {
    const data = await Promise.race([asked, new Promise<typeof slow>((r) => (timer = setTimeout(r, waitMs, slow)))])
    return data === slow ? { late: asked } : { data }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Runs `fn` in one held transaction where the store has them (a durable one: every commit `fn`
 * makes lands as one), plainly otherwise. `fn`'s own failure is rethrown after the commit. A
 * failed final commit means what `fn` recorded in memory is not on disk: `lost()` runs (nothing
 * `fn` produced may leave) and RuntimeError `STORE_IO` is thrown.
 * @example await heldCommit(store, () => receiveAndAnswer(), () => dropOutbox())
 */
export async function heldCommit(store: Store, fn: () => Promise<void>, lost: () => void): Promise<void> {
  if (store.durable !== true || store.hold === undefined) return fn()
  let failure: unknown
  try {
    await store.hold(() => fn().catch((e) => void (failure = e)))
  } catch (cause) {
    lost()
    throw new RuntimeError('STORE_IO', 'the commit of a received transaction and our answer failed: the channel stops; restore it from its store', { cause })
  }
  if (failure !== undefined) throw failure
}
