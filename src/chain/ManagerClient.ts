/**
 * A thin typed binding of a deployed StateChannelManager: balances, open, close, conclude,
 * finality-proof verification, channel reads and the court (posts, disputes, answers, fraud
 * proofs, resolution). Every method returns plain typed values; every failure is a ParleyError
 * (contract custom errors decoded, see ./errors.ts). Hashing and signing stay in src/protocol;
 * this file only talks to the chain.
 */
import type { ContractRunner, Signer } from 'ethers'
import { UsageError, ProtocolError } from '../errors/ParleyError.js'
import { closeOthers, closePayouts } from '../protocol/close.js'
import { hashState } from '../protocol/eip712.js'
import { fundingBefore, shareOf } from '../protocol/funding.js'
import { normalizeSignature, packSignatures } from '../protocol/signatures.js'
import { ETH, type ChannelParams, type Hex, type PackedSignedTransaction } from '../protocol/types.js'
import { CourtClient } from './CourtClient.js'
import { RpcStateMachine } from './RpcStateMachine.js'
import { deploy } from './deploy.js'
import { toParleyError } from './errors.js'
import { toChannelClosed, toChannelPaidOut, toCredited, toPayoutsClaimed, toStateSet } from './events.js'
import type { CreditedEvent } from './events.js'
import type { OpenResult, SettleResult, TxResult } from './ManagerBase.js'
import { NO_CHANNEL, type ChannelRecord } from './records.js'

export type { ChannelRecord, ChannelTrack } from './records.js'
export type { OpenDispute } from './disputeLog.js'
export { NO_DISPUTE, type TxResult, type OpenResult, type SettleResult, type CourtResult, type RaiseResult, type ResolveResult } from './ManagerBase.js'

/**
 * Binding of one StateChannelManager deployment. Every call about an opened channel takes its
 * member list as `participants`: `memberList(params)` (participants ‖ session keys; the
 * participants alone when the channel has none).
 *
 * @example
 * const manager = await ManagerClient.deploy(wallet)
 * await manager.connect(alice).deposit(ETH, 10n ** 18n)
 * const { channelId, genesis } = await manager.open(params, consentSignatures)
 */
