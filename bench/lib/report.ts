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
