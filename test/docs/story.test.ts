/**
 * The story stays true to the benches and the recording stays playable:
 * - docs/article.md's figures are the bench reports' as they stand: each Parley / Nitro pair of
 *   its gas table is in gas.md's current "Against Nitro" table (not in a before → after table),
 *   the finality-proof cost in gas.md's target section, the latency table in net.md §10, the
 *   throughput rows in offchain.md (memory: "Latest report"; SQLite: issue 14's "Durable
 *   commits"), and every other decimal or thousands figure somewhere in the reports it cites;
 * - docs/tutorial.cast is asciicast v2 (a header, then `[time, "o", text]` events in time order),
 *   docs/tutorial.cast.js carries the same text, and docs/tutorial.html loads the vendored
 *   asciinema-player and that script;
 * - the screenshots the docs and the README show exist.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'

const root = join(import.meta.dirname, '../..')
const read = (path: string) => readFileSync(join(root, path), 'utf8')

/** The text of `doc` from the heading that starts with `heading` to the next heading of its level or above. */
function section(doc: string, heading: string): string {
  const text = read(doc)
  const start = text.split('\n').findIndex((l) => l.startsWith(heading))
  assert.ok(start >= 0, `${doc} has a heading "${heading}"`)
  const level = /^#+/.exec(heading)![0].length
  const lines = text.split('\n').slice(start)
  const end = lines.findIndex((l, i) => i > 0 && /^#+ /.test(l) && /^#+/.exec(l)![0].length <= level)
  return lines.slice(0, end < 0 ? undefined : end).join('\n')
}
const FIGURE = /(?<![\w.])\d[\d,]*\.\d+|(?<![\w.])\d{1,3}(?:,\d{3})+/g

describe('docs/article.md', () => {
  const article = read('docs/article.md')
  const measured = section('docs/article.md', '## What was measured')

  it("takes its Nitro pairs from gas.md's current report", () => {
    const nitro = section('docs/gas.md', '### Against Nitro')
    const pairs = [...section('docs/article.md', '### Gas, side by side with Nitro').matchAll(/[\d,]+ \/ [\d,]+ = \d\.\d\d/g)].map((m) => m[0])
    assert.equal(pairs.length, 18, 'six operations at N = 2, 8 and 64')
    for (const p of pairs) assert.ok(nitro.includes(p), `"${p}" is in gas.md's "Against Nitro" table`)
    const target = section('docs/gas.md', '### Target: finality-proof verification')
    for (const f of /at most ([\d,]+) gas of execution per extra participant \(([\d,]+) with\s+calldata\)/.exec(article)!.slice(1)) assert.ok(target.includes(f), `finality proof: ${f}`)
  })

  it('takes latency from net.md §10 and throughput from offchain.md', () => {
    const net = section('docs/net.md', '## 10.')
    for (const f of section('docs/article.md', '### Latency against the network floor').split('\n').filter((l) => l.startsWith('| ') && /\d/.test(l)).flatMap((l) => l.split('|').at(-2)!.match(/\d[\d.]*/g)!)) {
      assert.ok(net.includes(f), `latency ${f} ms is in net.md §10`)
    }
    const rows = section('docs/article.md', '### Throughput').split('\n').filter((l) => /^\| \d/.test(l))
    assert.equal(rows.length, 3)
    const esc = (f: string) => f.replaceAll('.', '\\.')
    for (const row of rows) {
      const [n, store, tps, p50, cpu] = row.split('|').slice(1, -1).map((c) => c.trim().replace(/ ms$/, ''))
      const sqlite = store!.startsWith('SQLite')
      const source = section('docs/offchain.md', sqlite ? '## Durable commits per transaction' : '## Latest report').split('\n')
      // memory: a row of the report (N, store, txs, tx/s, p50, p99, CPU); SQLite: an after column of issue 14's runs.
      const match = sqlite
        ? (l: string) => l.includes(`| ${tps} |`) && l.includes(`→ ${p50} |`) && l.includes(`→ ${cpu} |`)
        : (l: string) => new RegExp(`^\\| ${n} \\| memory \\| [\\d,]+ \\| ${esc(tps!)} \\| ${esc(p50!)} \\| [\\d.]+ \\| ${esc(cpu!)} \\|`).test(l)
      assert.ok(source.some(match), `throughput row ${row}`)
    }
  })

  it('has no figure the reports it cites do not hold', () => {
    const reports = ['gas', 'net', 'offchain', 'channels-bench', 'adversary', 'crash-matrix', 'protocol'].map((d) => read(`docs/${d}.md`)).join('\n')
    const figures = new Set(article.match(FIGURE))
    assert.ok(figures.size > 50 && measured.match(FIGURE)!.length > 50)
    for (const f of figures) assert.ok(reports.includes(f), `${f} is in a bench report`)
  })
})

describe('the recorded tutorial', () => {
  it('is an asciicast v2 file, the same text in tutorial.cast.js, played by tutorial.html', () => {
    const cast = read('docs/tutorial.cast')
    const [head, ...events] = cast.split('\n')
    assert.equal(events.pop(), '', 'ends with a newline')
    const header = JSON.parse(head!) as Record<string, unknown>
    assert.equal(header.version, 2)
    assert.ok(Number.isInteger(header.width) && Number.isInteger(header.height))
    let last = 0
    for (const line of events) {
      const e = JSON.parse(line) as unknown[]
      assert.ok(e.length === 3 && typeof e[0] === 'number' && e[1] === 'o' && typeof e[2] === 'string', line.slice(0, 80))
      assert.ok(e[0] >= last, 'events in time order')
      last = e[0]
    }
    assert.ok(events.length > 100 && last > 60, 'a whole session')
    const sandbox = { window: {} as Record<string, unknown> }
    runInNewContext(read('docs/tutorial.cast.js'), sandbox)
    assert.equal(sandbox.window.PARLEY_TUTORIAL_CAST, cast, 'tutorial.cast.js is tutorial.cast')
    const page = read('docs/tutorial.html')
    for (const src of [...page.matchAll(/(?:src|href)="([^"#:]+)"/g)].map((m) => m[1]!)) assert.ok(existsSync(join(root, 'docs', src)), `docs/${src} exists`)
    assert.match(page, /vendor\/asciinema-player\/asciinema-player\.min\.js/)
    assert.match(page, /tutorial\.cast\.js/)
  })

  it('and the screenshots the docs show exist', () => {
    for (const doc of ['README.md', 'docs/cli.md', 'docs/tutorial-recording.md']) {
      const images = [...read(doc).matchAll(/(?:src="|\]\()((?:docs\/)?img\/[^")]+\.png)/g)].map((m) => m[1]!)
      assert.ok(images.length > 0, doc)
      for (const img of images) assert.ok(existsSync(join(root, doc.startsWith('docs/') ? 'docs' : '', img)), `${doc}: ${img}`)
    }
  })
})
