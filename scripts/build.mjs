/**
 * Builds the package: the contracts (solc-js, skipped when unchanged), then `tsc -p
 * tsconfig.build.json` (src/ and cli/ → dist/, JS and declarations), then the runtime's share of
 * the contract artifacts (dist/artifacts/) and the ambient module declarations the .d.ts files
 * refer to. Output of a source file deleted since the last build is removed, so `npm pack` never
 * ships stale modules.
 *
 * Plain Node (no tsx): `npm run build`; `npm pack` runs it (prepack).
 */
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'

const root = join(import.meta.dirname, '..')
const dist = join(root, 'dist')
const require = createRequire(import.meta.url)

/** The artifacts the runtime loads (src/contracts/artifacts.ts): the manager and its court, the
 * example machines and the test token (`deployLocalStack`, `parley deploy`, error decoding). */
export const RUNTIME_ARTIFACTS = ['StateChannelManager', 'StateChannelCourt', 'Counter', 'Payments', 'TicTacToe', 'TestToken']

const run = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' })

if (!process.argv.includes('--skip-contracts')) run(process.execPath, ['--import', 'tsx', 'scripts/build-contracts.ts'])

const started = Date.now()
run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'])

// Stale output: a .js / .d.ts in dist/src or dist/cli without its .ts source.
let pruned = 0
const prune = (dir) => {
  if (!existsSync(dir)) return
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) {
      prune(p)
      continue
    }
    const base = e.name.replace(/\.d\.ts$|\.js$/, '')
    if (base === e.name) continue
    const source = join(root, relative(dist, dirname(p)), base)
    if ((!existsSync(`${source}.ts`) && !existsSync(`${source}.d.ts`)) || base.endsWith('.test')) (rmSync(p), pruned++)
  }
}
prune(join(dist, 'src'))
prune(join(dist, 'cli'))

// Ambient declarations of untyped dependencies (hyperswarm, hyperdht, protomux): tsc does not
// copy .d.ts sources; the entry declarations reference them.
// tsc writes their reference paths relative to the source tree: point them at the copies.
const types = join(root, 'src/net/types')
mkdirSync(join(dist, 'src/net/types'), { recursive: true })
for (const f of readdirSync(types)) if (f.endsWith('.d.ts')) copyFileSync(join(types, f), join(dist, 'src/net/types', f))
for (const entry of ['index.d.ts', 'testing/index.d.ts', 'net/index.d.ts']) {
  const file = join(dist, 'src', entry)
  const text = readFileSync(file, 'utf8')
  const fixed = text.replace(/(\/\/\/ <reference path=")([^"]+)(")/g, (_, open, path, close) => {
    const inSource = relative(root, join(dirname(file), path))
    const rel = relative(dirname(file), join(dist, inSource))
    return `${open}${rel.startsWith('.') ? rel : `./${rel}`}${close}`
  })
  writeFileSync(file, fixed)
}

// The live view's page (`parley run --ui`, cli/ui/server.ts reads it next to itself): plain files, no build.
const page = join(root, 'cli/ui/page')
mkdirSync(join(dist, 'cli/ui/page'), { recursive: true })
for (const f of readdirSync(page)) copyFileSync(join(page, f), join(dist, 'cli/ui/page', f))

// Contract artifacts: only what the runtime loads, only the fields it reads.
const artifacts = join(dist, 'artifacts')
rmSync(artifacts, { recursive: true, force: true })
mkdirSync(artifacts)
for (const name of RUNTIME_ARTIFACTS) {
  const a = JSON.parse(readFileSync(join(root, 'artifacts', `${name}.json`), 'utf8'))
  const { contractName, sourceName, abi, bytecode, deployedBytecode } = a
  writeFileSync(join(artifacts, `${name}.json`), JSON.stringify({ contractName, sourceName, abi, bytecode, deployedBytecode }))
}
console.log(`build: dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s (${RUNTIME_ARTIFACTS.length} artifacts${pruned ? `, ${pruned} stale files removed` : ''})`)
