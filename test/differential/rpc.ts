/**
 * A thin JSON-RPC client for the differential run: one keep-alive connection, no polling, no
 * estimation round trips (ethers' provider costs ~4× more per call on anvil). Calls are judged
 * with `eth_call` and a block-time override, so a verdict is the one a block stamped exactly
 * then would reach; accepted calls are then mined in such a block.
 */
import type { Interface } from 'ethers'
import type { Hex } from '../../src/protocol/types.js'

/** The outcome of an `eth_call`: the return data, or the revert data. */
export type CallResult = { ok: true; data: Hex } | { ok: false; data: Hex; message: string }

/** A mined transaction's receipt (the parts the run reads). */
export interface Receipt {
  status: boolean
  blockTimestamp: bigint
  logs: { address: string; topics: string[]; data: string }[]
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`

export class Rpc {
  private id = 0
  constructor(readonly url: string) {}

  async call<T>(method: string, params: unknown[]): Promise<T> {
    const res = await fetch(this.url, {
      method: 'POST', headers: { 'content-type': 'application/json' }, keepalive: true,
      body: JSON.stringify({ jsonrpc: '2.0', id: ++this.id, method, params }),
    })
    const body = (await res.json()) as { result?: T; error?: { code: number; message: string; data?: unknown } }
    if (body.error) throw Object.assign(new Error(`${method}: ${body.error.message}`), { rpc: body.error })
    return body.result as T
  }

  /** `eth_call` from `from` to `to` in a block stamped `time` (the latest block's state). */
  async ethCall(from: Hex, to: Hex, data: Hex, time: bigint): Promise<CallResult> {
    try {
      const out = await this.call<Hex>('eth_call', [{ from, to, data, gas: hex(29_000_000) }, 'latest', {}, { time: hex(time) }])
      return { ok: true, data: out }
    } catch (e) {
      const rpc = (e as { rpc?: { message: string; data?: unknown } }).rpc
      if (!rpc) throw e
      return { ok: false, data: (typeof rpc.data === 'string' ? rpc.data : '0x') as Hex, message: rpc.message }
    }
  }

  /** Mines `data` from `from` (an unlocked anvil account) in a block stamped `time`. */
  async send(from: Hex, to: Hex, data: Hex, time: bigint, value = 0n): Promise<Receipt> {
    await this.call('evm_setNextBlockTimestamp', [Number(time)])
    const hash = await this.call<Hex>('eth_sendTransaction', [{ from, to, data, gas: hex(29_000_000), value: hex(value) }])
    let r = await this.call<{ status: string; blockNumber: string; logs: Receipt['logs'] } | null>('eth_getTransactionReceipt', [hash])
    // anvil mines right after it answers; the receipt may lag a moment behind.
    for (let i = 0; !r && i < 400; i++) {
      await new Promise((res) => setTimeout(res, 5))
      r = await this.call('eth_getTransactionReceipt', [hash])
    }
    if (!r) throw new Error(`no receipt for ${hash}`)
    const block = await this.call<{ timestamp: string }>('eth_getBlockByNumber', [r.blockNumber, false])
    return { status: r.status === '0x1', blockTimestamp: BigInt(block.timestamp), logs: r.logs }
  }

  /** Mines an empty block stamped `time`. */
  async mineAt(time: bigint): Promise<void> {
    await this.call('evm_setNextBlockTimestamp', [Number(time)])
    await this.call('evm_mine', [])
  }

  async now(): Promise<bigint> {
    const b = await this.call<{ timestamp: string }>('eth_getBlockByNumber', ['latest', false])
    return BigInt(b.timestamp)
  }

  snapshot(): Promise<string> {
    return this.call<string>('evm_snapshot', [])
  }

  async revert(id: string): Promise<void> {
    if (!(await this.call<boolean>('evm_revert', [id]))) throw new Error(`evm_revert(${id}) failed`)
  }
}

/** The custom error name of revert data (`Panic(0x..)`, `EmptyRevert` or `Unknown(selector)` otherwise). */
export function errorName(iface: Interface, data: Hex): string {
  if (data === '0x' || data.length < 10) return 'EmptyRevert'
  try {
    const parsed = iface.parseError(data)
    if (parsed) return parsed.name === 'Panic' ? `Panic(${String(parsed.args[0])})` : parsed.name
  } catch {
    // fall through
  }
  return `Unknown(${data.slice(0, 10)})`
}
