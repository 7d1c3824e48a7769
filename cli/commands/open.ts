/**
 * `parley open <params> --sig … --sig …`: opens the channel on-chain with every participant's
 * consent. Signatures may come in any order: each is matched to its participant by recovery,
 * and a missing, foreign or duplicate one is named before anything is sent. Deposits and bonds
 * must be funded into the channel (`parley fund`) or in the participants' manager balances
 * (`parley deposit`).
 */
import { orderConsents, shortfalls } from '../../src/peer/openChannel.js'
import { Phase, type Hex } from '../../src/protocol/types.js'
import { CHAIN, CHAIN_HELP, COMMON, JSON_HELP, KEY, KEY_HELP, flag, list, parse } from '../lib/args.js'
import { assetAt, formatAmount } from '../lib/assets.js'
import { loadWallet } from '../lib/chain.js'
import { openChannelContext } from '../lib/channel.js'
import type { Command } from '../lib/command.js'
import { argError } from '../lib/errors.js'
import { readText } from '../lib/files.js'
import { out, progress, table, toJson } from '../lib/output.js'
import { UsageError } from '../../src/errors/ParleyError.js'

const usage = `parley open PARAMS_FILE --sig SIG [--sig SIG …] [--json]

Opens the channel in PARAMS_FILE on-chain: one consent signature per participant (from
\`parley consent\`), in any order. Any funded key may submit it. Each participant's deposit
plus the bond must be funded into the channel (\`parley fund\`) or be in its manager balance
(\`parley deposit\`).

  --sig <hex|@file>    a consent signature, or @path to a file holding one; repeat per participant
${CHAIN_HELP}
${KEY_HELP}
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...COMMON, ...CHAIN, ...KEY, sig: { type: 'string', multiple: true } }, usage, { min: 1, max: 1 })
    const sigs = list(values, 'sig').map((s) => (s.startsWith('@') ? readText(s.slice(1), 'signature file').trim() : s))
    const ctx = await openChannelContext(positionals[0]!, values, (chain) => loadWallet(values, chain))
    try {
      const { params, channelId } = ctx
      const n = params.participants.length
      if (sigs.length !== n) throw argError('CONSENT_COUNT_MISMATCH', `the channel has ${n} participants: give ${n} --sig, got ${sigs.length}`)
      let ordered: Hex[]
      try {
        ordered = orderConsents(channelId, params, sigs)
      } catch (e) {
        // The same checks as the SDK's openChannel, worded for the command line (--sig #k).
        if (e instanceof UsageError) throw argError(e.code, e.message.replace(/^consent #/, '--sig #'))
        throw e
      }
      if ((await ctx.manager.getChannel(channelId)).phase !== Phase.None) {
        throw new UsageError('CHANNEL_EXISTS', `channel ${channelId} was already opened on this manager (\`parley status\` shows it)`)
      }
      const asset = await assetAt(params.asset, ctx.chain.provider)
      const [short] = await shortfalls(ctx.manager, channelId, params)
      if (short) {
        throw new UsageError('DEPOSIT_MISSING', `participant #${short.participant} (${short.account}) has ${formatAmount(short.has, asset)} in the manager, needs ${formatAmount(short.needs, asset)} (deposit + bond not funded into the channel): \`parley fund\` or \`parley deposit\` first`)
      }
      progress(`open: opening channel ${channelId} with ${n} consents…`)
      const r = await ctx.manager.open(params, ordered)
      if (flag(values, 'json')) {
        out(toJson({ channelId: r.channelId, transactionHash: r.hash, blockNumber: r.blockNumber, gasUsed: r.gasUsed, genesis: r.genesis }))
      } else {
        out(table([
          ['channel id', r.channelId], ['tx', `${r.hash} (block ${r.blockNumber}, ${r.gasUsed} gas)`],
          ['genesis', `fork 0, state hash ${r.genesis.stateHash}, timestamp ${r.genesis.timestamp}`],
        ]))
      }
      return 0
    } finally {
      ctx.chain.close()
    }
  },
}
