/**
 * The docs' navigation stays true: docs/README.md links every document in docs/ (and only
 * existing ones), and docs/protocol.md's table of contents lists every ## and ### heading, in
 * order, each link pointing at its heading's GitHub anchor.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const docs = join(import.meta.dirname, '../../docs')

/** GitHub's heading anchor: lower case, punctuation dropped (but - and _), spaces to hyphens; repeats get -1, -2, … */
function anchors(titles: string[]): string[] {
  const seen = new Map<string, number>()
  return titles.map((t) => {
    const a = t.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replaceAll(' ', '-')
    const n = seen.get(a)
    seen.set(a, (n ?? -1) + 1)
    return n === undefined ? a : `${a}-${n + 1}`
  })
}

/** The ## and ### headings of `text` outside code blocks (the title and the Contents heading excluded). */
function headings(text: string): string[] {
  let code = false
  return text.split('\n').flatMap((l) => {
    if (l.startsWith('```')) code = !code
    const m = !code && /^#{2,3} (.*)$/.exec(l)
    return m && m[1] !== 'Contents' ? [m[1]!] : []
  })
}

describe('docs navigation', () => {
  it('docs/README.md links every document in docs/', () => {
    const index = readFileSync(join(docs, 'README.md'), 'utf8')
    const linked = new Set([...index.matchAll(/\]\(([\w.-]+\.md)\)/g)].map((m) => m[1]!))
    const files = readdirSync(docs).filter((f) => f.endsWith('.md') && f !== 'README.md').sort()
    assert.deepEqual([...linked].filter((f) => f !== '../README.md').sort(), files)
  })

  it("protocol.md's contents list every heading in order, with working anchors", () => {
    const text = readFileSync(join(docs, 'protocol.md'), 'utf8')
    const toc = text.slice(text.indexOf('## Contents'), text.indexOf('\n## ', text.indexOf('## Contents') + 1))
    const entries = [...toc.matchAll(/^ *- \[(.+)\]\(#(.+)\)$/gm)].map((m) => m[2]!)
    const all = headings(text)
    assert.ok(all.length > 60, `${all.length} headings`)
    assert.deepEqual(entries, anchors(['Contents', ...all]).slice(1))
  })
})
