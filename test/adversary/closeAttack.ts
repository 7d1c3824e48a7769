/**
 * Close requests an honest participant must not co-sign (docs/protocol.md §9.1): the byzantine
 * participant (with its colluders) signs CloseChannel on terms of its choosing and sends it as a
 * close request to every honest peer; once the peers have answered, it takes every consent that
 * came back for those terms and, if they make a close, sends it on-chain. An honest consent to any
 * of these terms would settle the channel against the entitlement the invariants check.
 * - `older`: an older final state than the latest (one a later payment moved money from), with
 *   the machine's payouts of it;
 * - `genesis`: the fork's genesis, with its payouts;
 * - `take`: the latest final state, with half of an honest participant's payout moved to us;
 * - `overLocked`: the latest final state, with our payout raised by the locked deposits.
 */
import type { Wallet } from 'ethers'
import { channelStruct, NO_CHANNEL } from '../../src/chain/records.js'
import { toParleyError } from '../../src/chain/errors.js'
import { bitIndices, hasBit } from '../../src/protocol/bitmap.js'
import { closeOthers, closePayouts } from '../../src/protocol/close.js'
import { memberList } from '../../src/protocol/members.js'
import { packSignatures, signDigest } from '../../src/protocol/signatures.js'
import type { Hex } from '../../src/protocol/types.js'
import type { CloseMessage } from '../../src/transport/messages.js'
import type { Byzantine } from './Byzantine.js'
import type { Game } from './Game.js'

/** The terms a skewed close request names. */
export const CLOSE_SKEWS = ['older', 'genesis', 'take', 'overLocked'] as const
export type CloseSkew = (typeof CLOSE_SKEWS)[number]

/** The state and payouts of a skewed close by `b`, or why there is none now. */
async function terms(g: Game, b: Byzantine, skew: CloseSkew): Promise<{ seq: bigint; stateHash: Hex; payouts: bigint[] } | string> {
  const s = b.channel.state
  const active = s.active
  const at = async (seq: bigint) => {
    const head = b.headAt(seq)
    return head && { seq, stateHash: head.stateHash, payouts: closePayouts(await b.machine.outcome(head.state), active) }
  }
  switch (skew) {
    case 'older': {
      if (s.finalSeq < 1n) return 'no older final state'
      return (await at(s.finalSeq - 1n)) ?? 'the older state is not stored'
    }
    case 'genesis':
      if (s.finalSeq === 0n) return 'the genesis is the latest final state'
      return (await at(0n)) ?? 'no genesis'
    case 'take':
    case 'overLocked': {
      const latest = await at(s.finalSeq)
      if (!latest) return 'no final state'
      const payouts = [...latest.payouts]
      if (skew === 'take') {
        const victim = g.honest.find((h) => hasBit(active, h) && payouts[h]! > 1n)
        if (victim === undefined) return 'nobody to take from'
        const half = payouts[victim]! / 2n
        payouts[victim] = payouts[victim]! - half
        payouts[b.me] = payouts[b.me]! + half
      } else {
        payouts[b.me] = payouts[b.me]! + g.ctx.params.deposits.reduce((x, y) => x + y, 0n)
      }
      return { ...latest, payouts }
    }
  }
}

/**
 * Byzantine `b` asks every honest peer to close on `skew`'s terms (signed by `b` and its
 * colluders), lets the peers answer, then sends the close on-chain if the consents it received
 * make one. Returns the log line.
 */
export async function skewedClose(g: Game, b: Byzantine, skew: CloseSkew): Promise<string> {
  const tag = `M${b.me}`
  const s = b.channel.state
  if (!hasBit(s.active, b.me)) return `${tag} skewed close (${skew}): not active`
  const t = await terms(g, b, skew)
  if (typeof t === 'string') return `${tag} skewed close (${skew}): ${t}`
  const { channelId, hasher, params } = g.ctx
  const digest = hasher.close(channelId, s.fork, t.stateHash, t.payouts)
  const ours = new Map<number, Hex>()
  for (const x of [b, ...b.colluders]) if (hasBit(s.active, x.me)) ours.set(x.me, signDigest((x.wallet as Wallet).signingKey, digest))
  for (const [signer, signature] of ours) {
    const request: CloseMessage = { type: 'close', fork: s.fork, seq: t.seq, stateHash: t.stateHash, payouts: t.payouts, signer, signature }
    for (const h of g.honest) g.ctx.route(signer, h, request)
  }
  await g.settle()
  // Every honest consent that came back on these very terms.
  const consents = new Map(ours)
  for (const m of g.closeMessages) {
    if (m.fork === s.fork && hasher.close(channelId, m.fork, m.stateHash.toLowerCase() as Hex, m.payouts) === digest) consents.set(m.signer, m.signature)
  }
  const honestSigned = g.honest.filter((h) => consents.has(h)).length
  g.stats.skewedCloses[skew] = (g.stats.skewedCloses[skew] ?? 0) + 1
  const missing = bitIndices(s.active).filter((i) => !consents.has(i))
  if (missing.length > 0) return `${tag} asks to close (${skew}, seq ${t.seq}): ${honestSigned} honest consent(s), none on-chain (missing ${missing.join(', ')})`
  // Every active participant consented: the close goes on-chain, and the invariants judge it.
  g.stats.skewedCloseConsents++
  const record = channelStruct((await g.ctx.stack.manager.track(channelId))?.record ?? NO_CHANNEL)
  const { signatures } = packSignatures(new Map([...consents].filter(([i]) => hasBit(s.active, i))))
  const others = closeOthers(memberList(params), params.participants.length, s.active)
  let outcome: string
  try {
    const sent = await g.ctx.stack.manager.contract.connect(b.wallet).getFunction('close').send(channelId, record, t.stateHash, t.payouts, others, signatures)
    await sent.wait()
    outcome = 'ok'
  } catch (e) {
    outcome = toParleyError(e, 'close').code
  }
  for (const x of [b, ...b.colluders]) await x.chainListener.poll().catch(() => undefined)
  return `${tag} asks to close (${skew}, seq ${t.seq}): every active participant consented (${honestSigned} honest), close on-chain: ${outcome}`
}
