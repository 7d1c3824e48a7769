/**
 * The punishment scenario: alice, bob and mallory each run the real client (createPeer:
 * Channel, local EVM, hyperswarm on the local DHT, court attached). Mallory then sends, through
 * her own transport, a transaction that claims a state the machine does not produce (a "pass"
 * that leaves her 0.5 ETH richer at Bob's expense). The honest clients reject it, prove it
 * on-chain with no help from the script, Mallory is slashed (her share and bond go to the
 * prover) and her client shut down, the chain removes her at the end of the challenge period,
 * and Alice and Bob play on over hyperswarm and close. The scenario checks every balance.
 */
import { AbiCoder, parseEther } from 'ethers'
import { ProtocolError } from '../../src/errors/ParleyError.js'
import { hashState } from '../../src/protocol/eip712.js'
import { signDigest } from '../../src/protocol/signatures.js'
import { ETH, type Hex, type Transaction } from '../../src/protocol/types.js'
import { startClients, stopClients, type Client } from '../clients.js'
import { eth, short } from '../timeline.js'
import { addressOf, openChannel, type World } from '../world.js'

const abi = AbiCoder.defaultAbiCoder()
const NAMES = ['alice', 'bob', 'mallory']
const DEPOSIT = parseEther('1')
const BOND = parseEther('0.1')
const PAYMENTS = 'tuple(uint64 active, uint16 turn, uint256[] balances)'

const check = (ok: boolean, what: string) => {
  if (!ok) throw new ProtocolError('DEMO_CHECK_FAILED', what)
}

/**
 * A logical clock follows a jump in block time once most of its recent samples show it, and a
 * peer refuses transactions stamped far ahead of its own clock. After time travel, mines
 * blocks (each polled by every listener at once) until every client's clock is there; returns
 * how many it took.
 */
async function followTimeTravel(world: World, clients: readonly Client[]): Promise<number> {
  for (let mined = 0; mined <= 8; mined++) {
    const chainNow = BigInt(await world.anvil.now())
    if (clients.every((c) => c.peer.clock.now() + 2n >= chainNow)) return mined
    await world.anvil.mine()
    await Promise.all(clients.map((c) => c.peer.listener.poll()))
  }
  throw new ProtocolError('DEMO_CHECK_FAILED', 'the clients\' clocks did not follow the chain after time travel')
}

const pay = (to: number, amount: bigint) => abi.encode(['uint16', 'uint256'], [to, amount]) as Hex

