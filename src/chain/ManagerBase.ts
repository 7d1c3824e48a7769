/**
 * The shared part of the manager binding: the contract, the EIP-712 hasher, and how calls are
 * sent and read (every failure a ParleyError, custom errors decoded; see ./errors.ts) and how
 * the events of a court call are decoded. {@link ManagerClient} adds the actions.
 */
import { Contract, type ContractRunner, type Signer, type TransactionReceipt, type TransactionResponse } from 'ethers'
import { ProtocolError, RuntimeError, UsageError } from '../errors/ParleyError.js'
import { ParleyHasher } from '../protocol/eip712.js'
import { DisputeKind, Phase, type DisputeRaised, type DisputeRecord, type DisputeResolved, type Hex, type ParticipantSlashed } from '../protocol/types.js'
import { contractInterface } from '../contracts/artifacts.js'
import { decodeManagerLog, type ManagerEvent, type ManagerEventArgs, type ManagerEventName } from './decode.js'
import { isExecutionFailure, toParleyError } from './errors.js'
import { parseEvents, type ChannelClosedEvent, type CreditedEvent, type StateSetEvent } from './events.js'
import { channelStruct, channelWordOf, NO_CHANNEL, type ChannelTrack } from './records.js'
import { channelTrack, RECORD_LOG_RANGE } from './recordLog.js'

/** What every state-changing call returns. */
export interface TxResult {
  hash: Hex
  blockNumber: number
  /** Gas the transaction used (after refunds). */
  gasUsed: bigint
  receipt: TransactionReceipt
}

/** Result of {@link ManagerClient.open}. */
export interface OpenResult extends TxResult {
  channelId: Hex
  /** The fork-0 genesis the chain set (from the `StateSet` event). */
  genesis: StateSetEvent
}

/** Result of {@link ManagerClient.close} and {@link ManagerClient.conclude}. */
export interface SettleResult extends TxResult {
  closed: ChannelClosedEvent
  credits: CreditedEvent[]
  /** `closeAndPay` only: bitmap of the payouts sent straight to their payees (ChannelPaidOut). */
  sent?: bigint
}

/** What every court call returns: the transaction and the manager events it emitted. */
export interface CourtResult extends TxResult {
  events: ManagerEvent[]
}

/** Result of a call that opens or replaces a dispute (timeout, exit, fraud proofs). */
export interface RaiseResult extends CourtResult {
  raised: DisputeRaised
  /** Participants slashed by this call (fraud proofs). */
  slashed: ParticipantSlashed[]
}

/** Result of {@link ManagerClient.resolve}: a new fork (`stateSet`) or a settlement (`closed`). */
export interface ResolveResult extends CourtResult {
  resolved: DisputeResolved
  removed: number[]
  stateSet?: StateSetEvent
  closed?: ChannelClosedEvent
  credits: CreditedEvent[]
}

/** The all-zero record passed to fraud proofs when no dispute is open (the contract ignores it). */
export const NO_DISPUTE: DisputeRecord = {
  kind: DisputeKind.None, disputer: 0, seq: 0n, timestamp: 0n, deadline: 0n, removals: 0n, stateHash: `0x${'00'.repeat(32)}`,
}

/** Binding internals shared by the manager's actions (use {@link ManagerClient}). */
export class ManagerBase {
  /** Lowercase address of the manager. */
  readonly address: Hex
  /** The raw ethers binding, for calls this class does not wrap (e.g. encoding calldata). */
  readonly contract: Contract
  private hasherPromise: Promise<ParleyHasher> | undefined

  /**
   * Binds the manager at `address`; `runner` is a Signer for writes or a Provider for reads.
   * `judgeAt` names the block (hash) a refusal must hold on (see {@link ManagerClient.judgedAt}).
   */
  constructor(
    address: string,
    readonly runner: ContractRunner,
    protected readonly judgeAt?: () => string | undefined,
    /** Largest block range of one `eth_getLogs` when the channel's record is read (a node's cap). */
    readonly logRange: number = RECORD_LOG_RANGE,
  ) {
    this.address = address.toLowerCase() as Hex
    this.contract = new Contract(this.address, contractInterface('StateChannelManager'), runner)
  }

  /**
   * The EIP-712 hasher of this deployment (chain id read once from the provider).
   * @example const channelId = (await manager.hasher()).channelId(params)
   */
  hasher(): Promise<ParleyHasher> {
    this.hasherPromise ??= (async () => {
      const provider = this.runner.provider
      if (!provider) throw new UsageError('PROVIDER_REQUIRED', 'the runner has no provider to read the chain id from')
      const { chainId } = await provider.getNetwork()
      return new ParleyHasher({ chainId, verifyingContract: this.address })
    })()
    return this.hasherPromise
  }

