/**
 * Reading and writing the CLI's small files (params, deployments, keys) with typed errors.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { RuntimeError } from '../../src/errors/ParleyError.js'
import { argError } from './errors.js'

/**
 * The text of `path`; ArgumentError `FILE_NOT_FOUND` when it does not exist.
 * @example const text = readText('params.json', 'params file')
 */
export function readText(path: string, what: string): string {
  if (!existsSync(path)) throw argError('FILE_NOT_FOUND', `${what} ${path} does not exist`, { path })
  try {
    return readFileSync(path, 'utf8')
  } catch (cause) {
    throw new RuntimeError('FILE_UNREADABLE', `cannot read ${what} ${path}: ${(cause as Error).message}`, { cause, details: { path } })
  }
}

/** Parses `path` as JSON; ArgumentError `FILE_INVALID` when it is not. */
export function readJson(path: string, what: string): unknown {
  const text = readText(path, what)
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw argError('FILE_INVALID', `${what} ${path} is not valid JSON`, { path })
  }
}

/** Writes `text` to `path` (parent folders created; replaced atomically). */
export function writeText(path: string, text: string, mode?: number): void {
  try {
    mkdirSync(dirname(path), { recursive: true })
    const tmp = `${path}.${process.pid}.tmp`
    writeFileSync(tmp, text, mode === undefined ? {} : { mode })
    renameSync(tmp, path)
  } catch (cause) {
    throw new RuntimeError('FILE_UNWRITABLE', `cannot write ${path}: ${(cause as Error).message}`, { cause, details: { path } })
  }
}
