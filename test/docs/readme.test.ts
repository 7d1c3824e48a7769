import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The README's API sketch must stay true: run its TypeScript block as written.
test('the README API example runs', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
  assert.ok(block, 'README.md has no ```ts block')
  // Imports in the README are relative to the repository root; run the file from tmp/ (ignored by git).
  mkdirSync(join(root, 'tmp'), { recursive: true })
  const dir = mkdtempSync(join(root, 'tmp', 'readme-example-'))
  try {
    const file = join(dir, 'example.ts')
    writeFileSync(file, block.replaceAll("from './src/", "from '../../src/"))
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 60_000 })
    assert.equal(r.status, 0, `example exited with ${r.status}:\n${r.stdout}\n${r.stderr}`)
    assert.match(r.stdout, /opened for \d+ gas, paid out 1000000000000000000, 1000000000000000000 wei/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
