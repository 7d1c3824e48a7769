/**
 * The markdown section of `npm run bench:gas` for the court (figures from ./disputes.ts): the
 * tables per operation and N, the split into calldata and execution at the smallest N, the
 * marginal gas per participant, and the targets (posting bound, Nitro comparison).
 */
import type { DisputeRow, Op } from './disputes.js'
import type { GasBreakdown } from './trace.js'
import { OPS } from './disputes.js'
import type { NitroRow } from './nitro.js'

/**
 * Which Nitro figure each operation is held to (Nitro measured in the same run, ./nitro.ts):
 * raising a dispute registers a candidate state like Nitro's challenge; respond, answer and
 * extend replace it with a later state like its checkpoint that clears a challenge; refute and
 * an answer to a timeout do that and convict the disputer, so both are shown.
 */
const COMPARE: [Op, ('challenge' | 'checkpoint')[]][] = [
  ['timeout', ['challenge']], ['conclude', ['challenge']], ['exit', ['challenge']], ['forceClose', ['challenge']],
  ['respond', ['checkpoint']], ['answer', ['checkpoint']], ['extend', ['checkpoint']],
  ['refute', ['challenge', 'checkpoint']], ['answerLie', ['challenge', 'checkpoint']],
]
export const LABEL: Record<Op, string> = {
  post: 'postTransaction', timeout: 'disputeTimeout', conclude: 'disputeTimeout (conclude)', exit: 'exit (leave)',
  forceClose: 'exit (force-close)', respond: 'respond', answerLie: 'answer (timeout: lie)', refute: 'refute',
  refuteGenesis: 'refute (genesis checkpoint)', answer: 'answer (force-close)', extend: 'extend (force-close)',
  proveInvalid: 'proveInvalidTransition', proveEquivocation: 'proveEquivocation', resolveTimeout: 'resolve (timeout)',
  resolveForceClose: 'resolve (force-close)', resolveFraud: 'resolve (fraud)', resolveConclude: 'resolve (conclude)',
}

type Fmt = (n: bigint | number) => string
type Table = (h: readonly string[], r: readonly (readonly string[])[]) => string

/** The markdown section of the court's figures and targets. */
export function disputesReport(rows: readonly DisputeRow[], nitro: readonly NitroRow[], fmt: Fmt, table: Table): string {
  const out: string[] = []
  const cols = (ops: readonly Op[]) => table(['N', ...ops.map((o) => LABEL[o])], rows.map((r) => [String(r.n), ...ops.map((o) => fmt(r[o].total))]))
  out.push('### Court: posts and disputes', '')
  out.push(cols(['post', 'timeout', 'conclude', 'exit', 'forceClose']), '')
  out.push('### Court: challenges, answers and extensions', '')
  out.push(cols(['respond', 'answerLie', 'refute', 'refuteGenesis', 'answer', 'extend']), '')
  out.push('### Court: fraud proofs and resolution', '')
  out.push(cols(['proveInvalid', 'proveEquivocation', 'resolveTimeout', 'resolveForceClose', 'resolveFraud', 'resolveConclude']), '')
  const first = rows[0]!
  out.push(`Split at N = ${first.n} (base 21,000 + calldata + execution):`, '')
  out.push(table(['operation', 'total', 'calldata', 'execution'], OPS.map((o) => [LABEL[o], fmt(first[o].total), fmt(first[o].calldata), fmt(first[o].execution)])), '')
  const pairs = rows.slice(1).map((r, i) => [rows[i]!, r] as const)
  const key: Op[] = ['post', 'timeout', 'answer', 'extend', 'refute', 'proveInvalid', 'resolveTimeout', 'resolveForceClose']
  if (pairs.length > 0) {
    out.push('Marginal gas per extra participant:', '')
    out.push(table(['N → N′', ...key.map((o) => LABEL[o])],
      pairs.map(([a, b]) => [`${a.n} → ${b.n}`, ...key.map((o) => fmt(Math.round(Number(b[o].total - a[o].total) / (b.n - a.n))))])), '')
  }

  out.push('### Targets', '')
  out.push('Posting calldata ≤ 21,000 + 16 gas per calldata byte + 25,000:', '')
  out.push(table(['N', 'calldata bytes', 'gas', 'bound', 'execution', 'met'], rows.map((r) => {
    const bound = 46_000n + 16n * BigInt(r.postBytes)
    return [String(r.n), fmt(r.postBytes), fmt(r.post.total), fmt(bound), fmt(r.post.execution), r.post.total <= bound ? 'yes' : 'no']
  })), '')
  out.push('Disputes and challenges ≤ 0.8 × the Nitro adjudicator figure at the same N (Nitro measured in this run: ' +
    '`challenge` registering a state signed by all; `checkpoint` of the next state, signed by all, clearing that challenge):', '')
  const verdict: string[][] = []
  for (const r of rows) {
    const q = nitro.find((x) => x.n === r.n)
    if (!q) continue
    for (const [o, refs] of COMPARE) {
      for (const name of refs) {
        const ref = name === 'challenge' ? q.challenge : q.checkpointClearing
        const ratio = Number(r[o].total) / Number(ref)
        verdict.push([String(r.n), LABEL[o], fmt(r[o].total), `${name} ${fmt(ref)}`, ratio.toFixed(2), ratio <= 0.8 ? 'yes' : 'no'])
      }
    }
  }
  out.push(table(['N', 'operation', 'gas', 'Nitro', 'ratio', '≤ 0.8'], verdict))
  return out.join('\n')
}

/** Columns of the trace split, in order: header and how to read a breakdown. */
const SPLIT: [string, (b: GasBreakdown, fmt: Fmt) => string][] = [
  ['fallback', (b, f) => f(b.fallback)],
  ['machine (calls)', (b, f) => `${f(b.machine)} (${b.machineCalls})`],
  ['ecrecover', (b, f) => f(b.ecrecover)],
  ['SLOAD (cold)', (b, f) => `${f(b.sload)} (${b.coldSloads})`],
  ['SSTORE', (b, f) => f(b.sstore)],
  ['logs (data bytes)', (b, f) => `${f(b.logs)} (${f(b.logBytes)})`],
  ['keccak', (b, f) => f(b.keccak)],
  ['other', (b, f) => f(b.other)],
  ['refund', (b, f) => (b.refund === 0 ? '0' : f(-b.refund))],
]

/**
 * The execution gas of every traced operation split by where it went (see ./trace.ts), one
 * table per N. `rows` pairs a label with its breakdown.
 */
export function traceReport(n: number, rows: readonly [string, GasBreakdown][], fmt: Fmt, table: Table): string {
  return [`Execution gas by opcode trace, N = ${n}:`, '',
    table(['operation', ...SPLIT.map(([h]) => h)], rows.map(([label, b]) => [label, ...SPLIT.map(([, cell]) => cell(b, fmt))]))].join('\n')
}

/** The traced court operations of one row, labelled. */
export function courtTraces(row: DisputeRow): [string, GasBreakdown][] {
  return OPS.flatMap((o) => (row.traces[o] ? [[LABEL[o], row.traces[o]] as [string, GasBreakdown]] : []))
}
