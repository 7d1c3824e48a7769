/**
 * A thin typed binding of a deployed StateChannelManager: balances, open, close, conclude,
 * finality-proof verification, channel reads and the court (posts, disputes, answers, fraud
 * proofs, resolution). Every method returns plain typed values; every failure is a ParleyError
 * (contract custom errors decoded, see ./errors.ts). Hashing and signing stay in src/protocol;
 * this file only talks to the chain.
 */
import { Contract, type ContractRunner, type Signer, type TransactionReceipt, type TransactionResponse } from 'ethers'
import { UsageError, ProtocolError } from '../errors/ParleyError.js'
import { ParleyHasher } from '../protocol/eip712.js'
import { packSignatures } from '../protocol/signatures.js'
import {
  DisputeKind, ETH, type ChannelParams, type DisputeAnswered, type DisputeCancelled, type DisputeRaised, type DisputeRecord,
  type DisputeResolved, type Hex, type PackedSignedTransaction, type ParticipantSlashed, type Transaction, type TransactionPosted,
} from '../protocol/types.js'
import { contractInterface } from './artifacts.js'
import { decodeManagerLog, type ManagerEvent, type ManagerEventArgs, type ManagerEventName } from './decode.js'
import { deploy } from './deploy.js'
import { toParleyError } from './errors.js'
import {
  parseEvents, toChannelClosed, toCredited, toStateSet, type ChannelClosedEvent, type CreditedEvent, type StateSetEvent,
} from './events.js'
import { toChannelRecord, type ChannelRecord } from './records.js'
import { latestDispute, type OpenDispute } from './disputeLog.js'

export type { ChannelRecord } from './records.js'
export type { OpenDispute } from './disputeLog.js'

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
  kind: DisputeKind.None, disputer: 0, seq: 0n, deadline: 0n, removals: 0n, stateHash: `0x${'00'.repeat(32)}`,
}

/**
 * Binding of one StateChannelManager deployment.
 *
 * @example
 * const manager = await ManagerClient.deploy(wallet)
 * await manager.connect(alice).deposit(ETH, 10n ** 18n)
 * const { channelId, genesis } = await manager.open(params, consentSignatures)
 */
export class ManagerClient {
  /** Lowercase address of the manager. */
  readonly address: Hex
  /** The raw ethers binding, for calls this class does not wrap (e.g. encoding calldata). */
  readonly contract: Contract
  private hasherPromise: Promise<ParleyHasher> | undefined

  /** Binds the manager at `address`; `runner` is a Signer for writes or a Provider for reads. */
  constructor(address: string, readonly runner: ContractRunner) {
    this.address = address.toLowerCase() as Hex
    this.contract = new Contract(this.address, contractInterface('StateChannelManager'), runner)
  }

  /**
   * Deploys a new manager from the compiled artifact.
   * @example const manager = await ManagerClient.deploy(anvil.wallets[0]!)
   */
  static async deploy(signer: Signer): Promise<ManagerClient> {
    try {
      const c = await deploy('StateChannelManager', signer)
      return new ManagerClient(c.address, signer)
    } catch (e) {
      throw toParleyError(e, 'deploy StateChannelManager')
    }
  }

