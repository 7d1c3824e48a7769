/**
 * A byzantine participant for end-to-end tests and the adversary search: it signs anything
 * (invalid transitions, equivocations at any height, backdated or far-future timestamps,
 * oversized data), builds anchored candidate lists from arbitrary signed transactions, and calls
 * any court entry point with any arguments — straight from its EOA, through a relay contract, or
 * from its EIP-7702-delegated EOA (see ./relay.ts). Nothing here checks that what it signs or
 * sends is valid: that is the point. Reverts reject with the ethers error (name the custom error
 * with `expectRevert` from ./revert.ts).
 *
 * Routes: the manager checks that the caller of a dispute call is the participant at `index`,
 * so a plain relay reaches only `postTransaction` and `resolve` (msg.sender = the relay); every
 * other call goes `direct` or `{ delegate }` (msg.sender = the byzantine EOA, on a chain at
 * prague or later, `startAnvil({ hardfork: 'prague' })`).
 */
import type { TransactionReceipt, Wallet } from 'ethers'
import { decodeManagerLog, type ManagerEvent } from '../../src/chain/decode.js'
import type { ManagerClient } from '../../src/chain/ManagerClient.js'
import { timeoutCandidates } from '../../src/dispute/anchor.js'
import type { StateMachine } from '../../src/machine/StateMachine.js'
import { hashState, type ParleyHasher } from '../../src/protocol/eip712.js'
import { responseArgs } from '../../src/protocol/disputes.js'
import { packSignatures, signDigest, unpackSignatures } from '../../src/protocol/signatures.js'
import type { ChannelParams, DisputeRecord, Hex, PackedSignedTransaction, Transaction } from '../../src/protocol/types.js'
import type { Store } from '../../src/store/types.js'
import { sendVia7702, sendViaRelay } from './relay.js'
import { memberList } from '../../src/protocol/members.js'
import { channelStruct, NO_CHANNEL } from '../../src/chain/records.js'
import { channelTrack } from '../../src/chain/recordLog.js'

/** What a transaction is built on: any transaction (its fields name the parent), a snapshot, or a fork genesis at seq 0. */
export interface Parent {
  fork: bigint
  seq: bigint
  stateHash: Hex
  timestamp: bigint
}

/** A transaction with the signatures collected on it, by participant index. */
export interface Signed {
  transaction: Transaction
  signatures: Map<number, Hex>
}

/** How a call reaches the manager: from the EOA, through a deployed relay (Forwarder), or from the EOA delegated to a Forwarder (EIP-7702). */
export type Route = 'direct' | { relay: Hex } | { delegate: Hex }

/** The arguments of each court entry point after `channelId, participants` (and the caller's index, added when the method takes it). */
export interface CourtArgs {
  postTransaction: [transaction: Transaction, signature: Hex]
  disputeTimeout: [txs: PackedSignedTransaction[], state: Hex]
  exit: [dispute: DisputeRecord, proof: PackedSignedTransaction[], leave: boolean, state: Hex]
  respond: [dispute: DisputeRecord, transaction: Transaction, signature: Hex]
  answer: [dispute: DisputeRecord, proof: PackedSignedTransaction[], state: Hex]
  extend: [dispute: DisputeRecord, txs: PackedSignedTransaction[], state: Hex]
  refute: [dispute: DisputeRecord, transaction: Transaction, signature: Hex, checkpoint: PackedSignedTransaction[], state: Hex]
  proveInvalidTransition: [dispute: DisputeRecord, fraud: PackedSignedTransaction, previousState: Hex, checkpoint: PackedSignedTransaction[], state: Hex]
  proveEquivocation: [dispute: DisputeRecord, first: PackedSignedTransaction, second: PackedSignedTransaction, checkpoint: PackedSignedTransaction[], state: Hex]
  resolve: [dispute: DisputeRecord, state: Hex]
}

/** A court entry point. */
export type CourtMethod = keyof CourtArgs

/** respond's contract arguments from the whole move: the record, the move's own fields, the signature. */
const responseCall = ([dispute, move, signature]: CourtArgs['respond']): unknown[] => [dispute, ...responseArgs(move), signature]

/**
 * EIP-1559 fees of a call (anvil orders a block's transactions by fee), and a gas limit, which
 * skips the estimate: anvil estimates on its pending block, where honest transactions waiting
 * to be mined already changed the dispute (leave room for the manager's 5M-gas machine calls).
 */
export interface Fees {
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  gasLimit?: bigint
}

