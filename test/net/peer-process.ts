/**
 * One Parley peer as its own OS process, for the multi-process test (spawned with
 * `node --import tsx test/net/peer-process.ts '<json config>'`). It joins the channel over
 * hyperswarm on the given testnet, runs the Counter machine from the chain's bytecode in the
 * local EVM, keeps a SQLite store, proposes `inc(1)` whenever it is its turn until `target`,
 * and reports on stdout, one JSON object per line:
 *   {"event":"ready"} · {"event":"final","seq":"4"} · {"event":"done","finalSeq":"9","finalStateHash":"0x…"}
 *   · {"event":"error","code":"…"}
 * It exits when its stdin says `exit` (so its last messages are not cut off), or at once when
 * stdin closes (the parent is gone).
 */
import { createInterface } from 'node:readline'
import { AbiCoder, JsonRpcProvider, Wallet } from 'ethers'
import { Channel } from '../../src/channel/Channel.js'
import { ManualClock } from '../../src/clock/ManualClock.js'
import { EvmStateMachine } from '../../src/machine/EvmStateMachine.js'
import { HyperswarmTransport } from '../../src/net/HyperswarmTransport.js'
import { P2PManager } from '../../src/net/P2PManager.js'
import { formatLogLine, silentLogger } from '../../src/net/logger.js'
import { ParleyHasher } from '../../src/protocol/eip712.js'
import type { ChannelParams, Hex } from '../../src/protocol/types.js'
import { SqliteStore } from '../../src/store/SqliteStore.js'
import { local } from '../helpers/net.js'

export interface PeerConfig {
  bootstrap: { host: string; port: number }[]
  rpc: string
  chainId: string
  manager: Hex
  key: Hex
  seed: Hex
  channelId: Hex
  /** ChannelParams with bigints as decimal strings. */
  params: Record<string, unknown>
  genesis: { state: Hex; timestamp: string }
  store: string
  target: string
  restore: boolean
}

/** With PARLEY_NET_DEBUG set, every net log line goes to stderr. */
const debugLogger = {
  info: (m: string, f?: Record<string, unknown>) => process.stderr.write(formatLogLine(m, f) + '\n'),
  warn: (m: string, f?: Record<string, unknown>) => process.stderr.write(formatLogLine(`WARN ${m}`, f) + '\n'),
}

const out = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n')

/** Resolves when the parent says `exit`; a closed stdin (the parent died) ends the process. */
function exitCommand(): Promise<void> {
  return new Promise((resolve) => {
    let asked = false
    const rl = createInterface({ input: process.stdin })
    rl.on('line', (line) => {
      if (line.trim() === 'exit') (asked = true, resolve())
    })
    rl.on('close', () => {
      if (!asked) process.exit(3)
    })
  })
}

async function main(): Promise<void> {
  const exit = exitCommand()
  const c = JSON.parse(process.argv[2]!) as PeerConfig
  const raw = c.params as Record<string, unknown> & { deposits: string[]; bond: string; openDeadline: string }
  const params = { ...raw, deposits: raw.deposits.map(BigInt), bond: BigInt(raw.bond), openDeadline: BigInt(raw.openDeadline) } as unknown as ChannelParams
  const wallet = new Wallet(c.key)
  const me = params.participants.indexOf(wallet.address.toLowerCase() as Hex)
  const p2p = new P2PManager({ ...local(c), seed: c.seed, logger: process.env.PARLEY_NET_DEBUG ? debugLogger : silentLogger })
  const transport = await HyperswarmTransport.join(p2p, { channelId: c.channelId, participants: params.participants, me, signer: wallet.signingKey })
  const machine = await EvmStateMachine.fromChain({ provider: new JsonRpcProvider(c.rpc), address: params.machine })
  const store = new SqliteStore(c.store)
  const genesis = { state: c.genesis.state, timestamp: BigInt(c.genesis.timestamp) }
  const runtime = { signer: wallet, machine, store, transport, clock: new ManualClock(genesis.timestamp), hasher: new ParleyHasher({ chainId: BigInt(c.chainId), verifyingContract: c.manager }) }
  const channel = c.restore ? await Channel.restore({ ...runtime, channelId: c.channelId }) : await Channel.create({ ...runtime, params, genesis })
  const target = BigInt(c.target)
  const inc = AbiCoder.defaultAbiCoder().encode(['uint64'], [1]) as Hex
  const turn = () => {
    const s = channel.state
    if (s.isMyTurn && s.seq < target) channel.propose(inc).catch((e: { code?: string }) => out({ event: 'error', code: e.code ?? String(e) }))
  }
  channel.on('state', turn)
  channel.on('final', (f) => out({ event: 'final', seq: String(f.seq) }))
  channel.on('error', (e) => out({ event: 'error', code: (e.error as { code?: string }).code ?? String(e.error) }))
  out({ event: 'ready', me, restored: c.restore, seq: String(channel.state.seq) })
  turn()
  await channel.waitFinal(target)
  out({ event: 'done', finalSeq: String(channel.state.finalSeq), finalStateHash: channel.state.finalStateHash })
  await exit
  await channel.dispose()
  await p2p.close()
  store.close()
  process.exit(0) // stdin's reader would keep the process alive
}

main().catch((e) => {
  out({ event: 'fatal', error: String(e?.stack ?? e) })
  process.exit(1)
})
