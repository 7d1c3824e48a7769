/**
 * `parley params new`: writes a channel's parameters as a params file and prints its channel
 * id — the EIP-712 digest of the parameters on this chain and manager, which is also what each
 * participant signs to consent.
 */
import { randomBytes } from 'node:crypto'
import { isHexString } from 'ethers'
import { CONSENT_VALIDITY, openDeadline } from '../../src/protocol/timing.js'
import type { ChannelParams, Hex } from '../../src/protocol/types.js'
import { defaultTimes, type ChannelTimes } from '../../src/channel/params.js'
import { RpcStateMachine } from '../../src/chain/RpcStateMachine.js'
import { ProtocolError } from '../../src/errors/ParleyError.js'
import { describeRevert } from '../../src/machine/MachineAbi.js'
import { CHAIN, CHAIN_HELP, COMMON, JSON_HELP, flag, list, parse, str } from '../lib/args.js'
import { formatAmount, parseAmount, resolveAsset } from '../lib/assets.js'
import { connect, parseAddress, resolveManager, type ChainContext } from '../lib/chain.js'
import type { Command } from '../lib/command.js'
import { argError } from '../lib/errors.js'
import { MACHINES_DIR, checkMachineRecord, machineRecordNameAt, readMachineRecord } from '../lib/machineRecords.js'
import { MACHINE_NAMES, machineNameOf, type MachineName } from '../lib/machines.js'
import { out, table, toJson } from '../lib/output.js'
import { encodeParamsFile, signersProblem, writeParamsFile, type ParamsFile } from '../lib/params.js'

const usage = `parley params new --participants A,B[,…] --machine NAME|ADDRESS --deposit AMOUNT[,…] [-o FILE] [options]

Writes a channel params file (ChannelParams as JSON, bigints as decimal strings, plus the
chain id, manager, channel id and machine name) and prints the channel id.

  --participants <list>  participant addresses in order (0x… or @n for devnet account n), 2..64
  --machine <m>          payments | tictactoe | counter (from the deployment file), the name of a
                         machine deployed with \`parley machine deploy\` (${MACHINES_DIR}/<name>.json,
                         checked against the chain's code), or an address
  --deposit <amounts>    each participant's deposit (decimal), one value for all or one per participant
  --signers <list>       session keys, one per participant in order (addresses, e.g. from
                         \`parley session-key\`): they sign the moves; the participants' keys sign
                         only the consents and chain calls, and payouts go to the participants
  --bond <amount>        bond each participant locks, slashed on proven fraud (default 0)
  --token <address>      an ERC-20 channel asset instead of ETH (test = the deployment's TestToken)
  --times <p,a,f,c>      p2pTime, agreementTime, chainFallbackTime, challengeTime in seconds
                         (default ${Object.values(defaultTimes).join(',')})
  --init <hex>           machine initData (default 0x; counter: abi-encoded uint64 target)
  --salt <hex>           32 bytes making the channel id unique (default random)
  --valid-for <seconds>  how long the consents may be used to open (default 86400: open
                         refuses them after the chain's time passes now + this)
  -o, --out <file>       write the file here (default: print the JSON on stdout)
${CHAIN_HELP}
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const [sub, ...rest] = argv
    if (sub === '--help' || sub === '-h') parse(['--help'], COMMON, usage) // prints the usage and throws HelpShown
    if (sub === undefined) throw argError('ARG_MISSING', `params needs a subcommand\n${usage.split('\n')[0]}`)
    if (sub !== 'new') throw argError('COMMAND_UNKNOWN', `unknown subcommand params ${JSON.stringify(sub)} (did you mean \`params new\`?)`)
    const { values } = parse(rest, {
      ...COMMON, ...CHAIN, participants: { type: 'string', multiple: true }, machine: { type: 'string' }, deposit: { type: 'string' },
      bond: { type: 'string' }, token: { type: 'string' }, times: { type: 'string' }, init: { type: 'string' }, salt: { type: 'string' }, 'valid-for': { type: 'string' },
      signers: { type: 'string', multiple: true }, out: { type: 'string', short: 'o' },
    }, usage)
    const chain = await connect(values)
    try {
      const participants = list(values, 'participants').map((p, i) => parseAddress(p, chain.deployment, `--participants[${i}]`))
      if (participants.length < 2 || participants.length > 64) throw argError('PARAMS_INVALID', `--participants needs 2..64 addresses, got ${participants.length}`)
      if (new Set(participants).size !== participants.length) throw argError('PARAMS_INVALID', '--participants lists an address twice')
      const signers = list(values, 'signers').map((p, i) => parseAddress(p, chain.deployment, `--signers[${i}]`))
      if (signers.length > 0) {
        const why = signersProblem(participants, signers)
        if (why) throw argError('PARAMS_INVALID', `--signers: ${why}`)
      }
      const { address: machine, name: machineName, abi } = await resolveMachine(str(values, 'machine'), chain)
      const asset = await resolveAsset(str(values, 'token'), chain.provider, chain.deployment)
      const depositText = list(values, 'deposit')
      if (depositText.length !== 1 && depositText.length !== participants.length) {
        throw argError('PARAMS_INVALID', `--deposit takes one amount or ${participants.length} (one per participant), got ${depositText.length}`)
      }
      const deposits = participants.map((_, i) => parseAmount(depositText[depositText.length === 1 ? 0 : i]!, asset, '--deposit'))
      const times = parseTimes(str(values, 'times'))
      const init = str(values, 'init') ?? '0x'
      if (!isHexString(init, true)) throw argError('PARAMS_INVALID', `--init must be hex bytes, got ${JSON.stringify(init)}`)
      const salt = str(values, 'salt') ?? `0x${randomBytes(32).toString('hex')}`
      if (!isHexString(salt, 32)) throw argError('PARAMS_INVALID', `--salt must be 32-byte hex, got ${JSON.stringify(salt)}`)
      const validFor = str(values, 'valid-for') ?? String(CONSENT_VALIDITY)
      if (!/^[1-9]\d{0,9}$/.test(validFor)) throw argError('PARAMS_INVALID', `--valid-for must be a positive number of seconds, got ${JSON.stringify(validFor)}`)
      const now = BigInt((await chain.provider.getBlock('latest'))!.timestamp)
      const params: ChannelParams = {
        participants, machine, asset: asset.address, deposits, bond: str(values, 'bond') === undefined ? 0n : parseAmount(str(values, 'bond')!, asset, '--bond'),
        ...times, salt: salt.toLowerCase() as Hex, initData: init.toLowerCase() as Hex, openDeadline: openDeadline(now, Number(validFor)),
        ...(signers.length > 0 ? { signers } : {}),
      }
      const manager = await resolveManager(chain, values)
      if (!(await chain.provider.getCode(machine)).slice(2)) throw argError('MACHINE_NOT_FOUND', `no contract at machine address ${machine} on chain ${chain.chainId}`)
      await checkMachineAccepts(new RpcStateMachine(machine, chain.provider), params, machineName ?? machine, abi)
      const channelId = (await manager.hasher()).channelId(params)
      const file: ParamsFile = { params, chainId: chain.chainId, manager: manager.address, channelId, ...(machineName ? { machineName } : {}) }
      const path = str(values, 'out')
      if (path) writeParamsFile(path, file)
      if (flag(values, 'json')) out(toJson({ channelId, ...(path ? { file: path } : { params: JSON.parse(encodeParamsFile(file)) as unknown }) }))
      else if (path) {
        out(table([
          ['channel id', channelId], ['file', path], ['machine', machineName ?? machine],
          ['deposits', deposits.map((d) => formatAmount(d, asset)).join(', ')], ['bond', formatAmount(params.bond, asset)],
        ]))
      } else out(encodeParamsFile(file).trimEnd())
      return 0
    } finally {
      chain.close()
    }
  },
}

