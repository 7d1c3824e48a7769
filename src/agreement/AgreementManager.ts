/**
 * AgreementManager: decides whether we confirm each transaction about to be stored (refusal
 * rules), verifies and collects confirmations, and moves finality with virtual voting
 * (src/protocol/finality.ts — the contract's rule). Builds finality proofs for the contract.
 *
 * It acts on nothing: a step returns a decision ({@link TxDecision}: sign or not, what to store
 * with the transaction) or what it recorded ({@link Recorded}: signatures, newly final entries);
 * the Engine stores, signs, sends and reports. Calls must not overlap (the Channel serializes them).
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
import type { ConfirmMessage } from '../transport/messages.js'
import { newlyFinal, noConfirmReason, proofSpan, refusersOf, type NoConfirmReason } from './rules.js'
import type { SigningGuard } from './SigningGuard.js'
import { ChannelRecords } from '../store/ChannelRecords.js'

export interface AgreementOptions {
  channelId: Hex
  params: ChannelParams
  me: number
  store: Store
  clock: Clock
  timing: Timing
  /** Read only: whether we signed a close on the fork (then we confirm nothing more on it). */
  guard: SigningGuard
}

/** What to do with a transaction about to be stored ({@link AgreementManager.decide}). */
export interface TxDecision {
  /** Why we do not confirm it (`'own'`: we are its author); undefined: we sign our confirmation. */
  noConfirm: NoConfirmReason | undefined
  /** This fork's refusers, grown by what its arrival reveals: to store with it. Undefined: unchanged. */
  refusers: bigint | undefined
  /** Peers' confirmations that arrived before it, verified: stored with it. */
  confirmations: Map<number, Hex>
  /** Confirmations that arrived before it and failed verification (to report). */
  errors: ProtocolError[]
}

/** What agreement recorded once a commit made it durable, for the Engine to report. */
export interface Recorded {
  /** Signatures that now count (ours or peers', not an author's own, which comes with its tx). */
  signed: { entry: Entry; signer: number }[]
  /** Newly final entries, ascending (final by a proof or as ancestors of a final tx). */
  finals: Entry[]
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
  private readonly participants: Hex[]
  private readonly records: ChannelRecords

  constructor(private readonly o: AgreementOptions) {
    // Confirmations are signed by each participant's in-channel signer (session key or account).
    this.participants = membersOf(o.params)
    this.records = new ChannelRecords(o.store, o.channelId)
  }

  /** Switches to a fork's view (new fork or restore); refusals are per fork. */
  setLedger(ledger: Ledger): void {
    this.ledger = ledger
    this.held.clear()
    this.heldCount = 0
    this.unsavedList = [] // the caller saved them before switching forks (Engine.useLedger)
    this.refusers = this.records.refusers(ledger.fork.fork)
    this.excused = this.records.excused(ledger.fork.fork)
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
    this.records.setExcused(this.ledger.fork.fork, last)
  }

  /** Re-evaluates finality from the signatures held (after a restore): the entries it made final. */
  refresh(): Entry[] {
    return this.updateFinality()
  }

  /** Peers that refused to confirm one of our txs in time on this fork (bitmap). */
  get refused(): bigint {
    return this.refusers
  }

  /**
   * What to do with `entry`, the next transaction, about to be stored (ours or a peer's that
   * passed the pipeline): whether we confirm it, the refusals its arrival reveals (docs/protocol.md
   * §6.5, judged before the decision: a refuser's move is not confirmed), and the confirmations
   * that waited for it, verified. Changes nothing but handing over those confirmations; the
   * caller stores the decision and then calls {@link recorded}.
   * @example const d = agreement.decide(entry); store.transaction(() => { ... }); ledger.append(entry); agreement.recorded(entry, d)
   */
  decide(entry: Entry): TxDecision {
    const found = this.refusalsNow()
    const refusers = found === undefined ? this.refusers : found
    const noConfirm = this.reasonNotToConfirm(entry, entry.receivedAt, this.ledger.head.timestamp, refusers)
    const confirmations = new Map<number, Hex>()
    const errors: ProtocolError[] = []
    const waiting = this.held.get(entry.transaction.seq) ?? []
    this.held.delete(entry.transaction.seq)
    this.heldCount -= waiting.length
    for (const c of waiting) {
      try {
        if (this.checkConfirmation(c) !== 'current' || c.signer === entry.transaction.actor || c.signer === this.o.me) continue
        const signature = this.verified(entry, c)
        if (signature !== undefined) confirmations.set(c.signer, signature)
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e
        errors.push(e)
      }
    }
    return { noConfirm, refusers: found, confirmations, errors }
  }

  /**
   * After the commit that stored `entry` as `d` decided (with our signature when we gave one)
   * and the ledger took it: the decision holds, every stored signature counts, finality moves.
   */
  recorded(entry: Entry, d: TxDecision): Recorded {
    if (d.refusers !== undefined) this.refusers = d.refusers
    this.lastDecision = d.noConfirm
    for (const [signer, signature] of d.confirmations) entry.signatures.set(signer, signature)
    entry.signers = bitmapOf(entry.signatures.keys())
    const signed = [...d.confirmations.keys()].map((signer) => ({ entry, signer }))
    const after = this.saved()
    return { signed: [...signed, ...after.signed], finals: after.finals }
  }

