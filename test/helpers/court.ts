/**
 * Test harness for the on-chain court: a channel simulated off-chain (history of signed
 * transactions on the current fork, computed by the deployed machine via eth_call), calls sent
 * from a chosen participant, and the latest dispute record tracked from the manager's events.
 */
import assert from 'node:assert/strict'
import { Contract, type ParamType, type TransactionReceipt, type Wallet } from 'ethers'
import { hashState } from '../../src/protocol/eip712.js'
import { signDigest, packSignatures } from '../../src/protocol/signatures.js'
import { bitIndices, fullBitmap } from '../../src/protocol/bitmap.js'
import { defaultSkew } from '../../src/protocol/timing.js'
import {
  DisputeKind, type ChannelParams, type DisputeRecord, type Hex, type PackedSignedTransaction, type Transaction,
} from '../../src/protocol/types.js'
import { memberList } from '../../src/protocol/members.js'
import { closeOthers, closePayouts } from '../../src/protocol/close.js'
import { responseArgs } from '../../src/protocol/disputes.js'
import { abi, makeParams, openChannel, type Fixture } from './fixture.js'

/** One transaction of the simulated history with its resulting state. */
export interface Entry {
  tx: Transaction
  state: Hex
}

/** The all-zero record passed to fraud proofs when no dispute is open. */
export const NO_DISPUTE: DisputeRecord = {
  kind: DisputeKind.None, disputer: 0, seq: 0n, timestamp: 0n, deadline: 0n, removals: 0n,
  stateHash: `0x${'00'.repeat(32)}`,
}

/** Counter move data (increment by `k`). */
export const inc = (k = 1n): Hex => abi.encode(['uint64'], [k]) as Hex
/** Payments move data: pay `amount` to `to` (`'0x'` is a pass). */
export const pay = (to: number, amount: bigint): Hex => abi.encode(['uint16', 'uint256'], [to, amount]) as Hex

function toRecord(r: Record<string, unknown>): DisputeRecord {
  return {
    kind: Number(r.kind) as DisputeKind, disputer: Number(r.disputer),
    seq: BigInt(r.seq as bigint), timestamp: BigInt(r.timestamp as bigint), deadline: BigInt(r.deadline as bigint),
    removals: BigInt(r.removals as bigint), stateHash: String(r.stateHash).toLowerCase() as Hex,
  }
}

/**
 * A decoded event argument as plain values: tuples as objects keyed by component name, arrays
 * as arrays (ethers' Result.toObject turns an array of tuples into an object).
 */
function plain(type: ParamType, v: unknown): unknown {
  if (type.isArray()) return [...(v as unknown[])].map((x) => plain(type.arrayChildren, x))
  if (type.isTuple()) return Object.fromEntries(type.components.map((c, k) => [c.name, plain(c, (v as unknown[])[k])]))
  return v
}

/** A channel on the real manager plus its off-chain history. */
export class Sim {
  fork = 0n
  genesis: Hex
  genesisTimestamp = 0n
  active: bigint
  history: Entry[] = []
  /** The record to re-supply (latest DisputeRaised / DisputeAnswered), or NO_DISPUTE. */
  record: DisputeRecord = NO_DISPUTE
  /** Events of the last call, by name. */
  last: Map<string, Record<string, unknown>[]> = new Map()

  constructor(
    readonly f: Fixture,
    readonly wallets: Wallet[],
    readonly params: ChannelParams,
    readonly channelId: Hex,
    genesis: Hex,
    readonly machine: Contract,
    /** Each participant's in-channel signer: its session key, or its wallet (default). */
    readonly keys: Wallet[] = wallets,
  ) {
    this.genesis = genesis
    this.active = fullBitmap(wallets.length)
  }

  /**
   * Funds and opens a channel of `wallets` on `machine` (params overridable). With `keys`, they
   * are the session keys (params.signers) that sign every transaction; the wallets still sign
   * the open and close consents and send every call.
   */
  static async open(f: Fixture, wallets: Wallet[], machine: Contract, over: Partial<ChannelParams> = {}, keys?: Wallet[]): Promise<Sim> {
    const signers = keys ? { signers: keys.map((k) => k.address.toLowerCase() as Hex) } : {}
    const params = makeParams(wallets, (await machine.getAddress()).toLowerCase() as Hex, { ...signers, ...over })
    const { channelId, genesis, timestamp } = await openChannel(f, wallets, params)
    const sim = new Sim(f, wallets, params, channelId, genesis, machine, keys)
    sim.genesisTimestamp = timestamp
    return sim
  }

