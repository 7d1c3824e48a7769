/**
 * AgreementManager: decides whether to confirm each accepted tx (refusal rules), signs through
 * the SigningGuard, collects and verifies confirmations, and moves finality with virtual voting
 * (src/protocol/finality.ts — the contract's rule). Builds finality proofs for the contract.
 *
 * It produces messages to send in an outbox the Channel drains after the store transaction
 * that recorded them has committed. Calls must not overlap (the Channel serializes them).
 *
 * Durability: our own signatures are in the store before they leave (the SigningGuard writes
 * them inside the caller's transaction). A peer's signature is verified and kept in memory
 * ({@link AgreementManager.unsaved}) until the caller's next durable commit writes it
 * ({@link AgreementManager.writeUnsaved}); only then does it count for finality
 * ({@link AgreementManager.saved}) — so one commit per transaction carries every confirmation
 * that arrived meanwhile, and nothing is reported final before the signatures making it so are
 * on disk. One lost in a crash is only a peer's, which the restart gets back by catch-up.
 */
import { ProtocolError, RuntimeError, UsageError } from '../errors/ParleyError.js'
import { bitCount, bitIndices, bitmapOf, hasBit, withBit } from '../protocol/bitmap.js'
import { checkFinalityProof } from '../protocol/finality.js'
import { packSignedTransaction, recoverSigner } from '../protocol/signatures.js'
import { confirmationDeadline } from '../protocol/timing.js'
import { membersOf } from '../protocol/members.js'
import type { Clock } from '../clock/Clock.js'
import type { ChannelParams, Hex, PackedSignedTransaction } from '../protocol/types.js'
import type { Store } from '../store/types.js'
import type { Entry, Ledger } from '../state/ledger.js'
import { MAX_AHEAD, type Timing } from '../state/steps.js'
import type { ConfirmMessage, Message } from '../transport/messages.js'
import { newlyFinal, noConfirmReason, proofSpan, refusersOf, type NoConfirmReason } from './rules.js'
import type { SigningGuard } from './SigningGuard.js'
import { META } from '../store/metaKeys.js'

export interface AgreementOptions {
  channelId: Hex
  params: ChannelParams
  me: number
  store: Store
  clock: Clock
  timing: Timing
  guard: SigningGuard
  /** Newly final entries, ascending (final by a proof or as ancestors of a final tx). */
  onFinal?: (entries: Entry[]) => void
  /** A participant's signature of `entry` was recorded: our confirmation or a peer's (not the author's own, which comes with the tx). */
  onSigned?: (entry: Entry, signer: number) => void
}

/** What happened to a received confirmation. */
export type ConfirmationOutcome = 'applied' | 'held' | 'stale' | 'duplicate'

const MAX_HELD_CONFIRMATIONS = 1024

export class AgreementManager {
  ledger!: Ledger
  /** Why the last committed tx was not confirmed (undefined: it was). */
  lastDecision: NoConfirmReason | undefined
  private refusers = 0n
  /** Our txs up to this seq make no refusers: their confirmation deadline passed while we were stopped. */
  private excused = 0n
  private held = new Map<bigint, ConfirmMessage[]>()
  private heldCount = 0
  /** Peers' signatures verified and in their entry's `signatures`, not yet stored nor in its `signers`. */
  private unsavedList: { entry: Entry; signer: number }[] = []
  /** Errors of held confirmations applied in {@link onCommit}, reported by {@link onAppended}. */
  private heldErrors: ProtocolError[] = []
  private outbox: Message[] = []
  private readonly participants: Hex[]

  constructor(private readonly o: AgreementOptions) {
    // Confirmations are signed by each participant's in-channel signer (session key or account).
    this.participants = membersOf(o.params)
  }

  /** Switches to a fork's view (new fork or restore); refusals are per fork. */
  setLedger(ledger: Ledger): void {
    this.ledger = ledger
    this.held.clear()
    this.heldCount = 0
    this.unsavedList = [] // the caller saved them before switching forks (Engine.useLedger)
    this.refusers = BigInt(this.o.store.getMeta(this.o.channelId, META.refusers(ledger.fork.fork)) ?? '0')
    this.excused = BigInt(this.o.store.getMeta(this.o.channelId, META.excused(ledger.fork.fork)) ?? '0')
  }

