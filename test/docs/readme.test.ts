import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The README's examples must stay true: run its first JavaScript block (the package quick start)
// and its first TypeScript block (the chain helpers) as written, against the sources: `parley`
// and `parley/<entry>` imports are mapped to src/index.ts and src/<entry>/index.ts (what the
// package's exports map compiles from; test/package checks the built package itself).
const root = fileURLToPath(new URL('../..', import.meta.url))
const readme = readFileSync(join(root, 'README.md'), 'utf8')

function runBlock(lang: 'js' | 'ts', file: string): string {
  const block = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme)?.[1]
  assert.ok(block, `README.md has no \`\`\`${lang} block`)
  mkdirSync(join(root, 'tmp'), { recursive: true })
  const dir = mkdtempSync(join(root, 'tmp', 'readme-example-'))
  try {
    const source = block.replace(/from 'parley(?:\/(\w+))?'/g, (_, entry: string | undefined) => `from '${join(root, 'src', entry ?? '', 'index.ts')}'`)
    assert.ok(!/from '\.\/src\//.test(source), 'examples import the package entry points, not src/ paths')
    writeFileSync(join(dir, file), source)
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, file)], { cwd: root, encoding: 'utf8', timeout: 120_000 })
    assert.equal(r.status, 0, `example exited with ${r.status}:\n${r.stdout}\n${r.stderr}`)
    return r.stdout
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('the README package quick start runs', () => {
  assert.match(runBlock('js', 'quickstart.mjs'), /paid via peers; alice has 750000000000000000 wei in the manager/)
})

test('the README API example runs', () => {
  assert.match(runBlock('ts', 'example.ts'), /opened for \d+ gas, paid out 1000000000000000000, 1000000000000000000 wei/)
})
