/**
 * docs/tutorial.md runs as written. Its fenced blocks marked `tutorial` are the script, played
 * in order in a fresh folder (the reader's project):
 *
 * - ```` ```solidity tutorial FILE ````: written to FILE — and it must be the repository's
 *   contracts/examples/FILE up to its imports (`parley/contracts/…` there is `../…` here);
 * - ```` ```sh tutorial devnet ```` / ```` ```sh tutorial testnet ````: the long-running
 *   services (`--json`; the devnet on `--port 0`);
 * - ```` ```sh tutorial ````: shell commands with `parley` bound to this checkout's CLI;
 * - ```` ```sh tutorial NAME ````: `parley run` for NAME (`--json`);
 * - ```` ```text tutorial NAME ````: lines typed into NAME's run: a move must become final on
 *   every running peer, or be refused with an `error` event (kept for the checks below);
 *   `quit` must stop the peer with status 0; after a `commit`, no other peer's events hold its
 *   salt or its shape (moves must not leak);
 * - ```` ```ts tutorial FILE ````: written to FILE (`parley` imports mapped to src/) and run
 *   with tsx in the folder.
 */
import { after, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Running } from '../../cli/harness.js'
import { bash } from '../../cli/walkthrough.js'

const root = join(import.meta.dirname, '../..')
const doc = readFileSync(join(root, 'docs/tutorial.md'), 'utf8')
const services: Running[] = []
const runs = new Map<string, Running>()
let dir: string | undefined

after(async () => {
  for (const r of runs.values()) await r.stop('SIGKILL')
  // The devnet stops its anvil on SIGTERM (a SIGKILL would leave that anvil running); SIGKILL if it hangs.
  for (const s of services) {
    const t = setTimeout(() => s.child.kill('SIGKILL'), 10_000)
    await s.stop('SIGTERM')
    clearTimeout(t)
  }
  if (dir) rmSync(dir, { recursive: true, force: true })
})

interface Block {
  lang: string
  arg?: string
  body: string
}

function tutorialBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w+) tutorial(?:[ \t]+([\w.-]+))?[ \t]*\n([\s\S]*?)^```[ \t]*$/gm)].map((m) => ({
    lang: m[1]!, ...(m[2] ? { arg: m[2] } : {}), body: m[3]!,
  }))
}

function parleyArgs(body: string): string[] {
  const [cmd, ...args] = body.trim().split(/\s+/)
  assert.ok(cmd === 'parley' && !body.trim().includes('\n'), `expected one \`parley …\` line, got: ${body}`)
  return args
}