  /**
   * After a restart at `now`: our pending txs whose confirmation deadline has passed make no
   * refusers (docs/protocol.md §6.5) — we were stopped through the rest of their window and
   * cannot know they ever left, so a peer that did not sign them is not taken to have refused.
   * @example agreement.excuseMissed(clock.now())
   */
  excuseMissed(now: bigint): void {
    let parent = this.ledger.final.timestamp
    let last = this.excused
    for (const e of this.ledger.pending()) {
      const t = e.transaction
      if (t.actor === this.o.me && now > confirmationDeadline(parent, this.o.timing) && t.seq > last) last = t.seq
      parent = t.timestamp
    }
    if (last === this.excused) return
    this.excused = last
    this.o.store.putMeta(this.o.channelId, META.excused(this.ledger.fork.fork), String(last))
  }

  /** Re-evaluates finality from the signatures held (after a restore). */
  refresh(): void {
    this.updateFinality()
  }

  /** Peers that refused to confirm one of our txs in time on this fork (bitmap). */
  get refused(): bigint {
    return this.refusers
  }

  /** Messages to send; call after the store transaction that produced them committed. */
  takeOutbox(): Message[] {
    const out = this.outbox
    this.outbox = []
    return out
  }

  /**
   * Hand-off from StateManager, inside the tx's store transaction: confirm it or not, and take
   * the confirmations that came before it (they are written with it, {@link writeUnsaved}).
   */
  onCommit(entry: Entry): void {
    this.noteRefusals()
    this.lastDecision = this.reasonNotToConfirm(entry, entry.receivedAt, this.ledger.head.timestamp)
    if (!this.lastDecision) this.confirm(entry)
    const waiting = this.held.get(entry.transaction.seq)
    if (!waiting) return
    this.held.delete(entry.transaction.seq)
    this.heldCount -= waiting.length
    for (const c of waiting) {
      try {
        if (this.checkConfirmation(c) === 'current') this.applyTo(entry, c)
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e
        this.heldErrors.push(e)
      }
    }
  }

  /** How many peers' signatures wait for a durable commit. */
  get unsaved(): number {
    return this.unsavedList.length
  }

  /** Writes the peers' signatures that wait (call inside the store transaction that makes them durable). */
  writeUnsaved(): void {
    if (this.unsavedList.length === 0) return
    this.noteRefusals()
    for (const { entry, signer } of this.unsavedList) this.o.store.putSignature(this.o.channelId, entry.digest, signer, entry.signatures.get(signer)!)
  }

  /** After the commit that wrote them: the peers' signatures count (signers, finality) and are announced. */
  saved(): void {
    const list = this.unsavedList
    if (list.length === 0) return
    this.unsavedList = []
    for (const { entry, signer } of list) {
      entry.signers = withBit(entry.signers, signer)
      this.o.onSigned?.(entry, signer)
    }
    this.updateFinality()
  }

  /** Why we would not confirm `entry` received at `receivedAt` after a parent stamped `parentTimestamp` (undefined: we would). */
  private reasonNotToConfirm(entry: Entry, receivedAt: bigint, parentTimestamp: bigint): NoConfirmReason | undefined {
    const fork = this.ledger.fork
    return noConfirmReason({
      author: entry.transaction.actor, me: this.o.me, active: fork.active, receivedAt, parentTimestamp,
      timing: this.o.timing, refusers: this.refusers, disputed: fork.disputed, closing: this.o.guard.closeSigned(fork.fork) !== undefined,
    })
  }

  /** Signs our confirmation of `entry` (logged by the guard) and queues it. */
  private confirm(entry: Entry): void {
    const fork = this.ledger.fork
    const signature = this.o.guard.signTransaction(fork, entry.transaction.seq, entry.digest)
    entry.signatures.set(this.o.me, signature)
    this.o.onSigned?.(entry, this.o.me)
    this.outbox.push({ type: 'confirm', fork: fork.fork, seq: entry.transaction.seq, digest: entry.digest, signer: this.o.me, signature })
  }

