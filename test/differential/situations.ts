/**
 * The on-chain situations a case starts from, set up by real calls from the base snapshot: an
 * open channel, a timeout or conclude (on an H move, a withheld E move, or the genesis), an exit,
 * a force-close, or a fraud dispute (an adversary's equivocation proven). Lists are built the
 * way the client builds them (`timeoutCandidates`, `proofLength`).
 */
import { timeoutCandidates } from '../../src/dispute/anchor.js'
import { NO_DISPUTE } from '../../src/chain/ManagerClient.js'
import { decodeManagerLog } from '../../src/chain/decode.js'
import { bitCount, bitIndices, hasBit } from '../../src/protocol/bitmap.js'
import { latestFinal, proofLength } from '../../src/protocol/finality.js'
import { DisputeKind, Phase, type DisputeRecord, type Hex, type PackedSignedTransaction } from '../../src/protocol/types.js'
import { errorName } from './rpc.js'
import { packed, recordNow, recordOf, sign, type Move, type Scenario, type World } from './world.js'

/** Which situation, and a number that picks its details (which move, which adversary). */
export const SITUATIONS = ['open', 'timeout', 'timeoutGenesis', 'exit', 'forceClose', 'fraud'] as const
export type SituationKind = (typeof SITUATIONS)[number]
export interface Situation {
  kind: SituationKind
  pick: number
}

/** The chain after a situation was set up. */
export interface ChainState {
  phase: Phase
  /** The open dispute's record (NO_DISPUTE when open). */
  record: DisputeRecord
  /** Its candidate's bytes. */
  candidateState?: Hex
  /** The latest block's time. */
  now: bigint
  /** What was set up, for reports. */
  label: string
  /** The signed transactions the setup call published (its event's list) and its block's time. */
  published: { list: PackedSignedTransaction[]; chainTime: bigint }[]
}

/** Participants other than me that are active in `s`: the adversaries. */
export function adversaries(s: Scenario): number[] {
  return bitIndices(s.active).filter((i) => i !== s.me)
}

/** The shortest finality proof of move `k` (1-based seq) over H and E, or undefined. */
export function finalityProof(s: Scenario, k: number): PackedSignedTransaction[] | undefined {
  const run = s.moves.slice(k - 1)
  const len = proofLength(run.map((m) => signersOf(m, s.active)), 0, s.active)
  return len === 0 ? undefined : run.slice(0, len).map((m) => packed(m, (i) => hasBit(s.active, i)))
}

/** The latest move of H that me can prove final (its checkpoint), or 0 for the genesis. */
export function latestFinalKnown(s: Scenario): number {
  const known = s.moves.filter((m) => !m.withheld)
  return latestFinal(known.map((m) => signersOf(m, s.active)), s.active) + 1
}

function signersOf(m: Move, active: bigint): bigint {
  return bitIndices(active).reduce((acc, i) => (m.sigs.has(i) ? acc | (1n << BigInt(i)) : acc), 0n)
}

/** The candidate list ending at move `k`, as the court builds it. */
export function anchoredList(s: Scenario, k: number): PackedSignedTransaction[] | undefined {
  const from = Math.max(0, k - bitCount(s.active))
  return timeoutCandidates(s.moves.slice(from, k).map((m) => ({ transaction: m.tx, signatures: m.sigs })), s.genesisHash, s.active)
}

const rank = (xs: number[], pick: number): number[] => xs.map((_, i) => xs[(i + pick) % xs.length]!)

