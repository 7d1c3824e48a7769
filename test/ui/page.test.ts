/**
 * The live view's page in headless Chromium, fed by the real chain of `parley run --ui` — the
 * run's Printer (the events `--json` prints) → the live feed (cli/ui/feed.ts) → the server
 * (cli/ui/server.ts) — from a scripted peer (no chain, no network), so that every part of the
 * page is checked deterministically: who is connected; a transaction's state decoded by the
 * machine, its signatures arriving one by one, final for this peer by virtual voting; a
 * dispute's deadline counting down in local time; the slash, the removal, the fork and the
 * settlement as the court reports them; a court call lost to another court as an ordinary line,
 * a real failure as the red banner; balances off-chain, in the manager and paid out; the
 * Payments pay form and the ABI's forms sending the lines the terminal takes.
 *
 * Skips, saying so, where no Chromium is installed (like live-view.test.ts).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AbiCoder } from 'ethers'
import type { Browser, Page } from 'playwright-core'
import { ETH_ASSET } from '../../cli/lib/assets.js'
import { exampleSpeaker } from '../../cli/lib/speaker.js'
import { Printer } from '../../cli/run/printer.js'
import { liveFeed } from '../../cli/ui/feed.js'
import { startLiveView, type LiveView } from '../../cli/ui/server.js'
import { Emitter } from '../../src/observe/Emitter.js'
import { ProtocolError } from '../../src/errors/ParleyError.js'
import { DisputeKind, type Hex } from '../../src/protocol/types.js'

const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium'
const missing = existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, as .ci/run does; or set PARLEY_CHROMIUM): the live view's page test is skipped`
if (missing) console.log(`# SKIP ${missing}`)

const participants = ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', '0x90F79bf6EB2c4f870365E785982E1f101E93b906'] as Hex[]
const ETH = 10n ** 18n
const CHAIN_NOW = 1_800_000_000n
const params = {
  participants, machine: '0x00000000000000000000000000000000000000aa' as Hex, asset: ETH_ASSET.address,
  p2pTime: 60, agreementTime: 30, chainFallbackTime: 120, challengeTime: 300, deposits: [ETH, ETH, ETH], bond: ETH / 10n,
}
/** A Payments state as the machine encodes it. */
const paymentsState = (balances: bigint[], turn: number): Hex =>
  AbiCoder.defaultAbiCoder().encode(['tuple(uint64 active, uint16 turn, uint256[] balances)'], [{ active: 7, turn, balances }]) as Hex
const HASH = `0x${'ab'.repeat(32)}` as Hex
/** The page's window, as far as the checks run in it need (this project compiles without the DOM library). */
type Window = { getComputedStyle(e: unknown): { color: string } }

/** A peer that does what the test says: the emitters the printer and the feed listen to. */
function scriptedPeer() {
  const channel = new Emitter<Record<string, unknown>>()
  const court = new Emitter<Record<string, unknown>>()
  const listener = new Emitter<Record<string, unknown>>()
  const links = new Set<(index: number, up: boolean) => void>()
  const peer = {
    channel: Object.assign(channel, { me: 0, state: { phase: 'open', fork: 0n, seq: 0n, timestamp: CHAIN_NOW, nextActor: 0 } }),
    court, listener, clock: { now: () => CHAIN_NOW },
    transport: { connected: [] as number[], onPeer: (fn: (index: number, up: boolean) => void) => (links.add(fn), () => void links.delete(fn)) },
  }
  return { peer, channel, court, link: (index: number, up: boolean) => links.forEach((fn) => fn(index, up)) }
}

let browser: Browser | undefined
let profile: string