  /**
   * Snapshots the chain (evm_snapshot) and this simulation; the returned function reverts both.
   * One snapshot per restore (evm_revert consumes it).
   */
  async checkpoint(): Promise<() => Promise<void>> {
    const id = (await this.f.anvil.provider.send('evm_snapshot', [])) as string
    const saved = {
      fork: this.fork, genesis: this.genesis, genesisTimestamp: this.genesisTimestamp, active: this.active,
      history: [...this.history], record: this.record,
    }
    return async () => {
      assert.ok(await this.f.anvil.provider.send('evm_revert', [id]), `evm_revert(${id}) failed`)
      Object.assign(this, saved, { history: [...saved.history] })
    }
  }

  /** The member list every call takes (participants ‖ signers with session keys). */
  get participants(): Hex[] {
    return memberList(this.params)
  }

  /** The latest state of the history (the genesis if empty) and its timestamp. */
  get head(): { state: Hex; seq: bigint; hash: Hex; timestamp: bigint } {
    const e = this.history.at(-1)
    return e
      ? { state: e.state, seq: e.tx.seq, hash: e.tx.stateHash, timestamp: e.tx.timestamp }
      : { state: this.genesis, seq: 0n, hash: hashState(this.genesis), timestamp: this.genesisTimestamp }
  }

  /** The channel's skew: max(1, agreementTime / 2) (contract `_latestTimestamp`). */
  get skew(): bigint {
    return defaultSkew(this.params.agreementTime)
  }

  /** The chain's latest block time. */
  async now(): Promise<bigint> {
    return BigInt(await this.f.anvil.now())
  }

  entry(seq: bigint): Entry {
    const e = this.history.find((x) => x.tx.seq === seq)
    if (!e) throw new Error(`no transaction at seq ${seq}`)
    return e
  }

  /** Builds (and appends) the next transaction by `actor` with `data` on the head state (stamped with the chain's time unless given). */
  async move(actor: number, data: Hex, timestamp?: bigint, append = true): Promise<Entry> {
    const prev = this.head
    // The chain's time, but never before the parent (a list entry may not be).
    const now = await this.now()
    const ts = timestamp ?? (now > prev.timestamp ? now : prev.timestamp)
    const state = (await this.machine.getFunction('transition')(prev.state, actor, data, ts)) as Hex
    const tx: Transaction = {
      channelId: this.channelId, fork: this.fork, seq: prev.seq + 1n, timestamp: ts, actor,
      previousStateHash: prev.hash, data, stateHash: hashState(state),
    }
    const e = { tx, state }
    if (append) this.history.push(e)
    return e
  }

  /**
   * A transaction with arbitrary fields on top of the head (for invalid ones). Stamped like the
   * head by default: never before the fork genesis nor after the chain's time, so only what a
   * test overrides is wrong with it.
   */
  forge(over: Partial<Transaction>): Transaction {
    const prev = this.head
    return {
      channelId: this.channelId, fork: this.fork, seq: prev.seq + 1n, timestamp: prev.timestamp, actor: 0,
      previousStateHash: prev.hash, data: '0x', stateHash: hashState('0x'), ...over,
    }
  }

  sig(tx: Transaction, i: number): Hex {
    return signDigest(this.keys[i]!.signingKey, this.f.hasher.transaction(tx))
  }

  /** `tx` signed by `signers` in the contract's packed form. */
  signed(tx: Transaction, signers: number[]): PackedSignedTransaction {
    return { transaction: tx, ...packSignatures(new Map(signers.map((i) => [i, this.sig(tx, i)]))) }
  }

  /** History entries `from..to` (seqs), each signed by its author plus `extra(seq)` signers. */
  chain(from: bigint, to: bigint, extra: (e: Entry) => number[] = () => []): PackedSignedTransaction[] {
    const out: PackedSignedTransaction[] = []
    for (let s = from; s <= to; s++) {
      const e = this.entry(s)
      out.push(this.signed(e.tx, [...new Set([e.tx.actor, ...extra(e)])].sort((a, b) => a - b)))
    }
    return out
  }

  /** A one-transaction finality proof of `seq`, signed by every active participant. */
  final(seq: bigint): PackedSignedTransaction[] {
    return [this.signed(this.entry(seq).tx, bitIndices(this.active))]
  }

