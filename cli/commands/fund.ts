/**
 * `parley fund <params>`: funds the key's own share (deposit + bond) straight into the channel
 * before it opens — no manager balance in between. Participants fund in order (participant 0
 * first): the amount the channel holds tells whose share is covered. Tokens are approved first
 * when the allowance is short.
 */
import { fundingBefore, shareOf } from '../../src/protocol/funding.js'
import { Phase } from '../../src/protocol/types.js'
import { CHAIN, CHAIN_HELP, COMMON, JSON_HELP, KEY, KEY_HELP, flag, parse } from '../lib/args.js'
import { assetAt, erc20, formatAmount } from '../lib/assets.js'
import { loadWallet } from '../lib/chain.js'
import { openChannelContext, participantIndex } from '../lib/channel.js'
import type { Command } from '../lib/command.js'
import { out, progress, table, toJson } from '../lib/output.js'
import { UsageError } from '../../src/errors/ParleyError.js'

const usage = `parley fund PARAMS_FILE [--json]

Funds this key's share of the channel in PARAMS_FILE (its deposit plus the bond) straight into
the channel, before it opens: \`open\` then takes nothing from the manager balance for it, and a
transaction and a storage slot per participant are saved. Participants fund in order, #0 first;
a share someone already funded is left as it is. If the channel never opens, \`parley open\`'s
consents expire at the params' openDeadline and anyone may return the funding (reclaim).

${CHAIN_HELP}
${KEY_HELP}
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...COMMON, ...CHAIN, ...KEY }, usage, { min: 1, max: 1 })
    const ctx = await openChannelContext(positionals[0]!, values, (chain) => loadWallet(values, chain))
    try {
      const { params, channelId, manager } = ctx
      const wallet = ctx.wallet!
      const me = participantIndex(ctx, wallet.address)
      if ((await manager.getChannel(channelId)).phase !== Phase.None) {
        throw new UsageError('CHANNEL_EXISTS', `channel ${channelId} is already open: nothing to fund (\`parley status\` shows it)`)
      }
      const asset = await assetAt(params.asset, ctx.chain.provider)
      const share = shareOf(params, me)
      if (BigInt(params.asset) !== 0n) {
        const token = erc20(params.asset, wallet)
        const allowance = BigInt(await token.getFunction('allowance')(wallet.address, manager.address))
        if (allowance < share) {
          progress(`fund: approving ${formatAmount(share, asset)} to the manager…`)
          await (await token.getFunction('approve')(manager.address, share)).wait()
        }
      }
      const r = await manager.fundShare(params, me, {
        onSend: (amount) => progress(`fund: funding participant #${me}'s share, ${formatAmount(amount, asset)}, into channel ${channelId}…`),
      })
      const before = fundingBefore(params, me)
      const { held } = await manager.funding(channelId)
      if (flag(values, 'json')) {
        out(toJson({ channelId, participant: me, share, funded: r !== undefined, held, transactionHash: r?.hash ?? null, gasUsed: r?.gasUsed ?? null }))
      } else {
        out(table([
          ['channel id', channelId], ['participant', `#${me}`],
          ['share', `${formatAmount(share, asset)}${r ? '' : ' (already funded by someone else)'}`],
          ['channel holds', `${formatAmount(held, asset)} (shares of #0..#${me - 1}: ${formatAmount(before, asset)})`],
          ...(r ? [['tx', `${r.hash} (${r.gasUsed} gas)`] as [string, string]] : []),
        ]))
      }
      return 0
    } finally {
      ctx.chain.close()
    }
  },
}
