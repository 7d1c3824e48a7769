/**
 * Cooperative close (docs/protocol.md §9.1): every active participant signs
 * CloseChannel(channelId, fork, stateHash, payouts) on one final state — the payouts its own
 * machine gives that state (closePayouts), so every honest peer signs the same digest — and the
 * close goes on-chain with all signatures. The channel is Closed only when the chain says so (ChannelClosed, fed by the
 * court's listener), never because the signatures are in.
 *
 * The first close message a peer sees is the request: it is signed (once per fork, through
 * the SigningGuard, after which no tx is signed on that fork) when the state is final for us
 * too — held until it is — and only on our latest final state, never for less than a later
 * state we signed that can still become final gives us: a close of an older state would undo what
 * moved since (a payment to us), and so would one signed while such a later state is pending (the
 * requester could make it final once our consent is out, and close on the older one all the
 * same). A request on an older final state is refused (`CLOSE_STALE`); one on our final state
 * while such a later state is pending is held (and stale once that one is final). A request for another state than
 * the one we signed is refused (`CLOSE_CONFLICT`), and so is one naming other payouts than our
 * machine gives its state: the channel then needs an on-chain exit.
 *
 * Every signature is stored before it is used or relayed, so a restarted peer resumes the close
 * where it was. When our account is an external wallet (`wallet`), our signature is asked for
 * asynchronously, outside the channel's queue: the close's digest is first reserved in the
 * signing log (the fork takes no other close and no transaction from then on), the wallet's
 * answer is checked against our account and stored, and only then broadcast. A refusal rejects
 * `close()` with RuntimeError `WALLET_REJECTED` and leaves the reservation: `close()` asks the
 * wallet again for the same state (a restarted peer too; docs/protocol.md §9.1).
 *
 * Once all are in (`close-signed`), a peer that called `close()` submits at once — outside the
 * channel's queue, so no input waits on the chain — and every peer's court submits
 * it too, staggered (src/dispute/decide.ts), so the close does not depend on its initiator
 * staying up. A dispute raised first, a settlement on another state or a new fork preempts it
 * (`close-preempted`; `close()` rejects with ProtocolError `CLOSE_PREEMPTED`).
 */
import { crashPoint } from '../testing/crashPoint.js'
import { ProtocolError, RuntimeError, UsageError } from '../errors/ParleyError.js'
import { bitIndices, bitmapOf } from '../protocol/bitmap.js'
import { MAX_PARTICIPANTS } from '../protocol/types.js'
import type { ParleyHasher } from '../protocol/eip712.js'
import { recoverSigner } from '../protocol/signatures.js'
import type { Hex } from '../protocol/types.js'
import type { SigningGuard } from '../agreement/SigningGuard.js'
import type { Entry, Ledger } from '../state/ledger.js'
import type { Store } from '../store/types.js'
import type { CloseMessage } from '../transport/messages.js'
import type { ClosePreemptedEvent, CloseSignedEvent } from './events.js'
import type { CloseSubmitter } from './options.js'
import { ChannelRecords } from '../store/ChannelRecords.js'
import type { ConsentSigner } from '../wallet/ConsentSigner.js'
import { closeConsentTypedData } from '../wallet/typedData.js'

/** A cooperative close the chain settled (or our close transaction, mined). */
export interface CloseResult {
  fork: bigint
  seq: bigint
  state: Hex
  stateHash: Hex
  /** The payouts the consents name (see closePayouts). */
  payouts: bigint[]
  /** CloseChannel signatures of every active participant. */
  signatures: Map<number, Hex>
  signers: bigint
  /** The transaction that closed the channel: ours, or another participant's seen on-chain. */
  transactionHash: Hex
}

/** A close every active participant signed, not settled yet: what the court submits. */
export interface CloseReady {
  fork: bigint
  seq: bigint
  state: Hex
  stateHash: Hex
  /** The payouts the consents name (see closePayouts). */
  payouts: bigint[]
  signatures: Map<number, Hex>
  /** Our clock when the last signature came in (the court staggers its submission from there). */
  readyAt: bigint
  /** Our own submission is in flight. */
  submitting: boolean
}