  /** Calls `method` from participant `i`'s wallet (or `from`), waits, records events. */
  async send(i: number | Wallet, method: string, ...args: unknown[]): Promise<TransactionReceipt> {
    const w = typeof i === 'number' ? this.wallets[i]! : i
    const m = this.f.manager.connect(w) as Contract
    const receipt = (await (await m.getFunction(method)(...args)).wait()) as TransactionReceipt
    this.observe(receipt)
    return receipt
  }

  /** Updates fork/genesis/record/active from a receipt's events. */
  observe(receipt: TransactionReceipt): void {
    this.last = new Map()
    for (const log of receipt.logs) {
      const ev = this.f.manager.interface.parseLog(log)
      if (!ev) continue
      const args = Object.fromEntries(ev.fragment.inputs.map((p, k) => [p.name, plain(p, ev.args[k])])) as Record<string, unknown>
      this.last.set(ev.name, [...(this.last.get(ev.name) ?? []), args])
      if (ev.name === 'DisputeRaised' || ev.name === 'DisputeAnswered') this.record = toRecord(args.dispute as Record<string, unknown>)
      if (ev.name === 'DisputeCancelled' || ev.name === 'DisputeResolved') this.record = NO_DISPUTE
      if (ev.name === 'ParticipantRemoved') this.active &= ~(1n << BigInt(args.index as bigint))
      if (ev.name === 'StateSet') {
        this.fork = BigInt(args.fork as bigint)
        this.genesis = String(args.state) as Hex
        this.genesisTimestamp = BigInt(args.timestamp as bigint)
        this.active = BigInt(args.active as bigint)
        this.history = []
      }
    }
  }

  events(name: string): Record<string, unknown>[] {
    return this.last.get(name) ?? []
  }

  async balance(i: number): Promise<bigint> {
    return (await this.f.manager.getFunction('balanceOf')(this.wallets[i]!.address, this.params.asset)) as bigint
  }

  async balances(): Promise<bigint[]> {
    return Promise.all(this.wallets.map((_, i) => this.balance(i)))
  }

  async channel(): Promise<Record<string, unknown>> {
    return ((await this.f.manager.getFunction('getChannel')(this.channelId)) as { toObject(): Record<string, unknown> }).toObject()
  }

  // ─── Entry points with the usual arguments ───────────────────────────────────────────────
  timeout(i: number, txs: PackedSignedTransaction[], state: Hex) {
    return this.send(i, 'disputeTimeout', this.channelId, this.participants, i, txs, state)
  }
  /** Exit (`leave`) or force-close from `proof` (empty = genesis); `state` defaults to the proven state's bytes. */
  exit(i: number, proof: PackedSignedTransaction[], leave: boolean, state = this.stateOf(proof[0])) {
    return this.send(i, 'exit', this.channelId, this.participants, i, this.record, proof, leave, state)
  }
  respond(i: number, tx: Transaction, signature: Hex) {
    return this.send(i, 'respond', this.channelId, this.participants, i, this.record, ...responseArgs(tx), signature)
  }
  answer(i: number, proof: PackedSignedTransaction[], state = this.stateOf(proof[0])) {
    return this.send(i, 'answer', this.channelId, this.participants, i, this.record, proof, state)
  }
  /** Extends an exit or force-close with an anchored list; `state` defaults to its last entry's bytes. */
  extend(i: number, txs: PackedSignedTransaction[], state = this.stateOf(txs.at(-1))) {
    return this.send(i, 'extend', this.channelId, this.participants, i, this.record, txs, state)
  }
  refute(i: number, tx: Transaction, signature: Hex, checkpoint: PackedSignedTransaction[] = [], state = this.stateOf(checkpoint[0])) {
    return this.send(i, 'refute', this.channelId, this.participants, i, this.record, tx, signature, checkpoint, state)
  }
  /** `state` defaults to the resulting candidate's bytes (the later of the checkpoint and an open fraud dispute's candidate). */
  proveInvalid(i: number, fraud: PackedSignedTransaction, previous: Hex, checkpoint: PackedSignedTransaction[] = [], state = this.fraudState(checkpoint)) {
    return this.send(i, 'proveInvalidTransition', this.channelId, this.participants, i, this.record, fraud, previous, checkpoint, state)
  }
  proveEquivocation(i: number, a: PackedSignedTransaction, b: PackedSignedTransaction, checkpoint: PackedSignedTransaction[] = [], state = this.fraudState(checkpoint)) {
    return this.send(i, 'proveEquivocation', this.channelId, this.participants, i, this.record, a, b, checkpoint, state)
  }

