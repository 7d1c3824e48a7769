/**
 * `parley status <params> [--store FILE]`: the channel's on-chain record (phase, fork, active
 * and slashed participants, locked funds, an open dispute) and, with a store, this
 * participant's local view (latest and latest final state, decoded for the example machines and
 * for machines deployed with `parley machine deploy`, field by field).
 */
import { bitIndices } from '../../src/protocol/bitmap.js'
import { RpcStateMachine } from '../../src/chain/RpcStateMachine.js'
import { DisputeKind, Phase } from '../../src/protocol/types.js'
import { CHAIN, CHAIN_HELP, COMMON, JSON_HELP, flag, parse, str } from '../lib/args.js'
import { assetAt, formatAmount } from '../lib/assets.js'
import { openChannelContext } from '../lib/channel.js'
import type { Command } from '../lib/command.js'
import { speakerFor } from '../lib/speaker.js'
import { out, table, toJson } from '../lib/output.js'
import { openExistingStore, readLocalView, type LocalView } from '../lib/store.js'

const usage = `parley status PARAMS_FILE [--store FILE] [--json]

Prints the channel's on-chain record and, with --store, the local view kept by \`parley run\`.

  --store <file>       a participant's SQLite store (read-only; fine while \`run\` is running)
${CHAIN_HELP}
${JSON_HELP}`

const list = (bits: bigint) => (bits === 0n ? '—' : bitIndices(bits).map((i) => `#${i}`).join(' '))

export const command: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...COMMON, ...CHAIN, store: { type: 'string' } }, usage, { min: 1, max: 1 })
    const ctx = await openChannelContext(positionals[0]!, values)
    try {
      const storePath = str(values, 'store')
      const store = storePath ? openExistingStore(storePath) : undefined
      let local: LocalView | undefined
      try {
        local = store ? readLocalView(store, ctx.channelId) : undefined
      } finally {
        store?.close()
      }
      const record = await ctx.manager.getChannel(ctx.channelId)
      const dispute = record.phase === Phase.Disputed ? await ctx.manager.currentDispute(ctx.channelId) : undefined
      const asset = await assetAt(ctx.params.asset, ctx.chain.provider)
      const speaker = await speakerFor(ctx, asset)
      const [latestView, finalView] = local ? await Promise.all([speaker.describe(local.state), speaker.describe(local.finalState)]) : []
      // Whether the machine ends the game at our latest final state (then `parley conclude` settles it).
      const terminal = local ? await new RpcStateMachine(ctx.params.machine, ctx.chain.provider).isTerminal(local.finalState).catch(() => undefined) : undefined
      if (flag(values, 'json')) {
        out(toJson({
          channelId: ctx.channelId,
          chain: { ...record, phase: Phase[record.phase], activeParticipants: bitIndices(record.active), slashedParticipants: bitIndices(record.slashed) },
          ...(dispute ? { dispute: { ...dispute, kind: DisputeKind[dispute.record.kind] } } : {}),
          ...(local ? { local: { ...local, view: latestView?.data, finalView: finalView?.data, finalTerminal: terminal ?? null } } : storePath ? { local: null } : {}),
        }))
        return 0
      }
      const rows: [string, string][] = [['channel id', ctx.channelId], ['on-chain phase', Phase[record.phase] ?? String(record.phase)]]
      if (record.phase !== Phase.None) {
        rows.push(['fork', String(record.fork)], ['active', list(record.active)], ['slashed', list(record.slashed)], ['locked', formatAmount(record.locked, asset)])
      }
      if (dispute) rows.push(['dispute', `${DisputeKind[dispute.record.kind]} by #${dispute.record.disputer} on seq ${dispute.record.seq}, deadline ${dispute.record.deadline}`])
      if (storePath && !local) rows.push(['local', `${storePath} does not hold this channel`])
      if (local) {
        rows.push(
          ['local phase', `${local.phase} (we are #${local.me}${local.disputed ? ', fork disputed' : ''})`],
          ['local fork', String(local.fork)],
          ['latest', `seq ${local.seq}: ${latestView?.text ?? local.stateHash}`],
          ['final', `seq ${local.finalSeq}: ${finalView?.text ?? local.finalStateHash}${terminal && record.phase === Phase.Open ? ' — terminal: `parley conclude` settles it' : terminal ? ' — terminal' : ''}`],
        )
      }
      out(table(rows))
      return 0
    } finally {
      ctx.chain.close()
    }
  },
}