export interface CloseContext {
  channelId: Hex
  participants: readonly Hex[]
  /** The member list the manager's calls take (participants ‖ signers). */
  members: readonly Hex[]
  me: number
  hasher: ParleyHasher
  guard: SigningGuard
  store: Store
  chain?: CloseSubmitter
  /** Our account as an external wallet: it signs our close consent asynchronously (without it, `guard` signs at once). */
  wallet?: ConsentSigner
  autoAccept: boolean
  ledger(): Ledger
  /** State bytes of a final tx at `seq` of the current fork (seq 0 = genesis). */
  finalStateAt(seq: bigint): Hex | undefined
  /** The payouts of a close on `state` of the current fork: our machine's outcome, inactive participants zeroed (closePayouts). */
  payoutsOf(state: Hex): Promise<bigint[]>
  /** Our logical clock (seconds). */
  now(): bigint
  broadcast(m: CloseMessage): void
  /** We signed: the phase becomes Closing. */
  closing(): void
  signed(e: CloseSignedEvent): void
  preempted(e: ClosePreemptedEvent): void
  /** Runs `fn` in the channel's queue (the outcome of our submission comes back there). */
  run(fn: () => void): void
}

interface Target {
  fork: bigint
  seq: bigint
  state: Hex
  stateHash: Hex
  payouts: bigint[]
  digest: Hex
}

interface Saved {
  fork: string
  seq: string
  stateHash: Hex
  payouts?: string[]
  readyAt?: string
  /** Our mined close transaction. */
  mined?: Hex
}

type Waiter = { resolve: (r: CloseResult) => void; reject: (e: unknown) => void }

export class CloseCoordinator {
  private target: Target | undefined
  private sigs = new Map<number, Hex>()
  private held: CloseMessage[] = []
  /** We called close(): we submit as soon as every signature is in. */
  private initiator = false
  private readyAt: bigint | undefined
  private submitting = false
  private mined: Hex | undefined
  private settled: CloseResult | undefined
  /** Preempted (said once); a cancelled dispute makes the close valid again. */
  private lost = false
  private waiters: Waiter[] = []
  /** The close our wallet is being asked to sign (at most one request in flight). */
  private asking: Target | undefined

  private readonly records: ChannelRecords

  constructor(private readonly c: CloseContext) {
    this.records = new ChannelRecords(c.store, c.channelId)
  }

  /** The close the chain settled the channel on, if it did. */
  get completed(): CloseResult | undefined {
    return this.settled
  }

  /** The complete close not settled yet, if any. */
  ready(): CloseReady | undefined {
    const t = this.target
    if (!t || this.settled || this.readyAt === undefined) return undefined
    return { fork: t.fork, seq: t.seq, state: t.state, stateHash: t.stateHash, payouts: [...t.payouts], signatures: this.signatures(), readyAt: this.readyAt, submitting: this.submitting }
  }

  /** Reloads a close in progress from the store (restore). */
  load(): void {
    const saved = this.records.close()
    if (!saved) return
    const s = JSON.parse(saved) as Saved
    const state = this.c.finalStateAt(BigInt(s.seq))
    if (state === undefined || s.payouts === undefined || BigInt(s.fork) !== this.c.ledger().fork.fork) return
    const payouts = s.payouts.map(BigInt)
    this.target = { fork: BigInt(s.fork), seq: BigInt(s.seq), state, stateHash: s.stateHash, payouts, digest: this.c.hasher.close(this.c.channelId, BigInt(s.fork), s.stateHash, payouts) }
    this.sigs = this.records.signatures(this.target.digest)
    if (s.readyAt !== undefined) this.readyAt = BigInt(s.readyAt)
    if (s.mined !== undefined) this.mined = s.mined
    this.complete()
  }

  /** Drops a close of an old fork (the chain set a new one): it is void there. */
  reset(): void {
    this.preempt('fork')
    this.target = undefined
    this.sigs.clear()
    this.held = []
    this.initiator = false
    this.readyAt = undefined
    this.mined = undefined
    this.lost = false
  }

