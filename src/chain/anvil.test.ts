/**
 * startAnvil leaves no node behind: a process that exits without calling `stop()` (a forgotten
 * stop, `process.exit`, a test runner's forced exit) takes its anvil with it.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

test('an anvil that was never stopped is killed when its process exits', async () => {
  const anvil = fileURLToPath(new URL('./anvil.ts', import.meta.url))
  const script = `import { startAnvil } from ${JSON.stringify(anvil)}
const a = await startAnvil({ accounts: 1 })
console.log(JSON.stringify({ url: a.url }))
process.exit(0)`
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(r.status, 0, r.stderr)
  const { url } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { url: string }
  // The node at that URL is gone: nothing answers there any more.
  const answered = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' })
    .then(() => true, () => false)
  assert.equal(answered, false, `anvil at ${url} still answers after its process exited`)
})