  /** How many peers' signatures wait for a durable commit. */
  get unsaved(): number {
    return this.unsavedList.length
  }

  /** Writes the peers' signatures that wait (call inside the store transaction that makes them durable). */
  writeUnsaved(): void {
    for (const { entry, signer } of this.unsavedList) this.records.putSignature(entry.digest, signer, entry.signatures.get(signer)!)
  }

  /** After the commit that wrote them: the peers' signatures count (signers), finality moves. */
  saved(): Recorded {
    const signed = this.unsavedList
    this.unsavedList = []
    for (const { entry, signer } of signed) entry.signers = withBit(entry.signers, signer)
    return { signed, finals: this.updateFinality() }
  }

  /** Why we would not confirm `entry` received at `receivedAt` after a parent stamped `parentTimestamp` (undefined: we would). */
  private reasonNotToConfirm(entry: Entry, receivedAt: bigint, parentTimestamp: bigint, refusers = this.refusers): NoConfirmReason | undefined {
    const fork = this.ledger.fork
    return noConfirmReason({
      author: entry.transaction.actor, me: this.o.me, active: fork.active, receivedAt, parentTimestamp,
      timing: this.o.timing, refusers, disputed: fork.disputed, closing: this.o.guard.closeSigned(fork.fork) !== undefined,
    })
  }

  /**
   * The fork goes on after a dispute (DisputeCancelled, or a reorganisation took the dispute
   * back): others' pending txs we did not confirm because the fork was disputed are judged again
   * as if received `now` (a confirmation deadline that passed meanwhile makes them late), in
   * order, stopping at the first one we would not confirm. Returns the ones to confirm now (the
   * caller signs and stores them, then calls {@link confirmed}). Without this, a move that
   * arrived while our listener still saw the dispute would stay unconfirmed by us for good.
   * @example const es = agreement.reconsider(clock.now()); store.transaction(() => es.forEach(sign)); agreement.confirmed(es)
   */
  reconsider(now: bigint): Entry[] {
    if (this.ledger.fork.disputed) return []
    const out: Entry[] = []
    let parent = this.ledger.final.timestamp
    for (const e of this.ledger.pending()) {
      if (!e.signatures.has(this.o.me)) {
        if (this.reasonNotToConfirm(e, e.receivedAt > now ? e.receivedAt : now, parent)) break
        out.push(e)
      }
      parent = e.transaction.timestamp
    }
    return out
  }

  /** Our confirmations of `entries` ({@link reconsider}) are stored (in their `signatures`): they count; finality moves. */
  confirmed(entries: readonly Entry[]): Recorded {
    for (const e of entries) e.signers = withBit(e.signers, this.o.me)
    return { signed: entries.map((entry) => ({ entry, signer: this.o.me })), finals: this.updateFinality() }
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
    const signature = this.verified(e, c)
    if (signature === undefined) return 'duplicate'
    e.signatures.set(c.signer, signature)
    this.unsavedList.push({ entry: e, signer: c.signer })
    return 'applied'
  }

  /** `c`'s signature, verified against `e` (undefined: `e` holds it already); throws the refusals of {@link receiveConfirmation}. */
  private verified(e: Entry, c: ConfirmMessage): Hex | undefined {
    const digest = c.digest.toLowerCase() as Hex
    if (e.digest !== digest) {
      throw new ProtocolError('CONFIRMATION_MISMATCH', `participant ${c.signer} confirms another transaction at seq ${c.seq}`, { details: { seq: c.seq, signer: c.signer, digest } })
    }
    if (e.signatures.has(c.signer)) return undefined
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
    return signature
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
    const e = this.records.entry(this.ledger.fork.fork, seq)
    if (!e) throw new RuntimeError('STORE_INCOMPLETE', `no stored transaction at seq ${seq}`)
    return e
  }

  /**
   * This fork's refusers grown by the peers that let one of our txs pass its confirmation
   * deadline without signing it (§6.5), judged at our clock's now; undefined when none is new.
   */
  private refusalsNow(): bigint | undefined {
    const l = this.ledger
    let parent = l.final.timestamp
    const window = l.pending().map((e) => {
      // Signatures held in memory count too: the peer did sign in time, its signature is being stored.
      const row = { author: e.transaction.actor, signers: bitmapOf(e.signatures.keys()), parentTimestamp: parent, timestamp: e.transaction.timestamp, excused: e.transaction.seq <= this.excused }
      parent = e.transaction.timestamp
      return row
    })
    const found = refusersOf(window, { me: this.o.me, active: l.fork.active, now: this.o.clock.now(), timing: this.o.timing })
    return (found & ~this.refusers) === 0n ? undefined : this.refusers | found
  }

  /** Moves finality as far as the stored signatures allow; returns the newly final entries, ascending. */
  private updateFinality(): Entry[] {
    const window = this.ledger.pending()
    const k = newlyFinal(window, this.ledger.fork.active)
    if (k === 0) return []
    return this.ledger.finalize(window[k - 1]!.transaction.seq)
  }
}
