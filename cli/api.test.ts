/**
 * The CLI is built on Parley's public API: every name it imports from src/ must be exported by
 * one of the package's entry points (package.json `exports`: `parley`, `parley/testing`, …).
 * (Commands import the individual modules rather than the entries so that a quick command does
 * not load the EVM and networking stacks; this test keeps that honest.)
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

const root = join(import.meta.dirname, '..')

/** Names in `{ a, type B, c as d }` (the imported or exported name, before `as`). */
function names(list: string, side: 'source' | 'alias'): string[] {
  return list.split(',').map((s) => s.trim().replace(/^type\s+/, '')).filter(Boolean).map((s) => {
    const [name, alias] = s.split(/\s+as\s+/)
    return side === 'alias' ? (alias ?? name)! : name!
  })
}

/** The source file of every entry point in package.json `exports` (dist/src/x.js → src/x.ts). */
export function entrySources(): string[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, string | { default: string }> }
  return Object.values(pkg.exports).flatMap((t) => {
    const target = typeof t === 'string' ? t : t.default
    return target.startsWith('./dist/src/') ? [join(root, target.slice('./dist/'.length).replace(/\.js$/, '.ts'))] : []
  })
}

/** Every name the entry files export (following `export *`, through as many files as it leads). */
function publicApi(): Set<string> {
  const api = new Set<string>()
  const seen = new Set<string>()
  const collect = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s+from/g)) names(m[1]!, 'alias').forEach((n) => api.add(n))
    for (const d of text.matchAll(/export\s+(?:declare\s+)?(?:interface|type|enum|const|function|class)\s+(\w+)/g)) api.add(d[1]!)
    for (const m of text.matchAll(/export\s+\*\s+from\s+'(.+?)\.js'/g)) collect(join(dirname(file), `${m[1]}.ts`))
  }
  for (const entry of entrySources()) collect(entry)
  return api
}

function cliFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return cliFiles(p)
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : []
  })
}

describe('the CLI uses only the public API', () => {
  it('every import from src/ names an export of an entry point', () => {
    const api = publicApi()
    assert.ok(api.has('Channel') && api.has('Hex') && api.has('attachCourt'), 'the index parser finds the exports')
    const outside: string[] = []
    let imports = 0
    for (const file of cliFiles(join(root, 'cli'))) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'((?:\.\.\/)+src\/[^']+)'/g)) {
        for (const n of names(m[1]!, 'source')) {
          imports++
          if (!api.has(n)) outside.push(`${relative(root, file)}: ${n} from ${m[2]}`)
        }
      }
      assert.doesNotMatch(text, /import\s+\w+\s+from\s+'(\.\.\/)+src\//, `${relative(root, file)}: default imports from src/ cannot be checked`)
    }
    assert.ok(imports > 20, `found ${imports} imports from src/`)
    assert.deepEqual(outside, [])
  })
})
