/**
 * Reads what the dispute rules need from a channel's ledger and store: our pending moves and
 * who supports them, the candidate list of a timeout we could raise, our latest finality
 * proof, and, for the open dispute, the accused's move, the disputer's later signature and the
 * candidate's bytes. Run inside the channel's queue so the ledger does not move meanwhile.
 */
import { bitCount } from '../protocol/bitmap.js'
import { accusedOf } from '../protocol/disputes.js'
import { DisputeKind, type Hex } from '../protocol/types.js'
import type { CourtPort } from '../channel/courtPort.js'
import type { Entry } from '../state/ledger.js'
import { supportersOf, timeoutCandidates, type SignedEntry } from './anchor.js'
import type { AnchoredList, ChainView, LocalView, OwnTransaction, TimeoutAnchor } from './types.js'

/** How far past a candidate we look for the disputer's signature. */
const SCAN_LIMIT = 256

/**
 * The local half of the dispute view. `terminal` answers isTerminal for a state (cached by the caller).
 * @example const local = await port.job(() => readLocalView(port, chainView, (s) => port.isTerminal(s)))
 */
export async function readLocalView(e: CourtPort, chain: ChainView, terminal: (state: Hex) => Promise<boolean | undefined>): Promise<LocalView> {
  const l = e.ledger()
  const fork = l.fork
  const at = (seq: bigint): (SignedEntry & { state: Hex }) | undefined => entryAt(e, seq)
  const pending = l.pending()
  const supporters = supportersOf(pending)
  let parent = l.final.timestamp
  const own: OwnTransaction[] = []
  pending.forEach((p, i) => {
    const t = p.transaction
    if (t.actor === e.me) own.push({ signed: { transaction: t, signature: p.signatures.get(e.me)! }, digest: p.digest, supporters: supporters[i]!, parentTimestamp: parent })
    parent = t.timestamp
  })
  const view: LocalView = {
    me: e.me, phase: e.phase(), fork: fork.fork, active: fork.active, clock: e.now(),
    head: { seq: l.head.seq, stateHash: l.head.stateHash, timestamp: l.head.timestamp, nextActor: l.head.nextActor },
    final: { seq: l.final.seq, stateHash: l.final.stateHash },
    finalProof: [], finalState: fork.state, own, canMove: false,
  }
  const close = e.closeReady()
  if (close) view.close = close
  const proof = finalProof(e)
  if (proof.length > 0) Object.assign(view, { finalProof: proof, finalState: l.final.state })
  const extension = l.head.seq > l.final.seq ? anchoredList(e, at, l.head.seq) : undefined
  if (extension) view.extension = extension
  const anchor = await timeoutAnchor(e, at, terminal)
  if (anchor) view.timeout = anchor
  const d = chain.dispute
  if (!d || chain.phase !== 'disputed' || chain.fork !== fork.fork) return view
  const r = d.record
  const candidate = r.seq === 0n && r.stateHash === fork.stateHash ? fork.state : d.state ?? matching(at(r.seq), r.stateHash)
  if (candidate !== undefined) view.candidateState = candidate
  if (r.kind !== DisputeKind.Timeout) return view
  const accused = accusedOf(r)
  const next = at(r.seq + 1n)
  const signature = next?.signatures.get(accused)
  if (next && signature && next.transaction.actor === accused && next.transaction.previousStateHash === r.stateHash) {
    view.move = { transaction: next.transaction, signature }
  }
  if (r.disputer !== e.me) {
    for (const rec of e.txsFrom(fork.fork, r.seq + 1n, SCAN_LIMIT)) {
      const sig = e.signaturesOf(rec.digest).get(r.disputer)
      if (sig) {
        view.disputerLater = { transaction: rec.transaction, signature: sig }
        break
      }
    }
  }
  view.canMove = accused === e.me && l.head.seq === r.seq && l.head.stateHash === r.stateHash && l.head.nextActor === e.me
  return view
}

function matching(e: { state: Hex; transaction: { stateHash: Hex } } | undefined, hash: Hex): Hex | undefined {
  return e && e.transaction.stateHash === hash ? e.state : undefined
}

/** The transaction at `seq` of the current fork with every signature we hold. */
function entryAt(e: CourtPort, seq: bigint): (SignedEntry & { state: Hex }) | undefined {
  const mem: Entry | undefined = e.ledger().get(seq)
  if (mem) return { transaction: mem.transaction, signatures: mem.signatures, state: mem.state }
  const rec = e.txAt(e.ledger().fork.fork, seq)
  return rec ? { transaction: rec.transaction, signatures: e.signaturesOf(rec.digest), state: rec.state } : undefined
}

function finalProof(e: CourtPort): LocalView['finalProof'] {
  if (e.ledger().final.seq === 0n) return []
  try {
    return e.finalityProof()
  } catch {
    return [] // final only as an ancestor: answers wait for the next provable one
  }
}

/** The shortest anchored list ending at `seq` (≥ 1) of the current fork, if one fits the bound. */
function anchoredList(e: CourtPort, at: (seq: bigint) => (SignedEntry & { state: Hex }) | undefined, seq: bigint): AnchoredList | undefined {
  const fork = e.ledger().fork
  const A = BigInt(bitCount(fork.active))
  const run: (SignedEntry & { state: Hex })[] = []
  for (let k = seq - A + 1n > 1n ? seq - A + 1n : 1n; k <= seq; k++) {
    const x = at(k)
    if (!x) return undefined
    run.push(x)
  }
  const txs = timeoutCandidates(run, fork.stateHash, fork.active)
  const last = run.at(-1)!
  return txs ? { txs, seq, state: last.state, stateHash: last.transaction.stateHash, timestamp: last.transaction.timestamp } : undefined
}

/** The candidate list ending at the latest transaction we signed on this fork, if it is the head. */
async function timeoutAnchor(e: CourtPort, at: (seq: bigint) => (SignedEntry & { state: Hex }) | undefined, terminal: (s: Hex) => Promise<boolean | undefined>): Promise<TimeoutAnchor | undefined> {
  const l = e.ledger()
  const fork = l.fork
  // Only whether we signed the head matters (a later signature cannot exist): read from there.
  const signed = e.ownSignaturesFrom(fork.fork, l.head.seq).filter((x) => x.kind === 'tx')
  const s = signed.length === 0 ? 0n : signed[signed.length - 1]!.seq
  if (s !== l.head.seq) return undefined
  const head = l.head
  const list = s > 0n ? anchoredList(e, at, s) : { txs: [], seq: 0n, state: head.state, stateHash: head.stateHash, timestamp: head.timestamp }
  if (!list) return undefined
  return { ...list, accused: head.nextActor, terminal: await terminal(head.state) }
}