  /**
   * The fork goes on after a dispute (DisputeCancelled, or a reorganisation took the dispute
   * back): others' pending txs we did not confirm because the fork was disputed are judged again
   * as if received `now` (a confirmation deadline that passed meanwhile makes them late), in
   * order, stopping at the first one we would not confirm. Without this, a move that arrived
   * while our listener still saw the dispute would stay unconfirmed by us for good.
   * @example agreement.reconsider(clock.now()); flush()
   */
  reconsider(now: bigint): void {
    if (this.ledger.fork.disputed) return
    let parent = this.ledger.final.timestamp
    for (const e of this.ledger.pending()) {
      if (!e.signatures.has(this.o.me)) {
        if (this.reasonNotToConfirm(e, e.receivedAt > now ? e.receivedAt : now, parent)) return
        this.confirm(e)
        e.signers = withBit(e.signers, this.o.me)
      }
      parent = e.transaction.timestamp
    }
    this.updateFinality()
  }

  /** Signs our own tx (inside its store transaction) and queues its broadcast. */
  signOwn(entry: Entry): void {
    const signature = this.o.guard.signTransaction(this.ledger.fork, entry.transaction.seq, entry.digest)
    entry.signatures.set(this.o.me, signature)
    this.outbox.push({ type: 'tx', transaction: entry.transaction, signature })
  }

  /**
   * After a tx extended the ledger (its store transaction committed, with every peer signature
   * that waited): they count now; finality moves. Returns the refusals of confirmations that had
   * waited for the tx.
   */
  onAppended(_entry: Entry): ProtocolError[] {
    const errors = this.heldErrors
    this.heldErrors = []
    this.saved()
    this.updateFinality()
    return errors
  }

  /**
   * Verifies a confirmation and records it in memory: it is stored with the next durable commit
   * and counts from then on ({@link saved}). Throws ProtocolError `CONFIRMATION_MALFORMED`,
   * `SIGNER_INACTIVE`, `CONFIRMATION_MISMATCH` (it signs another tx at that height) or
   * `SIGNATURE_INVALID`.
   */
  receiveConfirmation(c: ConfirmMessage): ConfirmationOutcome {
    if (this.checkConfirmation(c) === 'stale') return 'stale'
    // A confirmation of an already final tx is still kept: an earlier tx's bounded proof may need it.
    const e = this.ledger.get(c.seq) ?? (c.seq < this.ledger.final.seq ? this.stored(c.seq) : undefined)
    if (!e) {
      if (c.seq > this.ledger.head.seq + MAX_AHEAD || this.heldCount >= MAX_HELD_CONFIRMATIONS) return 'stale'
      this.held.set(c.seq, [...(this.held.get(c.seq) ?? []), c])
      this.heldCount++
      return 'held'
    }
    return this.applyTo(e, c)
  }

  /** The checks that need no entry: well-formed, on this fork (else stale), by an active participant. */
  private checkConfirmation(c: ConfirmMessage): 'current' | 'stale' {
    const n = this.participants.length
    if (typeof c.fork !== 'bigint' || typeof c.seq !== 'bigint' || !Number.isInteger(c.signer) || c.signer < 0 || c.signer >= n ||
      typeof c.digest !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(c.digest) || typeof c.signature !== 'string' || !/^0x[0-9a-fA-F]{130}$/.test(c.signature)) {
      throw new ProtocolError('CONFIRMATION_MALFORMED', 'malformed confirmation', { details: { signer: c.signer } })
    }
    const fork = this.ledger.fork
    if (c.fork !== fork.fork || c.seq < 1n) return 'stale'
    if (!hasBit(fork.active, c.signer)) throw new ProtocolError('SIGNER_INACTIVE', `participant ${c.signer} is not active on fork ${fork.fork}`)
    return 'current'
  }

  /** Verifies `c` against the entry it confirms and keeps its signature there, unsaved. */
  private applyTo(e: Entry, c: ConfirmMessage): ConfirmationOutcome {
    const digest = c.digest.toLowerCase() as Hex
    if (e.digest !== digest) {
      throw new ProtocolError('CONFIRMATION_MISMATCH', `participant ${c.signer} confirms another transaction at seq ${c.seq}`, { details: { seq: c.seq, signer: c.signer, digest } })
    }
    if (e.signatures.has(c.signer)) return 'duplicate'
    const signature = c.signature.toLowerCase() as Hex
    let recovered: Hex
    try {
      recovered = recoverSigner(digest, signature)
    } catch (cause) {
      throw new ProtocolError('SIGNATURE_INVALID', `confirmation by ${c.signer} is not a valid signature`, { cause, details: { seq: c.seq, signer: c.signer } })
    }
    if (recovered !== this.participants[c.signer]) {
      throw new ProtocolError('SIGNATURE_INVALID', `confirmation is not participant ${c.signer}'s signature`, { details: { seq: c.seq, signer: c.signer, recovered } })
    }
    e.signatures.set(c.signer, signature)
    this.unsavedList.push({ entry: e, signer: c.signer })
    return 'applied'
  }

