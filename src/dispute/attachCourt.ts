/**
 * Attaches the chain side to a Channel: a ChainListener watch feeds every observed event to
 * the channel (StateSet, DisputeRaised, DisputeCancelled, TransactionPosted, ChannelClosed —
 * the only way the channel becomes Closed) and then to a DisputeHandler, which acts on-chain by
 * itself on every tick (a signed cooperative close included). The Channel API is unchanged;
 * `detach()` undoes everything.
 */
import type { ChainEvent, ChainListener } from '../chain/ChainListener.js'
import type { ManagerClient, RaiseResult } from '../chain/ManagerClient.js'
import { courtPortOf, type Channel } from '../channel/Channel.js'
import { RuntimeError, UsageError } from '../errors/ParleyError.js'
import { unpackSignatures } from '../protocol/signatures.js'
import { Phase, type Hex, type Transaction } from '../protocol/types.js'
import { DisputeHandler, type DisputeHandlerEvents, type DisputeHandlerOptions } from './DisputeHandler.js'
import type { ChainView } from './types.js'

export interface CourtOptions extends Omit<DisputeHandlerOptions, 'manager'> {
  /** The listener for the manager the channel lives on (may serve many channels). */
  listener: ChainListener
  /** The manager, connected to this participant's signer (it pays for the calls it makes). */
  manager: ManagerClient
  /** First block to read when the store holds no cursor (default 0: the whole history). */
  fromBlock?: number
}

/** The chain side of one channel. */
export interface Court {
  readonly handler: DisputeHandler
  /** The chain's view of the channel (fork, active set, open dispute, chain time). */
  readonly chain: ChainView
  /** Subscribes to a court event; returns the unsubscribe. */
  on<K extends keyof DisputeHandlerEvents>(name: K, fn: (p: DisputeHandlerEvents[K]) => void): () => void
  /** The next court event (matching `filter`). */
  next<K extends keyof DisputeHandlerEvents>(name: K, opts?: { signal?: AbortSignal; filter?: (p: DisputeHandlerEvents[K]) => boolean }): Promise<DisputeHandlerEvents[K]>
  /** Our response move when a timeout accuses us (after `move-needed`). */
  move(data: Hex): Promise<{ transaction: Transaction; digest: Hex }>
  /**
   * Our next move, by the right road: off-chain while our broadcast window is open (as
   * `channel.propose`), posted on-chain after it, or as the response when a timeout accuses us.
   */
  propose(data: Hex): Promise<{ transaction: Transaction; digest: Hex; via: 'peers' | 'chain' | 'response' }>
  /** Leaves the channel from our latest final state (removed at resolution, paid our share). */
  exit(): Promise<RaiseResult>
  /** Forces a settlement from our latest final state. */
  forceClose(): Promise<RaiseResult>
  /** Resolves when the handler is not evaluating. */
  idle(): Promise<void>
  /** Stops watching and acting; the channel goes on without its chain side. */
  detach(): Promise<void>
}

/**
 * Gives `channel` its chain side: it observes the manager's events for the channel and
 * defends it in the court by itself (posts, timeouts, responses, answers, refutations, fraud
 * proofs, resolution).
 *
 * @example
 * const listener = new ChainListener({ provider, manager: manager.address, clock })
 * const court = attachCourt(channel, { listener, manager: manager.connect(wallet), fromBlock: openBlock })
 * court.on('slashed', ({ index, beneficiary }) => console.log(`${index} slashed, paid to ${beneficiary}`))
 * court.on('move-needed', ({ state }) => court.move(myMove(state)))
 * // … later
 * await court.detach()
 */
