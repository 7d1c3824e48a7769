/**
 * A thin typed binding of a deployed StateChannelManager: balances, open, close, conclude,
 * finality-proof verification and channel reads. Every method returns plain typed values;
 * every failure is a ParleyError (contract custom errors decoded, see ./errors.ts).
 * Hashing and signing stay in src/protocol; this file only talks to the chain.
 */
import { Contract, type ContractRunner, type Signer, type TransactionReceipt, type TransactionResponse } from 'ethers'
import { UsageError, ProtocolError } from '../errors/ParleyError.js'
import { ParleyHasher } from '../protocol/eip712.js'
import { packSignatures } from '../protocol/signatures.js'
import { ETH, type ChannelParams, type Hex, type PackedSignedTransaction, type Phase } from '../protocol/types.js'
import { contractInterface } from './artifacts.js'
import { deploy } from './deploy.js'
import { toParleyError } from './errors.js'
import {
  parseEvents, toChannelClosed, toCredited, toStateSet,
  type ChannelClosedEvent, type CreditedEvent, type StateSetEvent,
} from './events.js'

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

/** The stored record of a channel (contract struct `Channel`). */
export interface ChannelRecord {
  machine: Hex
  fork: bigint
  phase: Phase
  n: number
  /** p2pTime + agreementTime + chainFallbackTime. */
  postingWindow: number
  asset: Hex
  p2pTime: number
  agreementTime: number
  chainFallbackTime: number
  active: bigint
  slashed: bigint
  genesisTimestamp: bigint
  challengeTime: number
  /** The latest move the chain has seen on this fork (a response that cancelled a timeout). */
  latestSeq: bigint
  /** keccak256 of the participant list; while a dispute is open, the commitment to it (see protocol/disputes). */
  participantsHash: Hex
  genesisStateHash: Hex
  locked: bigint
  bond: bigint
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
    const c = (await this.read('getChannel', [channelId])) as Record<string, unknown>
    const lower = (v: unknown) => String(v).toLowerCase() as Hex
    return {
      machine: lower(c.machine), fork: BigInt(c.fork as bigint), phase: Number(c.phase) as Phase, n: Number(c.n),
      postingWindow: Number(c.postingWindow), asset: lower(c.asset), p2pTime: Number(c.p2pTime), agreementTime: Number(c.agreementTime),
      chainFallbackTime: Number(c.chainFallbackTime), active: BigInt(c.active as bigint),
      slashed: BigInt(c.slashed as bigint), genesisTimestamp: BigInt(c.genesisTimestamp as bigint),
      challengeTime: Number(c.challengeTime), latestSeq: BigInt(c.latestSeq as bigint), participantsHash: lower(c.participantsHash),
      genesisStateHash: lower(c.genesisStateHash), locked: BigInt(c.locked as bigint), bond: BigInt(c.bond as bigint),
    }
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
    try {
      const tx = (await this.contract.getFunction(method).send(...args)) as TransactionResponse
      receipt = await tx.wait()
    } catch (e) {
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
