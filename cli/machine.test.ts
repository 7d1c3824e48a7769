/**
 * `parley machine deploy` and machines by name, each command a CLI process against a real
 * anvil: a .sol compiled with the repository's settings and an artifact JSON are deployed and
 * described in .parley/machines/<Name>.json (address, chain id, code hash, ABI); `params new
 * --machine <Name>` finds the address there; metadata that does not match the chain's code
 * (`MACHINE_METADATA_MISMATCH`), a missing one, a source that does not compile and a .sol without
 * solc-js installed are refused.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { keccak256 } from 'ethers'
import { startAnvil, type Anvil } from '../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../src/chain/stack.js'
import { CLI, parley, type Result } from './harness.js'

const root = join(import.meta.dirname, '..')
let anvil: Anvil
let stack: LocalStack
let dir: string
let chain: string[]

before(async () => {
  anvil = await startAnvil({ accounts: 3 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  dir = mkdtempSync(join(tmpdir(), 'parley-machine-'))
  chain = ['--rpc', anvil.url, '--key', anvil.wallets[0]!.privateKey]
})
after(async () => {
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

function failure(r: Result, code: string, status: number): void {
  assert.equal(r.code, status, `exit status of a ${code} failure\nstderr: ${r.stderr}`)
  assert.match(r.stderr.trimEnd(), new RegExp(`^error ${code}: \\S`))
}

const record = (name: string) => JSON.parse(readFileSync(join(dir, '.parley/machines', `${name}.json`), 'utf8')) as Record<string, unknown>
const params = (machine: string, out: string) => parley([
  'params', 'new', '--participants', anvil.wallets.slice(1, 3).map((w) => w.address).join(','), '--machine', machine, '--deposit', '1',
  '--manager', stack.manager.address, '--rpc', anvil.url, '-o', out,
], dir)

describe('parley machine deploy', () => {
  it('compiles a .sol with the repository settings, deploys it and writes its metadata', async () => {
    const r = await parley(['machine', 'deploy', join(root, 'contracts/examples/RockPaperScissors.sol'), ...chain, '--json'], dir)
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.json!.moves, ['commit(string,bytes32)', 'play(string)', 'reveal(string,bytes32)'])
    const m = record('RockPaperScissors')
    const code = await anvil.provider.getCode(m.address as string)
    assert.deepEqual([m.chainId, m.address, m.codeHash], ['31337', r.json!.address, keccak256(code)])
    // The same runtime code as the build's (same solc settings), up to the metadata hash at its end.
    const built = JSON.parse(readFileSync(join(root, 'artifacts/RockPaperScissors.json'), 'utf8')) as { deployedBytecode: string }
    assert.equal(code.length, built.deployedBytecode.length)
    assert.ok((m.abi as { name?: string }[]).some((f) => f.name === 'decodeState'))
  })

  it('without solc-js a .sol is SOLC_MISSING (exit 1), naming the way out', async () => {
    // solc-js hidden from require(), as in an application that installed parley without it.
    const hide = join(dir, 'no-solc.cjs')
    writeFileSync(hide, `const M = require('node:module'); const load = M._load;
M._load = function (req, ...rest) { if (req === 'solc') throw Object.assign(new Error("Cannot find module 'solc'"), { code: 'MODULE_NOT_FOUND' }); return load.call(this, req, ...rest) }`)
    const r = spawnSync(process.execPath, ['--require', hide, ...CLI, 'machine', 'deploy', join(root, 'contracts/examples/RockPaperScissors.sol'), ...chain], { cwd: dir, encoding: 'utf8' })
    failure({ code: r.status, stdout: r.stdout, stderr: r.stderr, json: undefined }, 'SOLC_MISSING', 1)
    assert.match(r.stderr, /npm install -D solc@0\.8\.30.*or pass a compiled artifact JSON/)
  })

  it('deploys an artifact JSON under another name', async () => {
    const r = await parley(['machine', 'deploy', join(root, 'artifacts/Counter.json'), '--name', 'MyCounter', ...chain, '--json'], dir)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(record('MyCounter').address, r.json!.address)
    assert.deepEqual([r.json!.contract, r.json!.moves, r.json!.decodeState], ['Counter', ['inc(uint64)'], true])
  })

  it('refuses a source that does not compile, and an artifact without bytecode', async () => {
    writeFileSync(join(dir, 'Broken.sol'), 'pragma solidity ^0.8.24; contract Broken { function f( }')
    writeFileSync(join(dir, 'empty.json'), JSON.stringify({ abi: [] }))
    const [broken, empty] = await Promise.all([parley(['machine', 'deploy', 'Broken.sol', ...chain], dir), parley(['machine', 'deploy', 'empty.json', ...chain], dir)])
    failure(broken, 'COMPILE_FAILED', 2)
    failure(empty, 'FILE_INVALID', 2)
  })

  it('params new --machine <Name> uses the metadata; metadata that does not match the chain is refused', async () => {
    const made = await params('RockPaperScissors', 'rps.json')
    assert.equal(made.code, 0, made.stderr)
    const file = JSON.parse(readFileSync(join(dir, 'rps.json'), 'utf8')) as Record<string, unknown>
    assert.deepEqual([file.machineName, file.machine], ['RockPaperScissors', record('RockPaperScissors').address])

    // The metadata now says another code hash: neither params new nor status trusts its ABI.
    const path = join(dir, '.parley/machines/RockPaperScissors.json')
    const good = readFileSync(path, 'utf8')
    writeFileSync(path, good.replace(/"codeHash": "0x[0-9a-f]{4}/, '"codeHash": "0x0000'))
    const [again, status] = await Promise.all([params('RockPaperScissors', 'rps2.json'), parley(['status', 'rps.json', '--rpc', anvil.url], dir)])
    failure(again, 'MACHINE_METADATA_MISMATCH', 2)
    failure(status, 'MACHINE_METADATA_MISMATCH', 2)
    assert.equal(existsSync(join(dir, 'rps2.json')), false)
    // Metadata of another machine under this name: its address is not the channel's.
    writeFileSync(path, readFileSync(join(dir, '.parley/machines/MyCounter.json'), 'utf8'))
    failure(await parley(['status', 'rps.json', '--rpc', anvil.url], dir), 'MACHINE_METADATA_MISMATCH', 2)
    writeFileSync(path, good)
    const ok = await parley(['status', 'rps.json', '--rpc', anvil.url, '--json'], dir)
    assert.equal(ok.code, 0, ok.stderr)

    failure(await params('Nowhere', 'x.json'), 'MACHINE_NOT_FOUND', 2)
    // By address: the metadata that records it is found, so the params file names the machine.
    assert.equal((await params(record('MyCounter').address as string, 'counter.json')).code, 0)
    assert.equal((JSON.parse(readFileSync(join(dir, 'counter.json'), 'utf8')) as Record<string, unknown>).machineName, 'MyCounter')
    // The machine's own error, by its ABI, when it refuses the participants.
    const three = await parley(['params', 'new', '--participants', anvil.wallets.map((w) => w.address).join(','), '--machine', 'RockPaperScissors', '--deposit', '1', '--manager', stack.manager.address, '--rpc', anvil.url], dir)
    failure(three, 'MACHINE_REFUSES_PARAMS', 2)
    assert.match(three.stderr, /RockPaperScissors refuses 3 participants .*: RpsNeedsTwoPlayers\(n=3\)/)
  })
})
