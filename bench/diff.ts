/**
 * Compares two gas reports (the markdown `npm run bench:gas` prints) cell by cell: every
 * numeric cell that changed, by section, row and column, and a count of cells lower, higher
 * and equal. Run by hand between two builds' reports.
 *
 * Usage: npx tsx bench/diff.ts BEFORE.md AFTER.md [--all]
 */
import { readFileSync } from 'node:fs'

type Cells = Map<string, number>

/** Every numeric table cell as "section | row | column" → value (the row named by its first cell). */
function cells(file: string): Cells {
  const out: Cells = new Map()
  let section = ''
  let header: string[] = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('#')) { section = line.replace(/^#+\s*/, ''); header = []; continue }
    if (!line.startsWith('|')) { if (line.trim() === '') header = []; continue }
    const row = line.split('|').slice(1, -1).map((c) => c.trim())
    if (row.every((c) => /^:?-+:?$/.test(c))) continue
    if (header.length === 0) { header = row; continue }
    row.forEach((c, i) => {
      if (i === 0 || !/^-?[\d,]+$/.test(c)) return
      let key = `${section} | ${row[0]} | ${header[i] ?? i}`
      for (let k = 2; out.has(key); k++) key = `${section} | ${row[0]} | ${header[i] ?? i} #${k}`
      out.set(key, Number(c.replace(/,/g, '')))
    })
  }
  return out
}

const [before, after] = process.argv.slice(2).filter((a) => !a.startsWith('--'))
if (!before || !after) {
  console.error('usage: npx tsx bench/diff.ts BEFORE.md AFTER.md [--all]')
  process.exit(2)
}
const a = cells(before)
const b = cells(after)
let lower = 0, higher = 0, equal = 0
for (const [key, x] of a) {
  const y = b.get(key)
  if (y === undefined) { console.log(`only in ${before}: ${key} = ${x}`); continue }
  if (y < x) lower++
  else if (y > x) higher++
  else equal++
  if (y !== x || process.argv.includes('--all')) console.log(`${y > x ? '+' : y < x ? '-' : ' '} ${key}: ${x} → ${y} (${y - x > 0 ? '+' : ''}${y - x})`)
}
for (const key of b.keys()) if (!a.has(key)) console.log(`only in ${after}: ${key} = ${b.get(key)}`)
console.log(`${a.size} cells: ${lower} lower, ${higher} higher, ${equal} equal`)
