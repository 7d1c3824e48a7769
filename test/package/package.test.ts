/**
 * The package as a user gets it: `npm run build` (what prepack runs) and `npm pack`, the tarball's contents (the
 * compiled API, declarations, the runtime artifacts and the bin; no tests, no TypeScript
 * sources), then an install into a fresh project with `--omit=dev` — plus `@foundry-rs/anvil`,
 * the optional peer dependency `parley/testing`'s `startAnvil` needs — where a plain .mjs runs a
 * two-party channel over hyperswarm from `parley` and `parley/testing`, the installed `parley`
 * bin answers `--help` without tsx, and a TypeScript consumer type-checks against the shipped
 * declarations.
 *
 * Offline-friendly: npm prefers its cache (`--prefer-offline`), and better-sqlite3's native
 * addon comes from a local prebuild made of the one this clone already built (same version,
 * same Node ABI) instead of a download from GitHub or a two-minute compile.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const root = join(import.meta.dirname, '../..')
const require = createRequire(import.meta.url)
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; peerDependencies: Record<string, string> }
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

let dir: string
let tarball: string
let files: string[]
let app: string

/** A prebuild-install archive of the better-sqlite3 addon this clone built, in `dir`. */
async function localPrebuild(into: string): Promise<Record<string, string>> {
  const sqlite = dirname(require.resolve('better-sqlite3/package.json'))
  const version = (JSON.parse(readFileSync(join(sqlite, 'package.json'), 'utf8')) as { version: string }).version
  const addon = join(sqlite, 'build/Release/better_sqlite3.node')
  if (!existsSync(addon) || process.platform === 'win32') return {}
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`
  await run('tar', ['-czf', join(into, name), '-C', sqlite, 'build/Release/better_sqlite3.node'])
  return { npm_config_better_sqlite3_local_prebuilds: into }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-pack-'))
  // What prepack runs, first: then npm pack's --json output is not mixed with the build's.
  await run(npm, ['run', '-s', 'build'], { cwd: root, maxBuffer: 1 << 26 })
  const packed = await run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root, maxBuffer: 1 << 26 })
  const info = (JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[])[0]!
  tarball = join(dir, info.filename)
  files = info.files.map((f) => f.path)
  app = join(dir, 'app')
  const prebuilds = join(dir, 'prebuilds')
  await run('mkdir', ['-p', app, prebuilds])
  const env = { ...process.env, ...(await localPrebuild(prebuilds)) }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'parley-consumer', version: '1.0.0', private: true, type: 'module' }))
  await run(npm, [
    'install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error',
    tarball, `@foundry-rs/anvil@${pkg.peerDependencies['@foundry-rs/anvil']}`,
  ], { cwd: app, env, maxBuffer: 1 << 26 })
})
after(() => rmSync(dir, { recursive: true, force: true }))

describe('the packed package', () => {
  it('ships the compiled API, declarations, runtime artifacts and the bin — no tests, no TypeScript sources', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'cli/bin.mjs', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/testing/index.js',
      'dist/cli/index.js', 'dist/artifacts/StateChannelManager.json', 'dist/artifacts/StateChannelCourt.json', 'dist/src/net/types/hyperswarm.d.ts',
      'contracts/machine/AStateMachine.sol']) {
      assert.ok(files.includes(f), `${f} is in the tarball`)
    }
    const unwanted = files.filter((f) => /\.test\.|^test\/|^src\/|^bench\/|^demo\/|^scripts\/|tsbuildinfo|^artifacts\/|contracts\/test\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')))
    assert.deepEqual(unwanted, [])
    const size = statSync(tarball).size
    assert.ok(size < 600_000, `tarball ${size} bytes`)
  })

  it('installs with --omit=dev: no TypeScript tooling, the bin runs compiled JS', async () => {
    const modules = join(app, 'node_modules')
    assert.ok(existsSync(join(modules, 'parley/dist/src/index.js')))
    for (const dev of ['tsx', 'typescript', 'solc', 'fast-check']) assert.ok(!existsSync(join(modules, dev)), `${dev} is not installed`)
    const { stdout } = await run(join(modules, '.bin/parley'), ['--help'], { cwd: app })
    assert.match(stdout, /^parley <command>/)
    assert.match(stdout, /devnet/)
    const bad = await run(join(modules, '.bin/parley'), ['frobnicate'], { cwd: app }).then(() => undefined, (e: { code: number; stderr: string }) => e)
    assert.equal(bad?.code, 2)
    assert.match(bad!.stderr, /^error COMMAND_UNKNOWN/)
  })

  it('runs a two-party channel from a plain .mjs importing parley and parley/testing', async () => {
    copyFileSync(join(import.meta.dirname, 'app.mjs'), join(app, 'app.mjs'))
    const { stdout } = await run(process.execPath, ['app.mjs', join(app, 'alice.db')], { cwd: app, timeout: 180_000 })
    const r = JSON.parse(stdout.trim().split('\n').pop()!) as { channelId: string; via: string[]; refused: string; closedIn: string; phase: string; balances: string[] }
    assert.match(r.channelId, /^0x[0-9a-f]{64}$/)
    assert.deepEqual(r.via, ['peers', 'peers'])
    assert.equal(r.refused, 'NOT_YOUR_TURN')
    assert.match(r.closedIn, /^0x[0-9a-f]{64}$/)
    assert.equal(r.phase, 'closed')
    const ONE = 10n ** 18n
    assert.deepEqual(r.balances, [String(ONE - ONE / 4n + ONE / 10n), String(ONE + ONE / 4n - ONE / 10n)])
    assert.ok(existsSync(join(app, 'alice.db')), 'the SQLite store was written')
  })

  it('type-checks a TypeScript consumer against the shipped declarations', async () => {
    copyFileSync(join(import.meta.dirname, 'consumer.ts'), join(app, 'consumer.ts'))
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] },
      files: ['consumer.ts'],
    }))
    await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', app], { cwd: app }).catch((e: { stdout: string }) => assert.fail(e.stdout))
    writeFileSync(join(app, 'consumer.ts'), `import { channelParams } from 'parley'\nexport const x: string = channelParams\n`)
    const wrong = await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', app], { cwd: app }).then(() => '', (e: { stdout: string }) => e.stdout)
    assert.match(wrong, /TS2322/, 'a wrong use fails to compile: the declarations are really checked')
  })
})
