/**
 * `npm run demo -- --ui` in a real browser: the demo prints the live view's address and waits
 * for the page; headless Chromium opens it; the page follows alice's client through both
 * scenarios and ends on the punishment scenario's channel — mallory slashed and removed, fork 1,
 * the close, the balances paid out; the demo keeps the page up after "every check passed" and
 * exits 0 on Ctrl-C (SIGINT).
 *
 * Both honest courts race to prove mallory's fraud and to resolve: the race the other court won
 * shows as an ordinary line, never as an error. Skips, saying so, where no Chromium is installed
 * (like live-view.test.ts). With PARLEY_UI_SCREENSHOTS=<dir> it also saves the page at the end as
 * demo-live-view.png there (docs/img, the README's screenshot).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium'
const missing = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, as .ci/run does; or set PARLEY_CHROMIUM): the demo's live view test is skipped`
if (missing) console.log(`# SKIP ${missing}`)
const root = fileURLToPath(new URL('../..', import.meta.url))
const SHOTS = process.env.PARLEY_UI_SCREENSHOTS

describe('npm run demo -- --ui', { skip: missing }, () => {
  it("serves alice's live view, which follows the demo to its end", async () => {
    const demo = spawn(process.execPath, ['--import', 'tsx', 'demo/index.ts', '--ui'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    demo.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
    demo.stderr.setEncoding('utf8').on('data', (d: string) => (out += d))
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)))
    const until = async (re: RegExp, ms: number): Promise<RegExpMatchArray> => {
      const end = Date.now() + ms
      for (;;) {
        const m = out.match(re)
        if (m) return m
        if (demo.exitCode !== null || Date.now() > end) assert.fail(`the demo did not print ${re}:\n${out}`)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    }
    const { chromium } = await import('playwright-core')
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
    try {
      const [url] = await until(/http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}/, 120_000)
      assert.doesNotMatch(out, /every pair connected/, 'the demo waits for the page')
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
      await page.goto(url!)
      await until(/the live view stays at/, 240_000)
      assert.match(out, /demo finished: every check passed/)
      await page.waitForSelector('#phase.closed', { timeout: 30_000 })
      await page.waitForSelector('#court li[data-kind="closed"]', { timeout: 30_000 })
      const court = await page.$$eval('#court li', (l) => l.map((e) => e.getAttribute('data-kind')))
      for (const kind of ['fraud', 'slashed', 'dispute', 'resolved', 'removed', 'fork', 'closed']) assert.ok(court.includes(kind), `the court list shows ${kind}: ${court.join(', ')}`)
      assert.equal(await page.textContent('#participant-2 .status'), 'removed', 'mallory removed')
      assert.equal(await page.textContent('#participant-2 .payout'), '0 ETH', 'mallory paid nothing')
      assert.match((await page.textContent('#participant-0 .payout'))!, /^\d+(\.\d+)? ETH$/, "alice's payout")
      assert.ok((await page.$$('#txs tr.final')).length >= 6, 'the final transactions of the scenario')
      const errors = await page.$$eval('#log li.error', (l) => l.map((e) => e.textContent))
      for (const e of errors) assert.doesNotMatch(e!, /(CHANNEL|DISPUTE)_RECORD_MISMATCH|DISPUTE_NOT_OPEN/, 'a race lost to the other court is no error')
      if (SHOTS) await page.screenshot({ path: join(SHOTS, 'demo-live-view.png'), fullPage: true })
      await page.close()
    } finally {
      await browser.close()
      demo.kill('SIGINT')
    }
    assert.equal(await exited, 0, `Ctrl-C after the demo finished exits 0:\n${out.slice(-2000)}`)
  })
})
