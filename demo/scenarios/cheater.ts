/**
 * The punishment scenario: Alice and Bob run the real client (Channel facade, local EVM,
 * in-memory transport) with its court attached — a ChainListener and a DisputeHandler that act
 * on-chain by themselves; Mallory signs a transaction that claims a state the machine does not
 * produce (a "pass" that leaves her 0.5 ETH richer at Bob's expense). The honest clients reject
 * it, prove it on-chain with no help from the script, Mallory is slashed (her share and bond go
 * to the prover), the chain removes her at the end of the challenge period, and Alice and Bob
 * play on and close. The scenario checks every balance.
 */
import { AbiCoder, hexlify, parseEther, randomBytes, type Wallet } from 'ethers'
import { ChainListener } from '../../src/chain/ChainListener.js'
import { signOpenConsent } from '../../src/chain/consent.js'
import { Channel } from '../../src/channel/Channel.js'
import { ManualClock } from '../../src/clock/ManualClock.js'
import { attachCourt, type Court } from '../../src/dispute/attachCourt.js'
import { ProtocolError } from '../../src/errors/ParleyError.js'
import { EvmStateMachine } from '../../src/machine/EvmStateMachine.js'
import { hashState } from '../../src/protocol/eip712.js'
import { signDigest } from '../../src/protocol/signatures.js'
import { ETH, type ChannelParams, type Hex, type Transaction } from '../../src/protocol/types.js'
import { MemoryStore } from '../../src/store/MemoryStore.js'
import { MemoryHub } from '../../src/transport/MemoryHub.js'
import { eth, short } from '../timeline.js'
import type { World } from '../world.js'

const abi = AbiCoder.defaultAbiCoder()
const NAMES = ['alice', 'bob', 'mallory']
const DEPOSIT = parseEther('1')
const BOND = parseEther('0.1')
const PAYMENTS = 'tuple(uint64 active, uint16 turn, uint256[] balances)'

interface Peer {
  name: string
  wallet: Wallet
  channel: Channel
  clock: ManualClock
  court?: Court
  listener?: ChainListener
}

const check = (ok: boolean, what: string) => {
  if (!ok) throw new ProtocolError('DEMO_CHECK_FAILED', what)
}

