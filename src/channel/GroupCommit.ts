/**
 * When the peers' signatures that wait in memory for a commit are stored by themselves (see
 * Engine): not while the channel keeps getting inputs — the next transaction's commit takes them
 * along, one fsync for all — but once a whole turn of the event loop passed without an input for
 * this channel (none is coming soon), or when MAX_WAITING of them wait.
 */
import { crashPoint } from '../testing/crashPoint.js'

/** Most peer signatures that wait for a commit while inputs keep coming. */
export const MAX_WAITING = 256

export interface GroupCommitOptions {
  /** How many peer signatures wait. */
  waiting: () => number
  /** Stores them (in the channel's queue). */
  save: () => void
  /** The channel was stopped: nothing more is scheduled. */
  stopped: () => boolean
}

/**
 * @example
 * const group = new GroupCommit({ waiting: () => agreement.unsaved, save: () => job(saveUnsaved), stopped: () => disposed })
 * group.input() // at the start of every input; group.schedule() at its end while signatures wait
 */
export class GroupCommit {
  private inputs = 0
  private scheduled = false
  private quietTicks = 0

  constructor(private readonly o: GroupCommitOptions) {}

  /** An input of the channel started. */
  input(): void {
    this.inputs++
  }

  /** Signatures wait: store them once the channel is quiet (idempotent). */
  schedule(): void {
    if (this.scheduled || this.o.stopped()) return
    crashPoint('signatures.unsaved') // peers' signatures verified, in memory only (docs/protocol.md §7.12)
    this.scheduled = true
    setImmediate(this.tick, this.inputs)
  }

  private readonly tick = (seen: number): void => {
    this.scheduled = false
    if (this.o.stopped() || this.o.waiting() === 0) return
    if (this.o.waiting() < MAX_WAITING) {
      // Quiet means a whole turn of the loop without an input: a tick, then another one.
      this.quietTicks = this.inputs === seen ? this.quietTicks + 1 : 0
      if (this.quietTicks < 2) return this.schedule()
    }
    this.quietTicks = 0
    this.o.save()
  }
}
