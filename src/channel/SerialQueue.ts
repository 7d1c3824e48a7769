/**
 * Runs async jobs one at a time, in submission order. A failing job rejects its own promise
 * and does not stop the queue.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  /** Runs `job` after every job submitted before it. */
  run<T>(job: () => Promise<T> | T): Promise<T> {
    const p = this.tail.then(job)
    this.tail = p.catch(() => undefined)
    return p
  }

  /** Resolves when every job submitted so far has finished. */
  async idle(): Promise<void> {
    await this.tail
  }
}
