/**
 * Encrypted JSON keystores on the command line: `parley keystore` writes one that ethers reads,
 * a keystore ethers wrote signs a deposit (password from a file, then from the environment),
 * and every mistake — wrong or missing password, a file that is no keystore, two keys at once —
 * fails with its code and exit status 2, without the password appearing in any output.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Wallet, encryptKeystoreJsonSync } from 'ethers'
import { startAnvil, type Anvil } from '../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../src/chain/stack.js'
import { ETH } from '../src/protocol/types.js'
import { parley, type Result } from './harness.js'

const PASSWORD = 'correct horse battery staple'
let anvil: Anvil
let stack: LocalStack
let dir: string
let chainArgs: string[]

before(async () => {
  anvil = await startAnvil({ accounts: 3 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  dir = mkdtempSync(join(tmpdir(), 'parley-keystore-'))
  chainArgs = ['--rpc', anvil.url, '--manager', stack.manager.address]
  writeFileSync(join(dir, 'pw.txt'), `${PASSWORD}\n`)
  writeFileSync(join(dir, 'wrong.txt'), 'hunter2\n')
})
after(async () => {
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Neither output of `r` holds the password (nor the wrong one). */
function noSecret(r: Result): void {
  for (const secret of [PASSWORD, 'hunter2']) {
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'the password is never printed')
  }
}

describe('keystores', () => {
  it('parley keystore encrypts a key into a standard keystore ethers reads (mode 0600)', async () => {
    const key = anvil.wallets[1]!.privateKey
    writeFileSync(join(dir, 'k1.txt'), key)
    const r = await parley(['keystore', '--key-file', 'k1.txt', '-o', 'alice.json', '--password-file', 'pw.txt', '--json'], dir)
    noSecret(r)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.json?.address, anvil.wallets[1]!.address.toLowerCase())
    const file = join(dir, 'alice.json')
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const back = Wallet.fromEncryptedJsonSync(readFileSync(file, 'utf8'), PASSWORD)
    assert.equal(back.privateKey, key)
    const again = await parley(['keystore', '--key-file', 'k1.txt', '-o', 'alice.json', '--password-file', 'pw.txt'], dir)
    assert.equal(again.code, 2)
    assert.match(again.stderr, /^error ARG_CONFLICT/)
  })

  it('a keystore ethers wrote signs a deposit: password from --password-file, then from $PARLEY_KEYSTORE_PASSWORD', async () => {
    const bob = anvil.wallets[2]!
    const json = encryptKeystoreJsonSync({ address: bob.address, privateKey: bob.privateKey }, PASSWORD, { scrypt: { N: 1 << 10 } })
    writeFileSync(join(dir, 'bob.json'), json)
    const r = await parley(['deposit', '0.5', '--keystore', 'bob.json', '--password-file', 'pw.txt', ...chainArgs, '--json'], dir)
    noSecret(r)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await stack.manager.balanceOf(bob.address.toLowerCase() as `0x${string}`, ETH), 5n * 10n ** 17n)
    const e = await parley(['deposit', '0.25', '--keystore', 'bob.json', ...chainArgs], dir, { PARLEY_KEYSTORE_PASSWORD: PASSWORD })
    assert.equal(e.code, 0, e.stderr)
    const viaEnv = await parley(['balance', ...chainArgs, '--json'], dir, { PARLEY_KEYSTORE: 'bob.json', PARLEY_KEYSTORE_PASSWORD: PASSWORD })
    assert.equal(viaEnv.code, 0, viaEnv.stderr)
    assert.equal(viaEnv.json?.account, bob.address.toLowerCase())
    assert.equal(viaEnv.json?.manager, String(75n * 10n ** 16n))
  })

  const failures: [string, string[], NodeJS.ProcessEnv, string][] = [
    ['a wrong password', ['--keystore', 'bob.json', '--password-file', 'wrong.txt'], {}, 'KEYSTORE_PASSWORD_WRONG'],
    ['a wrong password from the environment', ['--keystore', 'bob.json'], { PARLEY_KEYSTORE_PASSWORD: 'hunter2' }, 'KEYSTORE_PASSWORD_WRONG'],
    ['no password', ['--keystore', 'bob.json'], {}, 'PASSWORD_REQUIRED'],
    ['a file that is no keystore', ['--keystore', 'pw.txt', '--password-file', 'pw.txt'], {}, 'KEYSTORE_INVALID'],
    ['a missing keystore', ['--keystore', 'nope.json', '--password-file', 'pw.txt'], {}, 'FILE_NOT_FOUND'],
    ['a keystore and a key', ['--keystore', 'bob.json', '--key-file', 'k1.txt', '--password-file', 'pw.txt'], {}, 'ARG_CONFLICT'],
    ['a password file without a keystore', ['--key-file', 'k1.txt', '--password-file', 'pw.txt'], {}, 'ARG_UNEXPECTED'],
  ]
  for (const [name, args, env, code] of failures) {
    it(`refuses ${name}: ${code}, exit 2, nothing sent`, async () => {
      const r = await parley(['deposit', '1', ...args, ...chainArgs], dir, env)
      noSecret(r)
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, new RegExp(`^error ${code}:`))
    })
  }
  it('none of the refused deposits moved funds', async () => {
    assert.equal(await stack.manager.balanceOf(anvil.wallets[2]!.address.toLowerCase() as `0x${string}`, ETH), 75n * 10n ** 16n)
    assert.equal(await stack.manager.balanceOf(anvil.wallets[1]!.address.toLowerCase() as `0x${string}`, ETH), 0n)
  })
})