describe('docs/tutorial.md', () => {
  it('plays as written: a machine of your own, compiled, deployed, played from the CLI and the SDK, concluded, withdrawn', async () => {
    mkdirSync(join(root, 'tmp'), { recursive: true })
    dir = mkdtempSync(join(root, 'tmp', 'tutorial-')) // inside the clone: the SDK program resolves ethers from here
    const shell: string[] = []
    const refused: { name: string; line: string; code: string; message: string }[] = []
    let seq = 0n
    let sdk = ''
    let leakChecked = 0
    const blocks = tutorialBlocks(doc)
    assert.ok(blocks.length >= 8, `${blocks.length} tutorial blocks`)
    const started = Date.now()
    const timing: string[] = []
    for (const b of blocks) {
      timing.push(`${((Date.now() - started) / 1000).toFixed(1)}s ${b.lang} ${b.arg ?? ''} ${b.body.split('\n')[0]!.slice(0, 40)}`)
      if (b.lang === 'solidity') {
        const mine = readFileSync(join(root, 'contracts/examples', b.arg!), 'utf8')
        assert.equal(b.body.replaceAll('"parley/contracts/', '"../'), mine, `the tutorial's ${b.arg} is contracts/examples/${b.arg}`)
        writeFileSync(join(dir, b.arg!), b.body)
      } else if (b.lang === 'sh' && (b.arg === 'devnet' || b.arg === 'testnet')) {
        // Started at once; the next shell block waits for every service's first line (its file is written).
        services.push(new Running([...parleyArgs(b.body), ...(b.arg === 'devnet' ? ['--port', '0'] : []), '--json'], dir))
      } else if (b.lang === 'sh' && b.arg === undefined) {
        await Promise.all(services.map((s) => s.when(() => true, 60_000)))
        shell.push(await bash(b.body, dir))
      } else if (b.lang === 'sh') {
        // Started at once (peers come up in parallel); a line is typed only once every peer is ready.
        const run = new Running([...parleyArgs(b.body), '--json', '--poll', '200'], dir)
        runs.set(b.arg!, run)
      } else if (b.lang === 'text') {
        const peer = runs.get(b.arg!)
        assert.ok(peer, `lines typed into ${b.arg}, which is not running`)
        await Promise.all([...runs.values()].map((r) => r.on('ready', {}, 30_000)))
        for (const line of b.body.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))) {
          peer.send(line)
          if (line === 'quit') {
            assert.equal(await peer.exited, 0, peer.stderr)
            runs.delete(b.arg!)
            continue
          }
          const next = String(seq + 1n)
          const e = await peer.when((e) => (e.event === 'state' && e.seq === next) || (e.event === 'error' && e.context === line))
          if (e.event === 'error') {
            refused.push({ name: b.arg!, line, code: String(e.code), message: String(e.message) })
            continue
          }
          seq++
          await Promise.all([...runs.values()].map((r) => r.on('final', { seq: next })))
          if (line.startsWith('commit ')) {
            // Moves must not leak: the other peers saw the commitment, never the secret salt nor the shape.
            const [, shape, salt] = line.split(/\s+/)
            for (const [name, r] of runs) {
              if (name === b.arg) continue
              const seen = JSON.stringify(r.events).toLowerCase()
              assert.ok(!seen.includes(salt!.slice(2).toLowerCase()), `${name} saw ${b.arg}'s salt`)
              assert.ok(!seen.includes(`"${shape}"`) && !seen.includes(`=${shape}`), `${name} saw ${b.arg}'s shape`)
            }
            leakChecked++
          }
        }
      } else if (b.lang === 'ts') {
        const source = b.body.replace(/from 'parley(?:\/(\w+))?'/g, (_, entry: string | undefined) => `from '${join(root, 'src', entry ?? '', 'index.ts')}'`)
        writeFileSync(join(dir, b.arg!), source)
        const ran: SpawnSyncReturns<string> = spawnSync(process.execPath, ['--import', 'tsx', b.arg!], { cwd: dir, encoding: 'utf8', timeout: 120_000 })
        assert.equal(ran.status, 0, `${b.arg} exited with ${ran.status}:\n${ran.stdout}\n${ran.stderr}`)
        sdk += ran.stdout
      }
    }

    // TUTORIAL_TIMING=1: when each block started and what it printed (to refresh the doc's output blocks).
    if (process.env.TUTORIAL_TIMING) console.log(timing.join('\n'), shell.join('\n----\n'), JSON.stringify(refused), sdk)
    // The CLI game: the lie was refused by name, alice's rock beat bob's scissors, she concluded and withdrew the pot.
    assert.equal(leakChecked, 1, "the commit's secrecy was checked on the other peer")
    assert.deepEqual(refused.map((r) => [r.name, r.code]), [['alice', 'MOVE_INVALID']])
    assert.match(refused[0]!.message, /RpsRevealMismatch\(shape=2\)/)
    const all = shell.join('\n')
    assert.match(all, /stage=done · commitment=0x[0-9a-f]{64} · played=scissors · revealed=rock · result=#0 won/)
    assert.match(all, /payouts\s+#0 2 ETH · #1 0 ETH/)
    assert.match(all, /withdrawn\s+2 ETH/)
    // The SDK game: the same machine, played and concluded from a program.
    assert.match(sdk, /stage=done · .* · played=paper · revealed=scissors · result=#0 won/)
    assert.match(sdk, /carol won 2000000000000000000 wei/)
  })
})
