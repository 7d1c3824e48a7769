/**
 * Catch-up sync: what we answer to a `sync-request` (our txs of the fork from a height on,
 * each with every signature we hold) and the re-announcement a restarted peer sends.
 * Reads only; the Channel feeds a response back through the normal pipeline.
 */
import type { Hex } from '../protocol/types.js'
import type { Ledger } from '../state/ledger.js'
import type { Store } from '../store/types.js'
import type { Message, SyncResponseMessage } from '../transport/messages.js'

/** Most txs in one sync response; the requester asks again for more. */
export const SYNC_BATCH = 256

/** The txs of the current fork from `fromSeq` on (at most SYNC_BATCH), with signatures. */
export function syncResponse(ledger: Ledger, store: Store, channelId: Hex, fromSeq: bigint): SyncResponseMessage {
  const fork = ledger.fork.fork
  const entries: SyncResponseMessage['entries'] = []
  for (let s = fromSeq < 1n ? 1n : fromSeq; s <= ledger.head.seq && entries.length < SYNC_BATCH; s++) {
    const e = ledger.get(s)
    if (e) {
      entries.push({ transaction: e.transaction, signatures: [...e.signatures] })
      continue
    }
    const r = store.getTx(channelId, fork, s)
    if (!r) break
    entries.push({ transaction: r.transaction, signatures: [...store.getSignatures(channelId, r.digest)] })
  }
  return { type: 'sync-response', fork, entries }
}

/**
 * What a peer re-sends after a restart: a sync request from its final height, and every
 * signature it gave after that height (its own txs and confirmations), in case they never
 * left before it stopped.
 */
export function announcement(ledger: Ledger, store: Store, channelId: Hex, me: number): Message[] {
  const fork = ledger.fork.fork
  const from = ledger.final.seq + 1n
  const out: Message[] = [{ type: 'sync-request', fork, fromSeq: from }]
  for (const own of store.getOwnSignatures(channelId, fork, from)) {
    if (own.kind !== 'tx') continue
    const e = ledger.get(own.seq)
    if (!e || e.digest !== own.digest) continue
    if (e.transaction.actor === me) out.push({ type: 'tx', transaction: e.transaction, signature: own.signature })
    else out.push({ type: 'confirm', fork, seq: own.seq, digest: own.digest, signer: me, signature: own.signature })
  }
  return out
}
