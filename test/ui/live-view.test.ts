/**
 * The live view of `parley run --ui` in a real browser: headless Chromium (Debian's `chromium`,
 * driven by playwright-core, which downloads no browser) opens the pages of two peers that run
 * as `parley run` processes over a HyperDHT testnet on 127.0.0.1 and a real anvil. Alice plays
 * a TicTacToe move by clicking her page's board; bob's page shows it final. Alice forces a
 * close from her page; the dispute appears on both pages. A bad move shows bob the CLI's
 * one-line error. Requests without the token, with another Host or from another Origin are
 * refused — as raw HTTP, and in the browser: a page of another origin on this machine can neither
 * read the stream nor act (with or without the token), and a DNS-rebound name (Chromium's
 * --host-resolver-rules maps it to 127.0.0.1) gets nothing, even with the token.
 *
 * Skips, saying so, where no Chromium is installed (`.ci/run` installs it). With
 * PARLEY_UI_SCREENSHOTS=<dir> it also saves the pages as PNG files there (docs/img).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import { channelParams } from '../../src/channel/params.js'
import { openChannel } from '../../src/peer/openChannel.js'
import { startTestnet, type Testnet } from '../../src/testing/testnet.js'
import { Running } from '../../cli/harness.js'
import { writeParamsFile } from '../../cli/lib/params.js'

const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium'
const missing = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, as .ci/run does; or set PARLEY_CHROMIUM): the live view's browser test is skipped`
if (missing) console.log(`# SKIP ${missing}`)
const SHOTS = process.env.PARLEY_UI_SCREENSHOTS

/** A name Chromium resolves to 127.0.0.1, as an attacker's DNS would after rebinding. */
const REBOUND = 'rebind.test'