/** What a mined call did: the receipt, the manager's events, and the dispute record it left (raised or answered), if any. */
export interface CourtCall {
  receipt: TransactionReceipt
  events: ManagerEvent[]
  record?: DisputeRecord
}

/** Options of {@link Byzantine}. */
export interface ByzantineOptions {
  /** The byzantine participant's wallet, connected to the chain. */
  wallet: Wallet
  params: ChannelParams
  hasher: ParleyHasher
  /** The manager (any connection: calls are sent from `wallet`). */
  manager: ManagerClient
  /** The channel's machine, for moves whose resulting state should be the real one ({@link Byzantine.move}). */
  machine?: StateMachine
  /** Our session key (params.signers[me]), which signs our transactions; the wallet still calls. */
  sessionKey?: Wallet
}

const WITHOUT_INDEX = new Set<CourtMethod>(['postTransaction', 'resolve'])

/**
 * One byzantine participant of one channel.
 * @example
 * const mallory = new Byzantine({ wallet, params: c.params, hasher, manager: stack.manager, machine: await c.machine() })
 * const t = mallory.tx(head, { stateHash: hashState(madeUp), timestamp: head.timestamp })  // an equivocation, backdated
 * const list = anchoredList([...history, mallory.signed(t)], { genesisHash, active: 0b111n })
 * const { record } = await mallory.call('disputeTimeout', [list, madeUp], { delegate: forwarder })
 */
export class Byzantine {
  readonly me: number
  readonly channelId: Hex

  constructor(readonly o: ByzantineOptions) {
    const address = o.wallet.address.toLowerCase()
    this.me = o.params.participants.findIndex((p) => p.toLowerCase() === address)
    if (this.me < 0) throw new Error(`${address} is not a participant of this channel`)
    this.channelId = o.hasher.channelId(o.params)
  }

  /**
   * A transaction on `parent` (seq + 1, same fork, previousStateHash = its stateHash), by us,
   * stamped with the parent's timestamp and carrying no data unless `fields` say otherwise; any
   * field may be overridden (a lower seq for an equivocation, another actor, a backdated or
   * far-future timestamp, oversized data, a made-up stateHash).
   * @example const late = mallory.tx(head, { stateHash: head.stateHash, timestamp: 2n ** 62n })
   */
  tx(parent: Parent, fields: Partial<Transaction> & { stateHash: Hex }): Transaction {
    return {
      channelId: this.channelId, fork: parent.fork, seq: parent.seq + 1n, timestamp: parent.timestamp, actor: this.me,
      previousStateHash: parent.stateHash, data: '0x', ...fields,
    }
  }

  /**
   * A valid move by us on `parent` (whose bytes are `state`): the machine's real result, stamped
   * `fields.timestamp` (default: the parent's). Other fields may still be overridden afterwards.
   * @example const { transaction, state } = await mallory.move(head, head.state, pay(ALICE, 1n), { timestamp: head.timestamp })
   */
  async move(parent: Parent, state: Hex, data: Hex, fields: Partial<Transaction> = {}): Promise<{ transaction: Transaction; state: Hex }> {
    if (!this.o.machine) throw new Error('Byzantine.move needs the machine (ByzantineOptions.machine)')
    const actor = fields.actor ?? this.me
    const timestamp = fields.timestamp ?? parent.timestamp
    const next = await this.o.machine.transition(state, actor, data, timestamp)
    return { transaction: this.tx(parent, { data, timestamp, actor, ...fields, stateHash: hashState(next) }), state: next }
  }

  /** Our signature on `t` (whatever it says), by our session key if we have one. @example const sig = mallory.sign(t) */
  sign(t: Transaction): Hex {
    return signDigest((this.o.sessionKey ?? this.o.wallet).signingKey, this.o.hasher.transaction(t))
  }

  /**
   * `t` packed for the contract with our signature and `others` (co-signatures we collected or
   * colluders' signatures).
   * @example const entry = mallory.signed(t, new Map([[TRUDY, trudy.sign(t)]]))
   */
  signed(t: Transaction, others: ReadonlyMap<number, Hex> = new Map()): PackedSignedTransaction {
    return { transaction: t, ...packSignatures(new Map([...others, [this.me, this.sign(t)]])) }
  }

  /** The arguments of `method`: the channel id, `record`, the member list, the caller's index where the method takes it, then `args`. */
  private full<M extends CourtMethod>(method: M, args: CourtArgs[M], record: unknown): unknown[] {
    const { params } = this.o
    // respond takes the move's timestamp, data and state hash only (the rest is the dispute's).
    const own: unknown[] = method === 'respond' ? responseCall(args as CourtArgs['respond']) : args
    return WITHOUT_INDEX.has(method) ? [this.channelId, record, memberList(params), ...own] : [this.channelId, record, memberList(params), this.me, ...own]
  }