/**
 * The machine's `initialState` must accept these participants, deposits and initData, or the
 * `open` would revert after everyone signed: ArgumentError `MACHINE_REFUSES_PARAMS` naming the
 * machine's error (e.g. TicTacToeNeedsTwoPlayers(n=3)).
 */
async function checkMachineAccepts(machine: RpcStateMachine, params: ChannelParams, name: string, abi?: unknown[]): Promise<void> {
  try {
    await machine.initialState(params.deposits, params.initData)
  } catch (e) {
    if (!(e instanceof ProtocolError && (e.code === 'MACHINE_REVERTED' || e.code === 'MACHINE_OUT_OF_GAS'))) throw e
    const error = e.details?.error as string | undefined
    const args = e.details?.args as Record<string, unknown> | undefined
    const named = abi ? describeRevert(e, abi as never) : undefined // a deployed machine's own errors, by its ABI
    const why = named ?? (error ? `${error}(${Object.entries(args ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(', ')})` : e.code === 'MACHINE_OUT_OF_GAS' ? 'out of gas' : 'it reverted')
    throw argError('MACHINE_REFUSES_PARAMS', `${name} refuses ${params.participants.length} participants with these deposits and --init: ${why}`, { machine: machine.address, n: params.participants.length, ...(error ? { error } : {}) })
  }
}

/**
 * `--machine`: an example machine of the deployment, a machine deployed with `parley machine
 * deploy` (its metadata checked against the chain's code: `MACHINE_METADATA_MISMATCH`), or an
 * address.
 */
async function resolveMachine(text: string | undefined, chain: ChainContext): Promise<{ address: Hex; name?: string; abi?: unknown[] }> {
  const { deployment } = chain
  if (text === undefined) throw argError('ARG_MISSING', `--machine is required (${MACHINE_NAMES.join(', ')}, a machine in ${MACHINES_DIR}/, or an address)`)
  if (!text.startsWith('0x') && !text.startsWith('@') && !(MACHINE_NAMES as readonly string[]).includes(text)) {
    const record = readMachineRecord(text)
    await checkMachineRecord(record, chain.provider, chain.chainId)
    return { address: record.address, name: record.name, abi: record.abi }
  }
  if ((MACHINE_NAMES as readonly string[]).includes(text)) {
    if (!deployment) throw argError('DEPLOYMENT_REQUIRED', `--machine ${text} needs a deployment file (run \`parley devnet\` or \`parley deploy\`), or give its address`)
    return { address: deployment.machines[text as MachineName].toLowerCase() as Hex, name: text as MachineName }
  }
  const address = parseAddress(text, undefined, '--machine')
  const name = machineNameOf(address, deployment)
  if (name) return { address, name }
  const deployed = machineRecordNameAt(address, chain.chainId)
  if (!deployed) return { address }
  const record = readMachineRecord(deployed)
  await checkMachineRecord(record, chain.provider, chain.chainId)
  return { address, name: deployed, abi: record.abi }
}

function parseTimes(text: string | undefined): ChannelTimes {
  if (text === undefined) return { ...defaultTimes }
  const parts = text.split(',').map((s) => s.trim())
  const max = 30 * 86400
  if (parts.length !== 4 || parts.some((p) => !/^\d+$/.test(p) || Number(p) < 1 || Number(p) > max)) {
    throw argError('PARAMS_INVALID', `--times must be four whole seconds p2p,agreement,fallback,challenge, each 1..${max}, got ${JSON.stringify(text)}`)
  }
  const [p2pTime, agreementTime, chainFallbackTime, challengeTime] = parts.map(Number) as [number, number, number, number]
  return { p2pTime, agreementTime, chainFallbackTime, challengeTime }
}
