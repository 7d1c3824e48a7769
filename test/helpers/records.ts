/**
 * The channel record in tests that call the manager through a raw ethers Contract: what a
 * client does (src/chain/recordLog.ts), done for them. `withRecords(contract)` returns the same
 * contract whose channel functions take the arguments they took before the record existed —
 * `(channelId, participants, …)` — and insert the record rebuilt from the channel's events at
 * call time; `getChannel(id)` reads that record and `getDispute(id)` the stored word of a
 * disputed channel with the record's latestSeq. The raw contract (no record inserted) stays
 * available for tests of the record check itself.
 */
import type { Contract, ContractRunner } from 'ethers'
import { channelTrack } from '../../src/chain/recordLog.js'
import { channelStruct, NO_CHANNEL, type ChannelTrack } from '../../src/chain/records.js'
import { Phase, type Hex } from '../../src/protocol/types.js'

/** The functions whose second argument is the channel record. */
export const RECORD_METHODS = new Set([
  'close', 'closeAndPay', 'closeToClaims', 'conclude', 'concludeToClaims', 'claim', 'verifyFinalityProof', 'verifySignatures',
  'postTransaction', 'disputeTimeout', 'exit', 'respond', 'answer', 'extend', 'refute', 'proveInvalidTransition', 'proveEquivocation', 'resolve',
])

/** The channel's track from the events of `manager` (undefined if it never opened). */
export async function trackOf(manager: Contract, channelId: Hex): Promise<ChannelTrack | undefined> {
  const provider = manager.runner?.provider
  if (!provider) throw new Error('the contract has no provider')
  return channelTrack(provider, manager.interface, (await manager.getAddress()).toLowerCase() as Hex, channelId)
}

/** The record argument for `channelId` (all zero if it never opened). */
export async function recordArg(manager: Contract, channelId: Hex): Promise<Record<string, unknown>> {
  return channelStruct((await trackOf(manager, channelId))?.record ?? NO_CHANNEL)
}

type Fn = ((...args: unknown[]) => Promise<unknown>) & { staticCall: (...a: unknown[]) => Promise<unknown>; estimateGas: (...a: unknown[]) => Promise<bigint>; send: (...a: unknown[]) => Promise<unknown> }

/** `contract` with the record inserted into every channel call (see the file comment). */
export function withRecords(contract: Contract): Contract {
  const fn = (name: string): unknown => {
    if (name === 'getChannel') {
      return async (id: Hex) => {
        const r = (await trackOf(contract, id))?.record ?? NO_CHANNEL
        const o = { ...r, phase: BigInt(r.phase), n: BigInt(r.n), p2pTime: BigInt(r.p2pTime), agreementTime: BigInt(r.agreementTime), chainFallbackTime: BigInt(r.chainFallbackTime), challengeTime: BigInt(r.challengeTime), postingWindow: BigInt(r.postingWindow) }
        return { ...o, toObject: () => ({ ...o }) }
      }
    }
    if (name === 'getDispute') {
      return async (id: Hex) => {
        const t = await trackOf(contract, id)
        const [phase, word] = (await contract.getFunction('channelWord')(id)) as [bigint, string]
        return [Number(phase) === Phase.Disputed ? word : `0x${'00'.repeat(32)}`, t?.record.latestSeq ?? 0n]
      }
    }
    const f = contract.getFunction(name) as unknown as Fn
    if (!RECORD_METHODS.has(name)) return f
    const full = async (args: unknown[]) => [args[0], await recordArg(contract, args[0] as Hex), ...args.slice(1)]
    const call = (async (...args: unknown[]) => f(...(await full(args)))) as Fn
    call.staticCall = async (...args) => f.staticCall(...(await full(args)))
    call.estimateGas = async (...args) => f.estimateGas(...(await full(args)))
    call.send = async (...args) => f.send(...(await full(args)))
    return call
  }
  return new Proxy(contract, {
    get(target, prop) {
      if (prop === 'connect') return (runner: ContractRunner) => withRecords(target.connect(runner) as Contract)
      if (prop === 'getFunction') return (name: string) => fn(name)
      if (prop === 'raw') return target
      if (typeof prop === 'string' && (RECORD_METHODS.has(prop) || prop === 'getChannel' || prop === 'getDispute')) return fn(prop)
      const v = Reflect.get(target, prop, target) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  })
}