  /**
   * The channel as the node's chain describes it: its record (what every call re-supplies), the
   * open dispute and recorded claims, rebuilt from the channel's events (see ./records.ts);
   * undefined if it never opened. Logs are read from `fromBlock` (default: the open's block once
   * known, else 0).
   * @example const { record } = (await manager.track(channelId))!
   */
  async track(channelId: Hex, opts: { fromBlock?: number } = {}): Promise<ChannelTrack | undefined> {
    const provider = this.runner.provider
    if (!provider) throw new UsageError('PROVIDER_REQUIRED', 'the runner has no provider to read events from')
    const id = channelId.toLowerCase() as Hex
    const from = opts.fromBlock ?? this.openedAt.get(id)
    try {
      let t = await channelTrack(provider, this.contract.interface, this.address, id, { fromBlock: from ?? 0, maxBlockRange: this.logRange })
      // The open seen before may have been reorganised into an earlier block: look from the start.
      if (!t && from !== undefined && from > 0) t = await channelTrack(provider, this.contract.interface, this.address, id, { maxBlockRange: this.logRange })
      if (t) this.openedAt.set(id, t.openedAt)
      else this.openedAt.delete(id)
      return t
    } catch (e) {
      throw toParleyError(e, 'read the channel record')
    }
  }

  /**
   * Block of each channel's open seen by {@link track} or {@link ManagerClient.open}: log queries
   * start there (a node that caps eth_getLogs ranges then needs only the channel's own blocks).
   */
  protected readonly openedAt = new Map<Hex, number>()

  /**
   * The record argument of a call about `channelId` (all zero for a channel that never opened:
   * the contract names the phase), rebuilt from the events up to one block — the one we judge by
   * (`judgeAt`, the listener's head) when the node has it, else its latest — and checked against
   * the word the chain stores there. Logs from a node behind that block (a load balancer: a
   * range it does not have answers silently with nothing, docs/protocol.md §7.11) or from a
   * chain the open moved on (the log query starts at the open block seen last) give another
   * record: that is our view lagging, not the chain's refusal, so it throws RuntimeError
   * `RECORD_STALE` (retried) instead of sending a call the chain refuses with a record mismatch,
   * which the court would take as final and give the defence up. The logs are read in ranges a
   * capped node serves (see channelTrack).
   */
  protected async recordArg(channelId: Hex): Promise<Record<string, unknown>> {
    const id = channelId.toLowerCase() as Hex
    const provider = this.runner.provider
    if (!provider) throw new UsageError('PROVIDER_REQUIRED', 'the runner has no provider to read events from')
    const tag = this.judgeAt?.()
    let block: { number: number; hash: string | null } | null
    try {
      // The judged block may be gone (a reorganisation at the same height: the listener's head
      // moves on with the next higher block): then the node's latest, checked the same way.
      block = (tag ? await provider.getBlock(tag) : null) ?? (await provider.getBlock('latest'))
    } catch (e) {
      throw toParleyError(e, 'read the block the channel record is judged at')
    }
    if (!block) throw new RuntimeError('RECORD_STALE', 'the node returned no latest block: the channel record cannot be read yet', { details: { block: tag ?? 'latest' } })
    const [phase, word] = (await this.read('channelWord', [id, { blockTag: block.hash ?? block.number }])) as [bigint, string]
    // A channel not open there has no record to read (and its logs would be searched back to block 0).
    if (Number(phase) === Phase.None) return channelStruct(NO_CHANNEL)
    let t: ChannelTrack | undefined
    try {
      t = await channelTrack(provider, this.contract.interface, this.address, id, { fromBlock: this.openedAt.get(id) ?? 0, toBlock: block.number, maxBlockRange: this.logRange })
    } catch (e) {
      throw toParleyError(e, 'read the channel record')
    }
    const fits = t !== undefined && channelWordOf(t) === word.toLowerCase()
    if (!fits) {
      this.openedAt.delete(id) // read from the first block next time: the open may have moved (a reorganisation)
      throw new RuntimeError('RECORD_STALE', `the channel record rebuilt from the logs is not the one the chain stores at block ${block.number}: the log node is behind (or the chain changed); retried`, {
        details: { block: block.number, phase: Number(phase) },
      })
    }
    if (t) this.openedAt.set(id, t.openedAt)
    return channelStruct(t?.record ?? NO_CHANNEL)
  }

