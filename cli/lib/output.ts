/**
 * Output conventions: results on stdout (human text, or one JSON object with `--json`, bigints
 * as decimal strings), progress and warnings on stderr so they never mix with results.
 */

/** JSON text with bigints as decimal strings (one line). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
}

/** Pretty JSON text with bigints as decimal strings. */
export function toPrettyJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)
}

/** Prints one result line on stdout. */
export function out(line = ''): void {
  process.stdout.write(`${line}\n`)
}

/** Prints a progress line on stderr (long work: deployments, transactions, joining the DHT). */
export function progress(line: string): void {
  process.stderr.write(`${line}\n`)
}

/** Aligned `key  value` lines. */
export function table(rows: [string, string][]): string {
  const width = Math.max(0, ...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')
}

/** `0x1234…abcd` for long hex strings. */
export function short(hex: string): string {
  return hex.length > 14 ? `${hex.slice(0, 6)}…${hex.slice(-4)}` : hex
}
