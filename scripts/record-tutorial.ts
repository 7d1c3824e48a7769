/**
 * Records the terminal tutorial: a real session in tmux — `parley devnet`, `parley testnet`,
 * deposits, params, consents, open, three `parley run` peers (alice, bob, carol) paying each
 * other, carol cheating (scripts/tutorial/cheat.ts) and being slashed by the others' courts, the
 * channel going on without her and closing — written as an asciicast v2 file that
 * docs/tutorial-recording.md plays with asciinema-player.
 *
 *   npm run record:tutorial [-- --out docs/tutorial.cast]
 *
 * Needs tmux. Nothing else: the frames are tmux's own panes (`capture-pane -p -e`), polled every
 * 100 ms and drawn into one screen (a title line above each pane); a frame holds only the lines
 * that changed. Pauses longer than 2 s are shortened to 2 s (the header also says
 * idle_time_limit). The session runs in a temporary folder and is killed at the end, also on
 * failure.
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(import.meta.dirname, '..')
const outArg = process.argv.indexOf('--out')
const out = resolve(outArg > 0 ? process.argv[outArg + 1]! : join(root, 'docs/tutorial.cast'))
const SESSION = `parley-tutorial-${process.pid}`
const WIDTH = 150
const HEIGHT = 46
const IDLE = 2

const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// ── the session ─────────────────────────────────────────────────────────────────────────────
const work = mkdtempSync(join(tmpdir(), 'parley-tutorial-'))
const bin = join(work, '.bin')
mkdirSync(bin)
const tsx = fileURLToPath(import.meta.resolve('tsx'))
const script = (name: string, target: string) => {
  writeFileSync(join(bin, name), `#!/bin/sh\nexec "${process.execPath}" --import "${tsx}" "${target}" "$@"\n`)
  chmodSync(join(bin, name), 0o755)
}
script('parley', join(root, 'cli/index.ts'))
script('cheat', join(root, 'scripts/tutorial/cheat.ts'))
writeFileSync(join(work, '.bashrc'), `PS1='\\[\\e[2m\\]$\\[\\e[0m\\] '\nexport PATH="${bin}:$PATH"\n`)

interface Pane { id: string; title: string }
const panes: Record<string, Pane> = {}
const shell = `bash --noprofile --rcfile ${join(work, '.bashrc')}`

function layout(): void {
  tmux('new-session', '-d', '-s', SESSION, '-x', String(WIDTH), '-y', String(HEIGHT), '-c', work, shell)
  tmux('set-option', '-t', SESSION, 'pane-border-status', 'top')
  tmux('set-option', '-t', SESSION, 'status', 'off')
  const first = tmux('display-message', '-p', '-t', SESSION, '#{pane_id}').trim()
  const split = (target: string, flag: '-v' | '-h', size: number) => tmux('split-window', flag, '-t', target, '-l', String(size), '-c', work, '-P', '-F', '#{pane_id}', shell).trim()
  const rest = split(first, '-v', HEIGHT - 8)        // devnet row: 7 lines + title
  const testnet = split(first, '-h', 58)
  const peers = split(rest, '-v', HEIGHT - 8 - 10)   // setup: 9 lines + title
  const bobCarol = split(peers, '-v', Math.floor((HEIGHT - 18) * 2 / 3))
  const carol = split(bobCarol, '-v', Math.floor((HEIGHT - 18) / 3))
  Object.assign(panes, {
    devnet: { id: first, title: 'terminal 1 — the chain: parley devnet' }, testnet: { id: testnet, title: 'terminal 2 — the DHT: parley testnet' },
    setup: { id: rest, title: 'terminal 3 — setup' }, alice: { id: peers, title: 'alice (#0)' }, bob: { id: bobCarol, title: 'bob (#1)' }, carol: { id: carol, title: 'carol (#2)' },
  })
}

/** Types `text` into a pane, a character at a time, then Enter. */
async function type(pane: string, text: string, enter = true): Promise<void> {
  for (const ch of text) {
    tmux('send-keys', '-t', panes[pane]!.id, '-l', ch === ';' ? '\\;' : ch) // a lone ";" separates tmux commands
    await sleep(ch === ' ' ? 45 : 28)
  }
  await sleep(250)
  if (enter) tmux('send-keys', '-t', panes[pane]!.id, 'Enter')
}

/** The pane's text (no escapes), with its scrollback. */
const text = (pane: string) => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', panes[pane]!.id)

