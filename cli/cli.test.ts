/**
 * The `parley` CLI end to end, every command a separate OS process of the real executable:
 * a devnet (anvil + deployment) and a local HyperDHT testnet started by the CLI itself; bad
 * input; params → consents → open; two peers (`parley run`) over hyperswarm driven through
 * stdin — payments, one peer quits and resumes from its store, cooperative close — with the
 * settlement checked on-chain; and both services stopping cleanly on Ctrl-C.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parley, Running, type Result } from './harness.js'

const ETH = 10n ** 18n
let dir: string
let devnet: Running
let testnet: Running
let bootstrap: string
let channelId: string

/** The one stderr line of a failed command: `error CODE: message`. */
function failure(r: Result, code: string, status: number): void {
  assert.equal(r.code, status, `exit status of a ${code} failure\nstderr: ${r.stderr}`)
  const lines = r.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`)
  assert.match(lines[0]!, new RegExp(`^error ${code}: \\S`))
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-cli-'))
  devnet = new Running(['devnet', '--port', '0', '--accounts', '4', '--tokens', '0', '--json'], dir)
  testnet = new Running(['testnet', '--json'], dir)
  const [d, t] = await Promise.all([devnet.when(() => true, 60_000), testnet.when(() => true, 60_000)])
  assert.match(String(d.rpc), /^http:\/\/127\.0\.0\.1:\d+$/)
  bootstrap = (t.bootstrap as string[]).join(',')
})

after(async () => {
  await Promise.all([devnet?.stop('SIGKILL'), testnet?.stop('SIGKILL')])
  rmSync(dir, { recursive: true, force: true })
})

describe('parley CLI', () => {
  it('bad input: usage errors exit 2, failed operations exit 1, each as one line with its code', async () => {
    const [none, unknown, amount, option, rpc, short, help] = await Promise.all([
      parley([], dir),
      parley(['frobnicate'], dir),
      parley(['deposit', 'lots', '--account', '1'], dir),
      parley(['deposit', '1', '--account', '1', '--bogus'], dir),
      parley(['balance', '@1', '--rpc', 'http://127.0.0.1:9'], dir),
      parley(['withdraw', '5', '--account', '3', '--json'], dir),
      parley(['open', '--help'], dir),
    ])
    assert.equal(none.code, 2)
    assert.match(none.stderr, /^parley <command>/)
    failure(unknown, 'COMMAND_UNKNOWN', 2)
    failure(amount, 'AMOUNT_INVALID', 2)
    failure(option, 'ARG_UNKNOWN', 2)
    failure(rpc, 'RPC_UNREACHABLE', 1)
    assert.equal(short.code, 1)
    assert.equal((JSON.parse(short.stderr) as { error: { code: string } }).error.code, 'BALANCE_INSUFFICIENT')
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^parley open PARAMS_FILE --sig/)
  })

  it('params, consents and open: signatures in any order, a wrong count refused before sending', async () => {
    const deposits = await Promise.all([parley(['deposit', '1', '--account', '1'], dir), parley(['deposit', '1', '--account', '2'], dir)])
    for (const r of deposits) assert.equal(r.code, 0, r.stderr)
    const made = await parley(['params', 'new', '--participants', '@1,@2', '--machine', 'payments', '--deposit', '1', '-o', 'channel.json', '--json'], dir)
    assert.equal(made.code, 0, made.stderr)
    channelId = String(made.json!.channelId)
    const [alice, bob] = await Promise.all([1, 2].map((a) => parley(['consent', 'channel.json', '--account', String(a), '--json'], dir)))
    assert.equal(alice!.code, 0, alice!.stderr)
    assert.deepEqual([alice!.json!.index, bob!.json!.index, alice!.json!.channelId], [0, 1, channelId])

    const [missing, opened] = [
      await parley(['open', 'channel.json', '--account', '3', '--sig', String(alice!.json!.signature)], dir),
      await parley(['open', 'channel.json', '--account', '3', '--sig', String(bob!.json!.signature), '--sig', String(alice!.json!.signature), '--json'], dir),
    ]
    failure(missing, 'CONSENT_COUNT_MISMATCH', 2)
    assert.equal(opened.code, 0, opened.stderr)
    assert.equal(opened.json!.channelId, channelId)
    const status = await parley(['status', 'channel.json', '--json'], dir)
    assert.deepEqual((status.json!.chain as Record<string, unknown>).phase, 'Open')
    assert.equal((status.json!.chain as Record<string, unknown>).locked, String(2n * ETH))
  })

  it('two peers over hyperswarm: payments from stdin, a restart resumes from the store, cooperative close settles on-chain', async () => {
    const run = (account: number, store: string) =>
      new Running(['run', 'channel.json', '--store', store, '--account', String(account), '--bootstrap', bootstrap, '--poll', '200', '--json'], dir)
    const alice = run(1, 'alice.db')
    let bob = run(2, 'bob.db')
    try {
      await alice.on('ready')
      const [second] = await Promise.all([
        parley(['run', 'channel.json', '--store', 'alice.db', '--account', '1', '--bootstrap', bootstrap], dir),
        alice.on('peer', { index: 1, up: true }), bob.on('peer', { index: 0, up: true }),
      ])
      failure(second, 'STORE_IN_USE', 1)
      alice.send('pay 1 0.3')
      bob.send('pay 0 0.1') // queued until it is bob's turn
      await Promise.all([alice.on('final', { seq: '2' }), bob.on('final', { seq: '2' })])

      bob.send('quit')
      assert.equal(await bob.exited, 0, bob.stderr)
      alice.send('pay 1 0.2') // signed and sent while bob is away: not final yet
      await alice.on('state', { seq: '3' })

      bob = run(2, 'bob.db')
      const ready = await bob.on('ready')
      assert.equal(ready.restored, true)
      assert.equal(ready.seq, '2', 'bob resumes from its store at seq 2')
      await Promise.all([alice.on('final', { seq: '3' }), bob.on('final', { seq: '3' })])
      bob.send('pass')
      await alice.on('final', { seq: '4' })

      alice.send('close')
      const payouts = [String(6n * ETH / 10n), String(14n * ETH / 10n)]
      const [a, b] = await Promise.all([alice.on('closed'), bob.on('closed')])
      assert.deepEqual([a.payouts, b.payouts], [payouts, payouts])
      assert.deepEqual(await Promise.all([alice.exited, bob.exited]), [0, 0])
    } finally {
      await Promise.all([alice.stop('SIGKILL'), bob.stop('SIGKILL')])
    }

    const [aliceBalance, bobBalance, status] = await Promise.all([
      parley(['balance', '@1', '--json'], dir), parley(['balance', '@2', '--json'], dir), parley(['status', 'channel.json', '--store', 'alice.db', '--json'], dir),
    ])
    assert.deepEqual([aliceBalance.json!.manager, bobBalance.json!.manager], [String(6n * ETH / 10n), String(14n * ETH / 10n)])
    assert.equal((status.json!.chain as Record<string, unknown>).phase, 'Closed')
    assert.deepEqual((status.json!.local as Record<string, unknown>).finalSeq, '4')
    const withdrawn = await parley(['withdraw', 'all', '--account', '1', '--json'], dir)
    assert.equal(withdrawn.code, 0, withdrawn.stderr)
    assert.deepEqual([withdrawn.json!.amount, withdrawn.json!.balance], [String(6n * ETH / 10n), '0'])
  })

  it('devnet and testnet stop cleanly on Ctrl-C; the devnet removes its deployment file', async () => {
    assert.ok(existsSync(join(dir, '.parley/devnet.json')))
    assert.deepEqual(await Promise.all([devnet.stop('SIGINT'), testnet.stop('SIGINT')]), [0, 0])
    assert.equal(existsSync(join(dir, '.parley/devnet.json')), false)
  })
})
