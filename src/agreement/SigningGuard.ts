/**
 * The only place a channel signs anything. Every signature is checked against, and recorded
 * in, the store's signing log before it is returned — so it is on disk before it can leave
 * the process, and we never sign two different txs at one (channel, fork, seq), nor a tx on a
 * fork we signed CloseChannel on or saw disputed. An external wallet's close consent, asked for
 * asynchronously, goes through here too: its digest is reserved in the log before the wallet is
 * asked (the fork is then as closed as after a signature), and its answer recorded once it
 * recovers to our account.
 */
import { computeAddress, type SigningKey } from 'ethers'
import { ProtocolError, UsageError } from '../errors/ParleyError.js'
import { hasBit } from '../protocol/bitmap.js'
import { normalizeSignature, recoverSigner, signDigest } from '../protocol/signatures.js'
import type { Hex } from '../protocol/types.js'
import { ChannelRecords } from '../store/ChannelRecords.js'
import { RESERVED_SIGNATURE, type ForkRecord, type Store } from '../store/types.js'

/** Our account when an external wallet holds its key: only its address is here. */
export interface ExternalAccount {
  address: Hex
}

export class SigningGuard {
  /** The channel's signing log (and the signatures stored with each digest). */
  private readonly log: ChannelRecords

  constructor(
    private readonly store: Store,
    channelId: Hex,
    private readonly key: SigningKey,
    readonly me: number,
    /**
     * Signs CloseChannel: the participant's own account, while `key` may be its session key. An
     * {@link ExternalAccount} signs in its wallet: its closes go through {@link reserveClose} and
     * {@link recordClose}, not {@link signClose}.
     */
    private readonly closeKey: SigningKey | ExternalAccount = key,
  ) {
    this.log = new ChannelRecords(store, channelId)
  }

  /**
   * Signs transaction `digest` at height `seq` of `fork`. Re-signing the same digest returns
   * the logged signature. Throws ProtocolError `DOUBLE_SIGN_REFUSED` for a different digest
   * at that height, UsageError `FORK_DISPUTED`, `CHANNEL_CLOSING` or `NOT_ACTIVE`.
   * `response` signs our own move on a fork whose open dispute is a timeout against us: the
   * one move made during a dispute, published by the chain (docs/protocol.md §7.3).
   */
  signTransaction(fork: ForkRecord, seq: bigint, digest: Hex, opts: { response?: boolean } = {}): Hex {
    const prev = this.log.ownSignature('tx', fork.fork, seq)
    if (prev) {
      if (prev.digest === digest) return prev.signature
      throw new ProtocolError('DOUBLE_SIGN_REFUSED', `we already signed another transaction at fork ${fork.fork}, seq ${seq}`, {
        details: { fork: fork.fork, seq, signed: prev.digest, requested: digest },
      })
    }
    this.usable(fork, opts.response === true)
    if (this.log.ownSignature('close', fork.fork, 0n)) {
      throw new UsageError('CHANNEL_CLOSING', `we signed CloseChannel on fork ${fork.fork}: no more transactions on it`)
    }
    return this.sign('tx', fork.fork, seq, digest)
  }

  /**
   * Signs CloseChannel `digest` on `fork`; once per fork (the same digest again returns the
   * logged signature). Throws ProtocolError `CLOSE_ALREADY_SIGNED` for another state.
   */
  signClose(fork: ForkRecord, digest: Hex): Hex {
    const prev = this.closeRecord(fork.fork, digest)
    if (prev !== undefined && prev !== RESERVED_SIGNATURE) return prev
    if (!('privateKey' in this.closeKey)) throw new UsageError('SIGNER_INVALID', 'our account is an external wallet: its close consent is asked for asynchronously (reserveClose, recordClose)')
    if (prev === undefined) this.usable(fork)
    return this.sign('close', fork.fork, 0n, digest)
  }

