/**
 * Encrypted JSON keystores (Web3 Secret Storage v3: what ethers, geth, Foundry's `cast wallet`
 * and most wallets read and write) in place of a raw key. The password never comes from the
 * command line, where other users could read it in the process list: `--password-file` or
 * `$PARLEY_KEYSTORE_PASSWORD`; it is never printed, not even in an error.
 */
import { decryptKeystoreJsonSync, encryptKeystoreJsonSync, isKeystoreJson, type Wallet } from 'ethers'
import { str, type Values } from './args.js'
import { argError } from './errors.js'
import { readText, writeText } from './files.js'

/** The environment variable holding a keystore's password. */
export const PASSWORD_ENV = 'PARLEY_KEYSTORE_PASSWORD'

/**
 * The keystore password: the first line of `--password-file`, else `$PARLEY_KEYSTORE_PASSWORD`;
 * ArgumentError `PASSWORD_REQUIRED` when neither is given.
 * @example const password = keystorePassword(values)
 */
export function keystorePassword(values: Values): string {
  const file = str(values, 'password-file')
  if (file !== undefined) return readText(file, 'password file').replace(/\r?\n$/, '')
  const env = process.env[PASSWORD_ENV]
  if (env !== undefined) return env
  throw argError('PASSWORD_REQUIRED', `a keystore needs its password: --password-file <path> or $${PASSWORD_ENV}`)
}

/**
 * The private key in the keystore at `path`. ArgumentError `KEYSTORE_INVALID` (not a
 * keystore), `KEYSTORE_PASSWORD_WRONG`.
 * @example const key = readKeystore('alice.json', keystorePassword(values))
 */
export function readKeystore(path: string, password: string): { address: string; privateKey: string } {
  const json = readText(path, 'keystore')
  if (!isKeystoreJson(json)) throw argError('KEYSTORE_INVALID', `${path} is not an encrypted JSON keystore (Web3 Secret Storage v3)`, { path })
  try {
    const account = decryptKeystoreJsonSync(json, password)
    return { address: account.address, privateKey: account.privateKey }
  } catch (e) {
    // ethers says "incorrect password" for a wrong one; anything else is a damaged file.
    if (/password/i.test((e as Error).message)) throw argError('KEYSTORE_PASSWORD_WRONG', `the password does not open keystore ${path}`, { path })
    throw argError('KEYSTORE_INVALID', `keystore ${path} cannot be decrypted: ${(e as Error).message}`, { path })
  }
}

/**
 * Writes `wallet`'s key to `path` as an encrypted keystore (standard scrypt strength, file mode
 * 0600).
 * @example writeKeystore('alice.json', wallet, keystorePassword(values))
 */
export function writeKeystore(path: string, wallet: Wallet, password: string): void {
  const json = encryptKeystoreJsonSync({ address: wallet.address, privateKey: wallet.privateKey }, password)
  writeText(path, `${json}\n`, 0o600)
}
