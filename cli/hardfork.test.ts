/**
 * The CLI and the chain's hardfork, each command a process of the real executable against a
 * prague anvil: `deploy` and `devnet` record the hardfork they detect; `run` refuses to start
 * when the deployment file's hardfork (or, for a file from before the field, cancun) is not
 * the chain's; a deployment file with an unknown hardfork is invalid.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAnvil, type Anvil } from '../src/chain/anvil.js'
import { parley, Running, type Result } from './harness.js'

let anvil: Anvil
let dir: string

before(async () => {
  anvil = await startAnvil({ accounts: 3, hardfork: 'prague' })
  dir = mkdtempSync(join(tmpdir(), 'parley-hardfork-'))
})
after(async () => {
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** The last stderr line of a failed command: `error CODE: message` (after progress lines); returns the message. */
function failure(r: Result, code: string, status: number): string {
  assert.equal(r.code, status, `exit status of a ${code} failure\nstderr: ${r.stderr}`)
  const m = new RegExp(`^error ${code}: (.+)$`).exec(r.stderr.trimEnd().split('\n').at(-1)!)
  assert.ok(m, `a last line "error ${code}: …" on stderr, got: ${r.stderr}`)
  return m[1]!
}

const readJsonFile = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>

describe('parley and the chain hardfork', () => {
  it('deploy records the hardfork it detects; run refuses a deployment file the chain disagrees with', async () => {
    const [deployer, alice, bob] = anvil.wallets.map((w) => ({ key: w.privateKey, address: w.address.toLowerCase() }))
    const deployed = await parley(['deploy', '--rpc', anvil.url, '--key', deployer!.key, '-o', 'prague.json', '--json'], dir)
    assert.equal(deployed.code, 0, deployed.stderr)
    assert.equal(deployed.json!.hardfork, 'prague')
    const file = readJsonFile('prague.json')
    assert.equal(file.hardfork, 'prague')
    const { hardfork: _, ...legacy } = file
    writeFileSync(join(dir, 'legacy.json'), JSON.stringify(legacy))
    writeFileSync(join(dir, 'cancun.json'), JSON.stringify({ ...file, hardfork: 'cancun' }))
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...file, hardfork: 'shanghai' }))

    const params = await parley(['params', 'new', '--participants', `${alice!.address},${bob!.address}`, '--machine', 'payments', '--deposit', '1', '-o', 'channel.json', '--deployment', 'prague.json'], dir)
    assert.equal(params.code, 0, params.stderr)
    const run = (deployment: string) => parley(['run', 'channel.json', '--store', `${deployment}.db`, '--key', alice!.key, '--deployment', deployment], dir)
    const [onCancun, onLegacy, onPrague, onBad] = await Promise.all([run('cancun.json'), run('legacy.json'), run('prague.json'), run('bad.json')])
    assert.match(failure(onCancun, 'HARDFORK_MISMATCH', 1), /the chain runs prague, but cancun was expected.*cancun\.json records cancun/)
    assert.match(failure(onLegacy, 'HARDFORK_MISMATCH', 1), /legacy\.json records no hardfork \(written before the field\), read as cancun/)
    // The hardfork agrees, so the peer gets as far as looking for the channel's opening.
    failure(onPrague, 'CHANNEL_NOT_OPENED', 1)
    assert.match(failure(onBad, 'FILE_INVALID', 2), /hardfork/)
  })

  it('devnet --hardfork starts anvil on it and records what the chain answers', async () => {
    const devnet = new Running(['devnet', '--port', '0', '--accounts', '2', '--tokens', '0', '--hardfork', 'prague', '-o', 'devnet.json', '--json'], dir)
    try {
      const ready = await devnet.when((e) => typeof e.hardfork === 'string', 60_000)
      assert.equal(ready.hardfork, 'prague')
      assert.equal(readJsonFile('devnet.json').hardfork, 'prague')
    } finally {
      assert.equal(await devnet.stop('SIGINT'), 0)
    }
    assert.equal(existsSync(join(dir, 'devnet.json')), false)
    failure(await parley(['devnet', '--port', '0', '--hardfork', 'shanghai'], dir), 'HARDFORK_INVALID', 2)
  })
})