  /**
   * Our close(), first part, in the channel's queue: adopts (signs) the close of a pending
   * request's state, or else of our latest final state, with the payouts our machine gives it.
   * Nothing when a close is adopted already. Throws ProtocolError `CLOSE_CONFLICT` when the
   * request names other payouts than ours for its state, and what signing throws (the guard).
   */
  async prepare(): Promise<void> {
    if (this.settled || this.target) return
    const l = this.c.ledger()
    // A pending request is joined only on our latest final state, held under that very hash: never sign a made-up or an older one.
    const request = this.held.find((m) => m.fork === l.fork.fork && m.seq === l.final.seq && seqHash(this.c, m.seq) === m.stateHash.toLowerCase())
    const seq = l.final.seq
    const state = this.c.finalStateAt(seq)!
    const stateHash = l.final.stateHash
    const payouts = await this.c.payoutsOf(state)
    if (this.target || this.settled) return
    // A fork that changed meanwhile (a dispute resolved) has another final state and active set.
    if (this.c.ledger().fork.fork !== l.fork.fork) return this.prepare()
    if (request && !samePayouts(request.payouts, payouts)) throw conflict(request, payouts)
    const pending = await this.pendingGain(seq, payouts)
    if (this.target || this.settled) return
    if (pending !== undefined) {
      throw new UsageError('CLOSE_PENDING', `we signed seq ${pending}, which is not final yet and gives us more: a close of seq ${seq} would undo it; close once it is final (waitFinal)`, {
        details: { final: seq, pending },
      })
    }
    this.adopt({ fork: l.fork.fork, seq, state, stateHash, payouts, digest: this.c.hasher.close(this.c.channelId, l.fork.fork, stateHash, payouts) })
  }

  /**
   * Our close(), second part (after {@link prepare}): collect, submit. Resolves with the
   * transaction that closed the channel.
   */
  begin(): Promise<CloseResult> {
    if (this.settled) return Promise.resolve(this.settled)
    if (this.target && this.mined) return Promise.resolve(this.result(this.mined))
    if (this.target && !this.sigs.has(this.c.me)) {
      // Reserved, not signed: the wallet refused, or we restarted while it was asked (with a key now: sign it here).
      if (this.c.wallet) this.askWallet(this.target)
      else this.adopt(this.target)
    }
    this.initiator = true
    const p = new Promise<CloseResult>((resolve, reject) => this.waiters.push({ resolve, reject }))
    this.complete()
    return p
  }

  /** Every close signature we hold (ours first), again: a peer asked for a sync or we restarted. */
  resend(): void {
    const t = this.target
    if (!t || !this.sigs.has(this.c.me)) return
    this.c.broadcast(this.message(t, this.c.me, this.sigs.get(this.c.me)!))
    for (const [signer, signature] of this.sigs) if (signer !== this.c.me) this.c.broadcast(this.message(t, signer, signature))
  }

  /** A close message from a peer (a request, or a signature it relays). Throws ProtocolError for a bad or conflicting one. */
  async receive(m: CloseMessage): Promise<void> {
    const n = this.c.participants.length
    if (typeof m.fork !== 'bigint' || typeof m.seq !== 'bigint' || !Number.isInteger(m.signer) || m.signer < 0 || m.signer >= n ||
      typeof m.stateHash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(m.stateHash) || typeof m.signature !== 'string' ||
      !Array.isArray(m.payouts) || m.payouts.length !== n || n > MAX_PARTICIPANTS || !m.payouts.every((p) => typeof p === 'bigint' && p >= 0n && p < 1n << 256n)) {
      throw new ProtocolError('CLOSE_MALFORMED', 'malformed close message')
    }
    const l = this.c.ledger()
    if (m.fork !== l.fork.fork || this.settled) return
    const stateHash = m.stateHash.toLowerCase() as Hex
    const digest = this.c.hasher.close(this.c.channelId, m.fork, stateHash, m.payouts)
    this.verify(digest, m.signer, m.signature)
    if (this.target) return this.join(m, digest)
    if (m.seq < l.final.seq) {
      throw new ProtocolError('CLOSE_STALE', `participant ${m.signer} closes on seq ${m.seq}, older than our latest final state (seq ${l.final.seq})`, {
        details: { seq: m.seq, final: l.final.seq },
      })
    }
    if (m.seq > l.final.seq || !this.c.autoAccept) {
      if (!this.held.some((h) => h.signer === m.signer)) this.held.push(m) // one per signer: relayed copies do not crowd out the others
      return
    }
    const state = this.c.finalStateAt(m.seq)
    if (state === undefined || seqHash(this.c, m.seq) !== stateHash) throw new ProtocolError('CLOSE_STATE_UNKNOWN', `participant ${m.signer} closes on a state we do not hold at seq ${m.seq}`)
    const payouts = await this.c.payoutsOf(state)
    if (this.settled || m.fork !== this.c.ledger().fork.fork) return
    if (this.target) return this.join(m, digest)
    if (!samePayouts(m.payouts, payouts)) throw conflict(m, payouts)
    // A later state we signed, which can still become final, gives us more: held (stale once it is final).
    const pending = await this.pendingGain(m.seq, payouts)
    if (this.settled || m.fork !== this.c.ledger().fork.fork) return
    if (this.target) return this.join(m, digest)
    if (pending !== undefined) {
      if (!this.held.some((h) => h.signer === m.signer)) this.held.push(m)
      return
    }
    this.adopt({ fork: m.fork, seq: m.seq, state, stateHash, payouts, digest })
    this.add(m.signer, m.signature.toLowerCase() as Hex)
    this.complete()
  }

