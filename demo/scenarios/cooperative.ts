/**
 * The cooperative scenario: alice, bob and carol deposit and open a Payments channel, start
 * the real client (createPeer) and find each other over hyperswarm, pay each other off-chain
 * with every transaction final for all, have the contract check finality proofs built from the
 * client's own store (one of them holding by virtual voting only), close cooperatively through
 * the client, settle and withdraw. Every figure printed is read back from the chain or computed
 * by the machine; the scenario checks its own end result.
 */
import { AbiCoder, parseEther } from 'ethers'
import { ProtocolError } from '../../src/errors/ParleyError.js'
import { bitCount } from '../../src/protocol/bitmap.js'
import { packSignedTransaction } from '../../src/protocol/signatures.js'
import { ETH, Phase, type ChannelParams, type Hex, type PackedSignedTransaction } from '../../src/protocol/types.js'
import { startClients, stopClients, type Client } from '../clients.js'
import { printSummary, type Script, type Settlement } from '../summary.js'
import { eth, short } from '../timeline.js'
import { addressOf, balanceRows, openChannel, type World } from '../world.js'

const abi = AbiCoder.defaultAbiCoder()

/** A scripted move: who pays whom how much (`to` undefined = pass). */
export interface Move {
  by: string
  to?: string
  amount?: bigint
}

const NAMES = ['alice', 'bob', 'carol']
export const DEPOSITS: Record<string, bigint> = { alice: parseEther('1'), bob: parseEther('0.5'), carol: parseEther('0.75') }

/** Round-robin turns (alice, bob, carol, …) as the Payments machine enforces. */
export const MOVES: readonly Move[] = [
  { by: 'alice', to: 'bob', amount: parseEther('0.2') },
  { by: 'bob', to: 'carol', amount: parseEther('0.45') },
  { by: 'carol' },
  { by: 'alice', to: 'carol', amount: parseEther('0.1') },
  { by: 'bob' },
  { by: 'carol', to: 'alice', amount: parseEther('0.3125') },
]

export async function runCooperative(world: World): Promise<void> {
  const { timeline: tl } = world
  const members = NAMES.map((name) => ({ name, wallet: world.wallets[name]! }))
  tl.section('1. Deposit and open (on-chain)')
  const { params, opened } = await openChannel(world, members, NAMES.map((n) => DEPOSITS[n]!), 0n)
  tl.balances('balances', await balanceRows(world, members, params.deposits))
  tl.section('2. Every participant starts the client; the peers meet on the local HyperDHT')
  const clients = await startClients(world, members, params, opened, 'cooperative')
  try {
    await playOffchain(world, clients, MOVES)
    await proveFinality(world, clients, params)
    const settlement = await closeAndWithdraw(world, clients)
    await printSummary(world, clients, params, script(MOVES), settlement)
  } finally {
    await stopClients(clients)
  }
  tl.line('')
}

/** Balances after `moves`, by plain arithmetic (independent of the machine). */
function script(moves: readonly Move[]): Script {
  const b = new Map(NAMES.map((n) => [n, DEPOSITS[n]!]))
  for (const m of moves) {
    if (m.to === undefined) continue
    b.set(m.by, b.get(m.by)! - m.amount!)
    b.set(m.to, b.get(m.to)! + m.amount!)
  }
  return { transactions: moves.length, passes: moves.filter((m) => m.to === undefined).length, expected: NAMES.map((n) => b.get(n)!) }
}

async function playOffchain(world: World, clients: readonly Client[], moves: readonly Move[]): Promise<void> {
  const tl = world.timeline
  tl.section('3. Off-chain transactions over hyperswarm (signed by the author, checked and signed by everyone, no gas)')
  const byName = new Map(clients.map((c) => [c.name, c]))
  for (const move of moves) {
    const author = byName.get(move.by)!
    const to = move.to === undefined ? undefined : byName.get(move.to)!
    const data = (to ? abi.encode(['uint16', 'uint256'], [to.index, move.amount!]) : '0x') as Hex
    const { seq, transaction } = await author.peer.channel.propose(data)
    const what = to ? `pays ${to.name} ${eth(move.amount!)} ETH` : 'passes (empty move: nothing to pay)'
    tl.step(author.name, `tx #${seq} ${what}; new state ${short(transaction.stateHash)}, signed and sent`)
    await Promise.all(clients.map((c) => c.peer.channel.waitFinal(seq)))
    const finals = clients.map((c) => c.peer.channel.state.finalStateHash)
    if (finals.some((h) => h !== transaction.stateHash)) throw new ProtocolError('DEMO_CHECK_FAILED', `the peers disagree on the final state of tx #${seq}`)
    const balances = await author.peer.machine.outcome(author.peer.channel.state.finalState)
    tl.note(`tx #${seq} FINAL for ${clients.map((c) => c.name).join(', ')} (each re-ran Payments and signed) · ` +
      `off-chain: ${clients.map((c, i) => `${c.name} ${eth(balances[i]!)}`).join(' · ')}`)
  }
}