  /** The same manager used by another account (or read-only through a provider). */
  connect(runner: ContractRunner): ManagerClient {
    return new ManagerClient(this.address, runner)
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
   * Deposits `amount` of `asset` (ETH = `ETH`) for `account` (default: the signer). A token
   * must be approved to the manager first.
   * @example await manager.deposit(ETH, 10n ** 18n)
   */
  async deposit(asset: Hex, amount: bigint, account?: Hex): Promise<TxResult> {
    const to = account ?? ((await this.signer('deposit').getAddress()).toLowerCase() as Hex)
    const value = asset.toLowerCase() === ETH ? amount : 0n
    return this.send('deposit', [asset, to, amount, { value }])
  }

  /**
   * Withdraws `amount` of `asset` from the signer's manager balance to `to` (default: itself).
   * @example await manager.withdraw(ETH, await manager.balanceOf(me, ETH))
   */
  async withdraw(asset: Hex, amount: bigint, to?: Hex): Promise<TxResult> {
    const recipient = to ?? ((await this.signer('withdraw').getAddress()).toLowerCase() as Hex)
    return this.send('withdraw', [asset, amount, recipient])
  }

  /**
   * Opens a channel. `signatures[i]` is participant i's consent: its signature over the
   * channel id (see `signOpenConsent`). Deposits + bond must already be in the balances.
   * @example const { channelId, genesis } = await manager.open(params, keys.map((k) => signOpenConsent(k, hasher, params)))
   */
  async open(params: ChannelParams, signatures: readonly Hex[]): Promise<OpenResult> {
    if (signatures.length !== params.participants.length) {
      throw new UsageError('CONSENT_COUNT_MISMATCH', `open needs ${params.participants.length} consent signatures, got ${signatures.length}`)
    }
    const packed = ('0x' + signatures.map((s) => s.slice(2)).join('')) as Hex
    const result = await this.send('open', [params, packed])
    const set = this.events(result.receipt).find((e) => e.name === 'StateSet')
    if (!set) throw new ProtocolError('EVENT_MISSING', 'open succeeded but emitted no StateSet', { details: { hash: result.hash } })
    const genesis = toStateSet(set.args)
    return { ...result, channelId: genesis.channelId, genesis }
  }

  /**
   * Settles from `state`, which every active participant signed as CloseChannel(channelId,
   * fork, keccak(state)); `signatures` maps participant index → signature.
   * @example await manager.close(channelId, params.participants, state, new Map([[0, sigA], [1, sigB]]))
   */
  async close(channelId: Hex, participants: readonly Hex[], state: Hex, signatures: ReadonlyMap<number, Hex>): Promise<SettleResult> {
    const { signers, signatures: packed } = packSignatures(signatures)
    return this.settled(await this.send('close', [channelId, participants, state, signers, packed]))
  }

  /**
   * Settles from a final terminal state: `proof` is a finality proof of the transaction whose
   * resulting state is `state`.
   * @example await manager.conclude(channelId, params.participants, [packSignedTransaction(last)], lastState)
   */
  async conclude(channelId: Hex, participants: readonly Hex[], proof: readonly PackedSignedTransaction[], state: Hex): Promise<SettleResult> {
    return this.settled(await this.send('conclude', [channelId, participants, proof, state]))
  }

  /**
   * Asks the contract to verify a finality proof (eth_call); returns what it proves final.
   * Throws the contract's reason (e.g. ProtocolError `PROOF_NOT_FINAL`) when it does not hold.
   * @example const { stateHash, seq } = await manager.verifyFinalityProof(channelId, participants, proof)
   */
  async verifyFinalityProof(channelId: Hex, participants: readonly Hex[], proof: readonly PackedSignedTransaction[]): Promise<{ stateHash: Hex; seq: bigint }> {
    const [stateHash, seq] = (await this.read('verifyFinalityProof', [channelId, participants, proof])) as [string, bigint]
    return { stateHash: stateHash.toLowerCase() as Hex, seq: BigInt(seq) }
  }

  /**
   * The manager balance of `account` in `asset` (usable for channels or withdrawable).
   * @example const wei = await manager.balanceOf(alice, ETH)
   */
  async balanceOf(account: Hex, asset: Hex): Promise<bigint> {
    return BigInt((await this.read('balanceOf', [account, asset])) as bigint)
  }

  /**
   * The stored record of a channel (phase None for an unknown id).
   * @example if ((await manager.getChannel(id)).phase === Phase.Closed) done()
   */
  async getChannel(channelId: Hex): Promise<ChannelRecord> {
    return toChannelRecord((await this.read('getChannel', [channelId])) as Record<string, unknown>)
  }

  // ─── The court (docs/protocol.md §7, §10) ───────────────────────────────────────────────
  // Callers are identified by their index in `participants`, found from the signer's address.

  /**
   * Posts `transaction` with its author's `signature` as calldata (data availability); peers
   * treat it like a broadcast one. Anyone may send it.
   * @example await manager.postTransaction(channelId, params.participants, tx, signature)
   */
  async postTransaction(channelId: Hex, participants: readonly Hex[], transaction: Transaction, signature: Hex): Promise<CourtResult & { posted: TransactionPosted }> {
    const r = await this.court('postTransaction', [channelId, participants, transaction, signature])
    return { ...r, posted: this.one(r, 'TransactionPosted') }
  }

  /**
   * Raises a timeout against the next actor of the candidate: `txs` is empty (the fork genesis)
   * or an anchored list ending with the latest transaction the caller signed; `state` is the
   * candidate's bytes.
   * @example const { raised } = await manager.disputeTimeout(channelId, participants, anchor, state)
   */
  async disputeTimeout(channelId: Hex, participants: readonly Hex[], txs: readonly PackedSignedTransaction[], state: Hex): Promise<RaiseResult> {
    return this.raise(await this.court('disputeTimeout', [channelId, participants, await this.callerIndex(participants), txs, state]))
  }

  /**
   * Leaves (`leave = true`) or force-closes (`false`) from the caller's latest final state
   * (`proof` empty = the fork genesis).
   * @example await manager.exit(channelId, participants, channel.finalityProof(), false)
   */
  async exit(channelId: Hex, participants: readonly Hex[], proof: readonly PackedSignedTransaction[], leave: boolean): Promise<RaiseResult> {
    return this.raise(await this.court('exit', [channelId, participants, await this.callerIndex(participants), proof, leave]))
  }

  /**
   * Cancels a timeout with the accused's move at the candidate's seq + 1 (ours or relayed).
   * @example await manager.respond(channelId, participants, record, move, moveSignature)
   */
  async respond(channelId: Hex, participants: readonly Hex[], dispute: DisputeRecord, transaction: Transaction, signature: Hex): Promise<CourtResult & { cancelled: DisputeCancelled }> {
    const r = await this.court('respond', [channelId, participants, await this.callerIndex(participants), dispute, transaction, signature])
    return { ...r, cancelled: this.one(r, 'DisputeCancelled') }
  }

  /**
   * Answers a dispute with a later final state (`proof` is its finality proof); on a timeout
   * this convicts the disputer.
   * @example await manager.answer(channelId, participants, record, channel.finalityProof())
   */
  async answer(channelId: Hex, participants: readonly Hex[], dispute: DisputeRecord, proof: readonly PackedSignedTransaction[]): Promise<CourtResult & { answered: DisputeAnswered; slashed: ParticipantSlashed[] }> {
    const r = await this.court('answer', [channelId, participants, await this.callerIndex(participants), dispute, proof])
    return { ...r, answered: this.one(r, 'DisputeAnswered'), slashed: this.all(r, 'ParticipantSlashed') }
  }

  /**
   * Convicts a timeout's disputer with its own `signature` on a `transaction` later than the candidate.
   * @example await manager.refute(channelId, participants, record, laterTx, disputerSignature)
   */
  async refute(channelId: Hex, participants: readonly Hex[], dispute: DisputeRecord, transaction: Transaction, signature: Hex): Promise<CourtResult & { answered: DisputeAnswered; slashed: ParticipantSlashed[] }> {
    const r = await this.court('refute', [channelId, participants, await this.callerIndex(participants), dispute, transaction, signature])
    return { ...r, answered: this.one(r, 'DisputeAnswered'), slashed: this.all(r, 'ParticipantSlashed') }
  }

  /**
   * Proves that `fraud` is not a valid transition of `previousState`; `checkpoint` is the
   * caller's latest finality proof (empty = fork genesis); `dispute` the open record, if any.
   * @example await manager.proveInvalidTransition(channelId, participants, undefined, packed, previousState, channel.finalityProof())
   */
  async proveInvalidTransition(
    channelId: Hex, participants: readonly Hex[], dispute: DisputeRecord | undefined, fraud: PackedSignedTransaction, previousState: Hex,
    checkpoint: readonly PackedSignedTransaction[],
  ): Promise<RaiseResult> {
    const index = await this.callerIndex(participants)
    return this.raise(await this.court('proveInvalidTransition', [channelId, participants, index, dispute ?? NO_DISPUTE, fraud, previousState, checkpoint]))
  }

  /**
   * Proves equivocation: two different signed transactions at one height of the current fork.
   * @example await manager.proveEquivocation(channelId, participants, undefined, a, b, channel.finalityProof())
   */
  async proveEquivocation(
    channelId: Hex, participants: readonly Hex[], dispute: DisputeRecord | undefined, first: PackedSignedTransaction, second: PackedSignedTransaction,
    checkpoint: readonly PackedSignedTransaction[],
  ): Promise<RaiseResult> {
    const index = await this.callerIndex(participants)
    return this.raise(await this.court('proveEquivocation', [channelId, participants, index, dispute ?? NO_DISPUTE, first, second, checkpoint]))
  }

  /**
   * Resolves a dispute after its deadline from the candidate's `state` (anyone may call).
   * @example const { stateSet, closed } = await manager.resolve(channelId, participants, record, candidateState)
   */
  async resolve(channelId: Hex, participants: readonly Hex[], dispute: DisputeRecord, state: Hex): Promise<ResolveResult> {
    const r = await this.court('resolve', [channelId, participants, dispute, state])
    const stateSet = this.all(r, 'StateSet')[0]
    const closed = this.all(r, 'ChannelClosed')[0]
    return {
      ...r, resolved: this.one(r, 'DisputeResolved'), removed: this.all(r, 'ParticipantRemoved').map((e) => e.index),
      ...(stateSet ? { stateSet } : {}), ...(closed ? { closed } : {}), credits: this.all(r, 'Credited'),
    }
  }

  /**
   * The stored dispute slot: the commitment to the open record (zero when none) and `latestSeq`.
   * @example const { commitment } = await manager.getDispute(channelId)
   */
  async getDispute(channelId: Hex): Promise<{ commitment: Hex; latestSeq: bigint }> {
    const [commitment, latestSeq] = (await this.read('getDispute', [channelId])) as [string, bigint]
    return { commitment: commitment.toLowerCase() as Hex, latestSeq: BigInt(latestSeq) }
  }

  /**
   * The open dispute of a channel, read from the events since `fromBlock`, or undefined.
   * @example const open = await manager.currentDispute(channelId); if (open) await manager.resolve(channelId, participants, open.record, state)
   */
  async currentDispute(channelId: Hex, opts: { fromBlock?: number } = {}): Promise<OpenDispute | undefined> {
    const provider = this.runner.provider
    if (!provider) throw new UsageError('PROVIDER_REQUIRED', 'the runner has no provider to read events from')
    try {
      return await latestDispute(provider, this.contract.interface, this.address, channelId.toLowerCase() as Hex, opts.fromBlock ?? 0)
    } catch (e) {
      throw toParleyError(e, 'currentDispute')
    }
  }

  /** The caller's index in `participants` (UsageError `CALLER_NOT_PARTICIPANT`). */
  private async callerIndex(participants: readonly Hex[]): Promise<number> {
    const me = (await this.signer('court call').getAddress()).toLowerCase()
    const index = participants.findIndex((p) => p.toLowerCase() === me)
    if (index < 0) throw new UsageError('CALLER_NOT_PARTICIPANT', `${me} is not a participant of this channel`, { details: { address: me } })
    return index
  }

  private async court(method: string, args: unknown[]): Promise<CourtResult> {
    const r = await this.send(method, args)
    const events = r.receipt.logs.flatMap((log) => (log.address.toLowerCase() === this.address ? [decodeManagerLog(this.contract.interface, log)] : []))
    return { ...r, events: events.filter((e): e is ManagerEvent => e !== undefined) }
  }

  private all<K extends ManagerEventName>(r: CourtResult, name: K): ManagerEventArgs[K][] {
    return r.events.filter((e) => e.name === name).map((e) => e.args as ManagerEventArgs[K])
  }

  private one<K extends ManagerEventName>(r: CourtResult, name: K): ManagerEventArgs[K] {
    const found = this.all(r, name)[0]
    if (!found) throw new ProtocolError('EVENT_MISSING', `the call emitted no ${name}`, { details: { hash: r.hash } })
    return found
  }

  private raise(r: CourtResult): RaiseResult {
    return { ...r, raised: this.one(r, 'DisputeRaised'), slashed: this.all(r, 'ParticipantSlashed') }
  }

  /** Parsed events of this manager in `receipt`. */
  events(receipt: TransactionReceipt): { name: string; args: Record<string, unknown> }[] {
    return parseEvents(this.contract.interface, this.address, receipt)
  }

  private signer(action: string): Signer {
    const r = this.runner as Partial<Signer>
    if (typeof r.sendTransaction !== 'function' || typeof r.getAddress !== 'function') {
      throw new UsageError('SIGNER_REQUIRED', `${action} sends a transaction: connect the client to a Signer`)
    }
    return this.runner as Signer
  }

  private async read(method: string, args: unknown[]): Promise<unknown> {
    try {
      return await this.contract.getFunction(method).staticCall(...args)
    } catch (e) {
      throw toParleyError(e, method)
    }
  }

  private async send(method: string, args: unknown[]): Promise<TxResult> {
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
        if (why !== undefined) throw toParleyError(why, method)
      }
      throw toParleyError(e, method)
    }
    if (!receipt) throw toParleyError(new Error('no receipt'), method)
    return { hash: receipt.hash as Hex, blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed, receipt }
  }

  private settled(result: TxResult): SettleResult {
    const events = this.events(result.receipt)
    const closed = events.find((e) => e.name === 'ChannelClosed')
    if (!closed) throw new ProtocolError('EVENT_MISSING', 'settlement emitted no ChannelClosed', { details: { hash: result.hash } })
    const credits = events.filter((e) => e.name === 'Credited').map((e) => toCredited(e.args))
    return { ...result, closed: toChannelClosed(closed.args), credits }
  }
}
