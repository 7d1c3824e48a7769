/**
 * Compiles every Solidity file under contracts/ with solc-js (the npm package, no download)
 * and writes one JSON artifact per concrete contract to artifacts/: { contractName, sourceName,
 * abi, bytecode, deployedBytecode }. Skips the work when sources and settings are unchanged.
 *
 * Usage: tsx scripts/build-contracts.ts [--force]
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EVM_VERSION, MAX_CODE_SIZE, SOLC_SETTINGS } from '../src/contracts/compiler.js'
import { writeContractCodes } from './contract-codes.js'

const require = createRequire(import.meta.url)
const solc = require('solc') as {
  version(): string
  compile(input: string, opts: { import: (path: string) => { contents?: string; error?: string } }): string
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const contractsDir = join(root, 'contracts')
const outDir = join(root, 'artifacts')
const stampFile = join(outDir, '.build-stamp')

function listSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return listSources(p)
    return e.name.endsWith('.sol') ? [p] : []
  }).sort()
}

function findImport(path: string): { contents?: string; error?: string } {
  for (const base of [contractsDir, join(root, 'node_modules')]) {
    const p = join(base, path)
    if (existsSync(p)) return { contents: readFileSync(p, 'utf8') }
  }
  return { error: `not found: ${path}` }
}

const files = listSources(contractsDir)
const sources: Record<string, { content: string }> = {}
for (const f of files) sources[relative(contractsDir, f)] = { content: readFileSync(f, 'utf8') }

const stamp = createHash('sha256')
  .update(solc.version())
  .update(JSON.stringify(SOLC_SETTINGS))
  .update(JSON.stringify(sources))
  .update(readFileSync(join(root, 'node_modules/@openzeppelin/contracts/package.json')))
  .digest('hex')

if (!process.argv.includes('--force') && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
  console.log(`contracts: up to date (${files.length} sources, solc ${solc.version()}, evm ${EVM_VERSION})`)
  process.exit(0)
}

console.log(`contracts: compiling ${files.length} sources with solc ${solc.version()} (evm ${EVM_VERSION}, optimizer on, via IR)…`)
const started = Date.now()
const input = {
  language: 'Solidity',
  sources,
  settings: {
    ...SOLC_SETTINGS,
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'storageLayout'] } },
  },
}
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as {
  errors?: { severity: string; formattedMessage: string; sourceLocation?: { file: string } }[]
  contracts: Record<string, Record<string, {
    abi: { type: string; name?: string }[]
    evm: { bytecode: { object: string }; deployedBytecode: { object: string } }
    storageLayout?: { storage: { label: string; slot: string; offset: number; type: string }[] }
  }>>
}
const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
// Warnings from our own sources only; dependencies' warnings are theirs to fix.
for (const e of output.errors ?? []) {
  if (e.severity !== 'error' && sources[e.sourceLocation?.file ?? '']) console.warn(e.formattedMessage)
}
if (errors.length > 0) {
  for (const e of errors) console.error(e.formattedMessage)
  console.error(`contracts: ${errors.length} compile error(s)`)
  process.exit(1)
}

// EIP-170: a contract above the limit cannot be deployed on any real chain (anvil is never
// started with the limit lifted), so fail here rather than at deployment.
const oversized: string[] = []
for (const [sourceName, contracts] of Object.entries(output.contracts)) {
  if (!sources[sourceName]) continue
  for (const [name, c] of Object.entries(contracts)) {
    const size = c.evm.deployedBytecode.object.length / 2
    if (size > MAX_CODE_SIZE) oversized.push(`${name}: ${size} bytes`)
  }
}
if (oversized.length > 0) {
  console.error(`contracts: runtime code above the EIP-170 limit of ${MAX_CODE_SIZE} bytes: ${oversized.join(', ')}`)
  process.exit(1)
}

// The manager runs the court's code by delegatecall on its own storage: both must declare the
// same variables in the same slots, or the court would read and write the wrong ones.
const manager = output.contracts['StateChannelManager.sol']?.StateChannelManager
const court = output.contracts['StateChannelCourt.sol']?.StateChannelCourt
if (!manager || !court) {
  console.error('contracts: StateChannelManager and StateChannelCourt are both required')
  process.exit(1)
}
const layout = (c: typeof manager) => JSON.stringify((c.storageLayout?.storage ?? []).map(({ label, slot, offset, type }) => ({ label, slot, offset, type })))
if (layout(manager) !== layout(court)) {
  console.error(`contracts: storage layouts differ\n  manager: ${layout(manager)}\n  court:   ${layout(court)}`)
  process.exit(1)
}
// One address serves both: the manager's artifact carries the court's functions, events and
// errors too, so clients use one ABI (a function's entry wins over a same-named one only if the
// signature is identical, which the compiler guarantees for inherited events and errors).
const key = (e: { type: string; name?: string; inputs?: unknown }) => `${e.type}:${e.name ?? ''}:${JSON.stringify(e.inputs ?? [])}`
const seen = new Set(manager.abi.map(key))
manager.abi = [...manager.abi, ...court.abi.filter((e) => e.type !== 'constructor' && !seen.has(key(e)))]

rmSync(outDir, { recursive: true, force: true })
mkdirSync(outDir, { recursive: true })
let count = 0
for (const [sourceName, contracts] of Object.entries(output.contracts)) {
  if (!sources[sourceName]) continue // OpenZeppelin dependencies
  for (const [contractName, c] of Object.entries(contracts)) {
    // Interfaces and abstract contracts have no bytecode; internal-only libraries have no ABI.
    if (c.evm.bytecode.object.length === 0 || c.abi.length === 0) continue
    const artifact = {
      contractName,
      sourceName,
      abi: c.abi,
      bytecode: `0x${c.evm.bytecode.object}`,
      deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
    }
    writeFileSync(join(outDir, `${contractName}.json`), JSON.stringify(artifact, null, 2) + '\n')
    count++
  }
}
writeFileSync(stampFile, stamp)
console.log(`contracts: wrote ${count} artifacts to artifacts/ in ${((Date.now() - started) / 1000).toFixed(1)} s`)
if (writeContractCodes(root)) console.log('contracts: their error codes changed: src/errors/contractCodes.ts rewritten (commit it)')
