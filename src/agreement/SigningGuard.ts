/**
 * The only place a channel signs anything. Every signature is checked against, and recorded
 * in, the store's signing log before it is returned — so it is on disk before it can leave
 * the process, and we never sign two different txs at one (channel, fork, seq), nor a tx on a
 * fork we signed CloseChannel on or saw disputed.
 */
import type { SigningKey } from 'ethers'
import { ProtocolError, UsageError } from '../errors/ParleyError.js'
import { hasBit } from '../protocol/bitmap.js'
import { signDigest } from '../protocol/signatures.js'
import type { Hex } from '../protocol/types.js'
import type { ForkRecord, Store } from '../store/types.js'

export class SigningGuard {
  constructor(
    private readonly store: Store,
    private readonly channelId: Hex,
    private readonly key: SigningKey,
    readonly me: number,
    /** Signs CloseChannel: the participant's own account, while `key` may be its session key. */
    private readonly closeKey: SigningKey = key,
  ) {}

  /**
   * Signs transaction `digest` at height `seq` of `fork`. Re-signing the same digest returns
   * the logged signature. Throws ProtocolError `DOUBLE_SIGN_REFUSED` for a different digest
   * at that height, UsageError `FORK_DISPUTED`, `CHANNEL_CLOSING` or `NOT_ACTIVE`.
   * `response` signs our own move on a fork whose open dispute is a timeout against us: the
   * one move made during a dispute, published by the chain (docs/protocol.md §7.3).
   */
  signTransaction(fork: ForkRecord, seq: bigint, digest: Hex, opts: { response?: boolean } = {}): Hex {
    const prev = this.store.getOwnSignature(this.channelId, 'tx', fork.fork, seq)
    if (prev) {
      if (prev.digest === digest) return prev.signature
      throw new ProtocolError('DOUBLE_SIGN_REFUSED', `we already signed another transaction at fork ${fork.fork}, seq ${seq}`, {
        details: { fork: fork.fork, seq, signed: prev.digest, requested: digest },
      })
    }
    this.usable(fork, opts.response === true)
    if (this.store.getOwnSignature(this.channelId, 'close', fork.fork, 0n)) {
      throw new UsageError('CHANNEL_CLOSING', `we signed CloseChannel on fork ${fork.fork}: no more transactions on it`)
    }
    return this.sign('tx', fork.fork, seq, digest)
  }

  /**
   * Signs CloseChannel `digest` on `fork`; once per fork (the same digest again returns the
   * logged signature). Throws ProtocolError `CLOSE_ALREADY_SIGNED` for another state.
   */
  signClose(fork: ForkRecord, digest: Hex): Hex {
    const prev = this.store.getOwnSignature(this.channelId, 'close', fork.fork, 0n)
    if (prev) {
      if (prev.digest === digest) return prev.signature
      throw new ProtocolError('CLOSE_ALREADY_SIGNED', `we already signed CloseChannel for another state on fork ${fork.fork}`, {
        details: { fork: fork.fork, signed: prev.digest, requested: digest },
      })
    }
    this.usable(fork)
    return this.sign('close', fork.fork, 0n, digest)
  }

  /** The CloseChannel digest we signed on `fork`, if any. */
  closeSigned(fork: bigint): Hex | undefined {
    return this.store.getOwnSignature(this.channelId, 'close', fork, 0n)?.digest
  }

  private usable(fork: ForkRecord, response = false): void {
    if (fork.disputed && !response) throw new UsageError('FORK_DISPUTED', `fork ${fork.fork} is disputed on-chain: nothing more is signed on it`)
    if (!hasBit(fork.active, this.me)) throw new UsageError('NOT_ACTIVE', `participant ${this.me} is not active on fork ${fork.fork}`)
  }

  private sign(kind: 'tx' | 'close', fork: bigint, seq: bigint, digest: Hex): Hex {
    const signature = signDigest(kind === 'close' ? this.closeKey : this.key, digest)
    this.store.transaction(() => {
      this.store.putOwnSignature(this.channelId, { kind, fork, seq, digest, signature })
      this.store.putSignature(this.channelId, digest, this.me, signature)
    })
    return signature
  }
}
