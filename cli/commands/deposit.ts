/**
 * `parley deposit <amount>`: moves ETH or tokens from the wallet into the manager balance, from
 * which `open` locks channel deposits. Tokens are approved first when the allowance is short.
 */
import type { Hex } from '../../src/protocol/types.js'
import { CHAIN, CHAIN_HELP, COMMON, JSON_HELP, KEY, KEY_HELP, flag, parse, str } from '../lib/args.js'
import { erc20, formatAmount, parseAmount, resolveAsset } from '../lib/assets.js'
import { connect, loadWallet, parseAddress, resolveManager } from '../lib/chain.js'
import type { Command } from '../lib/command.js'
import { out, progress, table, toJson } from '../lib/output.js'

const usage = `parley deposit AMOUNT [--token ADDRESS|test] [--for ADDRESS] [--json]

Deposits AMOUNT (decimal, e.g. 1.5) into the manager balance of the key's account (or of
--for). Channel deposits and bonds are taken from this balance when a channel opens.

  --token <address>    an ERC-20 instead of ETH (test = the deployment's TestToken); approved
                       to the manager first if needed
  --for <address>      credit another account (0x… or @n)
${CHAIN_HELP}
${KEY_HELP}
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...COMMON, ...CHAIN, ...KEY, token: { type: 'string' }, for: { type: 'string' } }, usage, { min: 1, max: 1 })
    const chain = await connect(values)
    try {
      const wallet = loadWallet(values, chain)
      const asset = await resolveAsset(str(values, 'token'), chain.provider, chain.deployment)
      const amount = parseAmount(positionals[0]!, asset)
      const forAccount = str(values, 'for') === undefined ? undefined : parseAddress(str(values, 'for')!, chain.deployment, '--for')
      const manager = await resolveManager(chain, values, wallet)
      if (BigInt(asset.address) !== 0n) {
        const token = erc20(asset.address, wallet)
        const allowance = BigInt(await token.getFunction('allowance')(wallet.address, manager.address))
        if (allowance < amount) {
          progress(`deposit: approving ${formatAmount(amount, asset)} to the manager…`)
          await (await token.getFunction('approve')(manager.address, amount)).wait()
        }
      }
      progress(`deposit: depositing ${formatAmount(amount, asset)}…`)
      const r = await manager.deposit(asset.address, amount, forAccount)
      const account = forAccount ?? (wallet.address.toLowerCase() as Hex)
      const balance = await manager.balanceOf(account, asset.address)
      if (flag(values, 'json')) out(toJson({ account, asset: asset.address, amount, balance, transactionHash: r.hash, gasUsed: r.gasUsed }))
      else out(table([['deposited', formatAmount(amount, asset)], ['account', account], ['manager balance', formatAmount(balance, asset)], ['tx', r.hash]]))
      return 0
    } finally {
      chain.close()
    }
  },
}