  /**
   * The same call as {@link call} (direct route) signed but not sent: a raw transaction for
   * `anvil_reorg`, which puts it into a replacement block.
   * @example await provider.send('anvil_reorg', [1, [[await mallory.rawCall('exit', [NO_DISPUTE, [], false, genesis]), 0]]])
   */
  async rawCall<M extends CourtMethod>(method: M, args: CourtArgs[M]): Promise<string> {
    const { manager, params, wallet } = this.o
    // The replacement block follows the head's parent: the record as of that block.
    const head = await wallet.provider!.getBlockNumber()
    const track = await channelTrack(wallet.provider!, manager.contract.interface, manager.address, this.channelId, { toBlock: head - 1 })
    const full = this.full(method, args, channelStruct(track?.record ?? NO_CHANNEL))
    const req = await (manager.contract.connect(wallet) as typeof manager.contract).getFunction(method).populateTransaction(...full)
    return wallet.signTransaction(await wallet.populateTransaction({ ...req, gasLimit: 12_000_000n })) // no estimate: the court needs gas for machine calls (MachineGasTooLow)
  }

  /**
   * Calls a court entry point with any arguments through `route`; resolves once mined, rejects
   * with the ethers error of the revert. The caller's index is added for the methods that take it.
   * `fees` (direct route) outbid honest transactions waiting in the same block ({@link manualMining}).
   * @example await expectRevert(mallory.call('disputeTimeout', [list, state]), 'ProofTimestampInvalid')
   */
  async call<M extends CourtMethod>(method: M, args: CourtArgs[M], route: Route = 'direct', fees: Fees = {}): Promise<CourtCall> {
    const { manager, wallet } = this.o
    // The record a client re-supplies: rebuilt from the channel's events (src/chain/recordLog.ts).
    const full = this.full(method, args, channelStruct((await manager.track(this.channelId))?.record ?? NO_CHANNEL))
    let receipt: TransactionReceipt
    if (route === 'direct') {
      const tx = await (manager.contract.connect(wallet) as typeof manager.contract).getFunction(method).send(...full, fees)
      try {
        receipt = (await tx.wait())!
      } catch (e) {
        // Sent with a fixed gas limit (no estimate), a revert is only known once mined: its data comes from the node's trace.
        const data = await revertDataOf(wallet.provider as unknown as Parameters<typeof revertDataOf>[0], tx.hash)
        throw data ? Object.assign(new Error(`${method} reverted`), { code: 'CALL_EXCEPTION', data, cause: e }) : e
      }
    } else {
      if (Object.keys(fees).length > 0) throw new Error('Byzantine.call: fees apply to the direct route only')
      const calldata = manager.contract.interface.encodeFunctionData(method, full) as Hex
      receipt = 'relay' in route ? await sendViaRelay(route.relay, wallet, manager.address, calldata) : await sendVia7702(wallet, route.delegate, manager.address, calldata)
    }
    const events = receipt.logs.flatMap((log) => (log.address.toLowerCase() === manager.address ? [decodeManagerLog(manager.contract.interface, log)] : []))
      .filter((e): e is ManagerEvent => e !== undefined)
    const last = events.filter((e) => e.name === 'DisputeRaised' || e.name === 'DisputeAnswered').at(-1)
    return { receipt, events, ...(last ? { record: (last.args as { dispute: DisputeRecord }).dispute } : {}) }
  }
}

/**
 * The signed transactions a store holds on `fork` for seqs `from..to` (inclusive), each with
 * every signature stored for it — a byzantine participant's view of the honest history.
 * @example const history = signedHistory(mallory.store, channelId, 0n, 1n, 3n)
 */
export function signedHistory(store: Store, channelId: Hex, fork: bigint, from: bigint, to: bigint): Signed[] {
  const out: Signed[] = []
  for (let seq = from; seq <= to; seq++) {
    const r = store.getTx(channelId, fork, seq)
    if (!r) throw new Error(`the store holds no transaction at fork ${fork} seq ${seq}`)
    out.push({ transaction: r.transaction, signatures: store.getSignatures(channelId, r.digest) })
  }
  return out
}

