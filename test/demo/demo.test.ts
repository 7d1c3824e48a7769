import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// Runs `npm run demo`'s entry point as its own process, as a user would, so the demo can
// never silently rot: it must finish with exit code 0 after all its own checks passed.
test('the demo runs end to end and its checks pass', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'demo/index.ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 })
  assert.equal(r.status, 0, `demo exited with ${r.status}:\n${r.stdout}\n${r.stderr}`)
  assert.match(r.stdout, /tx #6 FINAL/)
  assert.match(r.stdout, /tx #4 is final by virtual voting/)
  assert.match(r.stdout, /court: proveInvalidTransition/)
  assert.match(r.stdout, /mallory is slashed: her share \([\d.]+ ETH\) and bond go to (alice|bob), the prover/)
  assert.match(r.stdout, /court: resolve/)
  assert.match(r.stdout, /demo finished: every check passed/)
  assert.doesNotMatch(r.stdout, /✗/)
})
