/**
 * Cooperative close: every active participant signs CloseChannel(channelId, fork, stateHash)
 * on one final state; whoever started it submits `close` on-chain with all signatures.
 *
 * The first close message a peer sees is the request: it is signed (once per fork, through
 * the SigningGuard, after which no tx is signed on that fork) when the state is final for us
 * too — held until it is. A request for another state than the one we signed is refused
 * (`CLOSE_CONFLICT`): the channel then needs an on-chain exit.
 */
import { ProtocolError, RuntimeError } from '../errors/ParleyError.js'
import { bitIndices, bitmapOf } from '../protocol/bitmap.js'
import type { ParleyHasher } from '../protocol/eip712.js'
import { recoverSigner } from '../protocol/signatures.js'
import type { Hex } from '../protocol/types.js'
import type { SigningGuard } from '../agreement/SigningGuard.js'
import type { Ledger } from '../state/ledger.js'
import type { Store } from '../store/types.js'
import type { CloseMessage } from '../transport/messages.js'
import type { ClosedEvent } from './events.js'
import type { CloseSubmitter } from './options.js'

/** What a completed cooperative close produced. */
export interface CloseResult {
  fork: bigint
  seq: bigint
  state: Hex
  stateHash: Hex
  /** CloseChannel signatures of every active participant. */
  signatures: Map<number, Hex>
  signers: bigint
  /** Our on-chain `close` transaction, if we submitted it. */
  transactionHash?: Hex
}

export interface CloseContext {
  channelId: Hex
  participants: readonly Hex[]
  me: number
  hasher: ParleyHasher
  guard: SigningGuard
  store: Store
  chain?: CloseSubmitter
  autoAccept: boolean
  ledger(): Ledger
  /** State bytes of a final tx at `seq` of the current fork (seq 0 = genesis). */
  finalStateAt(seq: bigint): Hex | undefined
  broadcast(m: CloseMessage): void
  /** We signed: the phase becomes Closing. */
  closing(): void
  /** Every active participant signed (and we submitted, if we initiated). */
  closed(e: ClosedEvent): void
}

interface Target {
  fork: bigint
  seq: bigint
  state: Hex
  stateHash: Hex
  digest: Hex
}

export class CloseCoordinator {
  private target: Target | undefined
  private sigs = new Map<number, Hex>()
  private held: CloseMessage[] = []
  private initiator = false
  private result: CloseResult | undefined
  private waiters: { resolve: (r: CloseResult) => void; reject: (e: unknown) => void }[] = []

  constructor(private readonly c: CloseContext) {}

  /** The result of a completed cooperative close, if any. */
  get completed(): CloseResult | undefined {
    return this.result
  }

  /** Reloads a close in progress from the store (restore). */
  load(): void {
    const saved = this.c.store.getMeta(this.c.channelId, 'close')
    if (!saved) return
    const s = JSON.parse(saved) as { fork: string; seq: string; stateHash: Hex; initiator: boolean }
    const state = this.c.finalStateAt(BigInt(s.seq))
    if (state === undefined || BigInt(s.fork) !== this.c.ledger().fork.fork) return
    this.target = { fork: BigInt(s.fork), seq: BigInt(s.seq), state, stateHash: s.stateHash, digest: this.c.hasher.close(this.c.channelId, BigInt(s.fork), s.stateHash) }
    this.initiator = s.initiator
    this.sigs = this.c.store.getSignatures(this.c.channelId, this.target.digest)
  }

  /** Drops a close of an old fork (the chain set a new one). */
  reset(): void {
    this.target = undefined
    this.sigs.clear()
    this.held = []
    this.initiator = false
  }

  /** Our close(): sign the latest final state (or a pending request's) and collect. */
  async begin(): Promise<CloseResult> {
    if (this.result) return this.result
    if (!this.target) {
      const l = this.c.ledger()
      const request = this.held.find((m) => m.fork === l.fork.fork && m.seq <= l.final.seq)
      const seq = request ? request.seq : l.final.seq
      const state = this.c.finalStateAt(seq)!
      const stateHash = request ? request.stateHash : l.final.stateHash
      this.adopt({ fork: l.fork.fork, seq, state, stateHash, digest: this.c.hasher.close(this.c.channelId, l.fork.fork, stateHash) }, true)
    }
    const p = new Promise<CloseResult>((resolve, reject) => this.waiters.push({ resolve, reject }))
    await this.complete()
    return p
  }

  /** Our signature again (a peer asked for a sync). */
  resend(): void {
    const mine = this.target && this.sigs.get(this.c.me)
    if (mine) this.c.broadcast(this.message(this.target!, this.c.me, mine))
  }

