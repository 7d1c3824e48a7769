/**
 * Catch-up sync: what we answer to a `sync-request` (our txs of the fork from a height on,
 * each with every signature we hold) and the re-announcement a restarted peer sends.
 * (A Channel also asks a peer for catch-up whenever its link to it comes up: Engine.)
 * Reads only; the Channel feeds a response back through the normal pipeline.
 */
import type { Hex } from '../protocol/types.js'
import type { Ledger } from '../state/ledger.js'
import type { ChannelRecords } from '../store/ChannelRecords.js'
import type { Message, SyncResponseMessage } from '../transport/messages.js'

/** Most txs in one sync response; the requester asks again for more. */
export const SYNC_BATCH = 256

/** The txs of the current fork from `fromSeq` on (at most SYNC_BATCH), with signatures. */
export function syncResponse(ledger: Ledger, records: ChannelRecords, fromSeq: bigint): SyncResponseMessage {
  const fork = ledger.fork.fork
  const entries: SyncResponseMessage['entries'] = []
  for (let s = fromSeq < 1n ? 1n : fromSeq; s <= ledger.head.seq && entries.length < SYNC_BATCH; s++) {
    const e = ledger.get(s)
    if (e) {
      entries.push({ transaction: e.transaction, signatures: [...e.signatures] })
      continue
    }
    const r = records.entry(fork, s)
    if (!r) break
    entries.push({ transaction: r.transaction, signatures: [...r.signatures] })
  }
  return { type: 'sync-response', fork, entries }
}

/**
 * What a peer re-sends after a restart: a sync request from its final height, and every
 * signature it gave after that height (its own txs and confirmations), in case they never
 * left before it stopped. An own tx is re-sent as a live `tx` only while peers still take it
 * live (`now ≤ timestamp + skew`, docs/protocol.md §6.4); one that is older went stale while
 * we were stopped, and is re-delivered as catch-up instead — the sync response we would give
 * from that height — which peers accept (and, before its confirmation deadline, confirm) by
 * the catch-up rules. It is the move we signed, never a new one: re-signing another move at
 * that height would be equivocation.
 *
 * @example for (const m of announcement(ledger, records, me, { now: clock.now(), skew })) await transport.broadcast(m)
 */
export function announcement(ledger: Ledger, records: ChannelRecords, me: number, clock: { now: bigint; skew: bigint }): Message[] {
  const fork = ledger.fork.fork
  const from = ledger.final.seq + 1n
  const messages: Message[] = [{ type: 'sync-request', fork, fromSeq: from }]
  let catchUpFrom: bigint | undefined
  for (const own of records.ownSignatures(fork, from)) {
    if (own.kind !== 'tx') continue
    const e = ledger.get(own.seq)
    if (!e || e.digest !== own.digest) continue
    if (e.transaction.actor !== me) messages.push({ type: 'confirm', fork, seq: own.seq, digest: own.digest, signer: me, signature: own.signature })
    else if (clock.now <= e.transaction.timestamp + clock.skew) messages.push({ type: 'tx', transaction: e.transaction, signature: own.signature })
    else catchUpFrom ??= own.seq
  }
  if (catchUpFrom !== undefined) messages.push(syncResponse(ledger, records, catchUpFrom))
  return messages
}
