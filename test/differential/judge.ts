/**
 * One differential case: set up the situation, materialize the call, and check
 * (a) the contract's verdict (eth_call in a block at the case's time, decoded custom error) equals
 *     the admission reference's;
 * (b) when the contract accepts, the call is mined and every signed transaction the chain
 *     publishes (events; for conclude and the view verifyFinalityProof, the proof itself) goes to
 *     the honest client in order: each is accepted or already held, or the first one that is not
 *     comes with evidence whose proof (the court's own) the contract accepts; and a transaction a
 *     fraud proof convicted is never one the client takes as valid;
 * (c) peer cases: whatever the client accepts from a peer, the contract accepts as a post in a
 *     block at the client's clock.
 */
import { decodeManagerLog } from '../../src/chain/decode.js'
import { NO_DISPUTE } from '../../src/chain/ManagerClient.js'
import { admission, type ChainFacts, type EntryCall } from '../../src/protocol/admission/index.js'
import { responseArgs } from '../../src/protocol/disputes.js'
import { Phase, type DisputeRecord, type Hex, type PackedSignedTransaction, type Transaction } from '../../src/protocol/types.js'
import { feed, honestClient, prove, type ChainAfter, type Outcome } from './client.js'
import { materialize, materializePeer } from './materialize.js'
import type { CaseRecipe, PeerRecipe } from './recipes.js'
import { errorName } from './rpc.js'
import { prepare, type ChainState } from './situations.js'
import { recordNow, type Scenario, type World } from './world.js'
import { trackOf } from '../helpers/records.js'
import { NO_CHANNEL } from '../../src/chain/records.js'

/** A difference between the contract and the reference (a), or the client (b, c). */
export interface Disagreement {
  check: 'a' | 'b' | 'c'
  point: string
  scenario: string
  situation: string
  /** What the contract said. */
  contract: string
  /** What the reference or the client said. */
  other: string
  /** A stable class, for counting: check, entry point and both verdicts. */
  key: string
}

/** The result of one case. */
export interface CaseResult {
  point: string
  scenario: string
  situation: string
  contract: string
  reference: string
  /** (b): how the client took the published transactions (first non-accepted outcome, or 'accepted'). */
  client?: string
  disagreements: Disagreement[]
}

/** The manager's arguments for `call` on channel `channelId` with its `record` (see recordNow). */
export function encodeCall(w: World, channelId: Hex, c: EntryCall, record: unknown): Hex {
  const a = c.args as Record<string, unknown>
  const idx = (a.caller as { index: number } | undefined)?.index
  const head = [channelId, record, a.participants]
  const order: Record<EntryCall['point'], unknown[]> = {
    postTransaction: [...head, a.transaction, a.signature],
    disputeTimeout: [...head, idx, a.txs, a.state],
    exit: [...head, idx, a.record, a.proof, a.leave, a.state],
    // respond takes the move's timestamp, data and state hash (the rest is the dispute's).
    respond: [...head, idx, a.record, ...(c.point === 'respond' ? responseArgs(a.transaction as Transaction) : []), a.signature],
    answer: [...head, idx, a.record, a.proof, a.state],
    extend: [...head, idx, a.record, a.txs, a.state],
    refute: [...head, idx, a.record, a.transaction, a.signature, a.checkpoint, a.state],
    proveInvalidTransition: [...head, idx, a.record, a.fraud, a.previousState, a.checkpoint, a.state],
    proveEquivocation: [...head, idx, a.record, a.first, a.second, a.checkpoint, a.state],
    conclude: [...head, a.proof, a.state],
    verifyFinalityProof: [...head, a.proof],
  }
  return w.iface.encodeFunctionData(c.point, order[c.point]) as Hex
}

/** The channel's on-chain facts (its record, from its events) with the open record, judged at `time`. */
export async function readFacts(w: World, s: Scenario, record: DisputeRecord, time: bigint): Promise<ChainFacts> {
  const ch = (await trackOf(w.f.rawManager, s.channelId))?.record ?? NO_CHANNEL
  const phase = Number(ch.phase) as Phase
  return {
    channelId: s.channelId, participants: s.participants, n: Number(ch.n), phase, fork: BigInt(ch.fork), active: BigInt(ch.active), slashed: BigInt(ch.slashed),
    genesisStateHash: String(ch.genesisStateHash).toLowerCase() as Hex, genesisTimestamp: BigInt(ch.genesisTimestamp), latestSeq: BigInt(ch.latestSeq),
    agreementTime: Number(ch.agreementTime), challengeTime: BigInt(ch.challengeTime), postingWindow: BigInt(ch.postingWindow), locked: BigInt(ch.locked),
    ...(phase === Phase.Disputed ? { record } : {}), blockTime: time, digest: (t) => w.hasher.transaction(t),
  }
}

