/**
 * `parley run <params> --store FILE`: runs this participant's peer until the channel settles,
 * `quit`, or Ctrl-C. Moves come from stdin (or --moves FILE) one per line; channel, court and
 * link events are printed as they happen. Restarting with the same store resumes.
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { Wallet } from 'ethers'
import { Phase, type ChannelParams } from '../../src/protocol/types.js'
import { CHAIN, CHAIN_HELP, COMMON, JSON_HELP, KEY, KEY_HELP, flag, int, list, parse, str } from '../lib/args.js'
import { assetAt } from '../lib/assets.js'
import { loadWallet } from '../lib/chain.js'
import { openChannelContext, participantIndex } from '../lib/channel.js'
import { untilSignal, type Command } from '../lib/command.js'
import { argError } from '../lib/errors.js'
import { readText } from '../lib/files.js'
import { TESTNET_FILE, expectedHardfork, readTestnetFile } from '../lib/deployment.js'
import { speakerFor } from '../lib/speaker.js'
import { watchDeadlines } from '../run/deadlines.js'
import { Driver, COMMAND_HELP, moveHelp } from '../run/driver.js'
import { startPeer } from '../run/peer.js'
import { Printer } from '../run/printer.js'
import { liveFeed } from '../ui/feed.js'
import { startLiveView, type LiveView } from '../ui/server.js'

const usage = `parley run PARAMS_FILE --store FILE [--bootstrap HOST:PORT,…] [--moves FILE|-] [--json]

Runs this key's peer of the channel in PARAMS_FILE (opened on-chain) until the channel settles
on-chain, \`quit\`, or Ctrl-C. Reads one command per line from stdin (or --moves):
  pay <to> <amount> · pass          (payments)
  cell <0-8>                        (tictactoe)
  inc <n>                           (counter)
  <encoder> <args…>                 a machine deployed with \`parley machine deploy\`: a call of
                                    one of its move encoders, e.g. play rock (see its moves below)
  0x<data>                          raw move data, any machine
  close · leave · force-close · status · help · quit
A move waits for our turn; close waits until every state is final. Events (state, final,
peer, dispute, closed, …) are printed as they happen; with --json one JSON object per line.
Disputes are handled by themselves: timeouts, answers, fraud proofs, resolution.

  --session-key-file <path>  this participant's session key (from \`parley session-key\`), required
                       when the channel has session keys (params \`signers\`): it signs the moves,
                       the key above only chain calls and the close consent
  --store <file>       SQLite store of this peer (created; reuse it to resume after a restart)
  --bootstrap <list>   DHT bootstrap nodes host:port,… (default: the running \`parley testnet\`'s
                       from ${TESTNET_FILE} if present, else the public HyperDHT); loopback
                       nodes make the peer bind to 127.0.0.1
  --host <address>     address the DHT node binds to (default: 127.0.0.1 with a loopback
                       bootstrap, else all interfaces)
  --moves <file|->     read commands from a file (default -: stdin); the peer keeps running after it
  --poll <ms>          chain poll interval (default 1000)
  --confirmations <n>  blocks on top of an event's block before the peer acts on it, and of
                       the open's block before it plays (default: the deployment file's, else
                       0 on anvil/hardhat and 12 on other chains; reorganisations are
                       followed at any depth either way)
  --from-block <n>     first block to search for the channel's opening (default 0)
  --auto-withdraw      withdraw what the channel credits us once it settles
  --ui [port]          serve a live view of the channel on http://127.0.0.1:<port> (default: any
                       free port): participants, transactions and their signatures, deadlines,
                       disputes, balances, and forms to play; its address, with a random token
                       that every request needs, is printed as the \`ui\` event
  --verbose            network log lines on stderr
${CHAIN_HELP}
${KEY_HELP}
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(withUiPort(argv), {
      ...COMMON, ...CHAIN, ...KEY, store: { type: 'string' }, bootstrap: { type: 'string', multiple: true }, host: { type: 'string' },
      moves: { type: 'string' }, poll: { type: 'string' }, confirmations: { type: 'string' }, 'from-block': { type: 'string' }, 'auto-withdraw': { type: 'boolean' },
      verbose: { type: 'boolean' }, 'session-key-file': { type: 'string' }, ui: { type: 'string' },
    }, usage, { min: 1, max: 1 })
    const uiPort = values.ui === undefined ? undefined : int(values, 'ui', 0, { min: 0, max: 65535 })
    const storePath = str(values, 'store')
    if (!storePath) throw argError('ARG_MISSING', '--store <file> is required: the peer keeps every signed transaction there')
    const given = list(values, 'bootstrap')
    const bootstrap = (given.length > 0 ? given : readTestnetFile() ?? []).map(parseNode)
    const loopback = bootstrap.length > 0 && bootstrap.every((b) => b.host === '127.0.0.1' || b.host === 'localhost')
    const host = str(values, 'host') ?? (loopback ? '127.0.0.1' : undefined)
    const pollMs = int(values, 'poll', 1000, { min: 10, max: 600_000 })
    const fromBlock = int(values, 'from-block', 0)
    const confirmations = values.confirmations === undefined ? undefined : int(values, 'confirmations', 0, { min: 0, max: 10_000 })
    const moves = str(values, 'moves') ?? '-'
    if (moves !== '-') readText(moves, 'moves file') // fail before joining the network
    const json = flag(values, 'json')

    const ctx = await openChannelContext(positionals[0]!, values, (chain) => loadWallet(values, chain))
    try {
      const wallet = ctx.wallet!
      const me = participantIndex(ctx, wallet.address)
      const sessionKey = loadSessionKey(str(values, 'session-key-file'), ctx.params, me)
      const asset = await assetAt(ctx.params.asset, ctx.chain.provider)
      const speaker = await speakerFor(ctx, asset)
      const printer = new Printer({ json, speaker, asset, participants: ctx.params.participants })
      const record = await ctx.manager.getChannel(ctx.channelId)
      if (record.phase === Phase.Closed) {
        printer.event('closed', { channelId: ctx.channelId }, `channel ${ctx.channelId} is already settled on-chain — \`parley withdraw\` moves your funds to your wallet`)
        await printer.flush()
        return 0
      }

      // The peer detects the chain's hardfork anyway; the deployment file's must agree with it.
      const { deployment, deploymentPath } = ctx.chain
      const expected = deployment ? expectedHardfork(deployment, ctx.chain.chainId) : undefined
      const depth = confirmations ?? (deployment && BigInt(deployment.chainId) === ctx.chain.chainId ? deployment.confirmations : undefined)
      const file = deploymentPath ?? 'the deployment file'
      // The live view takes its port before the peer joins the network: a busy port fails at once.
      let view: LiveView | undefined
      if (uiPort !== undefined) view = await startLiveView({ port: uiPort })
      const peer = await startPeer({
        ctx, wallet, ...(sessionKey ? { sessionKey } : {}), me, storePath, pollMs, fromBlock, ...(depth !== undefined ? { confirmations: depth } : {}), autoWithdraw: flag(values, 'auto-withdraw'), verbose: flag(values, 'verbose'),
        ...(bootstrap.length > 0 ? { bootstrap } : {}), ...(host ? { host } : {}), ...(loopback ? { firewalled: false } : {}),
        ...(expected ? {
          hardfork: expected.hardfork,
          hardforkSource: expected.recorded ? `${file} records ${expected.hardfork}` : `${file} records no hardfork (written before the field), read as cancun`,
        } : {}),
      }).catch(async (e: unknown) => {
        await view?.close()
        throw e
      })
      const detach = printer.attach(peer)
      let stopRequested!: (why: string) => void
      const stopping = new Promise<string>((resolve) => (stopRequested = resolve))
      // Listening before the ready event: a caller may signal as soon as it reads it.
      void untilSignal().then((signal) => stopRequested(signal))
      const driver = new Driver(peer, printer, speaker, () => stopRequested('quit'))
      const feed = view ? liveFeed({ ctx, peer, printer, driver, speaker, asset, me }) : undefined
      if (view && feed) {
        view.attach(feed.source)
        printer.event('ui', { url: view.url, port: view.port }, `live view at ${view.url} (127.0.0.1 only; the token in it lets anyone who has it play as you)`)
      }
      const s = peer.channel.state
      printer.stateEvent('ready', s.state, s.stateHash, (view) => [{
        channelId: ctx.channelId, me, address: wallet.address.toLowerCase(), restored: peer.restored, phase: s.phase, fork: s.fork, seq: s.seq,
        finalSeq: s.finalSeq, nextActor: s.nextActor, isMyTurn: s.isMyTurn, connected: peer.transport.connected, ...view.data,
      }, `channel ${ctx.channelId} as #${me} (${wallet.address.toLowerCase()}), ${peer.restored ? 'resumed from' : 'new store'} ${storePath}: ` +
        `fork ${s.fork} seq ${s.seq} (final ${s.finalSeq}), ${view.text}; next #${s.nextActor}${s.isMyTurn ? ' (you)' : ''}` +
        (peer.transport.connected.length > 0 ? `; connected: ${peer.transport.connected.map((i) => `#${i}`).join(' ')}` : '')])
      if (bootstrap.length === 0) {
        printer.warning('DHT_PUBLIC', 'no --bootstrap and no .parley/testnet.json in this folder: peers meet on the public HyperDHT (on one host, start `parley testnet` here first)')
      }
      if (peer.p2p.dhtNodes === 0) {
        const where = bootstrap.length > 0 ? `the bootstrap node${bootstrap.length > 1 ? 's' : ''} ${bootstrap.map((b) => `${b.host}:${b.port}`).join(',')}` : 'the public HyperDHT'
        printer.warning('DHT_UNREACHABLE', `${where} did not answer: no peer can find us${given.length === 0 && bootstrap.length > 0 ? ' (a stale .parley/testnet.json? is `parley testnet` running?)' : ''}`, { bootstrap: bootstrap.map((b) => `${b.host}:${b.port}`) })
      }
      if (!json) process.stderr.write(`${COMMAND_HELP.split('\n')[0]}\nmoves: ${moveHelp(speaker)}\n`)

      const stopDeadlines = watchDeadlines({ channel: peer.channel, court: peer.court, clock: peer.clock, printer, times: ctx.params })
      peer.court.on('closed', () => stopRequested('settled'))
      const input = createInterface({ input: moves === '-' ? process.stdin : createReadStream(moves), terminal: false })
      input.on('line', (line) => driver.line(line))

      const why = await stopping
      input.close()
      driver.stop()
      stopDeadlines()
      if (why === 'settled') await peer.court.idle() // let an auto-withdrawal finish
      await peer.stop()
      detach()
      feed?.stop()
      printer.event('stopped', { reason: why }, why === 'settled' ? 'the channel is settled; peer stopped' : `peer stopped (${why}); run again with --store ${storePath} to resume`)
      await printer.flush()
      await view?.close()
      return 0
    } finally {
      ctx.chain.close()
    }
  },
}

/** `--ui` takes an optional port: `--ui` alone (or before another option or the params file) means any free port. */
function withUiPort(argv: string[]): string[] {
  return argv.flatMap((a, i) => (a === '--ui' && !/^\d+$/.test(argv[i + 1] ?? '') ? ['--ui=0'] : [a]))
}

