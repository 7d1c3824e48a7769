/**
 * `parley balance [address]`: an account's manager balance (usable for channels, or
 * withdrawable) and its wallet balance, in ETH or a token.
 */
import type { Hex } from '../../src/protocol/types.js'
import { CHAIN, CHAIN_HELP, COMMON, JSON_HELP, KEY, KEY_HELP, flag, parse, str } from '../lib/args.js'
import { formatAmount, erc20, resolveAsset } from '../lib/assets.js'
import { connect, loadWallet, parseAddress, resolveManager } from '../lib/chain.js'
import type { Command } from '../lib/command.js'
import { out, table, toJson } from '../lib/output.js'

const usage = `parley balance [ADDRESS] [--token ADDRESS|test] [--json]

Prints the manager balance (deposited, not locked in a channel: usable to open channels or
withdraw) and the wallet balance of ADDRESS (0x… or @n for devnet account n), or of the key's
account when ADDRESS is left out.

  --token <address>    an ERC-20 instead of ETH (test = the deployment's TestToken)
${CHAIN_HELP}
${KEY_HELP}
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...COMMON, ...CHAIN, ...KEY, token: { type: 'string' } }, usage, { max: 1 })
    const chain = await connect(values)
    try {
      const account: Hex = positionals[0] !== undefined
        ? parseAddress(positionals[0], chain.deployment, 'ADDRESS')
        : (loadWallet(values, chain).address.toLowerCase() as Hex)
      const asset = await resolveAsset(str(values, 'token'), chain.provider, chain.deployment)
      const manager = await resolveManager(chain, values)
      const [inManager, inWallet] = await Promise.all([
        manager.balanceOf(account, asset.address),
        BigInt(asset.address) === 0n ? chain.provider.getBalance(account) : erc20(asset.address, chain.provider).getFunction('balanceOf')(account).then(BigInt),
      ])
      if (flag(values, 'json')) out(toJson({ account, asset: asset.address, symbol: asset.symbol, decimals: asset.decimals, manager: inManager, wallet: inWallet }))
      else out(table([['account', account], ['manager', formatAmount(inManager, asset)], ['wallet', formatAmount(inWallet, asset)]]))
      return 0
    } finally {
      chain.close()
    }
  },
}