export class ManagerClient extends CourtClient {
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
    return new ManagerClient(this.address, runner, undefined, this.logRange)
  }

  /**
   * The same binding, whose refusals must hold on the block `block()` names (a hash, or undefined
   * for none): a call the node refuses before sending it but that passes on that block — the
   * node is behind it (a lagging or load-balanced RPC), or ahead with blocks the caller did not
   * read yet — is a RuntimeError `REFUSAL_UNCONFIRMED` (retry later), not the chain's word. The
   * court judges at the newest head its listener read.
   * `logRange` is the largest block range its reads of the channel's record ask of the node
   * (default 2000): give the listener's `maxBlockRange`, the cap that node serves.
   * @example const manager = base.connect(wallet).judgedAt(() => listener.head?.hash, { logRange: listener.maxBlockRange })
   */
  judgedAt(block: () => string | undefined, opts: { logRange?: number } = {}): ManagerClient {
    return new ManagerClient(this.address, this.runner, block, opts.logRange ?? this.logRange)
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
   * Funds channel `channelId` (not open yet) with `amount` of `asset` from the signer, expecting
   * `expectedHeld` to be funded already (ProtocolError `FUNDING_MOVED` otherwise, nothing sent
   * twice). Most callers want {@link fundShare}. Tokens must be approved to the manager first.
   * @example await manager.fund(channelId, ETH, 0n, ONE)
   */
  async fund(channelId: Hex, asset: Hex, expectedHeld: bigint, amount: bigint): Promise<TxResult> {
    const value = asset.toLowerCase() === ETH ? amount : 0n
    return this.send('fund', [channelId, asset, expectedHeld, amount, { value }])
  }

  /**
   * Funds participant `index`'s share (deposit + bond) of the channel of `params` from the
   * signer, in funding order: the shares of participants 0..index-1 must be funded first
   * (UsageError `FUNDING_ORDER`, with `details.held` and `details.expected`). Funds only what is
   * missing when someone funded part of the share; resolves with `undefined` when all of it is
   * (UsageError `FUNDING_ASSET_MISMATCH` when the channel is funded in another asset). `onSend`
   * hears the amount just before the transaction is sent (not when nothing is). The open then takes
   * nothing from the participant's balance.
   * @example await manager.connect(bob).fundShare(params, 1)
   */
  async fundShare(params: ChannelParams, index: number, opts: { onSend?: (amount: bigint) => void } = {}): Promise<TxResult | undefined> {
    if (!Number.isInteger(index) || index < 0 || index >= params.participants.length) {
      throw new UsageError('PARTICIPANT_INDEX_INVALID', `participant index ${index} is not in 0..${params.participants.length - 1}`)
    }
    const channelId = (await this.hasher()).channelId(params)
    const expected = fundingBefore(params, index)
    const { held, asset } = await this.funding(channelId)
    if (held !== 0n && asset !== params.asset.toLowerCase()) {
      throw new UsageError('FUNDING_ASSET_MISMATCH', `channel ${channelId} is funded in ${asset}, not its asset ${params.asset}: deposit into the balance instead (the open sets that funding aside and reclaim returns it to the participants)`, { details: { held, asset } })
    }
    const upTo = expected + shareOf(params, index)
    if (held >= upTo) return undefined
    if (held < expected) {
      throw new UsageError('FUNDING_ORDER', `participant #${index} funds when ${expected} is funded; ${held} is: earlier participants fund first`, { details: { held, expected } })
    }
    // Someone funded part of this share already (the order counts it as ours): fund the rest.
    opts.onSend?.(upTo - held)
    return this.fund(channelId, params.asset, held, upTo - held)
  }

  /**
   * What channel `channelId` holds before it opens: its funding and the funding's asset (0 and
   * the zero address for an unknown or opened channel: the locked amount is then its record's,
   * {@link getChannel}); and a funding in another asset its open set aside (`reclaim` returns it).
   * @example const { held } = await manager.funding(channelId)
   */
  async funding(channelId: Hex): Promise<{ held: bigint; asset: Hex; setAside: bigint; setAsideAsset: Hex }> {
    const [held, asset, setAside, setAsideAsset] = (await this.read('funding', [channelId])) as [bigint, string, bigint, string]
    return { held: BigInt(held), asset: asset.toLowerCase() as Hex, setAside: BigInt(setAside), setAsideAsset: setAsideAsset.toLowerCase() as Hex }
  }

  /**
   * Credits the funding of a channel that never opened back to its participants' balances, in
   * funding order, once `params.openDeadline` has passed (ProtocolError `FUNDS_IN_USE` before or
   * when the channel is open, `FUNDS_NONE` if nothing is funded).
   * @example await manager.reclaim(params)
   */
  async reclaim(params: ChannelParams): Promise<TxResult & { credits: CreditedEvent[] }> {
    const result = await this.send('reclaim', [{ ...params, signers: params.signers ?? [] }])
    const credits = this.events(result.receipt).filter((e) => e.name === 'Credited').map((e) => toCredited(e.args))
    return { ...result, credits }
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
    // Wallet forms (64-byte EIP-2098, v = 0 / 1) become the 65-byte form the manager takes.
    const packed = ('0x' + signatures.map((s) => normalizeSignature(s).slice(2)).join('')) as Hex
    const result = await this.send('open', [{ ...params, signers: params.signers ?? [] }, packed])
    const set = this.events(result.receipt).find((e) => e.name === 'StateSet')
    if (!set) throw new ProtocolError('EVENT_MISSING', 'open succeeded but emitted no StateSet', { details: { hash: result.hash } })
    const genesis = toStateSet(set.args)
    this.openedAt.set(genesis.channelId, result.blockNumber)
    return { ...result, channelId: genesis.channelId, genesis }
  }

  /**
   * Settles on the close every active participant signed: CloseChannel(channelId, fork,
   * keccak(state), payouts) (see `signCloseConsent`, `closePayouts`); `signatures` maps
   * participant index → its consent (its own account's, never its session key's). `members` is
   * the channel's member list (participants ‖ signers): the call passes only the members no
   * consent recovers (`closeOthers`). The machine is not called: the consents are the authority.
   * @example await manager.close(channelId, memberList(params), state, payouts, new Map([[0, sigA], [1, sigB]]))
   */
  async close(channelId: Hex, members: readonly Hex[], state: Hex, payouts: readonly bigint[], signatures: ReadonlyMap<number, Hex>): Promise<SettleResult> {
    return this.settled(await this.send('close', await this.closeArgs(channelId, members, state, payouts, signatures)))
  }

  /**
   * Settles like {@link close} and pays every participant in the same transaction: each payout
   * (with its bond) is sent to its account, or credited in the manager where sending fails.
   * `sent` in the result is the bitmap of the payouts sent; `credits` the others.
   * @example const { sent, credits } = await manager.closeAndPay(channelId, memberList(params), state, payouts, sigs)
   */
  async closeAndPay(channelId: Hex, members: readonly Hex[], state: Hex, payouts: readonly bigint[], signatures: ReadonlyMap<number, Hex>): Promise<SettleResult & { sent: bigint }> {
    const result = this.settled(await this.send('closeAndPay', await this.closeArgs(channelId, members, state, payouts, signatures)))
    const paid = this.events(result.receipt).find((e) => e.name === 'ChannelPaidOut')
    if (!paid) throw new ProtocolError('EVENT_MISSING', 'closeAndPay emitted no ChannelPaidOut', { details: { hash: result.hash } })
    return { ...result, sent: toChannelPaidOut(paid.args).sent }
  }

  /**
   * Settles like {@link close} but pays nobody yet: every payout (with its bond) is recorded as
   * a claim that {@link claim} pays later (anyone may claim for anyone). The result's
   * `closed.payouts` is what every claim re-supplies.
   * @example const { closed } = await manager.closeToClaims(channelId, memberList(params), state, payouts, sigs)
   */
  async closeToClaims(channelId: Hex, members: readonly Hex[], state: Hex, payouts: readonly bigint[], signatures: ReadonlyMap<number, Hex>): Promise<SettleResult> {
    const result = this.settled(await this.send('closeToClaims', await this.closeArgs(channelId, members, state, payouts, signatures)))
    if (!this.events(result.receipt).some((e) => e.name === 'ClaimsRecorded')) {
      throw new ProtocolError('EVENT_MISSING', 'closeToClaims emitted no ClaimsRecorded', { details: { hash: result.hash } })
    }
    return result
  }

  /**
   * The payouts of a close on `state` as the chain's copy of the machine computes them
   * (`outcome` by eth_call, inactive participants zeroed: `closePayouts`). For a submitter or a
   * test; a participant signs payouts its own replica computed, never a node's answer.
   * @example const payouts = await manager.closePayouts(channelId, state)
   */
  async closePayouts(channelId: Hex, state: Hex): Promise<bigint[]> {
    const record = await this.recordArg(channelId)
    const runner = this.runner.provider
    if (!runner) throw new UsageError('PROVIDER_REQUIRED', 'the runner has no provider to call the machine with')
    const outcome = await new RpcStateMachine(record.machine as string, runner).outcome(state)
    return closePayouts(outcome, BigInt(record.active as bigint))
  }

  /** The arguments of close, closeAndPay and closeToClaims. */
  private async closeArgs(channelId: Hex, members: readonly Hex[], state: Hex, payouts: readonly bigint[], signatures: ReadonlyMap<number, Hex>): Promise<unknown[]> {
    const record = await this.recordArg(channelId)
    const { signatures: packed } = packSignatures(normalized(signatures))
    const others = closeOthers(members, Number(record.n), BigInt(record.active as bigint))
    return [channelId, record, hashState(state), [...payouts], others, packed]
  }

  /**
   * Settles like {@link conclude} but records every payout (with its bond) as a claim that
   * {@link claim} pays later, as {@link closeToClaims} does.
   * @example const { closed } = await manager.concludeToClaims(channelId, memberList(params), [packSignedTransaction(last)], lastState)
   */
  async concludeToClaims(channelId: Hex, participants: readonly Hex[], proof: readonly PackedSignedTransaction[], state: Hex): Promise<SettleResult> {
    const result = this.settled(await this.send('concludeToClaims', [channelId, await this.recordArg(channelId), participants, proof, state]))
    if (!this.events(result.receipt).some((e) => e.name === 'ClaimsRecorded')) {
      throw new ProtocolError('EVENT_MISSING', 'concludeToClaims emitted no ClaimsRecorded', { details: { hash: result.hash } })
    }
    return result
  }

  /**
   * Pays the recorded claims `which` (bitmap) of a channel closed by {@link closeToClaims}:
   * `payouts` from its ChannelClosed, `claimed` the bitmap claimed so far (0, or the latest
   * PayoutsClaimed's). Each is sent to its participant's account, or credited where that fails.
   * @example const { claimed, sent } = await manager.claim(channelId, participants, closed.payouts, 0n, 0b11n)
   */
  async claim(channelId: Hex, participants: readonly Hex[], payouts: readonly bigint[], claimed: bigint, which: bigint): Promise<TxResult & { claimed: bigint; sent: bigint; credits: CreditedEvent[] }> {
    const result = await this.send('claim', [channelId, await this.recordArg(channelId), participants, payouts, claimed, which])
    const events = this.events(result.receipt)
    const paid = events.find((e) => e.name === 'PayoutsClaimed')
    if (!paid) throw new ProtocolError('EVENT_MISSING', 'claim emitted no PayoutsClaimed', { details: { hash: result.hash } })
    const ev = toPayoutsClaimed(paid.args)
    return { ...result, claimed: ev.claimed, sent: ev.sent, credits: events.filter((e) => e.name === 'Credited').map((e) => toCredited(e.args)) }
  }

  /**
   * Settles from a final terminal state: `proof` is a finality proof of the transaction whose
   * resulting state is `state`.
   * @example await manager.conclude(channelId, memberList(params), [packSignedTransaction(last)], lastState)
   */
  async conclude(channelId: Hex, participants: readonly Hex[], proof: readonly PackedSignedTransaction[], state: Hex): Promise<SettleResult> {
    return this.settled(await this.send('conclude', [channelId, await this.recordArg(channelId), participants, proof, state]))
  }

  /**
   * Asks the contract to verify a finality proof (eth_call); returns what it proves final.
   * Throws the contract's reason (e.g. ProtocolError `PROOF_NOT_FINAL`) when it does not hold.
   * @example const { stateHash, seq } = await manager.verifyFinalityProof(channelId, participants, proof)
   */
  async verifyFinalityProof(channelId: Hex, participants: readonly Hex[], proof: readonly PackedSignedTransaction[]): Promise<{ stateHash: Hex; seq: bigint }> {
    const [stateHash, seq] = (await this.read('verifyFinalityProof', [channelId, await this.recordArg(channelId), participants, proof])) as [string, bigint]
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
   * The record of a channel as its events describe it on the node's chain (see {@link track};
   * `NO_CHANNEL`, phase None, for an id that never opened).
   * @example if ((await manager.getChannel(id)).phase === Phase.Closed) done()
   */
  async getChannel(channelId: Hex): Promise<ChannelRecord> {
    return (await this.track(channelId))?.record ?? NO_CHANNEL
  }

  private settled(result: TxResult): SettleResult {
    const events = this.events(result.receipt)
    const closed = events.find((e) => e.name === 'ChannelClosed')
    if (!closed) throw new ProtocolError('EVENT_MISSING', 'settlement emitted no ChannelClosed', { details: { hash: result.hash } })
    const credits = events.filter((e) => e.name === 'Credited').map((e) => toCredited(e.args))
    return { ...result, closed: toChannelClosed(closed.args), credits }
  }
}

/** Close consents as the manager takes them: wallet forms (64-byte EIP-2098, v = 0 / 1) expanded. */
function normalized(signatures: ReadonlyMap<number, Hex>): Map<number, Hex> {
  return new Map([...signatures].map(([i, s]) => [i, normalizeSignature(s)]))
}
