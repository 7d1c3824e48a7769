/**
 * The cooperative scenario: three participants deposit, open a Payments channel, pay each
 * other off-chain with every transaction confirmed by all, prove finality to the contract,
 * close cooperatively, settle and withdraw. Every figure printed is read back from the chain
 * or computed by the machine; the scenario checks its own end result.
 */
import { AbiCoder, hexlify, parseEther, randomBytes } from 'ethers'
import { signCloseConsent, signOpenConsent } from '../../src/chain/consent.js'
import { ProtocolError } from '../../src/errors/ParleyError.js'
import { bitCount } from '../../src/protocol/bitmap.js'
import { ETH, Phase, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import { ChannelView } from '../channel-view.js'
import type { DemoPeer } from '../peer.js'
import { eth, short } from '../timeline.js'
import { balanceRows, type World } from '../world.js'
import { printSummary, type Script, type Settlement } from '../summary.js'

const abi = AbiCoder.defaultAbiCoder()

/** A scripted move: who pays whom how much (`to` undefined = pass). */
export interface Move {
  by: string
  to?: string
  amount?: bigint
}

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
  const params = await fundAndOpen(world)
  await playOffchain(world, MOVES)
  await proveFinality(world, params)
  const settlement = await closeAndWithdraw(world, params)
  await printSummary(world, params, script(world.peers.map((p) => p.name), MOVES), settlement)
  tl.line('')
}

/** Balances after `moves`, by plain arithmetic (independent of the machine). */
function script(names: readonly string[], moves: readonly Move[]): Script {
  const b = new Map(names.map((n) => [n, DEPOSITS[n]!]))
  for (const m of moves) {
    if (m.to === undefined) continue
    b.set(m.by, b.get(m.by)! - m.amount!)
    b.set(m.to, b.get(m.to)! + m.amount!)
  }
  return { transactions: moves.length, passes: moves.filter((m) => m.to === undefined).length, expected: names.map((n) => b.get(n)!) }
}

async function fundAndOpen(world: World): Promise<ChannelParams> {
  const { stack, peers, hasher, timeline: tl } = world
  tl.section('1. Deposit and open (on-chain)')
  for (const p of peers) {
    const r = await stack.manager.connect(p.wallet).deposit(ETH, DEPOSITS[p.name]!)
    tl.chain(p.name, `deposited ${eth(DEPOSITS[p.name]!)} ETH into the manager`, r.gasUsed)
  }
  const params: ChannelParams = {
    participants: peers.map((p) => p.address), machine: stack.machines.payments, asset: ETH,
    deposits: peers.map((p) => DEPOSITS[p.name]!), bond: 0n,
    p2pTime: 60, agreementTime: 30, chainFallbackTime: 120, challengeTime: 300,
    salt: hexlify(randomBytes(32)) as Hex, initData: '0x',
  }
  const consents = peers.map((p) => signOpenConsent(p.wallet.signingKey, hasher, params))
  tl.step('all', `signed consent to open channel ${short(hasher.channelId(params))} (EIP-712 over the channel params)`)
  const opened = await stack.manager.connect(peers[0]!.wallet).open(params, consents)
  tl.chain(peers[0]!.name, `opened the channel on Payments (N=${peers.length}, ETH, fork 0)`, opened.gasUsed)
  tl.note(`genesis state ${short(opened.genesis.stateHash)} from the StateSet event; deposits are now locked`)
  for (const p of peers) p.view = new ChannelView(opened.channelId, params.participants, hasher, { state: opened.genesis.state, fork: 0n })
  tl.balances('balances', await balanceRows(world, params.deposits))
  return params
}

