// A plain-JavaScript application of the installed `parley` package (no TypeScript, no tsx):
// a local chain and DHT from `parley/testing`, then two participants open a Payments channel,
// pay each other peer to peer over hyperswarm, close cooperatively and check the settlement.
// Prints one JSON line with what it saw; exits 1 on any failure. Run by package.test.ts.
import { AbiCoder } from 'ethers'
import { ETH, MemoryStore, SqliteStore, channelParams, createPeer, openChannel, silentLogger, UsageError, ParleyError } from 'parley'
import { deployLocalStack, startAnvil, startTestnet } from 'parley/testing'

const ONE = 10n ** 18n
const abi = AbiCoder.defaultAbiCoder()
const pay = (to, amount) => abi.encode(['uint16', 'uint256'], [to, amount])

const anvil = await startAnvil({ accounts: 3 })
const testnet = await startTestnet()
const peers = []
try {
  const stack = await deployLocalStack(anvil.wallets[0])
  const [alice, bob] = [anvil.wallets[1], anvil.wallets[2]]
  for (const w of [alice, bob]) await stack.manager.connect(w).deposit(ETH, ONE)
  const params = channelParams({ participants: [alice.address, bob.address], machine: stack.machines.payments, deposits: [ONE, ONE], now: BigInt(await anvil.now()) })
  const { channelId } = await openChannel(stack.manager.connect(alice), params, [bob, alice])

  const net = { bootstrap: testnet.bootstrap, host: '127.0.0.1', logger: silentLogger }
  const stores = [new SqliteStore(process.argv[2] ?? ':memory:'), new MemoryStore()]
  for (const [i, wallet] of [alice, bob].entries()) {
    peers.push(await createPeer({ wallet, manager: stack.manager, channelId, params, store: stores[i], net, pollMs: 50 }))
  }
  const [a, b] = peers
  const one = await a.propose(pay(1, ONE / 4n))
  await Promise.all([a.channel.waitFinal(one.transaction.seq), b.channel.waitFinal(one.transaction.seq)])
  let refused
  try {
    await a.channel.propose(pay(1, 1n))
  } catch (e) {
    refused = e instanceof UsageError && e instanceof ParleyError ? e.code : String(e)
  }
  const two = await b.propose(pay(0, ONE / 10n))
  await Promise.all([a.channel.waitFinal(two.transaction.seq), b.channel.waitFinal(two.transaction.seq)])
  const closed = new Promise((resolve) => b.channel.on('closed', resolve))
  const { transactionHash } = await a.channel.close()
  await closed
  const balances = [await stack.manager.balanceOf(params.participants[0], ETH), await stack.manager.balanceOf(params.participants[1], ETH)]
  console.log(JSON.stringify({ channelId, via: [one.via, two.via], refused, closedIn: transactionHash, phase: b.channel.state.phase, balances: balances.map(String) }))
} catch (e) {
  console.error(e)
  process.exitCode = 1
} finally {
  await Promise.allSettled(peers.map((p) => p.stop()))
  await testnet.destroy()
  await anvil.stop()
}
