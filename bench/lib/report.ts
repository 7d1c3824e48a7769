/**
 * Small output helpers shared by the benchmarks: progress on stderr (so stdout stays a clean
 * markdown report), markdown tables, thousands separators and marginal costs.
 */

const started = Date.now()

/** A progress line on stderr with the elapsed time. */
export function progress(message: string): void {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${message}\n`)
}

/** `1234567` → `1,234,567`. */
export function fmt(n: bigint | number): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: 0 })
}

/** A markdown table; numeric-looking cells are right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const align = headers.map((_, c) => (rows.every((r) => /^[-+0-9.,–— ]*$/.test(r[c] ?? '')) ? '---:' : ':---'))
  return [
    `| ${headers.join(' | ')} |`,
    `| ${align.join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')
}

/** Gas per extra participant between two points: (g2 − g1) / (n2 − n1), rounded. */
export function marginal(g1: bigint, n1: number, g2: bigint, n2: number): number {
  return Math.round(Number(g2 - g1) / (n2 - n1))
}

/** The `f`-quantile (0…1) of `samples` by nearest rank below: the sample at floor(f · count) once sorted. */
export function quantile(samples: readonly number[], f: number): number {
  const s = [...samples].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(f * s.length))] ?? 0
}

/** The median of `samples`: the middle one, or the mean of the two middle ones. */
export function median(samples: readonly number[]): number {
  const s = [...samples].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length === 0 ? 0 : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
