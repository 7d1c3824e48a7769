import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// Runs `npm run demo`'s entry point as its own process, as a user would, so the demo can
// never silently rot: it must finish with exit code 0 after all its own checks passed, with
// every participant a real client that met the others over hyperswarm on the local DHT.
test('the demo runs end to end and its checks pass', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'demo/index.ts'], { cwd: root, encoding: 'utf8', timeout: 180_000 })
  assert.equal(r.status, 0, `demo exited with ${r.status}:\n${r.stdout}\n${r.stderr}`)
  assert.match(r.stdout, /anvil listening on/)
  assert.match(r.stdout, /local HyperDHT testnet of 3 nodes on 127\.0\.0\.1/)
  // Both scenarios: every pair of real clients connected over hyperswarm before playing.
  assert.equal(r.stdout.match(/every pair connected: 3 peers found each other through the DHT/g)?.length, 2)
  for (const pair of ['alice ↔ bob', 'alice ↔ carol', 'bob ↔ carol', 'alice ↔ mallory', 'bob ↔ mallory']) {
    assert.match(r.stdout, new RegExp(`${pair} connected over hyperswarm`))
  }
  assert.match(r.stdout, /tx #6 FINAL for alice, bob, carol/)
  assert.match(r.stdout, /tx #4 is final by virtual voting/)
  assert.match(r.stdout, /rejects the same proof without its last tx: PROOF_NOT_FINAL/)
  assert.match(r.stdout, /mallory +broadcasts tx #6 through her transport/)
  assert.match(r.stdout, /re-runs Payments, rejects it \(TX_STATE_MISMATCH\)/)
  assert.match(r.stdout, /court: proveInvalidTransition/)
  assert.match(r.stdout, /mallory is slashed: her share \([\d.]+ ETH\) and bond go to (alice|bob), the prover/)
  assert.match(r.stdout, /court: resolve/)
  assert.match(r.stdout, /tx #1 on fork 1 pays (alice|bob) 0\.2500 ETH — final for both/)
  assert.match(r.stdout, /demo finished: every check passed/)
  assert.doesNotMatch(r.stdout, /✗/)
})
