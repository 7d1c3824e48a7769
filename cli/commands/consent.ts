/**
 * `parley consent <params>`: this key's consent to open the channel — its signature over the
 * channel id. Participants exchange these out of band (chat, mail); `parley open` submits them.
 */
import { signOpenConsent } from '../../src/chain/consent.js'
import { CHAIN, CHAIN_HELP, COMMON, JSON_HELP, KEY, KEY_HELP, flag, parse, str } from '../lib/args.js'
import { loadWallet } from '../lib/chain.js'
import { openChannelContext, participantIndex } from '../lib/channel.js'
import type { Command } from '../lib/command.js'
import { writeText } from '../lib/files.js'
import { out, progress, toJson } from '../lib/output.js'

const usage = `parley consent PARAMS_FILE [-o FILE] [--json]

Prints this key's consent signature for the channel in PARAMS_FILE (its signature over the
channel id). Send it to whoever runs \`parley open\`. The key must be a participant.

  -o, --out <file>     also write the signature to a file
${CHAIN_HELP}
${KEY_HELP}
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...COMMON, ...CHAIN, ...KEY, out: { type: 'string', short: 'o' } }, usage, { min: 1, max: 1 })
    const ctx = await openChannelContext(positionals[0]!, values, (chain) => loadWallet(values, chain))
    try {
      const wallet = ctx.wallet!
      const index = participantIndex(ctx, wallet.address)
      const signature = signOpenConsent(wallet.signingKey, ctx.hasher, ctx.params)
      const path = str(values, 'out')
      if (path) writeText(path, `${signature}\n`)
      if (flag(values, 'json')) out(toJson({ channelId: ctx.channelId, signer: wallet.address.toLowerCase(), index, signature }))
      else {
        progress(`consent: participant #${index} (${wallet.address.toLowerCase()}) consents to channel ${ctx.channelId}`)
        out(signature)
      }
      return 0
    } finally {
      ctx.chain.close()
    }
  },
}