  /** The held requests' signatures over `t`'s digest (each was verified when it came in). */
  private takeHeld(t: Target): void {
    for (const m of this.held.splice(0)) {
      if (this.c.hasher.close(this.c.channelId, m.fork, m.stateHash.toLowerCase() as Hex, m.payouts) === t.digest) this.add(m.signer, m.signature.toLowerCase() as Hex)
    }
  }

  /** A verified close signature while we have a close: added when it is over the same digest. */
  private join(m: CloseMessage, digest: Hex): void {
    const t = this.target!
    if (t.digest !== digest) {
      const what = t.stateHash !== m.stateHash.toLowerCase() ? 'on another state than we signed' : 'with other payouts than we signed'
      throw new ProtocolError('CLOSE_CONFLICT', `participant ${m.signer} closes ${what}`, { details: { ours: t.stateHash, theirs: m.stateHash.toLowerCase() } })
    }
    this.add(m.signer, m.signature.toLowerCase() as Hex)
    this.complete()
  }

  /** Finality moved: a held request may now be signable (or stale). Throws the first refusal, after trying every one. */
  async onFinal(): Promise<void> {
    if (this.target || !this.c.autoAccept) return
    const ready = this.held.filter((m) => m.seq <= this.c.ledger().final.seq)
    this.held = this.held.filter((m) => !ready.includes(m))
    let refused: unknown
    for (const m of ready) await this.receive(m).catch((e: unknown) => void (refused ??= e))
    if (refused !== undefined) throw refused
  }

  /**
   * A transaction above `seq` on the current fork that we signed and that gives us more than
   * `payouts` (a close of `seq`) does: its seq, if any. Our signature is out, so it can still
   * become final, and a close of `seq` would then undo what it gives us. (A later state we did
   * not sign cannot become final without us; one that gives us no more is the close's gain.)
   */
  private async pendingGain(seq: bigint, payouts: readonly bigint[]): Promise<bigint | undefined> {
    const me = this.c.me
    for (const e of this.signedAbove(seq)) if ((await this.c.payoutsOf(e.state))[me]! > payouts[me]!) return e.transaction.seq
    return undefined
  }

  /** The transactions above `seq` on the current fork that we signed (each can still become final), highest first. */
  signedAbove(seq: bigint): Entry[] {
    const fork = this.c.ledger().fork.fork
    return this.c.ledger().pending().filter((e) => e.transaction.seq > seq && this.c.store.getOwnSignature(this.c.channelId, 'tx', fork, e.transaction.seq)).reverse()
  }

  /** A dispute was raised on `fork` (DisputeRaised): a close signed there cannot be mined while it is open. */
  onDispute(fork: bigint, transactionHash?: Hex): void {
    if (this.target?.fork === fork) this.preempt('dispute', transactionHash)
  }

  /** The dispute on our close's fork was cancelled (DisputeCancelled): the close is valid again; the court submits it. */
  onDisputeCancelled(): void {
    this.lost = false
  }

  /**
   * The chain settled the channel (ChannelClosed). On our close's fork and state, and with no
   * dispute in between, it is our close: close() callers get the transaction's hash; anything
   * else preempted it. Returns our close's state and signatures when it was ours.
   */
  onSettled(ev: { fork: bigint; stateHash: Hex }, transactionHash?: Hex): { state: Hex; signatures: Map<number, Hex> } | undefined {
    const t = this.target
    if (!t) return undefined
    if (this.lost || ev.fork !== t.fork || ev.stateHash.toLowerCase() !== t.stateHash) {
      this.preempt('settled', transactionHash)
      return undefined
    }
    const hash = transactionHash ?? this.mined
    if (!this.settled && hash === undefined) {
      this.fail(new UsageError('TRANSACTION_HASH_REQUIRED', 'the chain settled on our close, but applyClosed was not given its transaction hash'))
    } else if (!this.settled) {
      this.settled = this.result(hash!)
      for (const w of this.waiters.splice(0)) w.resolve(this.settled)
    }
    return { state: t.state, signatures: this.signatures() }
  }