/**
 * Finality proofs from alice's client: the latest final tx as the client proves it, and an
 * earlier one rebuilt from her store with only each author's signature (virtual voting).
 */
async function proveFinality(world: World, clients: readonly Client[], params: ChannelParams): Promise<void> {
  const { stack, timeline: tl } = world
  const { channel } = clients[0]!.peer
  const store = clients[0]!.store
  tl.section(`4. Finality proofs from ${clients[0]!.name}'s client, checked by the contract (verifyFinalityProof, eth_call)`)
  const last = channel.state.finalSeq
  const full = channel.finalityProof(last)
  const a = await stack.manager.verifyFinalityProof(channel.channelId, params.participants, full)
  tl.step('contract', `tx #${a.seq} is final: ${full.length} tx carrying ${full.map((p) => bitCount(p.signers)).join('+')} signatures, state ${short(a.stateHash)}`)
  const target = last - BigInt(clients.length) + 1n
  const vv: PackedSignedTransaction[] = []
  for (let s = target; s <= last; s++) {
    const rec = store.getTx(channel.channelId, 0n, s)
    if (!rec) throw new ProtocolError('DEMO_CHECK_FAILED', `${clients[0]!.name}'s store lacks tx #${s}`)
    vv.push(packSignedTransaction({ transaction: rec.transaction, signatures: store.getSignatures(channel.channelId, rec.digest) }, [rec.transaction.actor]))
  }
  const b = await stack.manager.verifyFinalityProof(channel.channelId, params.participants, vv)
  const chain = vv.map((p) => `#${p.transaction.seq} by ${clients[p.transaction.actor]!.name}`).join(', ')
  tl.step('contract', `tx #${b.seq} is final by virtual voting: ${vv.length} linked txs (${chain}), each with only its author's signature`)
  if (a.seq !== last || b.seq !== target) throw new ProtocolError('DEMO_CHECK_FAILED', 'the contract proved other transactions final than expected')
  try {
    await stack.manager.verifyFinalityProof(channel.channelId, params.participants, vv.slice(0, -1))
    throw new ProtocolError('DEMO_CHECK_FAILED', 'the contract accepted a proof that misses a participant')
  } catch (e) {
    if (!(e instanceof ProtocolError) || e.code !== 'PROOF_NOT_FINAL') throw e
    tl.step('contract', `rejects the same proof without its last tx: ${e.code} (${clients[vv.at(-1)!.transaction.actor]!.name} has not signed)`)
  }
}

async function closeAndWithdraw(world: World, clients: readonly Client[]): Promise<Settlement> {
  const { stack, anvil, timeline: tl } = world
  tl.section('5. Cooperative close through the client, settlement and withdrawal (on-chain)')
  const closer = clients[1]!
  const { channel, court } = closer.peer
  const settled = court.next('closed')
  const everyone = Promise.all(clients.map((c) => c.peer.channel.next('closed')))
  const finalSeq = channel.state.finalSeq
  const result = await channel.close()
  const [ev] = await Promise.all([settled, everyone])
  const receipt = result.transactionHash ? await anvil.provider.getTransactionReceipt(result.transactionHash) : null
  if (!receipt) throw new ProtocolError('DEMO_CHECK_FAILED', `${closer.name}'s client did not submit close`)
  tl.step('all', `signed CloseChannel on the latest final state (tx #${result.seq}, ${short(result.stateHash)}), exchanged over hyperswarm`)
  tl.chain(closer.name, `closed with ${result.signatures.size} CloseChannel signatures, settled by outcome`, receipt.gasUsed)
  tl.note(`payouts ${ev.payouts.map((v, i) => `${clients[i]!.name} ${eth(v)}`).join(' · ')} (credited to manager balances)`)
  const phase = (await stack.manager.getChannel(channel.channelId)).phase
  tl.balances('balances', await balanceRows(world, clients, ev.payouts))
  const withdrawn: bigint[] = []
  for (const c of clients) {
    const amount = await stack.manager.balanceOf(addressOf(c.wallet), ETH)
    withdrawn.push(amount)
    const r = await stack.manager.connect(c.wallet).withdraw(ETH, amount)
    tl.chain(c.name, `withdrew ${eth(amount)} ETH to its wallet`, r.gasUsed)
  }
  tl.balances('balances', await balanceRows(world, clients))
  const stored = clients.map((c) => `${c.name} ${c.store.getTxs(channel.channelId, 0n, 1n).length} txs`).join(', ')
  tl.note(`each client kept the channel in its own SQLite store (${stored}), phase ${clients.map((c) => c.peer.channel.phase).join('/')}`)
  return { finalSeq, state: result.state, payouts: ev.payouts, withdrawn, phase: phase as Phase }
}
