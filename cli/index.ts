/**
 * Entry point of the `parley` CLI (`npm run cli -- <command>`, or the `parley` bin).
 * Exits explicitly once the command is done (a finished command may leave idle handles,
 * e.g. stdin's reader), after stdout and stderr have drained.
 */
import { main } from './main.js'

// `npm run cli -- …` runs in the package root; files named on the command line are relative
// to where the user typed it.
if (process.env.npm_lifecycle_event === 'cli' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD)
const status = await main(process.argv.slice(2))
const drain = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => s.write('', () => resolve()))
await Promise.all([drain(process.stdout), drain(process.stderr)])
process.exit(status)