function parseNode(text: string): { host: string; port: number } {
  const m = /^([^:\s]+):(\d{1,5})$/.exec(text)
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw argError('BOOTSTRAP_INVALID', `--bootstrap entries are host:port, got ${JSON.stringify(text)}`)
  return { host: m[1]!, port: Number(m[2]) }
}

/**
 * `--session-key-file`: participant `me`'s session key. ArgumentError `SESSION_KEY_REQUIRED` when
 * the channel has session keys and none is given, `KEY_INVALID` for a file that holds no key,
 * `SESSION_KEY_MISMATCH` for a key that is not `params.signers[me]`, `ARG_UNEXPECTED` for a
 * channel without session keys.
 */
function loadSessionKey(path: string | undefined, params: ChannelParams, me: number): Wallet | undefined {
  const expected = params.signers?.[me]
  if (path === undefined) {
    if (expected) throw argError('SESSION_KEY_REQUIRED', `this channel has session keys: give participant #${me}'s (${expected}) with --session-key-file`)
    return undefined
  }
  if (!expected) throw argError('ARG_UNEXPECTED', '--session-key-file: this channel has no session keys (its params list no signers)')
  const text = readText(path, 'session key file').trim()
  let key: Wallet
  try {
    key = new Wallet(text.startsWith('0x') ? text : `0x${text}`)
  } catch {
    throw argError('KEY_INVALID', `session key file ${path} does not hold a private key (32 bytes of hex)`, { path })
  }
  if (key.address.toLowerCase() !== expected.toLowerCase()) {
    throw argError('SESSION_KEY_MISMATCH', `session key file ${path} holds ${key.address.toLowerCase()}, but participant #${me}'s session key is ${expected}`, { path })
  }
  return key
}