  /**
   * A reorganisation took back the settlement (and any close transaction of ours): the close is
   * signed and not mined again, so `ready()` offers it to the courts once more.
   */
  onSettlementRetracted(): void {
    this.settled = undefined
    this.mined = undefined
    this.save()
  }

  /** The channel instance stops: nobody waits any more. */
  dispose(): void {
    this.fail(new UsageError('CHANNEL_DISPOSED', 'the channel was disposed (the close goes on: restore the channel to follow it)'))
  }

  private adopt(t: Target): void {
    if (this.c.wallet) return this.adoptAsync(t)
    this.c.store.transaction(() => {
      const sig = this.c.guard.signClose(this.c.ledger().fork, t.digest)
      this.target = t
      this.sigs.set(this.c.me, sig)
      this.save()
      this.c.closing()
      this.c.broadcast(this.message(t, this.c.me, sig))
    })
    this.takeHeld(t)
  }

  /**
   * Adopts `t` for an external wallet: the digest reserved in the signing log and the close
   * saved first (so a second adopt, ours or a peer's request, cannot sign another state), then
   * the wallet asked outside the queue.
   */
  private adoptAsync(t: Target): void {
    let sig: Hex | undefined
    this.c.store.transaction(() => {
      sig = this.c.guard.reserveClose(this.c.ledger().fork, t.digest)
      this.target = t
      if (sig) this.sigs.set(this.c.me, sig)
      this.save()
      this.c.closing()
      if (sig) this.c.broadcast(this.message(t, this.c.me, sig))
    })
    this.takeHeld(t)
    if (!sig) this.askWallet(t)
  }

  /**
   * Asks our wallet for the close consent of `t` (reserved) without holding the channel's queue;
   * its answer is recorded in the queue — stored before it is broadcast — unless the close was
   * dropped meanwhile (a new fork) or the channel disposed (a restored instance asks again).
   */
  private askWallet(t: Target): void {
    const wallet = this.c.wallet
    if (!wallet || this.asking === t) return
    this.asking = t
    const ask = async (): Promise<{ signature: string } | { error: unknown }> => {
      try {
        return { signature: await wallet.signTypedData(closeConsentTypedData(this.c.hasher.domain, this.c.channelId, t.fork, t.state, t.payouts)) }
      } catch (error) {
        return { error }
      }
    }
    void ask().then((outcome) =>
      this.c.run(() => {
        if (this.asking === t) this.asking = undefined
        if (this.target !== t || this.settled) return
        let sig: Hex
        try {
          if ('error' in outcome) throw walletError(outcome.error)
          sig = this.c.guard.recordClose(t.fork, t.digest, outcome.signature)
        } catch (e) {
          // close() callers get the error; without one (a peer's request we accepted) the channel reports it.
          const waited = this.waiters.length > 0
          this.fail(e)
          if (waited) return
          throw e
        }
        this.sigs.set(this.c.me, sig)
        this.c.broadcast(this.message(t, this.c.me, sig))
        this.complete()
      }),
    )
  }

  private add(signer: number, signature: Hex): void {
    if (this.sigs.has(signer)) return
    this.records.putSignature(this.target!.digest, signer, signature)
    this.sigs.set(signer, signature)
  }

  private verify(digest: Hex, signer: number, signature: Hex): void {
    let who: Hex
    try {
      who = recoverSigner(digest, signature)
    } catch (cause) {
      throw new ProtocolError('SIGNATURE_INVALID', `close signature of participant ${signer} is invalid`, { cause })
    }
    if (who !== this.c.participants[signer]) throw new ProtocolError('SIGNATURE_INVALID', `close signature is not participant ${signer}'s`)
  }

  /** Every active participant signed: say so once (stored first), and submit if we called close(). */
  private complete(): void {
    const t = this.target
    if (!t || this.settled || !bitIndices(this.c.ledger().fork.active).every((i) => this.sigs.has(i))) return
    if (this.readyAt === undefined) {
      this.readyAt = this.c.now()
      this.save()
      this.c.signed({ fork: t.fork, seq: t.seq, state: t.state, stateHash: t.stateHash, payouts: [...t.payouts], signatures: this.signatures() })
    }
    if (this.initiator && this.c.chain && !this.submitting && this.mined === undefined && !this.c.ledger().fork.disputed) void this.submit(t)
  }