export function attachCourt(channel: Channel, opts: CourtOptions): Court {
  if (!opts?.listener || typeof opts.listener.watch !== 'function') throw new UsageError('LISTENER_REQUIRED', 'attachCourt needs a ChainListener')
  if (!opts.manager || typeof opts.manager.disputeTimeout !== 'function') throw new UsageError('MANAGER_REQUIRED', 'attachCourt needs a ManagerClient connected to our signer')
  if (opts.manager.address !== opts.listener.manager) throw new UsageError('MANAGER_MISMATCH', 'the listener watches another manager')
  const port = courtPortOf(channel)
  // A refusal counts only if it holds on the newest block the listener read: a node behind (or a
  // load balancer's lagging backend) refusing our answer must not end our defence.
  const handler = new DisputeHandler(port, { ...opts, manager: opts.manager.judgedAt(() => opts.listener.head?.hash, { logRange: opts.listener.maxBlockRange }) })
  const kick = () => void handler.evaluate()

  /**
   * The signed transactions a dispute call carried, from its event (never from the transaction
   * input: the call may have come through a relay, a Safe or an EIP-7702 account): every one
   * goes through the pipeline, whatever its height — an accused that was never sent the
   * candidate learns it here, and a transaction conflicting with ours becomes fraud evidence.
   */
  const evidence = async (ev: Extract<ChainEvent, { name: 'DisputeRaised' | 'DisputeAnswered' }>): Promise<void> => {
    if (ev.args.fork !== channel.state.fork) return
    const entries = ev.args.txs.map((p) => ({ transaction: p.transaction, signatures: unpackSignatures(p.signers, p.signatures) }))
    await channel.applyChainTransactions(entries, ev.blockTimestamp)
  }

  const onEvent = async (ev: ChainEvent): Promise<void> => {
    // The channel first, so the handler reads a ledger that already reflects the event.
    switch (ev.name) {
      case 'StateSet':
        await channel.applyStateSet(ev.args)
        break
      case 'DisputeRaised':
        await channel.applyDispute(ev.args, { transactionHash: ev.transactionHash })
        await evidence(ev)
        break
      case 'DisputeAnswered':
        await evidence(ev)
        break
      case 'DisputeCancelled':
        // The response's move comes in this event (no TransactionPosted): the move first, as a
        // post's, then the cancellation — which must land even when taking the move fails (it
        // was a log of its own): the failure is reported, not allowed to skip it.
        try {
          if (ev.args.transaction.fork >= channel.state.fork) await channel.applyPostedTransaction(ev.args.transaction, ev.args.signature, ev.blockTimestamp)
        } catch (error) {
          handler.events.emit('error', { error })
        }
        await channel.applyDisputeCancelled(ev.args)
        break
      case 'TransactionPosted':
        if (ev.args.transaction.fork >= channel.state.fork) await channel.applyPostedTransaction(ev.args.transaction, ev.args.signature, ev.blockTimestamp)
        break
      case 'ChannelClosed':
        await channel.applyClosed(ev.args, { transactionHash: ev.transactionHash })
        break
      default:
        break
    }
    if (handler.onChainEvent(ev)) kick()
  }

  /**
   * Blocks after `ancestor` were replaced: the handler and the channel take back what their
   * events said (a dispute, a settlement, a post the court made); the listener then delivers the
   * new blocks (from the open again when the handler's memory does not reach back that far).
   */
  const onReorg = async ({ ancestor }: { ancestor: number }): Promise<number | void> => {
    const r = handler.rewind(ancestor, opts.fromBlock ?? 0)
    await channel.applyReorg({ fork: r.before.fork, phase: r.before.phase }, { fork: r.after.fork, phase: r.after.phase })
    // Below the open block: is the channel still on the chain? If not, nothing is signed until the same open is back.
    if (opts.fromBlock !== undefined && ancestor < opts.fromBlock && (await opts.manager.getChannel(channel.channelId)).phase === Phase.None) {
      await channel.applyOpenRetracted()
    }
    kick()
    return r.from
  }

  const offs = [
    opts.listener.watch(channel.channelId, onEvent, { store: port.cursorStore, onReorg, ...(opts.fromBlock !== undefined ? { fromBlock: opts.fromBlock } : {}) }),
    opts.listener.on('tick', (head) => {
      handler.onHead(head)
      kick()
    }),
    channel.on('fraud', ({ evidence }) => {
      handler.addEvidence(evidence)
      kick()
    }),
    channel.on('fork', kick),
    // The chain said no (or the node did, on a view other than ours): read it again now (a
    // reorganisation, or events not yet delivered) rather than assume.
    handler.events.on('failed', ({ retried, error }) => {
      if (!retried || (error instanceof RuntimeError && error.code === 'REFUSAL_UNCONFIRMED')) opts.listener.poll().then(kick, () => undefined)
    }),
  ]
  let detached = false
  return {
    handler,
    get chain() {
      return handler.chainView
    },
    on: (name, fn) => handler.events.on(name, fn),
    next: (name, o = {}) => handler.events.next(name, o),
    move: (data) => handler.move(data),
    async propose(data) {
      if (handler.accused) return { ...(await handler.move(data)), via: 'response' }
      try {
        const p = await channel.propose(data)
        return { transaction: p.transaction, digest: p.digest, via: 'peers' }
      } catch (e) {
        if (!(e instanceof UsageError && e.code === 'BROADCAST_WINDOW_PASSED')) throw e
      }
      const posted = await handler.postMove(data)
      return { transaction: posted.transaction, digest: posted.digest, via: 'chain' }
    },
    exit: () => handler.exit(true),
    forceClose: () => handler.exit(false),
    idle: () => handler.idle(),
    async detach() {
      if (detached) return
      detached = true
      offs.forEach((off) => off())
      await handler.stop()
    },
  }
}