  /** The state bytes of a list entry's transaction (the genesis when undefined): from the history. */
  stateOf(entry: PackedSignedTransaction | undefined): Hex {
    if (!entry) return this.genesis
    const e = this.history.find((x) => x.tx.stateHash === entry.transaction.stateHash && x.tx.seq === entry.transaction.seq)
    return e ? e.state : ('0x' as Hex)
  }

  /** The candidate bytes a fraud proof with `checkpoint` leads to (an open fraud dispute keeps a later candidate). */
  fraudState(checkpoint: PackedSignedTransaction[]): Hex {
    const seq = checkpoint[0]?.transaction.seq ?? 0n
    if (this.record.kind === DisputeKind.Fraud && this.record.seq > seq) {
      return this.record.seq === 0n ? this.genesis : this.entry(this.record.seq).state
    }
    return this.stateOf(checkpoint[0])
  }
  post(i: number, tx: Transaction, signature: Hex) {
    return this.send(i, 'postTransaction', this.channelId, this.participants, tx, signature)
  }
  /** The payouts of a close on `state`: the machine's outcome with nothing for inactive participants (closePayouts). */
  async closePayouts(state: Hex): Promise<bigint[]> {
    return closePayouts(((await this.machine.getFunction('outcome')(state)) as bigint[]).map(BigInt), this.active)
  }

  /**
   * The arguments of close / closeAndPay / closeToClaims after the channel id (and record) for
   * a close on `state`: [stateHash, payouts, others, signatures], every active participant's
   * wallet consenting to the machine's payouts of `state` (or `payouts`).
   */
  async closeTerms(state: Hex, payouts?: bigint[]): Promise<[Hex, bigint[], Hex[], Hex]> {
    const pay = payouts ?? (await this.closePayouts(state))
    const digest = this.f.hasher.close(this.channelId, this.fork, hashState(state), pay)
    const { signatures } = packSignatures(new Map(bitIndices(this.active).map((i) => [i, signDigest(this.wallets[i]!.signingKey, digest)])))
    return [hashState(state), pay, closeOthers(this.participants, this.params.participants.length, this.active), signatures]
  }

  /** Closes cooperatively from `state`: every active participant signs CloseChannel with the machine's payouts of `state` (or `payouts`). */
  async closeCoop(state: Hex, by = bitIndices(this.active)[0]!, payouts?: bigint[]) {
    return this.send(by, 'close', this.channelId, ...(await this.closeTerms(state, payouts)))
  }

  /** The machine's next actor of the head state. */
  async turn(): Promise<number> {
    return Number(await this.machine.getFunction('nextActor')(this.head.state))
  }

  /** Waits out the deadline and resolves from `state` (by participant `by`). */
  async resolve(state: Hex, by = 0): Promise<TransactionReceipt> {
    const now = BigInt(await this.f.anvil.now())
    if (now <= this.record.deadline) await this.f.anvil.increaseTime(Number(this.record.deadline - now) + 1)
    return this.send(by, 'resolve', this.channelId, this.participants, this.record, state)
  }
}

/** Byte offsets of each function's mode in a QuirkyMachine state's quirk (contracts/test/QuirkyMachine.sol). */
export const QUIRK_AT = { transition: 0n, onRemove: 8n, outcome: 16n, nextActor: 24n, isTerminal: 32n, removeIndex: 40n, burnRounds: 48n } as const
/** QuirkyMachine modes (which apply to which function: see the contract). */
export const QUIRK = {
  NORMAL: 0n, PAD: 1n, BAD_OFFSET: 2n, LENGTH_BEYOND: 3n, REVERT: 4n, TOO_LARGE: 5n, SHORT: 6n, EMPTY: 7n, EXCEEDS: 8n, BIG: 9n, TRUE: 10n, BURN: 11n,
} as const
/** A quirk word: each function's mode (and the index whose onRemove reverts). */
export const quirk = (modes: Partial<Record<keyof typeof QUIRK_AT, bigint>>): bigint =>
  Object.entries(modes).reduce((q, [fn, m]) => q | (m << QUIRK_AT[fn as keyof typeof QUIRK_AT]), 0n)
/** QuirkyMachine move data: the next state gets quirk `q`. */
export const setQuirk = (q: bigint): Hex => abi.encode(['uint256'], [q]) as Hex

export { assertSolvent } from './solvency.js'
export { expectRevert, decodeRevert } from './revert.js'
