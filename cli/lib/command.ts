/**
 * The shape of one CLI command (one file per command under cli/commands/).
 */

export interface Command {
  /** Usage text printed by `--help`; its first line is the synopsis. */
  usage: string
  /** Runs the command; resolves with the exit status (default 0). Throws ParleyErrors. */
  run(argv: string[]): Promise<number | void>
}

/** Resolves on the first SIGINT or SIGTERM (a second SIGINT exits at once with 130). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done)
      process.off('SIGTERM', done)
      process.once('SIGINT', () => process.exit(130))
      resolve(signal)
    }
    process.on('SIGINT', done)
    process.on('SIGTERM', done)
  })
}
