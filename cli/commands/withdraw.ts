/**
 * `parley withdraw <amount|all>`: moves funds from the manager balance (deposits not in a
 * channel, and what settled channels credited) back to a wallet.
 */
import type { Hex } from '../../src/protocol/types.js'
import { UsageError } from '../../src/errors/ParleyError.js'
import { CHAIN, CHAIN_HELP, COMMON, JSON_HELP, KEY, KEY_HELP, flag, parse, str } from '../lib/args.js'
import { formatAmount, parseAmount, resolveAsset } from '../lib/assets.js'
import { connect, loadWallet, parseAddress, resolveManager } from '../lib/chain.js'
import type { Command } from '../lib/command.js'
import { out, progress, table, toJson } from '../lib/output.js'

const usage = `parley withdraw AMOUNT|all [--to ADDRESS] [--token ADDRESS|test] [--json]

Withdraws AMOUNT (decimal) or everything from the key's manager balance to its wallet (or --to).

  --to <address>       recipient (0x… or @n; default: the key's account)
  --token <address>    an ERC-20 instead of ETH (test = the deployment's TestToken)
${CHAIN_HELP}
${KEY_HELP}
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...COMMON, ...CHAIN, ...KEY, token: { type: 'string' }, to: { type: 'string' } }, usage, { min: 1, max: 1 })
    const chain = await connect(values)
    try {
      const wallet = loadWallet(values, chain)
      const asset = await resolveAsset(str(values, 'token'), chain.provider, chain.deployment)
      const all = positionals[0] === 'all'
      const requested = all ? undefined : parseAmount(positionals[0]!, asset)
      const to = str(values, 'to') === undefined ? (wallet.address.toLowerCase() as Hex) : parseAddress(str(values, 'to')!, chain.deployment, '--to')
      const manager = await resolveManager(chain, values, wallet)
      const me = wallet.address.toLowerCase() as Hex
      const available = await manager.balanceOf(me, asset.address)
      const amount = requested ?? available
      if (amount === 0n) throw new UsageError('NOTHING_TO_WITHDRAW', `${me} has no ${asset.symbol} in the manager`)
      if (amount > available) {
        throw new UsageError('BALANCE_INSUFFICIENT', `${me} has ${formatAmount(available, asset)} in the manager, cannot withdraw ${formatAmount(amount, asset)}`)
      }
      progress(`withdraw: withdrawing ${formatAmount(amount, asset)} to ${to}…`)
      const r = await manager.withdraw(asset.address, amount, to)
      const balance = await manager.balanceOf(me, asset.address)
      if (flag(values, 'json')) out(toJson({ account: me, to, asset: asset.address, amount, balance, transactionHash: r.hash, gasUsed: r.gasUsed }))
      else out(table([['withdrawn', formatAmount(amount, asset)], ['to', to], ['manager balance', formatAmount(balance, asset)], ['tx', r.hash]]))
      return 0
    } finally {
      chain.close()
    }
  },
}
