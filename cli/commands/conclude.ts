/**
 * `parley conclude PARAMS --store FILE`: settles a channel whose latest final state is terminal
 * (a game won, an auction decided) with the finality proof from the participant's store — no
 * running peer needed, and no one else's signature (a running peer's court does the same by
 * itself). Refused before anything is sent when the state is not terminal or nothing is final.
 */
import { memberList } from '../../src/protocol/members.js'
import { RpcStateMachine } from '../../src/chain/RpcStateMachine.js'
import { Phase } from '../../src/protocol/types.js'
import { CHAIN, CHAIN_HELP, COMMON, JSON_HELP, KEY, KEY_HELP, flag, parse, str } from '../lib/args.js'
import { assetAt, formatAmount } from '../lib/assets.js'
import { loadWallet } from '../lib/chain.js'
import { openChannelContext } from '../lib/channel.js'
import type { Command } from '../lib/command.js'
import { argError } from '../lib/errors.js'
import { speakerFor } from '../lib/speaker.js'
import { out, progress, table, toJson } from '../lib/output.js'
import { openExistingStore, storedFinalityProof } from '../lib/store.js'

const usage = `parley conclude PARAMS_FILE --store FILE [--json]

Settles the channel from the latest final state in FILE (a participant's store, as \`parley
run\` keeps it) when the machine says that state is terminal: the finality proof is built from
the store and checked before it is sent; any funded key may submit it. Payouts go to the
participants' manager balances (\`parley withdraw\`).

  --store <file>       a participant's SQLite store (read-only; fine while \`run\` is running)
${CHAIN_HELP}
${KEY_HELP}
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...COMMON, ...CHAIN, ...KEY, store: { type: 'string' } }, usage, { min: 1, max: 1 })
    const storePath = str(values, 'store')
    if (!storePath) throw argError('ARG_MISSING', '--store <file> is required: the finality proof comes from it')
    const ctx = await openChannelContext(positionals[0]!, values, (chain) => loadWallet(values, chain))
    try {
      const store = openExistingStore(storePath)
      let stored: ReturnType<typeof storedFinalityProof>
      try {
        if (!store.getChannel(ctx.channelId)) throw argError('CHANNEL_NOT_FOUND', `${storePath} does not hold channel ${ctx.channelId}`)
        stored = storedFinalityProof(store, ctx.channelId)
      } finally {
        store.close()
      }
      const record = await ctx.manager.getChannel(ctx.channelId)
      if (record.phase !== Phase.Open) throw argError('CHANNEL_NOT_OPEN', `the channel is ${Phase[record.phase] ?? record.phase} on-chain: nothing to conclude`)
      if (!stored) throw argError('NOT_FINAL', `no transaction of the current fork is final in ${storePath} yet: nothing to conclude`)
      if (stored.fork !== record.fork) throw argError('FORK_CHANGED', `${storePath} is at fork ${stored.fork}, the chain at fork ${record.fork}: run the peer to catch up`)
      const machine = new RpcStateMachine(ctx.params.machine, ctx.chain.provider)
      const asset = await assetAt(ctx.params.asset, ctx.chain.provider)
      const view = await (await speakerFor(ctx, asset)).describe(stored.state)
      if (!(await machine.isTerminal(stored.state))) {
        throw argError('STATE_NOT_TERMINAL', `the latest final state (seq ${stored.seq}${view ? `: ${view.text}` : ''}) is not terminal: play on, or close`)
      }
      progress(`conclude: settling channel ${ctx.channelId} from seq ${stored.seq} (a proof of ${stored.proof.length} transactions)…`)
      const r = await ctx.manager.conclude(ctx.channelId, memberList(ctx.params), stored.proof, stored.state)
      if (flag(values, 'json')) {
        out(toJson({ channelId: ctx.channelId, seq: stored.seq, transactionHash: r.hash, blockNumber: r.blockNumber, gasUsed: r.gasUsed, payouts: r.closed.payouts }))
      } else {
        out(table([
          ['channel id', ctx.channelId], ['concluded', `seq ${stored.seq}${view ? `: ${view.text}` : ''}`],
          ['tx', `${r.hash} (block ${r.blockNumber}, ${r.gasUsed} gas)`],
          ['payouts', r.closed.payouts.map((p, i) => `#${i} ${formatAmount(p, asset)}`).join(' · ')],
        ]))
      }
      return 0
    } finally {
      ctx.chain.close()
    }
  },
}
