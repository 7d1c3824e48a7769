/**
 * A prop for the recorded tutorial (scripts/record-tutorial.ts), not a Parley command: a
 * participant's client that cheats once. Run in place of that participant's stopped `parley
 * run`, on its store, it resumes the channel, and on its turn signs and broadcasts a "pass"
 * whose claimed state moves AMOUNT from participant FROM to itself — a state the machine does
 * not produce. The honest peers' courts prove it on-chain and slash the cheater.
 *
 *   tsx scripts/tutorial/cheat.ts PARAMS --account N --store FILE --steal FROM AMOUNT
 */
import { AbiCoder, parseEther } from 'ethers'
import { loadWallet } from '../../cli/lib/chain.js'
import { openChannelContext, participantIndex } from '../../cli/lib/channel.js'
import { readTestnetFile } from '../../cli/lib/deployment.js'
import { startPeer } from '../../cli/run/peer.js'
import { hashState } from '../../src/protocol/eip712.js'
import { signDigest } from '../../src/protocol/signatures.js'
import type { Hex, Transaction } from '../../src/protocol/types.js'

const PAYMENTS = 'tuple(uint64 active, uint16 turn, uint256[] balances)'
const abi = AbiCoder.defaultAbiCoder()

const [paramsPath, ...rest] = process.argv.slice(2)
const opt = (name: string, n = 1) => {
  const i = rest.indexOf(`--${name}`)
  if (i < 0 || !paramsPath) throw new Error('usage: cheat.ts PARAMS --account N --store FILE --steal FROM AMOUNT')
  return rest.slice(i + 1, i + 1 + n)
}
const [account] = opt('account')
const [storePath] = opt('store')
const [from, amount] = opt('steal', 2)

const ctx = await openChannelContext(paramsPath!, { account }, (chain) => loadWallet({ account }, chain))
const wallet = ctx.wallet!
const me = participantIndex(ctx, wallet.address)
const bootstrap = (readTestnetFile() ?? []).map((b) => ({ host: b.split(':')[0]!, port: Number(b.split(':')[1]) }))
const peer = await startPeer({ ctx, wallet, me, storePath: storePath!, pollMs: 500, fromBlock: 0, autoWithdraw: false, verbose: false, bootstrap, host: '127.0.0.1', firewalled: false })
try {
  await peer.transport.waitForPeers(undefined, 30_000)
  const head = peer.channel.state
  if (!head.isMyTurn) throw new Error(`not #${me}'s turn (next #${head.nextActor})`)
  const [s] = abi.decode([PAYMENTS], head.state) as unknown as [{ active: bigint; balances: bigint[] }]
  const balances = [...s.balances]
  const stolen = parseEther(amount!)
  balances[Number(from)]! -= stolen
  balances[me]! += stolen
  const claimed = abi.encode([PAYMENTS], [{ active: s.active, turn: (me + 1) % balances.length, balances }]) as Hex
  const tx: Transaction = {
    channelId: ctx.channelId, fork: head.fork, seq: head.seq + 1n, timestamp: peer.clock.now(), actor: me,
    previousStateHash: head.stateHash, data: '0x', stateHash: hashState(claimed),
  }
  await peer.transport.broadcast({ type: 'tx', transaction: tx, signature: signDigest(wallet.signingKey, ctx.hasher.transaction(tx)) })
  console.log(`cheat        signed seq ${tx.seq}: a "pass" claiming #${from} paid #${me} ${amount} ETH — sent to every peer`)
  await new Promise((resolve) => setTimeout(resolve, 3_000))
} finally {
  await peer.court.detach()
  await peer.stop()
  ctx.chain.close()
}
