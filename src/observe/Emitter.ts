/**
 * Typed events: `on()` returns its own unsubscribe function, `next()` awaits one event.
 * A throwing listener never breaks the emitter (or the protocol step that emitted): its error
 * goes to the `error` listeners, or to a process warning if there are none.
 */

/** A map from event name to payload type. */
export type EventMap = { [name: string]: unknown }

export type Listener<T> = (payload: T) => void

/**
 * @example
 * const events = new Emitter<{ state: { seq: bigint } }>()
 * const off = events.on('state', (s) => console.log(s.seq))
 * events.emit('state', { seq: 1n })
 * off()
 */
export class Emitter<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>()

  /** Subscribes `fn` to `name`; returns the function that undoes it. */
  on<K extends keyof E>(name: K, fn: Listener<E[K]>): () => void {
    const set = this.listeners.get(name) ?? new Set()
    this.listeners.set(name, set)
    const entry = fn as Listener<never>
    set.add(entry)
    return () => {
      set.delete(entry)
    }
  }

  /**
   * The next `name` event. Rejects with `signal.reason` if the signal aborts first.
   * @example const final = await events.next('final')
   */
  next<K extends keyof E>(name: K, opts: { signal?: AbortSignal; filter?: (p: E[K]) => boolean } = {}): Promise<E[K]> {
    return new Promise((resolve, reject) => {
      const { signal, filter } = opts
      if (signal?.aborted) return reject(signal.reason)
      const off = this.on(name, (p) => {
        if (filter && !filter(p)) return
        done()
        resolve(p)
      })
      const onAbort = () => {
        done()
        reject(signal!.reason)
      }
      const done = () => {
        off()
        signal?.removeEventListener('abort', onAbort)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Calls every listener of `name` with `payload`. */
  emit<K extends keyof E>(name: K, payload: E[K]): void {
    const set = this.listeners.get(name)
    if (!set || set.size === 0) return
    for (const fn of [...set]) {
      try {
        ;(fn as Listener<E[K]>)(payload)
      } catch (e) {
        this.listenerFailed(name, e)
      }
    }
  }

  /** Number of listeners of `name`. */
  listenerCount(name: keyof E): number {
    return this.listeners.get(name)?.size ?? 0
  }

  /** Removes every listener. */
  clear(): void {
    this.listeners.clear()
  }

  private listenerFailed(name: keyof E, error: unknown): void {
    const errors = this.listeners.get('error')
    if (name !== 'error' && errors && errors.size > 0) {
      this.emit('error', { error, listenerOf: name } as E[keyof E])
      return
    }
    process.emitWarning(`a '${String(name)}' listener threw: ${(error as Error)?.message ?? String(error)}`, 'ParleyListenerWarning')
  }
}