async function playOffchain(world: World, moves: readonly Move[]): Promise<void> {
  const { peers, timeline: tl } = world
  tl.section('2. Off-chain transactions (signed by the author, confirmed by everyone, no gas)')
  const byName = new Map(peers.map((p) => [p.name, p]))
  for (const move of moves) {
    const author = byName.get(move.by)!
    const to = move.to === undefined ? undefined : byName.get(move.to)!
    const data = (to ? abi.encode(['uint16', 'uint256'], [to.index, move.amount!]) : '0x') as Hex
    const proposal = await author.propose(data, BigInt(Math.floor(Date.now() / 1000)))
    const seq = proposal.transaction.seq
    const what = to ? `pays ${to.name} ${eth(move.amount!)} ETH` : 'passes (empty move: nothing to pay)'
    tl.step(author.name, `tx #${seq} ${what}; new state ${short(proposal.transaction.stateHash)}, signed`)
    const others = peers.filter((p) => p !== author)
    const confirmations: [DemoPeer, Hex][] = []
    for (const peer of others) {
      const sig = await peer.confirm(proposal)
      confirmations.push([peer, sig])
      author.receiveConfirmation(seq, peer.index, sig)
      tl.step(peer.name, `confirms tx #${seq} after re-running Payments: supported by ${supportOf(world, author, seq)}`)
    }
    // Everyone learns every confirmation (in memory here; over hyperswarm in later demos).
    for (const [from, sig] of confirmations) {
      for (const q of others) if (q !== from) q.receiveConfirmation(seq, from.index, sig)
    }
    const finalSeq = agreedFinal(peers)
    const balances = await author.machine.outcome(author.view!.stateAt(seq))
    tl.note(`${finalSeq >= seq ? `tx #${seq} FINAL` : `tx #${seq} not final yet`} · off-chain: ${peers.map((p, i) => `${p.name} ${eth(balances[i]!)}`).join(' · ')}`)
  }
}

async function proveFinality(world: World, params: ChannelParams): Promise<void> {
  const { stack, peers, timeline: tl } = world
  const view = peers[0]!.view!
  tl.section('3. Finality proofs checked by the contract (verifyFinalityProof, eth_call)')
  const last = view.head().seq
  const full = view.finalityProof(last)
  const a = await stack.manager.verifyFinalityProof(view.channelId, params.participants, full)
  tl.step('contract', `tx #${a.seq} is final: 1 tx carrying all ${bitCount(full[0]!.signers)} signatures, state ${short(a.stateHash)}`)
  const target = last - BigInt(peers.length) + 1n
  const vv = view.finalityProof(target, { authorsOnly: true })
  const b = await stack.manager.verifyFinalityProof(view.channelId, params.participants, vv)
  const chain = vv.map((p) => `#${p.transaction.seq} by ${peers[p.transaction.actor]!.name}`).join(', ')
  tl.step('contract', `tx #${b.seq} is final by virtual voting: ${vv.length} linked txs (${chain}), each with only its author's signature`)
  if (a.seq !== last || b.seq !== target) throw new ProtocolError('DEMO_CHECK_FAILED', 'the contract proved other transactions final than expected')
  const partial = vv.slice(0, peers.length - 1)
  try {
    await stack.manager.verifyFinalityProof(view.channelId, params.participants, partial)
    throw new ProtocolError('DEMO_CHECK_FAILED', 'the contract accepted a proof that misses a participant')
  } catch (e) {
    if (!(e instanceof ProtocolError) || e.code !== 'PROOF_NOT_FINAL') throw e
    tl.step('contract', `rejects the same proof without its last tx: ${e.code} (${peers[peers.length - 1]!.name} has not signed)`)
  }
}

async function closeAndWithdraw(world: World, params: ChannelParams): Promise<Settlement> {
  const { stack, peers, hasher, timeline: tl } = world
  const view = peers[0]!.view!
  tl.section('4. Cooperative close, settlement and withdrawal (on-chain)')
  const finalSeq = agreedFinal(peers)
  const state = view.stateAt(finalSeq)
  const sigs = new Map(peers.map((p) => [p.index, signCloseConsent(p.wallet.signingKey, hasher, view.channelId, 0n, state)]))
  tl.step('all', `signed CloseChannel on the latest final state (tx #${finalSeq}, ${short(view.head().stateHash)})`)
  const closer = peers[1]!
  const closed = await stack.manager.connect(closer.wallet).close(view.channelId, params.participants, state, sigs)
  tl.chain(closer.name, `closed with ${sigs.size} CloseChannel signatures, settled by outcome`, closed.gasUsed)
  tl.note(`payouts ${closed.closed.payouts.map((v, i) => `${peers[i]!.name} ${eth(v)}`).join(' · ')} (credited to manager balances)`)
  const phase = (await stack.manager.getChannel(view.channelId)).phase
  tl.balances('balances', await balanceRows(world, closed.closed.payouts))
  const withdrawn: bigint[] = []
  for (const p of peers) {
    const amount = await stack.manager.balanceOf(p.address, ETH)
    withdrawn.push(amount)
    const r = await stack.manager.connect(p.wallet).withdraw(ETH, amount)
    tl.chain(p.name, `withdrew ${eth(amount)} ETH to its wallet`, r.gasUsed)
  }
  tl.balances('balances', await balanceRows(world))
  return { finalSeq, state, payouts: closed.closed.payouts, withdrawn, phase: phase as Phase }
}

/** Names supporting `seq` in `peer`'s view (signed it or a later tx). */
function supportOf(world: World, peer: DemoPeer, seq: bigint): string {
  const names = peer.view!.support(seq).map((i) => world.peers[i]!.name)
  return `${names.join(', ')} (${names.length}/${world.peers.length})`
}

/** The latest final seq, which every peer must agree on. */
function agreedFinal(peers: readonly DemoPeer[]): bigint {
  const seqs = peers.map((p) => p.view!.latestFinalSeq())
  if (seqs.some((s) => s !== seqs[0])) throw new ProtocolError('DEMO_CHECK_FAILED', `peers disagree on finality: ${seqs.join(', ')}`)
  return seqs[0]!
}
