#!/usr/bin/env node
// The `parley` executable: registers tsx (TypeScript, from this package's dependencies) and
// runs the CLI's entry point.
import { register } from 'tsx/esm/api'

register()
await import('./index.ts')