  /** A close message from a peer. Throws ProtocolError for a bad or conflicting one. */
  async receive(m: CloseMessage): Promise<void> {
    const n = this.c.participants.length
    if (typeof m.fork !== 'bigint' || typeof m.seq !== 'bigint' || !Number.isInteger(m.signer) || m.signer < 0 || m.signer >= n ||
      typeof m.stateHash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(m.stateHash) || typeof m.signature !== 'string') {
      throw new ProtocolError('CLOSE_MALFORMED', 'malformed close message')
    }
    const l = this.c.ledger()
    if (m.fork !== l.fork.fork || this.result) return
    const stateHash = m.stateHash.toLowerCase() as Hex
    const digest = this.c.hasher.close(this.c.channelId, m.fork, stateHash)
    this.verify(digest, m.signer, m.signature)
    if (this.target) {
      if (this.target.stateHash !== stateHash) {
        throw new ProtocolError('CLOSE_CONFLICT', `participant ${m.signer} closes on another state than we signed`, { details: { ours: this.target.stateHash, theirs: stateHash } })
      }
      this.add(m.signer, m.signature.toLowerCase() as Hex)
      return this.complete()
    }
    if (m.seq > l.final.seq || !this.c.autoAccept) {
      if (this.held.length < n) this.held.push(m)
      return
    }
    const state = this.c.finalStateAt(m.seq)
    if (state === undefined || seqHash(this.c, m.seq) !== stateHash) throw new ProtocolError('CLOSE_STATE_UNKNOWN', `participant ${m.signer} closes on a state we do not hold at seq ${m.seq}`)
    this.adopt({ fork: m.fork, seq: m.seq, state, stateHash, digest }, false)
    this.add(m.signer, m.signature.toLowerCase() as Hex)
    return this.complete()
  }

  /** Finality moved: a held request may now be signable. */
  async onFinal(): Promise<void> {
    if (this.target || !this.c.autoAccept) return
    const ready = this.held.filter((m) => m.seq <= this.c.ledger().final.seq)
    this.held = this.held.filter((m) => !ready.includes(m))
    for (const m of ready) await this.receive(m)
  }

  private adopt(t: Target, initiator: boolean): void {
    const sig = this.c.guard.signClose(this.c.ledger().fork, t.digest)
    this.target = t
    this.initiator = initiator
    this.sigs.set(this.c.me, sig)
    this.c.store.putMeta(this.c.channelId, 'close', JSON.stringify({ fork: String(t.fork), seq: String(t.seq), stateHash: t.stateHash, initiator }))
    this.c.closing()
    this.c.broadcast(this.message(t, this.c.me, sig))
    for (const m of this.held.splice(0)) if (m.stateHash.toLowerCase() === t.stateHash) this.add(m.signer, m.signature.toLowerCase() as Hex)
  }

  private add(signer: number, signature: Hex): void {
    if (this.sigs.has(signer)) return
    this.c.store.putSignature(this.c.channelId, this.target!.digest, signer, signature)
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

  private async complete(): Promise<void> {
    const t = this.target
    const active = this.c.ledger().fork.active
    if (!t || this.result || !bitIndices(active).every((i) => this.sigs.has(i))) return
    const signatures = new Map(bitIndices(active).map((i) => [i, this.sigs.get(i)!] as [number, Hex]))
    let transactionHash: Hex | undefined
    if (this.initiator && this.c.chain) {
      try {
        transactionHash = (await this.c.chain.close(this.c.channelId, this.c.participants, t.state, signatures)).hash
      } catch (e) {
        if (!(e instanceof ProtocolError && e.code === 'CHANNEL_NOT_OPEN')) {
          const err = e instanceof RuntimeError || e instanceof ProtocolError ? e : new RuntimeError('CLOSE_SUBMIT_FAILED', 'submitting close failed', { cause: e })
          for (const w of this.waiters.splice(0)) w.reject(err)
          return
        }
      }
    }
    this.result = { fork: t.fork, seq: t.seq, state: t.state, stateHash: t.stateHash, signatures, signers: bitmapOf(signatures.keys()), ...(transactionHash ? { transactionHash } : {}) }
    this.c.closed({ fork: t.fork, stateHash: t.stateHash, state: t.state, signatures, ...(transactionHash ? { transactionHash } : {}) })
    for (const w of this.waiters.splice(0)) w.resolve(this.result)
  }

  private message(t: Target, signer: number, signature: Hex): CloseMessage {
    return { type: 'close', fork: t.fork, seq: t.seq, stateHash: t.stateHash, signer, signature }
  }
}

/** The state hash we hold at `seq` (final part of the current fork). */
function seqHash(c: CloseContext, seq: bigint): Hex | undefined {
  const l = c.ledger()
  if (seq === 0n) return l.fork.stateHash
  return (l.get(seq)?.transaction.stateHash ?? c.store.getTx(c.channelId, l.fork.fork, seq)?.transaction.stateHash)
}