/** Headless Chromium with a fresh profile; the flags it needs on this kind of machine. */
async function launch(profile: string): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core')
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1200, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`],
  })
}

/** A raw HTTP request (any Host and Origin): its status and body. */
function raw(url: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? 'GET', headers: o.headers ?? {} }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        body += d
        if (res.headers['content-type']?.startsWith('text/event-stream')) req.destroy() // a stream never ends: its start is enough
      })
      res.on('end', () => resolve({ status: res.statusCode!, body }))
      res.on('close', () => resolve({ status: res.statusCode!, body }))
    })
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)))
    req.end(o.body)
  })
}

let anvil: Anvil
let stack: LocalStack
let testnet: Testnet
let dir: string

describe('the live view in a browser', { skip: missing }, () => {
  before(async () => {
    ;[anvil, testnet] = await Promise.all([startAnvil({ accounts: 3, args: ['--block-time', '1'] }), startTestnet()])
    stack = await deployLocalStack(anvil.wallets[0]!)
    dir = mkdtempSync(join(tmpdir(), 'parley-ui-'))
  })
  after(async () => {
    await testnet?.destroy()
    await anvil?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('two peers: a move played on one page is final on the other, a dispute shows on both, strangers are refused', async () => {
    const [alice, bob] = [anvil.wallets[1]!, anvil.wallets[2]!]
    const params = channelParams({ participants: [alice.address, bob.address], machine: stack.machines.tictactoe, deposits: [0n, 0n], now: BigInt(await anvil.now()) })
    const opened = await openChannel(stack.manager.connect(alice), params, [alice, bob])
    writeParamsFile(join(dir, 'ttt.json'), { params, chainId: 31337n, manager: stack.manager.address, channelId: opened.channelId, machineName: 'tictactoe' })
    const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
    const run = (key: string, store: string) =>
      new Running(['run', 'ttt.json', '--key', key, '--store', store, '--rpc', anvil.url, '--bootstrap', bootstrap, '--poll', '200', '--json', '--ui'], dir)
    const runs = [run(alice.privateKey, 'a.db'), run(bob.privateKey, 'b.db')]
    let browser: BrowserContext | undefined
    try {
      const [uiA, uiB] = await Promise.all(runs.map((r) => r.on('ui', {}, 60_000)))
      const [urlA, urlB] = [String(uiA!.url), String(uiB!.url)]
      assert.match(urlA, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/)
      await Promise.all(runs.map((r) => r.on('ready', {}, 60_000)))

      // Strangers: no token, a wrong one, another Host (DNS rebinding), another Origin.
      const base = urlA.slice(0, urlA.indexOf('/?'))
      const token = new URL(urlA).searchParams.get('token')!
      for (const path of ['/', '/events', '/?token=' + '0'.repeat(64), '/events?token=x']) {
        const r = await raw(base + path)
        assert.equal(r.status, 401, `GET ${path} without the token is refused`)
        assert.match(r.body, /"code":"UI_TOKEN_INVALID"/)
        assert.doesNotMatch(r.body, /channel|0x[0-9a-f]{40}/i, 'a refusal tells nothing about the channel')
      }
      const noToken = await raw(`${base}/command`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"line":"cell 0"}' })
      assert.equal(noToken.status, 401, 'a command without the token is refused')
      const rebound = await raw(urlA, { headers: { Host: `evil.example:${new URL(urlA).port}` } })
      assert.equal(rebound.status, 403, 'another Host is refused, even with the token')
      const foreign = await raw(`${base}/command`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Parley-Token': token, Origin: 'http://evil.example' }, body: '{"line":"cell 0"}' })
      assert.equal(foreign.status, 403, 'a command from another origin is refused')
      assert.match(foreign.body, /UI_ORIGIN_REFUSED/)
      const simple = await raw(`${base}/command`, { method: 'POST', headers: { 'Content-Type': 'text/plain', 'X-Parley-Token': token }, body: '{"line":"cell 0"}' })
      assert.equal(simple.status, 400, 'a command must be JSON (a form post from elsewhere is not one)')
      const page = await raw(urlA)
      assert.equal(page.status, 200)
      assert.equal(runs[0]!.events.filter((e) => e.event === 'state').length, 0, 'no refused request played a move')

      const profile = mkdtempSync(join(tmpdir(), 'parley-chromium-'))
      browser = await launch(profile)
      const [pageA, pageB] = [await browser.newPage(), await browser.newPage()]
      await Promise.all([pageA.goto(urlA), pageB.goto(urlB)])
      for (const p of [pageA, pageB]) await p.waitForSelector('#stream.up', { timeout: 30_000 })
      // Each page knows the other participant is connected.
      await pageA.waitForSelector('#participant-1 .link .up', { timeout: 60_000 })
      await pageB.waitForSelector('#participant-0 .link .up', { timeout: 60_000 })

      // Another web page on this machine (another origin: another port of 127.0.0.1) tries alice's
      // live view through the browser: without the token, and even with it, it reads nothing and
      // plays nothing.
      const elsewhere = createServer((_req, res) => void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>another page</title>'))
      await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve))
      try {
        const evil = await browser.newPage()
        await evil.goto(`http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/`)
        // The page's script as text: tsx would wrap named functions of this file in a helper the page lacks.
        const tries = (await evil.evaluate(`(async (base, token) => {
          const outcome = async (f) => {
            try {
              const r = await f()
              return r.type === 'opaque' ? 'sent, unreadable' : 'read ' + r.status
            } catch {
              return 'blocked'
            }
          }
          const line = '{"line":"force-close"}'
          return {
            events: await outcome(() => fetch(base + '/events')),
            eventsWithToken: await outcome(() => fetch(base + '/events?token=' + token)),
            pageWithToken: await outcome(() => fetch(base + '/?token=' + token)),
            eventSourceWithToken: await new Promise((resolve) => {
              const s = new EventSource(base + '/events?token=' + token)
              s.onmessage = () => (s.close(), resolve('read'))
              s.onerror = () => (s.close(), resolve('blocked'))
            }),
            command: await outcome(() => fetch(base + '/command', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: line })),
            commandWithToken: await outcome(() => fetch(base + '/command', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Parley-Token': token }, body: line })),
            // What a form or a no-cors fetch can send (no preflight): no header of its own, not JSON.
            // It reaches the server, which refuses it (401: no token header); the response, opaque
            // anyway, is withheld from the page too (Cross-Origin-Resource-Policy: same-origin).
            simplePost: await outcome(() => fetch(base + '/command?token=' + token, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: line })),
          }
        })(${JSON.stringify(base)}, ${JSON.stringify(token)})`)) as Record<string, string>
        assert.deepEqual(tries, {
          events: 'blocked', eventsWithToken: 'blocked', pageWithToken: 'blocked', eventSourceWithToken: 'blocked',
          command: 'blocked', commandWithToken: 'blocked', simplePost: 'blocked',
        }, 'another origin reads nothing (no CORS header) and its commands are refused (preflight refused, or no token header)')

        // DNS rebinding: a name that now resolves to 127.0.0.1 is not this server's host, even with the token.
        const rebound = await evil.goto(`http://${REBOUND}:${new URL(urlA).port}/?token=${token}`)
        assert.equal(rebound?.status(), 403, 'a rebound name gets no page')
        assert.match((await evil.textContent('body'))!, /UI_ORIGIN_REFUSED/)
        assert.equal(await evil.evaluate(`fetch('/events?token=${token}').then((r) => r.status)`), 403, 'nor the stream, same-origin to itself')
        await evil.close()
      } finally {
        await new Promise<void>((resolve) => elsewhere.close(() => resolve()))
      }
      await new Promise((resolve) => setTimeout(resolve, 500))
      assert.equal((await pageA.$$('#log li.command')).length, 0, "no command reached alice's peer")
      assert.equal(await pageA.textContent('#phase'), 'open', 'the channel is still open (no force-close got through)')

      // Alice (X) clicks the centre cell on her page; bob's page shows the move final.
      await pageA.click('#board button[data-cell="4"]:not([disabled])', { timeout: 30_000 })
      const finalOnB = await pageB.waitForSelector('#tx-0-1.final', { timeout: 60_000 })
      assert.match((await finalOnB.textContent())!, /#0.*X.*final for #1 \(you\)/s)
      await pageA.waitForSelector('#tx-0-1.final', { timeout: 60_000 })
      assert.equal(await pageB.textContent('#board button[data-cell="4"]'), 'X', "bob's board shows alice's X")
      assert.equal((await pageB.$$('#tx-0-1 .sig.signed')).length, 2, 'both signatures shown')

      // A move the machine refuses: the CLI's one-line error on bob's page.
      await pageB.fill('#raw input[name="line"]', 'cell 4')
      await pageB.click('#raw button')
      const error = await pageB.waitForSelector('#error:not([hidden])', { timeout: 30_000 })
      assert.match((await error.textContent())!, /^error MOVE_INVALID: .*TicTacToeCellUnavailable\(cell=4\)/)

      // Bob plays from his page: alice's page shows it final.
      await pageB.click('#board button[data-cell="0"]:not([disabled])', { timeout: 30_000 })
      await pageA.waitForSelector('#tx-0-2.final', { timeout: 60_000 })
      if (SHOTS) await shoot([pageA, pageB], SHOTS, 'play')

      // Alice forces a close from her page: the dispute shows on both pages, with its deadline.
      await pageA.click('#actions button[data-line="force-close"]')
      for (const p of [pageA, pageB]) {
        const d = await p.waitForSelector('#court li[data-kind="dispute"]', { timeout: 60_000 })
        assert.match((await d.textContent())!, /ForceClose raised by #0/)
        await p.waitForSelector('#deadlines li[data-kind="dispute"]', { timeout: 10_000 })
      }
      if (SHOTS) await shoot([pageA, pageB], SHOTS, 'dispute')
    } finally {
      await browser?.close()
      await Promise.all(runs.map((r) => r.stop()))
    }
  })
})

async function shoot(pages: Page[], to: string, what: string): Promise<void> {
  mkdirSync(to, { recursive: true })
  for (const [i, p] of pages.entries()) await p.screenshot({ path: join(to, `live-view-${what}-${['alice', 'bob'][i]}.png`), fullPage: true })
}
