#!/usr/bin/env node
// The `parley` executable: the compiled CLI in dist/ (`npm run build`; the published package
// ships it). No TypeScript at run time — from a clone, `npm run cli` runs cli/ through tsx.
import { existsSync } from 'node:fs'

const entry = new URL('../dist/cli/index.js', import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write('error BUILD_MISSING: dist/ is not built: run `npm run build` (or `npm run cli -- …` from a clone)\n')
  process.exit(1)
}
await import(entry.href)