  /** Sends the close on-chain without holding the channel's queue; the outcome is applied in it. */
  private async submit(t: Target): Promise<void> {
    this.submitting = true
    let outcome: { hash: Hex } | { error: unknown }
    try {
      crashPoint('close.signed') // every signature stored, nothing sent (docs/protocol.md §7.12)
      outcome = { hash: (await this.c.chain!.close(this.c.channelId, this.c.members, t.state, t.payouts, this.signatures())).hash }
    } catch (error) {
      outcome = { error }
    }
    this.c.run(() => {
      this.submitting = false
      if (this.target !== t || this.settled) return
      if ('hash' in outcome) {
        this.mined = outcome.hash
        this.save()
        const r = this.result(outcome.hash)
        for (const w of this.waiters.splice(0)) w.resolve(r)
        return
      }
      const e = outcome.error
      // Not open: another participant's close, or a dispute, came first. The chain's events say which.
      if (e instanceof ProtocolError && e.code === 'CHANNEL_NOT_OPEN') return
      this.fail(e instanceof RuntimeError || e instanceof ProtocolError ? e : new RuntimeError('CLOSE_SUBMIT_FAILED', 'submitting close failed (the close stays signed: the court submits it later)', { cause: e }))
    })
  }

  private preempt(reason: ClosePreemptedEvent['reason'], transactionHash?: Hex): void {
    const t = this.target
    if (!t || this.settled || this.lost) return
    this.lost = true
    const what = { dispute: `a dispute was raised on fork ${t.fork} first: the channel goes through it`, settled: 'the chain settled the channel on another state', fork: `the chain set a new fork: the close of fork ${t.fork} is void` }[reason]
    this.c.preempted({ fork: t.fork, reason, ...(transactionHash ? { transactionHash } : {}) })
    this.fail(new ProtocolError('CLOSE_PREEMPTED', `the close was not mined: ${what}`, { details: { fork: t.fork, reason, ...(transactionHash ? { transactionHash } : {}) } }))
  }

  private fail(error: unknown): void {
    for (const w of this.waiters.splice(0)) w.reject(error)
  }

  private signatures(): Map<number, Hex> {
    return new Map(bitIndices(this.c.ledger().fork.active).map((i) => [i, this.sigs.get(i)!] as [number, Hex]))
  }

  private result(transactionHash: Hex): CloseResult {
    const t = this.target!
    const signatures = this.signatures()
    return { fork: t.fork, seq: t.seq, state: t.state, stateHash: t.stateHash, payouts: [...t.payouts], signatures, signers: bitmapOf(signatures.keys()), transactionHash }
  }

  private save(): void {
    const t = this.target!
    const s: Saved = { fork: String(t.fork), seq: String(t.seq), stateHash: t.stateHash, payouts: t.payouts.map(String), ...(this.readyAt !== undefined ? { readyAt: String(this.readyAt) } : {}), ...(this.mined ? { mined: this.mined } : {}) }
    this.records.setClose(JSON.stringify(s))
  }

  private message(t: Target, signer: number, signature: Hex): CloseMessage {
    return { type: 'close', fork: t.fork, seq: t.seq, stateHash: t.stateHash, payouts: [...t.payouts], signer, signature }
  }
}

/** A wallet's failure as the close's error: RuntimeError `WALLET_REJECTED` (the cause kept). */
function walletError(e: unknown): unknown {
  if (e instanceof RuntimeError && e.code === 'WALLET_REJECTED') return e
  return new RuntimeError('WALLET_REJECTED', `the wallet did not sign the close consent: ${(e as Error)?.message ?? String(e)}`, { cause: e })
}

function samePayouts(a: readonly bigint[], b: readonly bigint[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i])
}

/** A close request whose payouts are not what our machine gives its state. */
function conflict(m: CloseMessage, ours: readonly bigint[]): ProtocolError {
  return new ProtocolError('CLOSE_CONFLICT', `participant ${m.signer} closes with other payouts than our machine gives that state`, {
    details: { stateHash: m.stateHash.toLowerCase(), ours: ours.map(String), theirs: m.payouts.map(String) },
  })
}

/** The state hash we hold at `seq` (final part of the current fork). */
function seqHash(c: CloseContext, seq: bigint): Hex | undefined {
  const l = c.ledger()
  if (seq === 0n) return l.fork.stateHash
  return l.get(seq)?.transaction.stateHash ?? new ChannelRecords(c.store, c.channelId).tx(l.fork.fork, seq)?.transaction.stateHash
}