async function verdictOf(w: World, from: Hex, data: Hex, time: bigint): Promise<string> {
  const r = await w.rpc.ethCall(from, w.manager, data, time)
  return r.ok ? 'ok' : errorName(w.iface, r.data)
}

const describeOutcome = (o: Outcome): string => (o.kind === 'evidence' || o.kind === 'rejected' ? `${o.kind === 'rejected' ? 'rejected without evidence' : 'evidence'} ${o.code}` : o.kind)

/**
 * (b) for one published list, fed whole (as Engine.chainList does): every entry accepted or
 * already held, up to the first that is not, which must carry evidence the contract accepts as a
 * proof (entries after a proven one may descend from it). An evidence-less rejection is a
 * disagreement; the report says whether a later entry's evidence still yields a proof.
 */
async function judgeList(w: World, s: Scenario, list: readonly PackedSignedTransaction[], chainTime: bigint, after: ChainAfter, client: Awaited<ReturnType<typeof honestClient>>): Promise<{ ok: boolean; what: string }> {
  const outcomes: Outcome[] = []
  for (const p of list) outcomes.push(await feed(client, s, p, chainTime))
  const proofOf = async (o: Outcome) => (o.kind === 'evidence' ? prove(w, s, o.evidence, after) : undefined)
  const i = outcomes.findIndex((o) => o.kind !== 'accepted' && o.kind !== 'duplicate')
  if (i < 0) return { ok: true, what: 'accepted' }
  const o = outcomes[i]!
  const seq = `seq ${list[i]!.transaction.seq}: `
  if (o.kind !== 'evidence') {
    let later = ''
    for (const x of outcomes.slice(i + 1)) {
      const v = await proofOf(x)
      if (v?.kind === 'proved' && v.verdict === 'ok') later = ` (a later entry's ${x.kind === 'evidence' ? x.code : ''} is proven)`
    }
    return { ok: false, what: `${seq}${describeOutcome(o)}${later}` }
  }
  const v = (await proofOf(o))!
  if (v.kind !== 'proved') {
    return v.kind === 'moot' ? { ok: true, what: `evidence ${o.code} (moot: ${v.why})` } : { ok: false, what: `${seq}evidence ${o.code} but ${v.why}` }
  }
  if (v.verdict !== 'ok') return { ok: false, what: `${seq}evidence ${o.code}, ${v.action} refused ${v.verdict}` }
  return { ok: true, what: `evidence ${o.code} proven` }
}

/** Runs one case (the chain is reset first). */
export async function judge(w: World, r: CaseRecipe): Promise<CaseResult> {
  await w.reset()
  const s = w.scenarios[r.scenario % w.scenarios.length]!
  const cs = await prepare(w, s, r.situation)
  const m = await materialize(w, s, cs, r)
  const facts = await readFacts(w, s, cs.record, m.time)
  const reference = await admission(facts, m.call, s.calls)
  const data = encodeCall(w, s.channelId, m.call, await recordNow(w, s.channelId))
  const contract = await verdictOf(w, m.from, data, m.time)
  const res: CaseResult = { point: r.point, scenario: s.name, situation: cs.label, contract, reference, disagreements: [] }
  const disagree = (check: Disagreement['check'], other: string, key: string) =>
    res.disagreements.push({ check, point: r.point, scenario: s.name, situation: cs.label, contract, other, key })
  if (reference !== contract) disagree('a', `reference ${reference}`, `a ${r.point}: contract ${contract}, reference ${reference}`)
  if (contract !== 'ok') return res

  const { lists, after } = await publish(w, s, cs, m.call, m.from, data, m.time)
  const client = await informedClient(w, s, cs, after.now)
  const seen: string[] = []
  for (const list of lists) {
    const j = await judgeList(w, s, list, m.time, after, client)
    seen.push(j.what)
    if (!j.ok) {
      disagree('b', `client: ${j.what}`, `b ${r.point}: contract ok, client ${j.what.replace(/^seq \d+: /, '').replace(/, .* refused/, ' proof refused')}`)
      break
    }
  }
  // A transaction the contract just convicted as an invalid transition is not a valid move to the client.
  if (r.point === 'proveInvalidTransition') {
    const o = await feed(await informedClient(w, s, cs, after.now), s, m.fraud[0]!, m.time)
    if (o.kind === 'accepted' || o.kind === 'duplicate') disagree('b', `client ${o.kind} the convicted transaction`, `b proveInvalidTransition: contract convicts, client ${o.kind}`)
  }
  res.client = seen.join('; ') || 'nothing published'
  return res
}

