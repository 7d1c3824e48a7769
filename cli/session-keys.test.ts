/**
 * Session keys on the command line: `parley session-key` writes a key file (0600, never
 * overwritten), `params new --signers` records one per participant (refusing a bad list before
 * anyone signs), the participants' own keys give the open consents, and two `parley run` peers
 * sign their moves with their session key files — a payment becomes final and the close pays the
 * participants' accounts, not the session keys. `run` without its session key, or with another
 * participant's, stops with a one-line error before joining the network.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AbiCoder } from 'ethers'
import { startAnvil, type Anvil } from '../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../src/chain/stack.js'
import { startTestnet, type Testnet } from '../src/testing/testnet.js'
import { ETH, Phase, type Hex } from '../src/protocol/types.js'
import { parley, Running } from './harness.js'

const ONE = 10n ** 18n
let anvil: Anvil
let stack: LocalStack
let testnet: Testnet
let dir: string
let chain: string[]

before(async () => {
  ;[anvil, testnet] = await Promise.all([startAnvil({ accounts: 3, args: ['--block-time', '1'] }), startTestnet()])
  stack = await deployLocalStack(anvil.wallets[0]!)
  dir = mkdtempSync(join(tmpdir(), 'parley-session-'))
  chain = ['--rpc', anvil.url, '--manager', stack.manager.address]
  await Promise.all([1, 2].map((i) => stack.manager.connect(anvil.wallets[i]!).deposit(ETH, ONE)))
})
after(async () => {
  await testnet.destroy()
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

const ok = async (args: string[]) => {
  const r = await parley(args, dir)
  assert.equal(r.code, 0, r.stderr)
  return r
}

describe('session keys from the command line', () => {
  let keys: Hex[] = []
  const alice = () => anvil.wallets[1]!
  const bob = () => anvil.wallets[2]!

  it('parley session-key writes a new key file (mode 0600) and never overwrites one', async () => {
    const made = await Promise.all(['alice.key', 'bob.key'].map((f) => ok(['session-key', '-o', f, '--json'])))
    keys = made.map((r) => r.json!.address as Hex)
    assert.notEqual(keys[0], keys[1])
    assert.equal(statSync(join(dir, 'alice.key')).mode & 0o777, 0o600)
    assert.match(readFileSync(join(dir, 'alice.key'), 'utf8'), /^0x[0-9a-f]{64}\n$/)
    const again = await parley(['session-key', '-o', 'alice.key'], dir)
    assert.equal(again.code, 2)
    assert.match(again.stderr, /^error ARG_CONFLICT/)
  })

  it('params new --signers refuses a list the contract would refuse, before anyone signs', async () => {
    const base = ['params', 'new', '--participants', `${alice().address},${bob().address}`, '--machine', stack.machines.payments, '--deposit', '1', ...chain]
    for (const signers of [keys[0]!, `${keys[0]},${keys[0]}`, `${keys[0]},${alice().address}`]) {
      const r = await parley([...base, '--signers', signers], dir)
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, /^error PARAMS_INVALID: --signers: /)
    }
    const r = await ok([...base, '--signers', keys.join(','), '-o', 'c.json'])
    assert.match(r.stdout, /channel id\s+0x[0-9a-f]{64}/)
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')).signers, keys)
  })

  it('the participants consent and open; the peers move with their session keys; the close pays the participants', async () => {
    await ok(['consent', 'c.json', '--key', alice().privateKey, '-o', 'a.sig', ...chain])
    await ok(['consent', 'c.json', '--key', bob().privateKey, '-o', 'b.sig', ...chain])
    const opened = await ok(['open', 'c.json', '--sig', '@a.sig', '--sig', '@b.sig', '--key', alice().privateKey, '--json', ...chain])
    const channelId = opened.json!.channelId as Hex

    const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
    const run = (key: string, store: string, extra: string[]) =>
      ['run', 'c.json', '--key', key, '--store', store, '--bootstrap', bootstrap, '--poll', '200', '--json', ...extra, ...chain]
    const [missing, wrong] = await Promise.all([
      parley(run(alice().privateKey, 'x.db', []), dir),
      parley(run(alice().privateKey, 'y.db', ['--session-key-file', 'bob.key']), dir),
    ])
    const error = (stderr: string) => (JSON.parse(stderr) as { error: { code: string; message: string } }).error
    assert.equal(missing.code, 2, missing.stderr)
    assert.equal(error(missing.stderr).code, 'SESSION_KEY_REQUIRED')
    assert.match(error(missing.stderr).message, new RegExp(`participant #0's \\(${keys[0]}\\)`))
    assert.equal(wrong.code, 2, wrong.stderr)
    assert.equal(error(wrong.stderr).code, 'SESSION_KEY_MISMATCH')

    const a = new Running(run(alice().privateKey, 'a.db', ['--session-key-file', 'alice.key']), dir)
    const b = new Running(run(bob().privateKey, 'b.db', ['--session-key-file', 'bob.key']), dir)
    try {
      await Promise.all([a.on('ready', {}, 60_000), b.on('ready', {}, 60_000)])
      a.send(AbiCoder.defaultAbiCoder().encode(['uint16', 'uint256'], [1, ONE / 4n])) // Payments: pay #1 0.25 (raw: the machine is given by address)
      await Promise.all([a.on('final', { seq: '1' }, 60_000), b.on('final', { seq: '1' }, 60_000)])
      a.send('close')
      const payouts = [String(75n * ONE / 100n), String(125n * ONE / 100n)]
      for (const r of [a, b]) assert.deepEqual((await r.on('closed', {}, 90_000)).payouts, payouts)
      assert.equal((await stack.manager.getChannel(channelId)).phase, Phase.Closed)
      const balance = (who: string) => stack.manager.balanceOf(who.toLowerCase() as Hex, ETH)
      assert.deepEqual(await Promise.all([alice().address, bob().address].map(balance)), [75n * ONE / 100n, 125n * ONE / 100n])
      assert.deepEqual(await Promise.all(keys.map(balance)), [0n, 0n], 'nothing is paid to a session key')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
