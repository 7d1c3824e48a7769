/**
 * Prints the demo as a readable timeline: one line per step (elapsed time, who, what, gas of
 * on-chain steps), balance tables, and a closing summary. Output only; no protocol logic.
 */
import { formatEther } from 'ethers'

/** ETH with exactly 4 decimals (rounded down), e.g. `1.2500`. */
export function eth(wei: bigint): string {
  const negative = wei < 0n
  const abs = negative ? -wei : wei
  const [whole, frac = ''] = formatEther(abs).split('.')
  return `${negative ? '-' : ''}${whole}.${(frac + '0000').slice(0, 4)}`
}

/** Thousands separators for gas figures. */
export function gas(n: bigint): string {
  return n.toLocaleString('en-US')
}

/** `0x1234…abcd`. */
export function short(hex: string): string {
  return hex.length <= 14 ? hex : `${hex.slice(0, 6)}…${hex.slice(-4)}`
}

export interface BalanceRow {
  name: string
  offchain?: bigint
  manager: bigint
  wallet: bigint
}

export interface OnchainStep {
  who: string
  what: string
  gasUsed: bigint
}

export class Timeline {
  private readonly started = Date.now()
  /** Every on-chain step, for the summary. */
  readonly onchain: OnchainStep[] = []

  constructor(private readonly out: (line: string) => void = (l) => console.log(l)) {}

  title(text: string): void {
    this.out('')
    this.out(text)
    this.out('─'.repeat(Math.min(100, Math.max(40, text.length))))
  }

  section(text: string): void {
    this.out('')
    this.out(`── ${text}`)
  }

  /** An off-chain or local step. */
  step(who: string, what: string): void {
    this.out(`${this.clock()} ${who.padEnd(8)} ${what}`)
  }

  /** An on-chain step with the gas its transaction used. */
  chain(who: string, what: string, gasUsed: bigint): void {
    this.onchain.push({ who, what, gasUsed })
    this.out(`${this.clock()} ${who.padEnd(8)} ${what.padEnd(64)} gas ${gas(gasUsed).padStart(9)}`)
  }

  /** An indented detail line under the previous step. */
  note(text: string): void {
    this.out(`${' '.repeat(18)}${text}`)
  }

  /** Balance table: off-chain (latest state), manager balance and wallet, in ETH. */
  balances(label: string, rows: readonly BalanceRow[]): void {
    const head = `${' '.repeat(18)}${label.padEnd(10)} ${'off-chain'.padStart(12)} ${'in manager'.padStart(12)} ${'wallet'.padStart(12)}`
    this.out(head)
    for (const r of rows) {
      const off = r.offchain === undefined ? '—' : eth(r.offchain)
      this.out(`${' '.repeat(18)}${r.name.padEnd(10)} ${off.padStart(12)} ${eth(r.manager).padStart(12)} ${eth(r.wallet).padStart(12)}`)
    }
  }

  /** Plain line (summary tables). */
  line(text = ''): void {
    this.out(text)
  }

  private clock(): string {
    return `[${((Date.now() - this.started) / 1000).toFixed(1).padStart(6)}s]`
  }
}
