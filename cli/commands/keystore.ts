/**
 * `parley keystore -o FILE`: writes a key as an encrypted JSON keystore (Web3 Secret Storage v3,
 * the format ethers, geth and Foundry read), from --key / --key-file / --account or a new random
 * key, with the password from --password-file or $PARLEY_KEYSTORE_PASSWORD. Other commands then
 * take `--keystore FILE`.
 */
import { existsSync } from 'node:fs'
import { Wallet } from 'ethers'
import { COMMON, JSON_HELP, flag, parse, str } from '../lib/args.js'
import { loadWallet } from '../lib/chain.js'
import type { Command } from '../lib/command.js'
import { argError } from '../lib/errors.js'
import { keystorePassword, writeKeystore, PASSWORD_ENV } from '../lib/keystore.js'
import { out, progress, table, toJson } from '../lib/output.js'

const usage = `parley keystore -o FILE [--new | --key HEX | --key-file PATH | --account N] [--password-file PATH] [--json]

Encrypts a private key into an encrypted JSON keystore FILE (mode 0600) that commands take
with --keystore FILE. The password comes from --password-file (its first line) or
$${PASSWORD_ENV}, never from the command line; it is not printed.

  -o, --out <file>     the keystore to write (an existing file is not overwritten)
  --new                a new random key (prints its address, never the key)
  --key, --key-file, --account   the key to encrypt (as for other commands)
  --password-file <p>  the password's file (default: $${PASSWORD_ENV})
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values } = parse(argv, {
      ...COMMON, out: { type: 'string', short: 'o' }, new: { type: 'boolean' }, key: { type: 'string' }, 'key-file': { type: 'string' },
      account: { type: 'string' }, 'password-file': { type: 'string' },
    }, usage)
    const file = str(values, 'out')
    if (file === undefined) throw argError('ARG_MISSING', 'give the keystore file to write: -o FILE')
    if (existsSync(file)) throw argError('ARG_CONFLICT', `${file} exists: a keystore is never overwritten`)
    const fresh = flag(values, 'new')
    const given = ['key', 'key-file', 'account'].filter((k) => str(values, k) !== undefined)
    if (fresh && given.length > 0) throw argError('ARG_CONFLICT', '--new makes a new key: give no --key, --key-file or --account')
    if (!fresh && given.length === 0) throw argError('KEY_REQUIRED', 'give the key to encrypt (--key, --key-file, --account) or --new')
    const password = keystorePassword(values)
    if (password === '') throw argError('PASSWORD_REQUIRED', 'the keystore password is empty')
    const wallet = fresh ? new Wallet(Wallet.createRandom().privateKey) : loadWallet({ key: values.key, 'key-file': values['key-file'], account: values.account })
    progress('keystore: encrypting (scrypt)…')
    writeKeystore(file, wallet, password)
    const address = wallet.address.toLowerCase()
    if (flag(values, 'json')) out(toJson({ address, file }))
    else out(table([['address', address], ['file', file]]))
    return 0
  },
}