export async function runCheater(world: World, mallory: Wallet): Promise<void> {
  const { stack, hasher, anvil, timeline: tl } = world
  const wallets = [world.peers[0]!.wallet, world.peers[1]!.wallet, mallory]
  tl.title('Parley demo: Mallory cheats, the honest clients prove it on-chain by themselves, the chain punishes her')
  tl.section('1. Deposit and open, with a bond of 0.1 ETH each (on-chain)')
  const before = await Promise.all(wallets.map((w) => stack.manager.balanceOf(w.address.toLowerCase() as Hex, ETH)))
  for (const [i, w] of wallets.entries()) {
    const r = await stack.manager.connect(w).deposit(ETH, DEPOSIT + BOND)
    tl.chain(NAMES[i]!, `deposited ${eth(DEPOSIT + BOND)} ETH (deposit + bond)`, r.gasUsed)
  }
  const params: ChannelParams = {
    participants: wallets.map((w) => w.address.toLowerCase() as Hex), machine: stack.machines.payments, asset: ETH,
    deposits: [DEPOSIT, DEPOSIT, DEPOSIT], bond: BOND, p2pTime: 60, agreementTime: 30, chainFallbackTime: 120, challengeTime: 300,
    salt: hexlify(randomBytes(32)) as Hex, initData: '0x',
  }
  const opened = await stack.manager.connect(wallets[0]!).open(params, wallets.map((w) => signOpenConsent(w.signingKey, hasher, params)))
  tl.chain('alice', `opened channel ${short(opened.channelId)} on Payments (N=3, bond ${eth(BOND)} ETH)`, opened.gasUsed)

  const hub = new MemoryHub()
  const genesis = { state: opened.genesis.state, timestamp: opened.genesis.timestamp }
  const peers: Peer[] = []
  for (const [i, wallet] of wallets.entries()) {
    const clock = new ManualClock(genesis.timestamp, { followBlocks: true })
    const machine = await EvmStateMachine.fromChain({ provider: anvil.provider, address: params.machine })
    const channel = await Channel.create({ params, genesis, signer: wallet, machine, store: new MemoryStore(), transport: hub.connect(i), clock, hasher, chain: stack.manager.connect(wallet) })
    peers.push({ name: NAMES[i]!, wallet, channel, clock })
  }
  for (const p of peers.slice(0, 2)) {
    p.listener = new ChainListener({ provider: anvil.provider, manager: stack.manager.address, pollMs: 50, clock: p.clock })
    p.court = attachCourt(p.channel, { listener: p.listener, manager: stack.manager.connect(p.wallet), fromBlock: opened.blockNumber })
    p.court.on('submitted', ({ action, gasUsed }) => tl.chain(p.name, `court: ${action.kind} — ${action.why}`, gasUsed))
  }
  tl.step('alice', 'and bob run the client with its court attached (chain listener + dispute handler); mallory does not')

  try {
    const [alice, bob, evil] = peers as [Peer, Peer, Peer]
    const all = peers.map((p) => p.channel)
    tl.section('2. Off-chain payments, each final for everyone')
    const pays: [Peer, number, bigint][] = [[alice, 1, parseEther('0.2')], [bob, 2, parseEther('0.3')], [evil, 0, parseEther('0.1')], [alice, 2, parseEther('0.05')], [bob, 0, parseEther('0.1')]]
    for (const [p, to, amount] of pays) {
      const { seq } = await p.channel.propose(abi.encode(['uint16', 'uint256'], [to, amount]) as Hex)
      await Promise.all(all.map((c) => c.waitFinal(seq)))
      tl.step(p.name, `tx #${seq} pays ${NAMES[to]} ${eth(amount)} ETH — final`)
    }
    const honestState = alice.channel.state
    const [balances] = abi.decode([PAYMENTS], honestState.state) as unknown as [{ balances: bigint[] }]
    const atFraud = [...balances.balances]

    tl.section('3. Mallory cheats: a "pass" whose claimed state moves 0.5 ETH from Bob to her')
    const forged = [...atFraud]
    forged[2]! += parseEther('0.5')
    forged[1]! -= parseEther('0.5')
    const [s] = abi.decode([PAYMENTS], honestState.state) as unknown as [{ active: bigint; turn: bigint }]
    const forgedState = abi.encode([PAYMENTS], [{ active: s.active, turn: 0, balances: forged }]) as Hex
    const tx: Transaction = {
      channelId: opened.channelId, fork: 0n, seq: honestState.seq + 1n, timestamp: evil.clock.now(), actor: 2,
      previousStateHash: honestState.stateHash, data: '0x', stateHash: hashState(forgedState),
    }
    const slashed = alice.court!.next('slashed')
    const rejected = new Promise<string>((resolve) => alice.channel.on('fraud', ({ error }) => resolve((error as ProtocolError).code)))
    for (const to of [0, 1]) hub.route(2, to, { type: 'tx', transaction: tx, signature: signDigest(mallory.signingKey, hasher.transaction(tx)) })
    tl.step('mallory', `broadcasts tx #${tx.seq}, signed, claiming state ${short(tx.stateHash)}`)
    tl.step('alice', `re-runs Payments, rejects it (${await rejected}) and keeps the evidence`)
    const { beneficiary } = await slashed
    tl.step('chain', `mallory is slashed: her share (${eth(atFraud[2]!)} ETH) and bond go to ${NAMES[beneficiary]}, the prover`)

    tl.section('4. The challenge period passes (anvil time travel, +301 s); the courts resolve')
    const forked = Promise.all([alice.channel.next('fork'), bob.channel.next('fork')])
    await anvil.increaseTime(301)
    const [fork] = await forked
    tl.step('chain', `fork ${fork.fork} starts from the latest final state without mallory (active: alice, bob)`)

    tl.section('5. Alice and Bob play on and close cooperatively; everyone withdraws')
    const first = alice.channel.state.isMyTurn ? alice : bob
    const second = first === alice ? bob : alice
    const amount = parseEther('0.25')
    const { seq } = await first.channel.propose(abi.encode(['uint16', 'uint256'], [wallets.indexOf(second.wallet), amount]) as Hex)
    await second.channel.waitFinal(seq).then(() => first.channel.waitFinal(seq))
    tl.step(first.name, `tx #${seq} on fork 1 pays ${second.name} ${eth(amount)} ETH — final for both`)
    const closed = await first.channel.close()
    tl.step(first.name, `closed on fork 1 with both CloseChannel signatures (tx ${short(closed.transactionHash ?? '0x')})`)

    const expected = [atFraud[0]! + BOND, atFraud[1]! + BOND, 0n]
    expected[beneficiary]! += atFraud[2]! + BOND
    const fi = wallets.indexOf(first.wallet)
    const si = wallets.indexOf(second.wallet)
    expected[fi]! -= amount
    expected[si]! += amount
    const after = await Promise.all(wallets.map((w) => stack.manager.balanceOf(w.address.toLowerCase() as Hex, ETH)))
    const got = after.map((b, i) => b - before[i]!)
    tl.line('')
    tl.line(`${' '.repeat(18)}${'paid out'.padEnd(10)} ${'expected'.padStart(12)} ${'credited'.padStart(12)}`)
    for (const [i, n] of NAMES.entries()) tl.line(`${' '.repeat(18)}${n.padEnd(10)} ${eth(expected[i]!).padStart(12)} ${eth(got[i]!).padStart(12)}`)
    check(got.every((g, i) => g === expected[i]), `credits ${got.join(', ')} differ from the expected ${expected.join(', ')}`)
    check(got[2] === 0n, 'mallory was paid')
    for (const [i, w] of wallets.entries()) if (after[i]! > 0n) await stack.manager.connect(w).withdraw(ETH, after[i]!)
    check((await anvil.provider.getBalance(stack.manager.address)) === 0n, 'the manager still holds ETH after every withdrawal')
    tl.step('all', `✓ mallory lost her share (${eth(atFraud[2]!)} ETH) and her bond to ${NAMES[beneficiary]}; every balance as expected; the manager holds nothing`)
  } finally {
    for (const p of peers) {
      await p.court?.detach()
      await p.listener?.close()
      await p.channel.dispose()
    }
  }
}