/** Waits until the pane shows `re` (more times than `before`). */
async function until(pane: string, re: RegExp, ms = 60_000, before = 0): Promise<void> {
  const end = Date.now() + ms
  const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`)
  while ((text(pane).match(global)?.length ?? 0) <= before) {
    if (Date.now() > end) throw new Error(`record-tutorial: ${pane} did not show ${re} within ${ms} ms:\n${text(pane)}`)
    await sleep(100)
  }
}
const count = (pane: string, re: RegExp) => text(pane).match(new RegExp(re.source, 'g'))?.length ?? 0

/** Waits until the pane's shell is back at its prompt (the command it ran has exited). */
async function done(pane: string, ms = 120_000): Promise<void> {
  const end = Date.now() + ms
  await sleep(300)
  // The shell in front and its prompt last, twice in a row (a loop runs in the shell between its commands).
  const idle = () => tmux('display-message', '-p', '-t', panes[pane]!.id, '#{pane_current_command}').trim() === 'bash' && text(pane).trimEnd().split('\n').at(-1) === '$'
  for (let seen = 0; seen < 3; seen = idle() ? seen + 1 : 0) {
    if (Date.now() > end) throw new Error(`record-tutorial: the command in ${pane} did not finish:\n${text(pane)}`)
    await sleep(150)
  }
  await sleep(400)
}

// ── the recorder ────────────────────────────────────────────────────────────────────────────
const ESC_RE = /\x1b\[[0-9;:?]*[A-Za-z]/g
const visible = (s: string) => [...s.replace(ESC_RE, '')].length

class Recorder {
  private readonly frames: string[] = []
  private readonly last = new Map<string, string[]>()
  private started = 0
  private clock = 0
  private lastReal = 0
  private timer: NodeJS.Timeout | undefined

  start(): void {
    this.started = Date.now()
    this.lastReal = this.started
    this.emit('\x1b[?7l\x1b[?25l\x1b[2J') // no auto-wrap: a full-width line on the last row must not scroll the screen
    this.timer = setInterval(() => this.tick(), 100)
  }

  private emit(data: string): void {
    const now = Date.now()
    this.clock += Math.min(IDLE, (now - this.lastReal) / 1000)
    this.lastReal = now
    this.frames.push(JSON.stringify([Number(this.clock.toFixed(3)), 'o', data]))
  }

  tick(): void {
    const geometry = tmux('list-panes', '-t', SESSION, '-F', '#{pane_id} #{pane_left} #{pane_top} #{pane_width} #{pane_height}').trim().split('\n')
    let frame = ''
    for (const g of geometry) {
      const [id, left, top, width, height] = g.split(' ') as [string, string, string, string, string]
      const [x, y, w, h] = [Number(left), Number(top), Number(width), Number(height)]
      const pane = Object.values(panes).find((p) => p.id === id)
      const lines = tmux('capture-pane', '-p', '-e', '-N', '-t', id).split('\n').slice(0, h)
      while (lines.length < h) lines.push('')
      const title = pane ? `─ ${pane.title} ` : ''
      const rows = [`\x1b[36m${(title + '─'.repeat(w)).slice(0, w)}\x1b[0m`, ...lines.map((l) => {
        const pad = w - visible(l)
        return pad >= 0 ? `${l}\x1b[0m${' '.repeat(pad)}` : `${l}\x1b[0m`
      })]
      const before = this.last.get(id) ?? []
      rows.forEach((row, i) => {
        if (before[i] !== row) frame += `\x1b[${y + i};${x + 1}H\x1b[0m${row}`
      })
      this.last.set(id, rows)
    }
    if (frame) this.emit(frame)
  }

  stop(): string {
    clearInterval(this.timer)
    this.tick()
    const header = {
      version: 2, width: WIDTH, height: HEIGHT, timestamp: Math.floor(this.started / 1000), idle_time_limit: IDLE,
      title: 'Parley: three peers on a devnet pay each other over hyperswarm, catch a cheat, and close', env: { TERM: 'xterm-256color', SHELL: '/bin/bash' },
    }
    return `${[JSON.stringify(header), ...this.frames].join('\n')}\n`
  }
}

// ── the story ───────────────────────────────────────────────────────────────────────────────
async function story(): Promise<void> {
  await type('devnet', 'parley devnet --accounts 4 --port 0')
  await until('devnet', /accounts \(/)
  await type('testnet', 'parley testnet')
  await until('testnet', /bootstrap/)

  await type('setup', '# each participant deposits 1 ETH and a 0.1 ETH bond into the manager; alice writes the channel: payments, a 0.1 ETH bond, a 20 s challenge period')
  await type('setup', 'for n in 1 2 3; do parley deposit 1.1 --account $n >/dev/null; done; parley balance @3')
  await done('setup')
  await type('setup', 'parley params new --participants @1,@2,@3 --machine payments --deposit 1 --bond 0.1 --times 60,30,120,20 -o channel.json')
  await done('setup')
  await type('setup', '# each signs their consent; anyone opens with all of them')
  await type('setup', 'for n in 1 2 3; do parley consent channel.json --account $n -o $n.sig; done')
  await done('setup')
  await type('setup', 'parley open channel.json --account 1 --sig @1.sig --sig @2.sig --sig @3.sig')
  await done('setup')

  for (const [name, n] of [['alice', 1], ['bob', 2], ['carol', 3]] as const) await type(name, `parley run channel.json --account ${n} --store ${name}.db`)
  for (const name of ['alice', 'bob', 'carol']) await until(name, /ready/)
  // Each peer is linked to the other two: a `peer #i connected` line, or #i in `ready`'s `connected:` list.
  for (const [me, name] of ['alice', 'bob', 'carol'].entries()) {
    for (const other of [0, 1, 2].filter((i) => i !== me)) await until(name, new RegExp(`peer +#${other} connected|connected: [^\\n]*#${other}`))
  }
  await sleep(1000)

  await type('alice', 'pay 1 0.3')
  for (const name of ['alice', 'bob', 'carol']) await until(name, /seq 1 is final/)
  await sleep(800)
  await type('bob', 'pay 2 0.1')
  for (const name of ['alice', 'bob', 'carol']) await until(name, /seq 2 is final/)
  await sleep(1500)

  // Carol's turn: she stops her honest client and runs one that lies.
  await type('carol', 'quit')
  await done('carol')
  await type('carol', '# carol runs a client that cheats: a "pass" claiming bob paid her 0.5 ETH')
  await type('carol', 'cheat channel.json --account 3 --store carol.db --steal 1 0.5')
  for (const name of ['alice', 'bob']) await until(name, /slashed/, 90_000)
  await done('carol')
  // The challenge period (20 s) passes; the courts resolve and the chain starts fork 1 without carol.
  for (const name of ['alice', 'bob']) await until(name, /fork +the chain set fork 1/, 120_000)
  await sleep(1500)

  await type('alice', 'pay 1 0.2')
  await type('bob', 'pass')
  for (const name of ['alice', 'bob']) await until(name, /seq 2 is final/, 60_000, 1)
  await sleep(1000)
  await type('alice', 'close')
  for (const name of ['alice', 'bob']) await until(name, /stopped/, 90_000)
  await sleep(1000)

  await type('setup', 'clear; for n in 1 2 3; do parley balance @$n | head -2; done   # carol lost her share and bond to the prover')
  await done('setup')
  await sleep(3000)
  tmux('send-keys', '-t', panes.testnet!.id, 'C-c')
  tmux('send-keys', '-t', panes.devnet!.id, 'C-c')
  await done('devnet', 30_000)
  await sleep(1500)
}

const recorder = new Recorder()
let failed = false
try {
  layout()
  await sleep(800)
  recorder.start()
  await story()
} catch (e) {
  failed = true
  console.error(e instanceof Error ? e.message : e)
  for (const name of Object.keys(panes)) {
    try {
      console.error(`── ${name}\n${text(name).trimEnd()}`)
    } catch {
      // the session is gone
    }
  }
} finally {
  const cast = recorder.stop()
  try {
    tmux('send-keys', '-t', panes.devnet?.id ?? SESSION, 'C-c')
    await sleep(1500)
    tmux('kill-session', '-t', SESSION)
  } catch {
    // already gone
  }
  rmSync(work, { recursive: true, force: true })
  if (!failed) {
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, cast)
    // The same cast as a script for docs/tutorial.html (a page opened from the file system cannot fetch the .cast).
    writeFileSync(`${out}.js`, `// Written by npm run record:tutorial with ${out.split('/').at(-1)}: the same asciicast v2 text, for docs/tutorial.html.\nwindow.PARLEY_TUTORIAL_CAST = ${JSON.stringify(cast)}\n`)
    console.log(`record-tutorial: ${out} and ${out}.js (${cast.split('\n').length - 2} frames, ${(cast.length / 1024).toFixed(0)} kB)`)
  }
}
process.exit(failed ? 1 : 0)