  /**
   * Reserves CloseChannel `digest` on `fork` in the signing log before an external wallet is
   * asked for it: from here on the fork takes no other close and no transaction (as after
   * {@link signClose}). Returns the logged signature if it is already in, else undefined (reserved
   * now or before: the wallet is to be asked). Throws as {@link signClose}.
   */
  reserveClose(fork: ForkRecord, digest: Hex): Hex | undefined {
    const prev = this.closeRecord(fork.fork, digest)
    if (prev !== undefined) return prev === RESERVED_SIGNATURE ? undefined : prev
    this.usable(fork)
    this.log.putOwnSignature({ kind: 'close', fork: fork.fork, seq: 0n, digest, signature: RESERVED_SIGNATURE })
    return undefined
  }

  /**
   * Records the wallet's signature of the close reserved on `fork` (any form a wallet returns:
   * v = 0 / 1, EIP-2098 compact), in the signing log and with the digest's signatures, once it
   * recovers to our account; returns it in the 65-byte form. The fork may have become disputed
   * since the reservation: the close was committed to then, and stays (as a signed one would).
   * Throws UsageError `SIGNER_MISMATCH` for another account's signature, ProtocolError
   * `SIGNATURE_MALFORMED` for a malformed one, `CLOSE_ALREADY_SIGNED` when `digest` is not the
   * close reserved on `fork`.
   */
  recordClose(fork: bigint, digest: Hex, signature: string): Hex {
    const prev = this.log.ownSignature('close', fork, 0n)
    if (!prev || prev.digest !== digest) {
      throw new ProtocolError('CLOSE_ALREADY_SIGNED', `the close recorded on fork ${fork} is not the one the wallet signed`, { details: { fork, signed: prev?.digest, requested: digest } })
    }
    if (prev.signature !== RESERVED_SIGNATURE) return prev.signature
    const sig = normalizeSignature(signature)
    const who = recoverSigner(digest, sig)
    const account = this.account()
    if (who !== account) {
      throw new UsageError('SIGNER_MISMATCH', `the wallet's close consent recovers to ${who}, not to our account ${account}`, { details: { signer: who, account } })
    }
    this.store.transaction(() => {
      this.log.putOwnSignature({ kind: 'close', fork, seq: 0n, digest, signature: sig })
      this.log.putSignature(digest, this.me, sig)
    })
    return sig
  }

  /** The CloseChannel digest we signed (or reserved) on `fork`, if any. */
  closeSigned(fork: bigint): Hex | undefined {
    return this.log.ownSignature('close', fork, 0n)?.digest
  }

  /** The logged close of `fork` if it is `digest` (its signature, or RESERVED_SIGNATURE); throws CLOSE_ALREADY_SIGNED for another. */
  private closeRecord(fork: bigint, digest: Hex): Hex | undefined {
    const prev = this.log.ownSignature('close', fork, 0n)
    if (!prev) return undefined
    if (prev.digest === digest) return prev.signature
    throw new ProtocolError('CLOSE_ALREADY_SIGNED', `we already signed CloseChannel for another state on fork ${fork}`, {
      details: { fork, signed: prev.digest, requested: digest },
    })
  }

  private account(): Hex {
    const k = this.closeKey
    return 'privateKey' in k ? (computeAddress(k.publicKey).toLowerCase() as Hex) : (k.address.toLowerCase() as Hex)
  }

  private usable(fork: ForkRecord, response = false): void {
    if (fork.disputed && !response) throw new UsageError('FORK_DISPUTED', `fork ${fork.fork} is disputed on-chain: nothing more is signed on it`)
    if (!hasBit(fork.active, this.me)) throw new UsageError('NOT_ACTIVE', `participant ${this.me} is not active on fork ${fork.fork}`)
  }

  private sign(kind: 'tx' | 'close', fork: bigint, seq: bigint, digest: Hex): Hex {
    const signature = signDigest(kind === 'close' ? (this.closeKey as SigningKey) : this.key, digest)
    this.store.transaction(() => {
      this.log.putOwnSignature({ kind, fork, seq, digest, signature })
      this.log.putSignature(digest, this.me, signature)
    })
    return signature
  }
}