/**
 * The shortest suffix of `entries` (linked, ascending, each signed by its actor) that the
 * contract takes as anchored: a finality proof of its first entry under virtual voting, or a run
 * from seq 1 on the fork genesis `genesisHash`. Entries may be packed or carry signature maps;
 * signatures of participants outside `active` are dropped. Throws when no suffix of at most
 * |active| entries is anchored.
 * @example const list = anchoredList([...signedHistory(store, id, 0n, 1n, 2n), mallory.signed(fake)], { genesisHash, active: 0b111n })
 */
export function anchoredList(entries: readonly (Signed | PackedSignedTransaction)[], o: { genesisHash: Hex; active: bigint }): PackedSignedTransaction[] {
  const run = entries.map((e) => ('signers' in e ? { transaction: e.transaction, signatures: unpackSignatures(e.signers, e.signatures) } : e))
  const list = timeoutCandidates(run, o.genesisHash, o.active)
  if (!list) throw new Error('no suffix of these entries is anchored (signed beyond the window, or no author signature)')
  return list
}

/**
 * `n` bytes of data (0xff…), e.g. above MAX_DATA_BYTES.
 * @example mallory.tx(head, { data: bytes(5000), stateHash })
 */
export function bytes(n: number): Hex {
  return `0x${'ff'.repeat(n)}`
}

/**
 * Makes the chain's next block be stamped `t` (at least the latest block time): the next call
 * sent is estimated and mined at `t`, before any honest client has seen that time (their
 * courts act on blocks), e.g. to raise a timeout in the first second it is allowed.
 * @example await nextBlockAt(anvil.provider, T + postingWindow + 1n); await mallory.call('disputeTimeout', [list, state])
 */
export async function nextBlockAt(provider: { send(method: string, params: unknown[]): Promise<unknown> }, t: bigint): Promise<void> {
  await provider.send('evm_setNextBlockTimestamp', [Number(t)])
}

/** The controls {@link manualMining} hands to its callback. */
export interface MiningControl {
  /** Mines one block with everything pending (ordered by fee). */
  mine(): Promise<void>
  /** Resolves once each of `addresses` has a transaction waiting in the pool (polls every 20 ms); rejects after `timeoutMs` (default 10 s). */
  pending(addresses: readonly string[], timeoutMs?: number): Promise<void>
}

/**
 * Runs `fn` with automine off, so the test decides what shares a block: e.g. wait until the
 * honest courts' fraud proofs are pending, then send a call with higher fees that changes the
 * dispute first (front-running, as a byzantine participant would on a public chain). Automine
 * is back on afterwards, whatever happens.
 * @example
 * await manualMining(provider, async ({ mine, pending }) => {
 *   await pending([alice.address, bob.address])
 *   const first = mallory.call('extend', [record, list, state], 'direct', { maxPriorityFeePerGas: 10n ** 11n, maxFeePerGas: 10n ** 12n, gasLimit: 12_000_000n })
 *   await pending([mallory.o.wallet.address])
 *   await mine()
 *   await first
 * })
 */
export async function manualMining<T>(provider: { send(method: string, params: unknown[]): Promise<unknown> }, fn: (m: MiningControl) => Promise<T>): Promise<T> {
  await provider.send('evm_setAutomine', [false])
  const control: MiningControl = {
    mine: async () => void (await provider.send('evm_mine', [])),
    async pending(addresses, timeoutMs = 10_000) {
      const want = addresses.map((a) => a.toLowerCase())
      for (const until = Date.now() + timeoutMs; ;) {
        if (Date.now() > until) throw new Error(`no pending transaction from ${want.join(', ')} after ${timeoutMs} ms`)
        const pool = (await provider.send('txpool_content', [])) as { pending?: Record<string, unknown> }
        const from = Object.keys(pool.pending ?? {}).map((a) => a.toLowerCase())
        if (want.every((a) => from.includes(a))) return
        await new Promise((r) => setTimeout(r, 20))
      }
    },
  }
  try {
    return await fn(control)
  } finally {
    await provider.send('evm_setAutomine', [true])
  }
}

/** The revert data of a mined, failed transaction (anvil's `debug_traceTransaction` call tracer), if the node tells it. */
async function revertDataOf(provider: { send(method: string, params: unknown[]): Promise<unknown> }, hash: string): Promise<Hex | undefined> {
  try {
    const trace = (await provider.send('debug_traceTransaction', [hash, { tracer: 'callTracer' }])) as { output?: string }
    return typeof trace.output === 'string' && /^0x[0-9a-fA-F]{8}/.test(trace.output) ? (trace.output as Hex) : undefined
  } catch {
    return undefined
  }
}
