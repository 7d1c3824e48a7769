/**
 * The `parley` CLI end to end, every command a separate OS process of the CLI's entry point
 * (cli/index.ts, run from source through tsx; the compiled `parley` bin is run from an installed
 * tarball by test/package). The worked example of docs/cli.md is played as written — a CLI
 * devnet and DHT testnet, deposits, params, consents, open, three peers over hyperswarm driven
 * through stdin, one quitting and resuming from its store, a cooperative close, a withdrawal —
 * with the results checked on-chain; alongside it, bad input and a second peer on a store in
 * use; and finally both services stop cleanly on Ctrl-C.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Running, parley, type Result } from './harness.js'
import { playWalkthrough, type WalkthroughLog } from './walkthrough.js'

const ETH = 10n ** 18n
const cents = (n: bigint) => String((n * ETH) / 100n) // hundredths of an ETH, in wei
let dir: string
let walk: WalkthroughLog | undefined

/** The one stderr line of a failed command: `error CODE: message`. */
function failure(r: Result, code: string, status: number): void {
  assert.equal(r.code, status, `exit status of a ${code} failure\nstderr: ${r.stderr}`)
  const lines = r.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`)
  assert.match(lines[0]!, new RegExp(`^error ${code}: \\S`))
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-cli-'))
})

after(async () => {
  for (const runs of walk?.runs.values() ?? []) for (const r of runs) await r.stop('SIGKILL')
  // The devnet stops its anvil on SIGTERM (a SIGKILL would leave that anvil running); SIGKILL if it hangs.
  for (const s of walk?.services.values() ?? []) {
    const t = setTimeout(() => s.child.kill('SIGKILL'), 10_000)
    await s.stop('SIGTERM')
    clearTimeout(t)
  }
  rmSync(dir, { recursive: true, force: true })
})

describe('parley CLI', () => {
  it('docs/cli.md: the worked example runs as written and settles on-chain as it says', async () => {
    const doc = readFileSync(join(import.meta.dirname, '../docs/cli.md'), 'utf8')
    const checks: Promise<void>[] = []
    walk = await playWalkthrough(doc, dir, (name: string, run: Running) => {
      if (name === 'alice' && !checks.length) {
        // While alice runs: a second peer on her store is refused; an open with one consent is
        // refused before anything is sent.
        checks.push((async () => {
          const [second, short] = await Promise.all([
            parley(['run', 'channel.json', '--store', 'alice.db', '--account', '1'], dir),
            parley(['open', 'channel.json', '--account', '1', '--sig', '@alice.sig'], dir),
          ])
          failure(second, 'STORE_IN_USE', 1)
          failure(short, 'CONSENT_COUNT_MISMATCH', 2)
        })())
      }
    })
    await Promise.all(checks)

    const [alice, bob1, bob2, carol] = [walk.runs.get('alice')![0]!, ...walk.runs.get('bob')!, walk.runs.get('carol')![0]!]
    assert.equal(walk.runs.get('bob')!.length, 2, 'bob ran twice')
    const resumed = await bob2!.on('ready')
    assert.deepEqual([resumed.restored, resumed.seq], [true, '3'], 'bob resumed from his store at seq 3')
    assert.equal((await bob1!.on('ready')).restored, false)
    const payouts = [cents(50n), cents(120n), cents(130n)]
    for (const r of [alice, bob2, carol]) assert.deepEqual((await r!.on('closed')).payouts, payouts)
    assert.ok(alice!.events.some((e) => e.event === 'close-signed'), 'every signature came in')
    assert.ok(alice!.events.some((e) => e.event === 'close-mined' && typeof e.transactionHash === 'string'), 'alice submitted the close')

    // The doc's last block: alice's balance, then her withdrawal.
    assert.match(walk.shell.at(-1)!, /manager\s+0\.5 ETH[\s\S]*withdrawn\s+0\.5 ETH[\s\S]*manager balance\s+0 ETH/)
    const [b, c, status] = await Promise.all([
      parley(['balance', '@2', '--json'], dir), parley(['balance', '@3', '--json'], dir), parley(['status', 'channel.json', '--store', 'alice.db', '--json'], dir),
    ])
    assert.deepEqual([b.json!.manager, c.json!.manager], [cents(120n), cents(130n)])
    const chain = status.json!.chain as Record<string, unknown>
    const local = status.json!.local as Record<string, unknown>
    assert.deepEqual([chain.phase, chain.locked, local.phase, local.finalSeq], ['Closed', '0', 'closed', '5'])
  })

  it('bad input: usage errors exit 2, failed operations exit 1, each as one line with its code', async () => {
    const [none, unknown, amount, option, rpc, short, help, depth] = await Promise.all([
      parley([], dir),
      parley(['frobnicate'], dir),
      parley(['deposit', 'lots', '--account', '1'], dir),
      parley(['deposit', '1', '--account', '1', '--bogus'], dir),
      parley(['balance', '@1', '--rpc', 'http://127.0.0.1:9'], dir),
      parley(['withdraw', '5', '--account', '4', '--json'], dir),
      parley(['open', '--help'], dir),
      parley(['run', 'params.json', '--store', 'x.db', '--confirmations', 'many'], dir),
    ])
    assert.equal(none.code, 2)
    assert.match(none.stderr, /^parley <command>/)
    failure(unknown, 'COMMAND_UNKNOWN', 2)
    failure(amount, 'AMOUNT_INVALID', 2)
    failure(option, 'ARG_UNKNOWN', 2)
    failure(depth, 'ARG_INVALID', 2)
    failure(rpc, 'RPC_UNREACHABLE', 1)
    assert.equal(short.code, 1)
    assert.equal((JSON.parse(short.stderr) as { error: { code: string } }).error.code, 'BALANCE_INSUFFICIENT')
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^parley open PARAMS_FILE --sig/)
  })

  it('deploy writes a deployment file other commands use; token deposits', async () => {
    const devnetFile = JSON.parse(readFileSync(join(dir, '.parley/devnet.json'), 'utf8')) as { manager: string; accounts: { key: string; address: string }[] }
    const [deployed, token] = await Promise.all([
      parley(['deploy', '--key', devnetFile.accounts[0]!.key, '-o', 'other.json', '--json'], dir),
      parley(['deposit', '2.5', '--token', 'test', '--account', '4', '--json'], dir),
    ])
    assert.equal(deployed.code, 0, deployed.stderr)
    assert.notEqual(deployed.json!.manager, devnetFile.manager)
    assert.equal(token.code, 0, token.stderr)
    assert.deepEqual([token.json!.account, token.json!.balance], [devnetFile.accounts[4]!.address, String(25n * ETH / 10n)])
    // The same account on the other deployment (its own manager and TestToken) has nothing there.
    const account = devnetFile.accounts[4]!.address
    const onOther = await parley(['balance', account, '--token', 'test', '--deployment', 'other.json', '--json'], dir)
    assert.equal(onOther.code, 0, onOther.stderr)
    assert.deepEqual([onOther.json!.asset, onOther.json!.manager], [deployed.json!.token, '0'])
  })

  it('params new refuses a participant count the machine refuses; run warns when the DHT does not answer', async () => {
    const three = await parley(['params', 'new', '--participants', '@5,@6,@7', '--machine', 'tictactoe', '--deposit', '0', '-o', 'ttt.json'], dir)
    failure(three, 'MACHINE_REFUSES_PARAMS', 2)
    assert.match(three.stderr, /tictactoe refuses 3 participants.*TicTacToeNeedsTwoPlayers\(n=3\)/)
    assert.equal(existsSync(join(dir, 'ttt.json')), false, 'no params file for a channel that cannot open')

    const made = await parley(['params', 'new', '--participants', '@5,@6', '--machine', 'tictactoe', '--deposit', '0', '-o', 'ttt.json', '--json'], dir)
    assert.equal(made.code, 0, made.stderr)
    const sigs = await Promise.all([5, 6].map((n) => parley(['consent', 'ttt.json', '--account', String(n), '-o', `ttt${n}.sig`], dir)))
    for (const r of sigs) assert.equal(r.code, 0, r.stderr)
    const opened = await parley(['open', 'ttt.json', '--account', '5', '--sig', '@ttt5.sig', '--sig', '@ttt6.sig'], dir)
    assert.equal(opened.code, 0, opened.stderr)
    // A bootstrap node nobody answers at (a stopped `parley testnet`): said, not silent.
    const run = new Running(['run', 'ttt.json', '--account', '5', '--store', 'ttt5.db', '--bootstrap', '127.0.0.1:9', '--json'], dir)
    try {
      const warning = await run.on('warning', { code: 'DHT_UNREACHABLE' }, 60_000)
      assert.match(String(warning.message), /127\.0\.0\.1:9 did not answer/)
      assert.ok(!run.events.some((e) => e.event === 'warning' && e.code === 'DHT_PUBLIC'), 'a bootstrap was given: not the public DHT')
    } finally {
      await run.stop()
    }
  })

  it('fund: each participant funds its own share in order, and open takes nothing from balances', async () => {
    const made = await parley(['params', 'new', '--participants', '@8,@9', '--machine', 'counter', '--deposit', '0.25', '-o', 'funded.json', '--json'], dir)
    assert.equal(made.code, 0, made.stderr)
    // #1 before #0: refused, nothing sent.
    failure(await parley(['fund', 'funded.json', '--account', '9'], dir), 'FUNDING_ORDER', 1)
    const first = await parley(['fund', 'funded.json', '--account', '8', '--json'], dir)
    assert.equal(first.code, 0, first.stderr)
    assert.deepEqual([first.json!.participant, first.json!.funded, first.json!.held], [0, true, cents(25n)])
    const second = await parley(['fund', 'funded.json', '--account', '9', '--json'], dir)
    assert.equal(second.code, 0, second.stderr)
    assert.equal(second.json!.held, cents(50n))
    const sigs = await Promise.all([8, 9].map((n) => parley(['consent', 'funded.json', '--account', String(n), '-o', `funded${n}.sig`], dir)))
    for (const r of sigs) assert.equal(r.code, 0, r.stderr)
    const opened = await parley(['open', 'funded.json', '--account', '8', '--sig', '@funded8.sig', '--sig', '@funded9.sig', '--json'], dir)
    assert.equal(opened.code, 0, opened.stderr)
    const devnetFile = JSON.parse(readFileSync(join(dir, '.parley/devnet.json'), 'utf8')) as { accounts: { address: string }[] }
    for (const n of [8, 9]) {
      const b = await parley(['balance', devnetFile.accounts[n]!.address, '--json'], dir)
      assert.equal(b.code, 0, b.stderr)
      assert.equal(b.json!.manager, '0', 'the open took the funding, not the balance')
    }
    const again = await parley(['fund', 'funded.json', '--account', '9'], dir)
    assert.notEqual(again.code, 0)
    assert.match(again.stderr, /CHANNEL_EXISTS/)
  })

  it('devnet and testnet stop cleanly on Ctrl-C and remove their files', async () => {
    assert.ok(existsSync(join(dir, '.parley/devnet.json')) && existsSync(join(dir, '.parley/testnet.json')))
    const [devnet, testnet] = [walk!.services.get('devnet')!, walk!.services.get('testnet')!]
    assert.deepEqual(await Promise.all([devnet.stop('SIGINT'), testnet.stop('SIGINT')]), [0, 0])
    assert.equal(existsSync(join(dir, '.parley/devnet.json')), false)
    assert.equal(existsSync(join(dir, '.parley/testnet.json')), false)
  })
})
