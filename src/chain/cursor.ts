/**
 * Where a chain listener resumes: the position of the next log to deliver, `(block, index)`,
 * where `index` is the log's index in its block. Pure helpers; the listener stores the cursor
 * in the store's per-channel meta as `"block:index"`.
 */

/** The next log to deliver is the first one at or after `(block, index)`. */
export interface Cursor {
  block: number
  index: number
  /**
   * The last block scanned before the cursor (`block - 1`, or `block` itself when `index > 0`)
   * with its hash, as the node answered then: a restarted listener checks it to see whether
   * that block was reorganised away while it was down.
   */
  anchor?: BlockAnchor
}

/** A block number with the hash it had when the listener read it. */
export interface BlockAnchor {
  block: number
  hash: string
}

/**
 * Whether a log at `(block, index)` was already delivered (it lies before the cursor).
 * @example delivered({ block: 7, index: 2 }, 7, 1) === true
 */
export function delivered(cursor: Cursor, block: number, index: number): boolean {
  return block < cursor.block || (block === cursor.block && index < cursor.index)
}

/**
 * The cursor after delivering the log at `(block, index)`.
 * @example after(7, 2) // { block: 7, index: 3 }
 */
export function after(block: number, index: number): Cursor {
  return { block, index: index + 1 }
}

/**
 * `"block:index"`, plus `":anchorBlock:anchorHash"` when the cursor has an anchor.
 * @example formatCursor({ block: 7, index: 3 }) === '7:3'
 */
export function formatCursor(c: Cursor): string {
  return c.anchor ? `${c.block}:${c.index}:${c.anchor.block}:${c.anchor.hash}` : `${c.block}:${c.index}`
}

/**
 * Parses a stored cursor (with or without its anchor); undefined for a missing or malformed value.
 * @example parseCursor('7:3') // { block: 7, index: 3 }
 */
export function parseCursor(s: string | undefined): Cursor | undefined {
  const m = s === undefined ? null : /^(\d+):(\d+)(?::(\d+):(0x[0-9a-fA-F]{64}))?$/.exec(s)
  if (!m) return undefined
  const c: Cursor = { block: Number(m[1]), index: Number(m[2]) }
  if (m[3] !== undefined) c.anchor = { block: Number(m[3]), hash: m[4]!.toLowerCase() }
  return c
}

/**
 * Where to resume after a reorganisation whose last common block is `ancestor`: unchanged when
 * the cursor is not past it, else at the first block after it (everything delivered from there
 * on is retracted and read again).
 * @example rewind({ block: 10, index: 2 }, 7) // { block: 8, index: 0 }
 */
export function rewind(c: Cursor, ancestor: number): Cursor {
  if (c.block <= ancestor + 1 && !(c.block === ancestor + 1 && c.index > 0)) return c
  return { block: ancestor + 1, index: 0 }
}

/** Whether `rewind(c, ancestor)` moves the cursor back (something delivered is retracted). */
export function isRewound(c: Cursor, ancestor: number): boolean {
  return rewind(c, ancestor) !== c
}

/**
 * The next block range to scan from `from` (inclusive) with at most `maxRange` blocks, up to
 * `target`; undefined when `from` is past it.
 * @example nextRange(10, 100, 50) // { from: 10, to: 59 }
 */
export function nextRange(from: number, target: number, maxRange: number): { from: number; to: number } | undefined {
  if (from > target) return undefined
  return { from, to: Math.min(target, from + maxRange - 1) }
}

/**
 * Delay before retry number `failures` (1, 2, …): doubling from `initialMs`, capped at `maxMs`.
 * @example backoff(3, 100, 1_000) === 400
 */
export function backoff(failures: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, failures - 1))
}