export async function runCheater(world: World): Promise<void> {
  const { stack, hasher, anvil, timeline: tl } = world
  const members = NAMES.map((name) => ({ name, wallet: world.wallets[name]! }))
  tl.title('Parley demo: Mallory cheats, the honest clients prove it on-chain by themselves, the chain punishes her')
  tl.section('1. Deposit and open, with a bond of 0.1 ETH each (on-chain); every participant starts the client')
  const before = await Promise.all(members.map((m) => stack.manager.balanceOf(addressOf(m.wallet), ETH)))
  const { params, opened } = await openChannel(world, members, [DEPOSIT, DEPOSIT, DEPOSIT], BOND)
  const clients = await startClients(world, members, params, opened, 'cheater')

  try {
    const [alice, bob, evil] = clients as [Client, Client, Client]
    tl.section('2. Off-chain payments over hyperswarm, each final for everyone')
    const pays: [Client, number, bigint][] = [[alice, 1, parseEther('0.2')], [bob, 2, parseEther('0.3')], [evil, 0, parseEther('0.1')], [alice, 2, parseEther('0.05')], [bob, 0, parseEther('0.1')]]
    for (const [c, to, amount] of pays) {
      const { seq } = await c.peer.channel.propose(pay(to, amount))
      await Promise.all(clients.map((x) => x.peer.channel.waitFinal(seq)))
      tl.step(c.name, `tx #${seq} pays ${NAMES[to]} ${eth(amount)} ETH — final`)
    }
    const honest = alice.peer.channel.state
    const [s] = abi.decode([PAYMENTS], honest.state) as unknown as [{ active: bigint; balances: bigint[] }]
    const atFraud = [...s.balances]

    tl.section('3. Mallory cheats: a "pass" whose claimed state moves 0.5 ETH from Bob to her, sent over her hyperswarm links')
    const forged = [...atFraud]
    forged[2]! += parseEther('0.5')
    forged[1]! -= parseEther('0.5')
    const forgedState = abi.encode([PAYMENTS], [{ active: s.active, turn: 0, balances: forged }]) as Hex
    const tx: Transaction = {
      channelId: opened.channelId, fork: 0n, seq: honest.seq + 1n, timestamp: evil.peer.clock.now(), actor: 2,
      previousStateHash: honest.stateHash, data: '0x', stateHash: hashState(forgedState),
    }
    const slashed = alice.peer.court.next('slashed')
    const rejected = new Promise<string>((resolve) => alice.peer.channel.on('fraud', ({ error }) => resolve((error as ProtocolError).code)))
    await evil.peer.transport.broadcast({ type: 'tx', transaction: tx, signature: signDigest(evil.wallet.signingKey, hasher.transaction(tx)) })
    tl.step('mallory', `broadcasts tx #${tx.seq} through her transport, signed, claiming state ${short(tx.stateHash)}`)
    tl.step('alice', `re-runs Payments, rejects it (${await rejected}) and keeps the evidence`)
    const { beneficiary } = await slashed
    tl.step('chain', `mallory is slashed: her share (${eth(atFraud[2]!)} ETH) and bond go to ${NAMES[beneficiary]}, the prover`)
    await evil.stop()
    tl.step('mallory', 'her client is shut down: slashed, she has nothing left in the channel')

    tl.section('4. The challenge period passes (anvil time travel, +301 s); the courts resolve')
    const forked = Promise.all([alice.peer.channel.next('fork'), bob.peer.channel.next('fork')])
    await anvil.increaseTime(301)
    const [fork] = await forked
    tl.step('chain', `fork ${fork.fork} starts from the latest final state without mallory (active: alice, bob)`)
    const blocks = await followTimeTravel(world, [alice, bob])
    const mined = blocks === 0 ? 'no block needed' : `${blocks} more block${blocks === 1 ? '' : 's'} mined`
    tl.step('chain', `${mined}: alice's and bob's logical clocks (median of recent block times) have followed the jump`)

    tl.section('5. Alice and Bob play on over hyperswarm and close cooperatively; everyone withdraws')
    const first = alice.peer.channel.state.isMyTurn ? alice : bob
    const second = first === alice ? bob : alice
    const amount = parseEther('0.25')
    const { seq } = await first.peer.channel.propose(pay(second.index, amount))
    await Promise.all([first, second].map((c) => c.peer.channel.waitFinal(seq)))
    tl.step(first.name, `tx #${seq} on fork 1 pays ${second.name} ${eth(amount)} ETH — final for both`)
    const closed = await first.peer.channel.close()
    tl.step(first.name, `closed on fork 1 with both CloseChannel signatures (tx ${short(closed.transactionHash ?? '0x')})`)

    const expected = [atFraud[0]! + BOND, atFraud[1]! + BOND, 0n]
    expected[beneficiary]! += atFraud[2]! + BOND
    expected[first.index]! -= amount
    expected[second.index]! += amount
    const after = await Promise.all(members.map((m) => stack.manager.balanceOf(addressOf(m.wallet), ETH)))
    const got = after.map((b, i) => b - before[i]!)
    tl.line('')
    tl.line(`${' '.repeat(18)}${'paid out'.padEnd(10)} ${'expected'.padStart(12)} ${'credited'.padStart(12)}`)
    for (const [i, n] of NAMES.entries()) tl.line(`${' '.repeat(18)}${n.padEnd(10)} ${eth(expected[i]!).padStart(12)} ${eth(got[i]!).padStart(12)}`)
    check(got.every((g, i) => g === expected[i]), `credits ${got.join(', ')} differ from the expected ${expected.join(', ')}`)
    check(got[2] === 0n, 'mallory was paid')
    for (const [i, m] of members.entries()) if (after[i]! > 0n) await stack.manager.connect(m.wallet).withdraw(ETH, after[i]!)
    check((await anvil.provider.getBalance(stack.manager.address)) === 0n, 'the manager still holds ETH after every withdrawal')
    tl.step('all', `✓ mallory lost her share (${eth(atFraud[2]!)} ETH) and her bond to ${NAMES[beneficiary]}; every balance as expected; the manager holds nothing`)
  } finally {
    await stopClients(clients)
  }
}
