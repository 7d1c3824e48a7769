/**
 * `parley session-key -o FILE`: a new random session key — the key that signs one channel's
 * moves and confirmations for a participant (its address goes into `params new --signers`), so
 * the participant's own key signs only the consents and chain calls. Written as raw hex with
 * mode 0600; `parley run --session-key-file FILE` uses it.
 */
import { existsSync } from 'node:fs'
import { Wallet } from 'ethers'
import { COMMON, JSON_HELP, flag, parse, str } from '../lib/args.js'
import type { Command } from '../lib/command.js'
import { argError } from '../lib/errors.js'
import { writeText } from '../lib/files.js'
import { out, table, toJson } from '../lib/output.js'

const usage = `parley session-key -o FILE [--json]

Writes a new random session key to FILE (hex, mode 0600; never overwrites) and prints its
address. Give the address to \`parley params new --signers\` (one per participant, in order)
and the file to \`parley run --session-key-file\`. Losing it can cost at most this channel's
funds: it signs moves, never chain calls or consents.

  -o, --out <file>     the key file to write
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values } = parse(argv, { ...COMMON, out: { type: 'string', short: 'o' } }, usage)
    const file = str(values, 'out')
    if (file === undefined) throw argError('ARG_MISSING', 'give the key file to write: -o FILE')
    if (existsSync(file)) throw argError('ARG_CONFLICT', `${file} exists: a key file is never overwritten`)
    const key = Wallet.createRandom()
    writeText(file, `${key.privateKey}\n`, 0o600)
    const address = key.address.toLowerCase()
    if (flag(values, 'json')) out(toJson({ address, file }))
    else out(table([['session key', address], ['file', file]]))
    return 0
  },
}