  /**
   * A finality proof of the tx at `seq` (default: the latest final one), packed for the
   * contract. Throws UsageError `NOT_FINAL`, or `PROOF_UNAVAILABLE` for a tx that is final
   * only as the ancestor of a later final tx (prove that one instead).
   * @example const proof = agreement.finalityProof(); await manager.conclude(id, participants, proof, state)
   */
  finalityProof(seq: bigint = this.ledger.final.seq): PackedSignedTransaction[] {
    const fork = this.ledger.fork
    if (seq < 1n || seq > this.ledger.final.seq) {
      throw new UsageError('NOT_FINAL', `seq ${seq} is not a final transaction (final: ${this.ledger.final.seq})`, { details: { seq, final: this.ledger.final.seq } })
    }
    const A = bitCount(fork.active)
    const run: { transaction: Entry['transaction']; signatures: Map<number, Hex>; signers: bigint }[] = []
    for (let s = seq; s < seq + BigInt(A) && s <= this.ledger.head.seq; s++) {
      const e = this.ledger.get(s) ?? this.stored(s)
      // Stored signatures only (`signers`): one still waiting for its commit proves nothing yet.
      const stored = new Map([...e.signatures].filter(([i]) => hasBit(e.signers, i)))
      run.push({ transaction: e.transaction, signatures: stored, signers: e.signers & fork.active })
    }
    const span = proofSpan(run, fork.active)
    if (span === 0) {
      throw new UsageError('PROOF_UNAVAILABLE', `seq ${seq} is final as an ancestor only; prove seq ${this.ledger.final.seq} instead`, { details: { seq } })
    }
    const active = bitIndices(fork.active)
    const proof = run.slice(0, span).map((r) => packSignedTransaction({ transaction: r.transaction, signatures: r.signatures }, active))
    const verdict = checkFinalityProof({ channelId: this.o.channelId, fork: fork.fork, active: fork.active }, proof)
    if (!verdict.final) throw new RuntimeError('PROOF_INCONSISTENT', `built proof for seq ${seq} does not verify: ${verdict.fault}`)
    return proof
  }

  private stored(seq: bigint): Entry {
    const r = this.o.store.getTx(this.o.channelId, this.ledger.fork.fork, seq)
    if (!r) throw new RuntimeError('STORE_INCOMPLETE', `no stored transaction at seq ${seq}`)
    const signatures = this.o.store.getSignatures(this.o.channelId, r.digest)
    let signers = 0n
    for (const i of signatures.keys()) signers = withBit(signers, i)
    return { ...r, signatures, signers }
  }

  /** Marks peers that let one of our txs pass its confirmation deadline without signing it (§6.5). */
  private noteRefusals(): void {
    const l = this.ledger
    let parent = l.final.timestamp
    const window = l.pending().map((e) => {
      // Signatures held in memory count too: the peer did sign in time, its signature is being stored.
      const row = { author: e.transaction.actor, signers: bitmapOf(e.signatures.keys()), parentTimestamp: parent, timestamp: e.transaction.timestamp, excused: e.transaction.seq <= this.excused }
      parent = e.transaction.timestamp
      return row
    })
    const found = refusersOf(window, { me: this.o.me, active: l.fork.active, now: this.o.clock.now(), timing: this.o.timing })
    if ((found & ~this.refusers) === 0n) return
    this.refusers |= found
    this.o.store.putMeta(this.o.channelId, META.refusers(l.fork.fork), String(this.refusers))
  }

  private updateFinality(): void {
    const window = this.ledger.pending()
    const k = newlyFinal(window, this.ledger.fork.active)
    if (k === 0) return
    const entries = this.ledger.finalize(window[k - 1]!.transaction.seq)
    this.o.onFinal?.(entries)
  }
}