/** Sets `sit` up on a freshly reset chain. Falls back to 'open' when the scenario has no such situation. */
export async function prepare(w: World, s: Scenario, sit: Situation): Promise<ChainState> {
  const open: ChainState = { phase: Phase.Open, record: NO_DISPUTE, now: w.baseNow, label: 'open', published: [] }
  const call = async (who: number, method: string, args: unknown[], time: bigint, label: string): Promise<ChainState> => {
    const data = w.iface.encodeFunctionData(method, [s.channelId, await recordNow(w, s.channelId), s.participants, ...args]) as Hex
    const r = await w.rpc.send(s.participants[who]!, w.manager, data, time)
    if (!r.status) {
      const why = await w.rpc.ethCall(s.participants[who]!, w.manager, data, time)
      const latest = await w.rpc.now()
      throw new Error(`${s.name}: setting up ${label} at ${time} failed (block ${r.blockTimestamp}, latest ${latest}): ${why.ok ? 'ok by eth_call' : errorName(w.iface, why.data)}`)
    }
    const record = recordOf(w.iface, r.logs, 'DisputeRaised', 'DisputeAnswered')!
    const ev = r.logs.map((l) => decodeManagerLog(w.iface, l)).filter((e) => e?.name === 'DisputeRaised').at(-1)!
    if (ev.name !== 'DisputeRaised') throw new Error('no DisputeRaised')
    return { phase: Phase.Disputed, record, candidateState: ev.args.state, now: r.blockTimestamp, label, published: [{ list: ev.args.txs, chainTime: r.blockTimestamp }] }
  }
  const window = BigInt(s.params.p2pTime + s.params.agreementTime + s.params.chainFallbackTime)
  const after = (ts: bigint) => (ts + window + 1n > w.baseNow ? ts + window + 1n : w.baseNow + 1n)
  switch (sit.kind) {
    case 'open':
      return open
    case 'timeout': {
      // A candidate some adversary signed, whose next actor is someone else (me or another adversary).
      for (const k of rank(s.moves.map((_, i) => i + 1), sit.pick)) {
        const m = s.moves[k - 1]!
        const accused = await s.machineImpl.nextActor(m.state).catch(() => -1)
        const terminal = await s.machineImpl.isTerminal(m.state)
        const txs = anchoredList(s, k)
        const disputer = adversaries(s).find((d) => m.sigs.has(d) && (terminal || (d !== accused && hasBit(s.active, accused))))
        if (!txs || disputer === undefined) continue
        const label = `${terminal ? 'conclude' : 'timeout'} on seq ${k}${m.withheld ? ' (withheld)' : ''} by ${disputer}`
        return call(disputer, 'disputeTimeout', [disputer, txs, m.state], after(m.tx.timestamp), label)
      }
      return open
    }
    case 'timeoutGenesis': {
      const accused = await s.machineImpl.nextActor(s.genesis)
      const disputer = rank(adversaries(s), sit.pick).find((d) => d !== accused)
      if (disputer === undefined) return open
      return call(disputer, 'disputeTimeout', [disputer, [], s.genesis], after(s.genesisTs), `timeout on the genesis by ${disputer}`)
    }
    case 'exit':
    case 'forceClose': {
      const who = rank(adversaries(s), sit.pick)[0]!
      const k = sit.pick % (latestFinalKnown(s) + 1)
      const proof = k === 0 ? [] : finalityProof(s, k)
      if (!proof) return open
      const state = k === 0 ? s.genesis : s.moves[k - 1]!.state
      return call(who, 'exit', [who, NO_DISPUTE, proof, sit.kind === 'exit', state], w.baseNow + 1n, `${sit.kind} from seq ${k} by ${who}`)
    }
    case 'fraud': {
      // An adversary's second move at a height where it authored one: an equivocation, proven by another participant.
      const authored = s.moves.filter((m) => m.tx.actor !== s.me)
      if (authored.length === 0) return open
      const m = authored[sit.pick % authored.length]!
      const culprit = m.tx.actor
      const prover = rank(bitIndices(s.active).filter((i) => i !== culprit), sit.pick)[0]!
      const twin = { ...m.tx, timestamp: m.tx.timestamp + 1n }
      const first = packed({ tx: m.tx, sigs: new Map([[culprit, m.sigs.get(culprit)!]]) })
      const second = packed({ tx: twin, sigs: sign(w.hasher, s.wallets, twin, [culprit]) })
      const k = Math.min(latestFinalKnown(s), Number(m.tx.seq) - 1)
      const checkpoint = k === 0 ? [] : finalityProof(s, k) ?? []
      const state = checkpoint.length === 0 ? s.genesis : s.moves[k - 1]!.state
      return call(prover, 'proveEquivocation', [prover, NO_DISPUTE, first, second, checkpoint, state], w.baseNow + 1n, `fraud: ${culprit} equivocated at seq ${m.tx.seq}, proven by ${prover}`)
    }
  }
}

/** Whether a dispute of `kind` is what an entry point acts on (cases mostly pick these). */
export function fits(point: string, kind: DisputeKind | undefined): boolean {
  switch (point) {
    case 'respond':
      return kind === DisputeKind.Timeout
    case 'refute':
      return kind === DisputeKind.Timeout || kind === DisputeKind.Conclude
    case 'extend':
      return kind === DisputeKind.Exit || kind === DisputeKind.ForceClose
    case 'answer':
      return kind !== undefined && kind !== DisputeKind.None
    default:
      return kind === undefined || kind === DisputeKind.None
  }
}