describe('the live view page, fed by the printer', { skip: missing }, () => {
  before(async () => {
    const { chromium } = await import('playwright-core')
    profile = mkdtempSync(join(tmpdir(), 'parley-page-'))
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
  })
  after(async () => {
    await browser?.close()
    if (profile) rmSync(profile, { recursive: true, force: true })
  })

  it('shows links, signatures one by one, virtual-voting finality, the court, deadlines and balances; its forms send terminal lines', async () => {
    const s = scriptedPeer()
    const speaker = exampleSpeaker('payments', { participants, asset: ETH_ASSET })
    const printer = new Printer({ json: true, silent: true, speaker, asset: ETH_ASSET, participants })
    const detach = printer.attach(s.peer as never)
    const lines: string[] = []
    const manager = { balanceOf: async (a: string) => (participants.indexOf(a as Hex) === 0 ? 2n * ETH : 0n) }
    const feed = liveFeed({ ctx: { params, channelId: `0x${'c1'.repeat(32)}` as Hex, manager } as never, peer: s.peer as never, printer, driver: { line: (l: string) => void lines.push(l) } as never, speaker, asset: ETH_ASSET, me: 0 })
    let view: LiveView | undefined
    let page: Page | undefined
    try {
      view = await startLiveView({ source: feed.source, port: 0 })
      page = await browser!.newPage()
      await page.goto(view.url)
      await page.waitForSelector('#stream.up')
      printer.event('ui', { url: view.url, port: view.port }, `live view at ${view.url} (127.0.0.1 only; the token in it lets anyone who has it play as you)`)
      await page.waitForSelector('#log li.ui')
      assert.doesNotMatch((await page.textContent('#log'))!, new RegExp(view.token), 'the page does not show its token')
      assert.match((await page.textContent('#log li.ui'))!, /live view at http:\/\/127\.0\.0\.1:\d+\/\?token=…/)
      const text = async (sel: string) => (await page!.textContent(sel))?.trim()

      // Links: #1 connects, #2 stays away.
      s.link(1, true)
      await page.waitForSelector('#participant-1 .link .up')
      assert.match((await text('#participant-2 .link'))!, /not connected/)
      assert.equal(await text('#participant-0 .manager'), '2 ETH', 'manager balances read when the page subscribed')

      // seq 1 by #0: the state decoded by the machine, then the signatures one by one.
      const state1 = paymentsState([7n * ETH / 10n, 13n * ETH / 10n, ETH], 1)
      s.channel.emit('state', { fork: 0n, seq: 1n, author: 0, nextActor: 1, isMyTurn: false, state: state1, stateHash: HASH, transaction: { timestamp: CHAIN_NOW } })
      await page.waitForSelector('#tx-0-1')
      assert.match((await text('#tx-0-1 .state'))!, /balances #0 0\.7 ETH · #1 1\.3 ETH · #2 1 ETH · turn #1/)
      assert.equal(await text('#participant-1 .offchain'), '1.3 ETH', 'the off-chain balance from the latest state')
      assert.deepEqual(await page.$$eval('#tx-0-1 .sig.signed', (l) => l.map((e) => e.textContent)), ['#0'], "the author's signature")
      s.channel.emit('signature', { fork: 0n, seq: 1n, signer: 1 })
      await page.locator('#tx-0-1 .sig.signed').nth(1).waitFor()
      assert.deepEqual(await page.$$eval('#tx-0-1 .sig.signed', (l) => l.map((e) => e.textContent)), ['#0', '#1'], "then #1's, on its own")
      assert.equal(await text('#tx-0-1 .final'), 'not final yet')
      // Final by virtual voting: #2 has not signed seq 1, a later move of its own counts for it.
      s.channel.emit('final', { fork: 0n, seq: 1n, stateHash: HASH, signers: [0, 1], byVirtualVoting: true })
      await page.waitForSelector('#tx-0-1.final')
      assert.equal(await text('#tx-0-1 .final'), 'final for #0 (you) by virtual voting (signed by #0 #1 and later moves)')

      // The court: a fraud dispute with its deadline in local time, #2 slashed and removed, fork 1, the settlement.
      s.court.emit('dispute', { fork: 0n, record: { kind: DisputeKind.Fraud, disputer: 0, seq: 1n, deadline: CHAIN_NOW + 300n, removals: 0n } })
      const countdown = await page.waitForSelector('#deadlines li[data-kind="dispute"]')
      const [, hh, mm, ss] = (await countdown.textContent())!.match(/the Fraud dispute on fork 0 ends at (\d\d):(\d\d):(\d\d) in (?:29\d|300) s/) ?? assert.fail(String(await countdown.textContent()))
      const expected = new Date(Date.now() + 300_000) // the browser and this process share the machine's time zone
      const shownS = Number(hh) * 3600 + Number(mm) * 60 + Number(ss)
      const expectedS = expected.getHours() * 3600 + expected.getMinutes() * 60 + expected.getSeconds()
      assert.ok(Math.abs(((shownS - expectedS + 43_200) % 86_400 + 86_400) % 86_400 - 43_200) <= 5, `the deadline in local time: ${hh}:${mm}:${ss}, about ${expected.toTimeString()}`)
      await page.locator('#deadlines li[data-kind="dispute"]', { hasText: /in 29[0-8] s/ }).waitFor({ timeout: 5_000 }) // it counts down
      s.court.emit('slashed', { index: 2, beneficiary: 0 })
      await page.locator('#participant-2 .status', { hasText: 'slashed' }).waitFor()
      s.court.emit('removed', { index: 2 })
      s.channel.emit('fork', { fork: 1n, active: 3n, state: paymentsState([7n * ETH / 10n, 13n * ETH / 10n, ETH], 0), stateHash: HASH })
      s.court.emit('closed', { fork: 1n, stateHash: HASH, payouts: [8n * ETH / 10n, 13n * ETH / 10n, 0n] })
      await page.waitForSelector('#court li[data-kind="closed"]')
      assert.deepEqual(await page.$$eval('#court li', (l) => l.map((e) => e.getAttribute('data-kind'))), ['dispute', 'slashed', 'removed', 'fork', 'closed'])
      assert.match((await text('#court li[data-kind="fork"]'))!, /the chain set fork 1: active #0 #1/)
      assert.equal(await text('#participant-2 .status'), 'removed')
      assert.equal(await text('#participant-0 .payout'), '0.8 ETH', 'paid out')
      assert.equal(await text('#phase'), 'closed')
      assert.equal(await page.$$eval('#deadlines li', (l) => l.length), 0, 'settled: no deadline left')

      // A race lost to the other honest court is an ordinary log line; a real failure is the red banner.
      const record = { kind: DisputeKind.Fraud, disputer: 0, seq: 1n, timestamp: CHAIN_NOW, deadline: CHAIN_NOW + 300n, removals: 0n, stateHash: HASH }
      s.court.emit('failed', { action: { kind: 'proveInvalidTransition', key: 'f' }, error: new ProtocolError('DISPUTE_RECORD_MISMATCH', 'proveInvalidTransition reverted: DisputeRecordMismatch'), retried: true })
      s.court.emit('failed', { action: { kind: 'resolve', key: 'r', record }, error: new ProtocolError('DISPUTE_NOT_OPEN', 'resolve reverted: DisputeNotOpen'), retried: false })
      await page.locator('#log li.court').nth(1).waitFor()
      assert.deepEqual(await page.$$eval('#log li.court', (l) => l.map((e) => e.textContent!.replace(/^\S+ /, ''))), [
        "court        proveInvalidTransition: the dispute's record changed first (DISPUTE_RECORD_MISMATCH); the court decides again",
        'court        resolve: done by another court first (DISPUTE_NOT_OPEN)',
      ])
      assert.equal(await page.isHidden('#error'), true, 'no error banner for a race lost')
      // (run in the browser: `globalThis` is the page's window)
      const colors = await page.$$eval('#log li.court, #log li.ui', (l) => l.map((e) => (globalThis as unknown as Window).getComputedStyle(e).color))
      assert.equal(new Set(colors).size, 1, `drawn like any other line: ${colors.join(', ')}`)
      s.court.emit('failed', { action: { kind: 'resolve', key: 'r2', record }, error: new ProtocolError('DISPUTE_TOO_EARLY', 'resolve reverted: DisputeTooEarly'), retried: false })
      await page.waitForSelector('#error:not([hidden])')
      assert.equal(await text('#error'), 'error DISPUTE_TOO_EARLY: court resolve: resolve reverted: DisputeTooEarly', 'a real failure is the banner')
      assert.notEqual(await page.$eval('#log li.error', (e) => (globalThis as unknown as Window).getComputedStyle(e).color), colors[0], 'and a red line')

      // Playing: the pay form and the ABI's `pay` form send the lines the terminal takes.
      await page.selectOption('#pay select', '1')
      await page.fill('#pay input[name="amount"]', '0.25')
      await page.click('#pay button:not([type])')
      await page.fill('#form-pay input[name="to"]', '2')
      await page.fill('#form-pay input[name="amount"]', '0.1')
      await page.click('#form-pay button')
      await page.click('#form-pass button')
      await page.locator('#log li.command').nth(2).waitFor()
      assert.deepEqual(lines, ['pay 1 0.25', 'pay 2 0.1', 'pass'])
    } finally {
      await page?.close()
      await view?.close()
      feed.stop()
      detach()
    }
  })
})
