/**
 * One {@link MachineEvm} per distinct machine, shared by every channel that runs it.
 *
 * An EVM with its Common, state manager, opcode tables and interpreter costs ~350 KiB; a
 * process with thousands of channels of one machine needs one, not thousands.
 *
 * Why sharing is safe: a MachineEvm call is a static frame on an immutable world — the code at
 * one address, nothing else. A static call cannot write storage, transient storage, balances or
 * code, create or destroy accounts, or log; the warm set, the only thing a call changes, is reset
 * after every call, and calls are serialised. So a call's result depends only on the code, the
 * address it runs at, the hardfork, the calldata and the gas limit — exactly what a channel's
 * calls already rely on between two of its own moves. The key covers every instance-wide input
 * (code hash, address, hardfork, interpreter loop); the gas limit comes with each call and the
 * ABI that decodes errors stays with each channel's EvmStateMachine.
 *
 * What is never trusted: the caller fetched and hashed the code itself (per channel, from the
 * chain); a cached instance is reused only if its code is byte-for-byte the caller's.
 *
 * Instances are held weakly: when no EvmStateMachine uses one any more, it is collected and its
 * entry removed.
 */
import type { Hardfork } from '../../contracts/evm.js'
import type { Hex } from '../../protocol/types.js'
import { MachineEvm } from './MachineEvm.js'

/** What identifies an instance: everything that can change a call's result besides its input. */
export interface MachineEvmKey {
  /** keccak256 of `code`, computed by the caller from the code it fetched. */
  codeHash: Hex
  /** Address the code runs at (lower-case). */
  address: Hex
  hardfork: Hardfork
  /** The fast interpreter loop (default true); same results, kept apart to compare them. */
  fast?: boolean
}

/** Counters for tests and benchmarks. */
export interface MachineEvmCacheStats {
  /** Instances built since the cache was made. */
  builds: number
  /** Requests answered with an existing (or in-flight) instance. */
  hits: number
  /** Instances currently held (alive or not yet collected). */
  entries: number
}

/**
 * @example
 * const cache = new MachineEvmCache()
 * const evm = await cache.get(code, { codeHash, address, hardfork: 'cancun' })
 * const out = await evm.execute(calldata, 5_000_000n)
 */
export class MachineEvmCache {
  private readonly live = new Map<string, WeakRef<MachineEvm>>()
  private readonly building = new Map<string, Promise<MachineEvm>>()
  private readonly finalizer = new FinalizationRegistry<string>((id) => {
    if (this.live.get(id)?.deref() === undefined) this.live.delete(id)
  })
  private builds = 0
  private hits = 0

  /** The shared instance running `code` under `key`, built on the first request. */
  async get(code: Uint8Array, key: MachineEvmKey): Promise<MachineEvm> {
    const id = `${key.codeHash.toLowerCase()}/${key.address.toLowerCase()}/${key.hardfork}/${key.fast === false ? 'stock' : 'fast'}`
    const found = this.live.get(id)?.deref() ?? (await this.building.get(id))
    if (found && found.hasCode(code)) {
      this.hits++
      return found
    }
    // A different code under the same hash cannot happen with keccak256; if the caller's
    // hash was wrong, it gets a private instance rather than someone else's machine.
    if (found) return MachineEvm.create(code, { address: key.address, hardfork: key.hardfork, fast: key.fast ?? true })
    const pending = MachineEvm.create(code, { address: key.address, hardfork: key.hardfork, fast: key.fast ?? true })
    this.building.set(id, pending)
    try {
      const evm = await pending
      this.builds++
      this.live.set(id, new WeakRef(evm))
      this.finalizer.register(evm, id)
      return evm
    } finally {
      this.building.delete(id)
    }
  }

  stats(): MachineEvmCacheStats {
    return { builds: this.builds, hits: this.hits, entries: this.live.size }
  }
}

/** The process-wide cache EvmStateMachine uses unless told otherwise. */
export const sharedMachineEvms = new MachineEvmCache()
