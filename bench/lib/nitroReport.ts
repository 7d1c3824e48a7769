/**
 * Parley against Nitro, side by side from one run: which Parley operation is paired with which
 * Nitro operation, the ratio, the goal of issue 12 for that pair, and the `--json FILE` rows
 * `[{ op, n, parley, nitro, ratio }]`.
 */
import type { NitroRow } from './nitro.js'

/** The operations compared (names of the `--json` rows). */
export const COMPARED = ['open', 'close', 'conclude', 'close+payout', 'respond', 'answer', 'refute', 'timeout'] as const
export type Compared = (typeof COMPARED)[number]

/** Parley's figures of the compared operations at one N (absent when that part did not run). */
export type ParleyFigures = { n: number } & Partial<Record<Compared, bigint>>

/** What each pair compares, in words (the report's first column). */
export const PAIRS: Record<Compared, { parley: string; nitro: string; of: (r: NitroRow) => bigint }> = {
  open: { parley: 'open + N deposits', nitro: 'N deposits', of: (r) => r.deposits },
  close: { parley: 'closeToClaims (all sign the closing state; payouts recorded, claimed later)', nitro: 'conclude (fresh channel; outcome recorded, transferred later)', of: (r) => r.conclude },
  conclude: { parley: 'concludeToClaims (finality proof of a terminal state; payouts recorded)', nitro: 'conclude (fresh channel)', of: (r) => r.conclude },
  'close+payout': { parley: 'closeAndPay (close, every participant paid)', nitro: 'concludeAndTransferAllAssets', of: (r) => r.concludeAndTransferAllAssets },
  respond: { parley: 'respond (to a timeout)', nitro: 'respond (to a challenge)', of: (r) => r.respond },
  answer: { parley: 'answer (a force-close)', nitro: 'checkpoint (clearing a challenge)', of: (r) => r.checkpointClearing },
  refute: { parley: 'refute (a timeout)', nitro: 'checkpoint (clearing a challenge)', of: (r) => r.checkpointClearing },
  timeout: { parley: 'disputeTimeout', nitro: 'challenge', of: (r) => r.challenge },
}

/** Issue 12's bound on parley / nitro for an operation at N (undefined: no goal). */
export function goal(op: Compared, n: number): number | undefined {
  switch (op) {
    case 'open': return n < 8 ? 1.25 : 1.0
    case 'close': case 'conclude': return 0.8
    case 'close+payout': return 0.9
    // respond against Nitro's respond from N = 3 (its bound against checkpoint is the extra row).
    case 'respond': return n === 2 ? undefined : 0.8
    case 'answer': case 'refute': return n === 2 ? 0.9 : 0.8
    case 'timeout': return undefined
  }
}

export interface ComparedRow {
  op: Compared
  n: number
  parley: number
  nitro: number
  ratio: number
}

/** Every pair for which both figures exist, in COMPARED order then by N. */
export function compare(parley: readonly ParleyFigures[], nitro: readonly NitroRow[]): ComparedRow[] {
  const rows: ComparedRow[] = []
  for (const op of COMPARED) {
    for (const p of parley) {
      const q = nitro.find((r) => r.n === p.n)
      const mine = p[op]
      if (!q || mine === undefined) continue
      const theirs = PAIRS[op].of(q)
      rows.push({ op, n: p.n, parley: Number(mine), nitro: Number(theirs), ratio: Math.round((Number(mine) / Number(theirs)) * 1000) / 1000 })
    }
  }
  return rows
}

type Fmt = (n: bigint | number) => string
type Table = (headers: readonly string[], rows: readonly (readonly string[])[]) => string

/** The markdown section: one table per pair (N, Parley, Nitro, ratio, goal, met), then the extra Nitro figures. */
export function nitroReport(rows: readonly ComparedRow[], nitro: readonly NitroRow[], version: string, fmt: Fmt, table: Table): string {
  const out: string[] = [`### Against Nitro (NitroAdjudicator of @statechannels/nitro-protocol ${version}, same anvil, same run)`, '']
  out.push('Ratio = Parley / Nitro; goal = the bound of issue 12 for that pair and N.', '')
  const ns = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b)
  const head = ['operation (Parley / Nitro)', ...ns.map((n) => `N=${n}`)]
  const body = COMPARED.filter((op) => rows.some((r) => r.op === op)).map((op) => [
    `\`${op}\`: ${PAIRS[op].parley} / ${PAIRS[op].nitro}`,
    ...ns.map((n) => {
      const r = rows.find((x) => x.op === op && x.n === n)
      if (!r) return '—'
      const g = goal(op, n)
      const mark = g === undefined ? '' : r.ratio <= g ? ' ✓' : ` ✗ (≤ ${g})`
      return `${fmt(r.parley)} / ${fmt(r.nitro)} = ${r.ratio.toFixed(2)}${mark}`
    }),
  ])
  // respond is also held to Nitro's checkpoint that clears a challenge (0.9 at N = 2, else 0.8).
  const responds = ns.map((n) => rows.find((x) => x.op === 'respond' && x.n === n))
  if (responds.some(Boolean)) {
    body.push(['`respond`: respond (to a timeout) / checkpoint (clearing a challenge)', ...responds.map((r) => {
      const q = r && nitro.find((x) => x.n === r.n)
      if (!r || !q) return '—'
      const ratio = Math.round((r.parley / Number(q.checkpointClearing)) * 1000) / 1000
      const g = r.n === 2 ? 0.9 : 0.8
      return `${fmt(r.parley)} / ${fmt(q.checkpointClearing)} = ${ratio.toFixed(2)}${ratio <= g ? ' ✓' : ` ✗ (≤ ${g})`}`
    })])
  }
  out.push(table(head, body), '')
  out.push('✓: the goal of issue 12 is met; ✗ (≤ g): it is not (g = the bound). `timeout` has no goal.', '')
  out.push('Other Nitro figures of the same run:', '')
  out.push(table(['N', 'checkpoint (no challenge, status slot already written)', 'respond', 'checkpoint (clearing)', 'challenge'],
    nitro.map((r) => [String(r.n), fmt(r.checkpoint), fmt(r.respond), fmt(r.checkpointClearing), fmt(r.challenge)])))
  return out.join('\n')
}
