/**
 * A machine's compiled contract for `parley machine deploy`: compiled from a `.sol` file with
 * solc-js and the repository's own settings (SOLC_SETTINGS: optimizer, via-IR, and the
 * evmVersion the client EVM runs), or read from an artifact JSON (Parley's, Hardhat's, or
 * Foundry's `out/X.sol/X.json`).
 *
 * Imports resolve relative to the importing file, then `parley/…` to this package (so a
 * machine anywhere may `import {AStateMachine} from "parley/contracts/machine/AStateMachine.sol"`),
 * then through node_modules.
 */
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isHexString } from 'ethers'
import { SOLC_SETTINGS } from '../../src/contracts/compiler.js'
import { RuntimeError } from '../../src/errors/ParleyError.js'
import type { Hex } from '../../src/protocol/types.js'
import { argError } from './errors.js'
import { readJson, readText } from './files.js'

/** What deploying a machine needs. */
export interface CompiledMachine {
  contractName: string
  abi: unknown[]
  bytecode: Hex
  /** Where it came from (the .sol or artifact path). */
  source: string
}

interface Solc {
  version(): string
  compile(input: string, opts: { import: (path: string) => { contents?: string; error?: string } }): string
}

/** The folder holding this package's package.json (contracts/ lives there, in a clone and installed). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'contracts'))) {
    const up = dirname(dir)
    if (up === dir) return dir
    dir = up
  }
  return dir
}

/** solc-js, loaded on demand; RuntimeError `SOLC_MISSING` when it is not installed. */
function loadSolc(): Solc {
  try {
    return createRequire(import.meta.url)('solc') as Solc
  } catch (cause) {
    throw new RuntimeError('SOLC_MISSING', 'compiling a .sol needs solc-js: `npm install -D solc@0.8.30` next to parley, or pass a compiled artifact JSON instead', { cause })
  }
}

/**
 * Compiles `file` and picks the machine: `contract` if given, else the contract named like the
 * file, else its only deployable contract with a `transition`. ArgumentError `COMPILE_FAILED`
 * with solc's first errors; `ARG_MISSING` when the choice is ambiguous.
 * @example const m = compileMachine('RockPaperScissors.sol')
 */
export function compileMachine(file: string, contract?: string): CompiledMachine {
  const path = resolve(file)
  const content = readText(file, 'Solidity source')
  const solc = loadSolc()
  const root = packageRoot()
  const findImport = (p: string): { contents?: string; error?: string } => {
    const candidates = [
      ...(isAbsolute(p) ? [p] : []),
      ...(p.startsWith('parley/') ? [join(root, p.slice('parley/'.length))] : []),
      ...nodeModules(dirname(path), p), ...nodeModules(root, p),
    ]
    const found = candidates.find((c) => existsSync(c))
    return found ? { contents: readFileSync(found, 'utf8') } : { error: `not found: ${p}` }
  }
  const input = {
    language: 'Solidity',
    sources: { [path]: { content } },
    settings: { ...SOLC_SETTINGS, outputSelection: { [path]: { '*': ['abi', 'evm.bytecode.object'] } } },
  }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as {
    errors?: { severity: string; formattedMessage: string }[]
    contracts?: Record<string, Record<string, { abi: { type: string; name?: string }[]; evm: { bytecode: { object: string } } }>>
  }
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  if (errors.length > 0) {
    throw argError('COMPILE_FAILED', `${file} does not compile (solc ${solc.version()}): ${errors.slice(0, 3).map((e) => e.formattedMessage.trim()).join('\n')}`, { file, errors: errors.length })
  }
  const all = Object.entries(output.contracts?.[path] ?? {}).filter(([, c]) => c.evm.bytecode.object.length > 0)
  const wanted = contract ?? basename(file, '.sol')
  const machines = all.filter(([, c]) => c.abi.some((f) => f.type === 'function' && f.name === 'transition'))
  const chosen = all.find(([n]) => n === wanted) ?? (contract === undefined && machines.length === 1 ? machines[0] : undefined)
  if (!chosen) {
    const names = all.map(([n]) => n).join(', ') || 'none'
    throw argError(contract ? 'ARG_INVALID' : 'ARG_MISSING', `${contract ? `no contract ${contract} in ${file}` : `which contract of ${file}? pass --contract`} (deployable: ${names})`)
  }
  return { contractName: chosen[0], abi: chosen[1].abi, bytecode: `0x${chosen[1].evm.bytecode.object}` as Hex, source: file }
}

function nodeModules(from: string, p: string): string[] {
  const out: string[] = []
  for (let dir = from; ; dir = dirname(dir)) {
    out.push(join(dir, 'node_modules', p))
    if (dirname(dir) === dir) return out
  }
}

/**
 * Reads a compiled artifact: `{ abi, bytecode }` with bytecode as hex (Parley, Hardhat) or as
 * `{ object }` (Foundry). ArgumentError `FILE_INVALID` naming what is missing.
 * @example const m = readArtifactFile('out/RockPaperScissors.sol/RockPaperScissors.json')
 */
export function readArtifactFile(file: string): CompiledMachine {
  const o = readJson(file, 'artifact') as { contractName?: unknown; abi?: unknown; bytecode?: unknown } | null
  const raw = typeof o?.bytecode === 'object' && o.bytecode !== null ? (o.bytecode as { object?: unknown }).object : o?.bytecode
  const bytecode = typeof raw === 'string' && !raw.startsWith('0x') ? `0x${raw}` : raw
  if (!o || !Array.isArray(o.abi)) throw argError('FILE_INVALID', `artifact ${file} has no "abi" array`, { path: file })
  if (typeof bytecode !== 'string' || !isHexString(bytecode) || bytecode.length <= 2) throw argError('FILE_INVALID', `artifact ${file} has no creation "bytecode"`, { path: file })
  const name = typeof o.contractName === 'string' ? o.contractName : basename(file, '.json')
  return { contractName: name, abi: o.abi as unknown[], bytecode: bytecode.toLowerCase() as Hex, source: file }
}
