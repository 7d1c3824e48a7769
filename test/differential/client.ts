/**
 * The honest client of a case ("me"): a StateManager on a MemoryStore with the scenario's
 * EvmStateMachine, holding H with every signature me saw. Chain-published transactions are fed
 * exactly as Engine.chainList feeds them (src/state/fromChain.ts: the author's signature through
 * the pipeline with source 'chain' and the block's time; rejections widened to every signer), and
 * evidence becomes the proof the court would submit (`decide`, with me's latest final state as
 * checkpoint), judged by the contract with eth_call.
 */
import { ProtocolError } from '../../src/errors/ParleyError.js'
import { ChannelPhase } from '../../src/channel/phase.js'
import { ManualClock } from '../../src/clock/ManualClock.js'
import { decide } from '../../src/dispute/decide.js'
import type { Action, DisputeView } from '../../src/dispute/types.js'
import { nextActorOf } from '../../src/machine/failure.js'
import { hasBit } from '../../src/protocol/bitmap.js'
import { unpackSignatures } from '../../src/protocol/signatures.js'
import { defaultSkew } from '../../src/protocol/timing.js'
import { DisputeKind, Phase, type DisputeRecord, type Hex, type PackedSignedTransaction } from '../../src/protocol/types.js'
import type { Evidence } from '../../src/state/evidence.js'
import { fromChain } from '../../src/state/fromChain.js'
import { Ledger } from '../../src/state/ledger.js'
import { StateManager } from '../../src/state/StateManager.js'
import { ChannelRecords } from '../../src/store/ChannelRecords.js'
import { MemoryStore } from '../../src/store/MemoryStore.js'
import { errorName } from './rpc.js'
import { finalityProof, latestFinalKnown } from './situations.js'
import { recordNow, type Scenario, type World } from './world.js'

/** How the client took one published transaction. */
export type Outcome =
  | { kind: 'accepted' | 'duplicate' | 'held' | 'ahead' | 'skipped' }
  | { kind: 'evidence'; code: string; evidence: Evidence }
  | { kind: 'rejected'; code: string }

export interface Client {
  sm: StateManager
  store: MemoryStore
  clock: ManualClock
}

/** Me with H (every signature me saw stored), its clock at `now`, tolerance `skew` (default: the channel's). */
export async function honestClient(s: Scenario, hasher: World['hasher'], now: bigint, skew?: bigint): Promise<Client> {
  const store = new MemoryStore()
  const clock = new ManualClock(now)
  const p = s.params
  store.putChannel({ channelId: s.channelId, params: p, me: s.me })
  const fork = { fork: s.fork, state: s.genesis, stateHash: s.genesisHash, timestamp: s.genesisTs, active: s.active, disputed: false }
  store.putFork(s.channelId, fork)
  const timing = { p2pTime: p.p2pTime, agreementTime: p.agreementTime, chainFallbackTime: p.chainFallbackTime, skew: skew ?? defaultSkew(p.agreementTime) }
  const sm = new StateManager({ channelId: s.channelId, params: p, me: s.me, store, machine: s.machineImpl, hasher, clock, timing })
  sm.setLedger(new Ledger(fork, await nextActorOf(s.machineImpl, s.genesis)))
  for (const m of s.moves) {
    if (m.withheld) break
    await sm.receive({ transaction: m.tx, signature: m.sigs.get(m.tx.actor)! }, { source: 'chain', chainTime: m.tx.timestamp })
    const digest = hasher.transaction(m.tx)
    for (const [i, sig] of m.sigs) if (i !== m.tx.actor) store.putSignature(s.channelId, digest, i, sig)
  }
  return { sm, store, clock }
}

/** Feeds one published signed transaction as Engine.chainList does. */
export async function feed(c: Client, s: Scenario, p: PackedSignedTransaction, chainTime: bigint): Promise<Outcome> {
  const out = await fromChain(c.sm, new ChannelRecords(c.store, s.channelId), { transaction: p.transaction, signatures: unpackSignatures(p.signers, p.signatures) }, chainTime)
  if (out.kind !== 'rejected') return { kind: out.kind }
  return out.evidence ? { kind: 'evidence', code: out.error.code, evidence: out.evidence } : { kind: 'rejected', code: out.error.code }
}

