/**
 * The logger src/net writes to: refusals, protocol errors and connection changes, one line
 * each with structured fields. Inject your own (or {@link silentLogger}) through the options.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
}

function line(message: string, fields?: Record<string, unknown>): string {
  if (!fields) return `[parley/net] ${message}`
  const kv = Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'bigint' ? String(v) : typeof v === 'string' ? v : JSON.stringify(v)}`)
  return `[parley/net] ${message} ${kv.join(' ')}`
}

/** Default: warnings (refused and misbehaving peers) to stderr, info dropped. */
export const defaultLogger: Logger = {
  info() {},
  warn: (message, fields) => console.warn(line(message, fields)),
}

/** Drops everything. */
export const silentLogger: Logger = { info() {}, warn() {} }

/** Formats a log line the way {@link defaultLogger} does (for custom loggers). */
export const formatLogLine = line

/** Short hex of a key or id for log lines. */
export function short(key: Uint8Array | string): string {
  const hex = typeof key === 'string' ? key.replace(/^0x/, '') : Buffer.from(key).toString('hex')
  return hex.slice(0, 12)
}