/** Me with H, after the situation's published transactions (as the chain delivered them). */
async function informedClient(w: World, s: Scenario, cs: ChainState, now: bigint) {
  const client = await honestClient(s, w.hasher, now)
  for (const { list, chainTime } of cs.published) for (const p of list) await feed(client, s, p, chainTime)
  return client
}

/** Mines an accepted call (except the view and conclude) and returns what the chain published and the chain after it. */
async function publish(w: World, s: Scenario, cs: ChainState, call: EntryCall, from: Hex, data: Hex, time: bigint): Promise<{ lists: PackedSignedTransaction[][]; after: ChainAfter }> {
  const facts = async (record: DisputeRecord, candidateState: Hex | undefined, now: bigint): Promise<ChainAfter> => {
    const f = await readFacts(w, s, record, now)
    return { phase: f.phase, active: f.active, slashed: f.slashed, latestSeq: f.latestSeq, record, ...(candidateState ? { candidateState } : {}), now }
  }
  if (call.point === 'verifyFinalityProof' || call.point === 'conclude') {
    // Nothing is published (a view; a settlement closes the channel): the proof is what the
    // chain accepted, and evidence in it must be provable in the same block.
    return { lists: [[...call.args.proof]], after: await facts(cs.record, cs.candidateState, time) }
  }
  const receipt = await w.rpc.send(from, w.manager, data, time)
  if (!receipt.status) throw new Error(`${call.point}: accepted by eth_call but the mined call reverted`)
  const lists: PackedSignedTransaction[][] = []
  let record = cs.record
  let candidateState = cs.candidateState
  for (const log of receipt.logs) {
    const ev = decodeManagerLog(w.iface, log)
    if (!ev) continue
    if (ev.name === 'TransactionPosted' || ev.name === 'DisputeCancelled') {
      lists.push([{ transaction: ev.args.transaction, signers: 1n << BigInt(ev.args.transaction.actor), signatures: ev.args.signature }])
    } else if (ev.name === 'DisputeRaised' || ev.name === 'DisputeAnswered') {
      lists.push(ev.args.txs)
      record = ev.args.dispute
      candidateState = ev.args.state
    }
  }
  return { lists, after: await facts(record, candidateState, time + 1n) }
}

/** (c): a peer's transaction the client accepts is one the contract accepts as a post at the client's clock. */
export async function judgePeer(w: World, r: PeerRecipe): Promise<CaseResult & { accepted: boolean }> {
  await w.reset()
  const s = w.scenarios[r.scenario % w.scenarios.length]!
  const cs: ChainState = { phase: Phase.Open, record: NO_DISPUTE, now: w.baseNow, label: 'open', published: [] }
  const p = await materializePeer(w, s, cs, r)
  const channelSkew = BigInt(Math.max(1, Math.floor(s.params.agreementTime / 2)))
  const client = await honestClient(s, w.hasher, p.clock, 1n + (BigInt(r.skew) % channelSkew))
  let accepted = false
  let how = 'accepted'
  try {
    const out = await client.sm.receive({ transaction: p.tx, signature: p.signature }, { source: 'peer', receivedAt: p.clock })
    accepted = out.kind === 'accepted'
    how = out.kind === 'rejected' ? `rejected ${out.error.code}` : out.kind
  } catch (e) {
    how = `failed ${(e as { code?: string }).code ?? String(e)}`
  }
  const call: EntryCall = { point: 'postTransaction', args: { participants: s.participants, transaction: p.tx, signature: p.signature } }
  const data = encodeCall(w, s.channelId, call, await recordNow(w, s.channelId))
  const contract = await verdictOf(w, s.participants[s.me]!, data, p.clock)
  const reference = await admission(await readFacts(w, s, cs.record, p.clock), call, s.calls)
  const res = { point: 'peer→postTransaction', scenario: s.name, situation: 'open', contract, reference, client: how, disagreements: [] as Disagreement[], accepted }
  if (reference !== contract) res.disagreements.push({ check: 'a', point: res.point, scenario: s.name, situation: 'open', contract, other: `reference ${reference}`, key: `a postTransaction (peer): contract ${contract}, reference ${reference}` })
  if (accepted && contract !== 'ok') res.disagreements.push({ check: 'c', point: res.point, scenario: s.name, situation: 'open', contract, other: 'client accepted from a peer', key: `c peer: client accepts, contract ${contract}` })
  return res
}