  /** Parsed events of this manager in `receipt`. */
  events(receipt: TransactionReceipt): { name: string; args: Record<string, unknown> }[] {
    return parseEvents(this.contract.interface, this.address, receipt)
  }

  protected signer(action: string): Signer {
    const r = this.runner as Partial<Signer>
    if (typeof r.sendTransaction !== 'function' || typeof r.getAddress !== 'function') {
      throw new UsageError('SIGNER_REQUIRED', `${action} sends a transaction: connect the client to a Signer`)
    }
    return this.runner as Signer
  }

  protected async read(method: string, args: unknown[]): Promise<unknown> {
    try {
      return await this.contract.getFunction(method).staticCall(...args)
    } catch (e) {
      throw toParleyError(e, method)
    }
  }

  protected async send(method: string, args: unknown[]): Promise<TxResult> {
    this.signer(method)
    let receipt: TransactionReceipt | null
    let sent = false
    try {
      const tx = (await this.contract.getFunction(method).send(...args)) as TransactionResponse
      sent = true
      receipt = await tx.wait()
    } catch (e) {
      // A transaction that passed estimation and reverted when mined (someone acted first in
      // the same block) carries no reason: replay it as a call to name the custom error.
      if (sent && (e as { code?: unknown })?.code === 'CALL_EXCEPTION') {
        const why = await this.contract.getFunction(method).staticCall(...args).then(() => undefined, (r: unknown) => r)
        if (why !== undefined && isExecutionFailure(why)) throw toParleyError(why, method)
      }
      const error = toParleyError(e, method)
      if (!sent && error instanceof ProtocolError) await this.confirmRefusal(method, args, error)
      throw error
    }
    if (!receipt) throw toParleyError(new Error('no receipt'), method)
    return { hash: receipt.hash as Hex, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed, receipt }
  }

  /**
   * The node refused `method` before it was sent (its estimate reverted on the node's latest
   * block). With `judgeAt`, that stands only if the call fails on the named block too: when it
   * passes there, or cannot be run there, the node's view is not the one we acted on (a node
   * behind it, or one ahead with blocks not read yet) — RuntimeError `REFUSAL_UNCONFIRMED`, retried.
   */
  private async confirmRefusal(method: string, args: unknown[], refusal: ProtocolError): Promise<void> {
    const blockTag = this.judgeAt?.()
    if (!blockTag) return
    const f = this.contract.getFunction(method)
    const n = f.fragment.inputs.length
    const call = args.length > n ? [...args.slice(0, n), { ...(args[n] as object), blockTag }] : [...args, { blockTag }]
    const again = await f.staticCall(...call).then(() => undefined, (r: unknown) => r ?? new Error('failed'))
    if (again !== undefined && isExecutionFailure(again)) return
    throw new RuntimeError('REFUSAL_UNCONFIRMED', `${method} was refused by the node but ${again === undefined ? 'passes' : 'could not be run'} on block ${blockTag}, which we acted on: the node's view is another (behind or ahead); retried`, {
      details: { action: method, block: blockTag, refusal: refusal.code }, cause: refusal,
    })
  }

  /** The caller's index in `participants` (UsageError `CALLER_NOT_PARTICIPANT`). */
  protected async callerIndex(participants: readonly Hex[]): Promise<number> {
    const me = (await this.signer('court call').getAddress()).toLowerCase()
    const index = participants.findIndex((p) => p.toLowerCase() === me)
    if (index < 0) throw new UsageError('CALLER_NOT_PARTICIPANT', `${me} is not a participant of this channel`, { details: { address: me } })
    return index
  }

  protected async court(method: string, args: unknown[]): Promise<CourtResult> {
    const r = await this.send(method, args)
    const events = r.receipt.logs.flatMap((log) => (log.address.toLowerCase() === this.address ? [decodeManagerLog(this.contract.interface, log)] : []))
    return { ...r, events: events.filter((e): e is ManagerEvent => e !== undefined) }
  }

  protected all<K extends ManagerEventName>(r: CourtResult, name: K): ManagerEventArgs[K][] {
    return r.events.filter((e) => e.name === name).map((e) => e.args as ManagerEventArgs[K])
  }

  protected one<K extends ManagerEventName>(r: CourtResult, name: K): ManagerEventArgs[K] {
    const found = this.all(r, name)[0]
    if (!found) throw new ProtocolError('EVENT_MISSING', `the call emitted no ${name}`, { details: { hash: r.hash } })
    return found
  }

  protected raise(r: CourtResult): RaiseResult {
    return { ...r, raised: this.one(r, 'DisputeRaised'), slashed: this.all(r, 'ParticipantSlashed') }
  }
}