/** The chain as the court sees it when it acts on evidence. */
export interface ChainAfter {
  phase: Phase
  active: bigint
  slashed: bigint
  latestSeq: bigint
  record: DisputeRecord
  candidateState?: Hex
  now: bigint
}

/** What became of evidence: the court's proof and the contract's verdict on it, or why there is none. */
export type ProofVerdict = { kind: 'proved'; verdict: string; action: Action['kind'] } | { kind: 'moot' | 'none'; why: string }

/**
 * The court's fraud proof for `evidence` (decide, with me's latest final checkpoint), judged by
 * the contract in a block at `after.now`. 'moot': the culprit is already slashed or removed.
 */
export async function prove(w: World, s: Scenario, evidence: Evidence, after: ChainAfter): Promise<ProofVerdict> {
  const k = latestFinalKnown(s)
  const proof = k > 0 ? finalityProof(s, k) ?? [] : []
  const culprit = evidence.culprit
  if (!hasBit(after.active, culprit) || hasBit(after.slashed, culprit)) return { kind: 'moot', why: `culprit ${culprit} already ${hasBit(after.slashed, culprit) ? 'slashed' : 'removed'}` }
  const disputed = after.phase === Phase.Disputed
  const view: DisputeView = {
    chain: {
      fork: s.fork, active: after.active, slashed: after.slashed, phase: disputed ? 'disputed' : after.phase === Phase.Open ? 'open' : 'closed',
      genesis: { state: s.genesis, stateHash: s.genesisHash, timestamp: s.genesisTs }, latestSeq: after.latestSeq, now: after.now, posted: [], credits: [],
      ...(disputed ? { dispute: { record: after.record, ...(after.candidateState ? { state: after.candidateState } : {}) } } : {}),
    },
    local: {
      me: s.me, phase: disputed ? ChannelPhase.Disputed : ChannelPhase.Open, fork: s.fork, active: s.active, clock: after.now,
      head: { seq: 0n, stateHash: s.genesisHash, timestamp: s.genesisTs, nextActor: 0 },
      final: { seq: BigInt(k), stateHash: k > 0 ? s.moves[k - 1]!.tx.stateHash : s.genesisHash },
      finalProof: proof, finalState: k > 0 ? s.moves[k - 1]!.state : s.genesis, own: [], canMove: false,
    },
    channel: { participants: s.participants, p2pTime: s.params.p2pTime, agreementTime: s.params.agreementTime, chainFallbackTime: s.params.chainFallbackTime, challengeTime: s.params.challengeTime },
    evidence: [{ key: 'e', fork: s.fork, evidence }],
    policy: { post: false, timeout: false, autoWithdraw: false },
    done: new Set(),
  }
  const a = decide(view).find((x) => x.kind === 'proveInvalidTransition' || x.kind === 'proveEquivocation')
  if (!a) return { kind: 'none', why: 'the court takes no action on it' }
  const record = a.record ?? (disputed ? after.record : undefined)
  const none: DisputeRecord = { kind: DisputeKind.None, disputer: 0, seq: 0n, timestamp: 0n, deadline: 0n, removals: 0n, stateHash: `0x${'00'.repeat(32)}` }
  const args = a.kind === 'proveInvalidTransition'
    ? [s.channelId, await recordNow(w, s.channelId), s.participants, s.me, record ?? none, a.fraud, a.previousState, a.checkpoint, a.state]
    : a.kind === 'proveEquivocation' ? [s.channelId, await recordNow(w, s.channelId), s.participants, s.me, record ?? none, a.first, a.second, a.checkpoint, a.state] : []
  const r = await w.rpc.ethCall(s.participants[s.me]!, w.manager, w.iface.encodeFunctionData(a.kind, args) as Hex, after.now)
  return { kind: 'proved', verdict: r.ok ? 'ok' : errorName(w.iface, r.data), action: a.kind }
}
