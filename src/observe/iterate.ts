/**
 * Async iteration over an {@link Emitter} event: `for await (const s of iterate(events, 'state'))`.
 * The iterator buffers what arrives between reads, ends (after the buffer drains) when one of
 * the `endOn` events fires or `ended()` already holds, and unsubscribes when the loop breaks.
 */
import type { Emitter, EventMap } from './Emitter.js'

export interface IterateOptions<E extends EventMap> {
  /** Events after which the iteration ends (e.g. `closed`, `disposed`). */
  endOn?: (keyof E)[]
  /** Whether the source has already ended (checked at creation). */
  ended?: () => boolean
}

/**
 * @example
 * for await (const s of iterate(channel.events, 'state', { endOn: ['closed'] })) {
 *   if (s.seq > 10n) break // unsubscribes
 * }
 */
export function iterate<E extends EventMap, K extends keyof E>(emitter: Emitter<E>, name: K, opts: IterateOptions<E> = {}): AsyncIterableIterator<E[K]> {
  const buffer: E[K][] = []
  let waiting: ((r: IteratorResult<E[K]>) => void) | undefined
  let done = opts.ended?.() ?? false
  const offs: (() => void)[] = []

  const finish = () => {
    if (done && offs.length === 0) return
    done = true
    for (const off of offs.splice(0)) off()
    if (waiting && buffer.length === 0) {
      const w = waiting
      waiting = undefined
      w({ value: undefined, done: true })
    }
  }

  if (!done) {
    offs.push(
      emitter.on(name, (v) => {
        if (waiting) {
          const w = waiting
          waiting = undefined
          w({ value: v, done: false })
        } else buffer.push(v)
      }),
    )
    for (const end of opts.endOn ?? []) offs.push(emitter.on(end, () => finish()))
  }

  const it: AsyncIterableIterator<E[K]> = {
    next(): Promise<IteratorResult<E[K]>> {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false })
      if (done) return Promise.resolve({ value: undefined, done: true })
      return new Promise((resolve) => (waiting = resolve))
    },
    return(): Promise<IteratorResult<E[K]>> {
      buffer.length = 0
      finish()
      return Promise.resolve({ value: undefined, done: true })
    },
    [Symbol.asyncIterator]() {
      return it
    },
  }
  return it
}
