/**
 * One `parley run` per store: the store's "never sign two transactions at one height" rule
 * holds within one process, so a second peer on the same file must be refused. A lock file
 * next to the store holds the owner's pid; a lock whose process is gone is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { RuntimeError } from '../../src/errors/ParleyError.js'

/**
 * Takes the lock of `storePath`; returns its release. RuntimeError `STORE_IN_USE` when a live
 * process holds it.
 * @example const release = lockStore('alice.db'); try { … } finally { release() }
 */
export function lockStore(storePath: string): () => void {
  const path = `${storePath}.lock`
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' })
      return () => rmSync(path, { force: true })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new RuntimeError('STORE_LOCK_FAILED', `cannot create ${path}: ${(e as Error).message}`, { cause: e })
      const owner = Number(readFileSync(path, 'utf8').trim())
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
        throw new RuntimeError('STORE_IN_USE', `${storePath} is used by another \`parley run\` (pid ${owner}): one peer per store`, { details: { pid: owner } })
      }
      rmSync(path, { force: true }) // its owner is gone: take it over
    }
  }
  throw new RuntimeError('STORE_LOCK_FAILED', `cannot take the lock ${path}`)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
