/**
 * The error code unions: each family's list is duplicate-free, the contracts' list matches the
 * compiled ABIs, and a wrong code fails to compile — codes.typetest.ts is type-checked as
 * written (every `@ts-expect-error` used), and again without its directives, where each marked
 * line must be a compile error.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { contractErrorCodes } from '../../scripts/contract-codes.js'
import { CLI_USAGE_CODES, CONTRACT_ERROR_CODES, PROTOCOL_CODES, RUNTIME_CODES, USAGE_CODES } from './codes.js'

const root = join(import.meta.dirname, '../..')
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const run = promisify(execFile)

/** Type-checks `file` alone with the project's options; resolves with tsc's output ('' when clean). */
async function typecheck(file: string, dir: string): Promise<string> {
  const config = join(dir, 'tsconfig.json')
  writeFileSync(config, JSON.stringify({ extends: join(root, 'tsconfig.json'), compilerOptions: { noEmit: true }, include: [], files: [file] }))
  return run(process.execPath, [tsc, '-p', config]).then(() => '', (e: { stdout: string }) => e.stdout)
}

describe('error codes', () => {
  it('no family lists a code twice', () => {
    for (const list of [USAGE_CODES, CLI_USAGE_CODES, PROTOCOL_CODES, RUNTIME_CODES, CONTRACT_ERROR_CODES]) {
      assert.equal(new Set<string>(list).size, list.length)
    }
  })

  it("the contracts' codes are those of the compiled ABIs (npm run build:contracts regenerates them)", () => {
    assert.deepEqual([...CONTRACT_ERROR_CODES], contractErrorCodes(join(root, 'artifacts')))
  })

  it('a wrong code fails to compile', async () => {
    const source = join(import.meta.dirname, 'codes.typetest.ts')
    const dir = mkdtempSync(join(root, 'tmp-codes-'))
    try {
      assert.equal(await typecheck(source, dir), '', 'the type test compiles as written: every @ts-expect-error is an error')
      const text = readFileSync(source, 'utf8')
      const marked = text.split('\n').flatMap((l, i) => (l.trimStart().startsWith('// @ts-expect-error') ? [i + 2] : []))
      assert.equal(marked.length, 6)
      const stripped = join(dir, 'stripped.ts')
      writeFileSync(stripped, text.replaceAll('@ts-expect-error', 'no directive:').replaceAll("from './", `from '${relative(dir, import.meta.dirname)}/`))
      const out = await typecheck(stripped, dir)
      const lines = [...out.matchAll(/stripped\.ts\((\d+),\d+\): error TS(\d+)/g)].map((m) => Number(m[1]))
      assert.deepEqual([...new Set(lines)].sort((a, b) => a - b), marked, out)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
