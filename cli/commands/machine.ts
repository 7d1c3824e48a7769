/**
 * `parley machine deploy <file.sol | artifact.json>`: compiles a machine with the repository's
 * solc settings (or takes a compiled artifact), deploys it from the key's account, and writes
 * its metadata — address, chain id, code hash, ABI — to `.parley/machines/<Name>.json`, where
 * `params new --machine <Name>`, `run` and `status` find it.
 */
import { ContractFactory, keccak256 } from 'ethers'
import type { Hex } from '../../src/protocol/types.js'
import { COMMON, JSON_HELP, KEY, KEY_HELP, flag, parse, str } from '../lib/args.js'
import { connect, loadWallet } from '../lib/chain.js'
import type { Command } from '../lib/command.js'
import { compileMachine, readArtifactFile } from '../lib/compile.js'
import { argError } from '../lib/errors.js'
import { MACHINES_DIR, isMachineRecordName, writeMachineRecord, type MachineRecord } from '../lib/machineRecords.js'
import { out, progress, table, toJson } from '../lib/output.js'
import { MachineAbi } from '../../src/machine/MachineAbi.js'

const usage = `parley machine deploy FILE.sol|ARTIFACT.json [--contract NAME] [--name NAME] [--rpc URL] [--key HEX] [--json]

Deploys a state machine and writes its metadata (address, chain id, code hash, ABI) to
${MACHINES_DIR}/<NAME>.json. A .sol file is compiled with solc-js and Parley's settings
(optimizer, via-IR, evmVersion cancun, the client EVM's); an artifact JSON ({ abi, bytecode },
Parley's, Hardhat's or Foundry's) is deployed as it is. Then \`params new --machine NAME\`.

  --contract <name>    the contract to deploy from the .sol (default: the one named like the
                       file, else its only contract with a transition function)
  --name <name>        name of the metadata file (default: the contract's name)
  --rpc <url>          JSON-RPC endpoint (default: $PARLEY_RPC, the deployment file's, or http://127.0.0.1:8545)
${KEY_HELP}
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const [sub, ...rest] = argv
    if (sub === '--help' || sub === '-h') parse(['--help'], COMMON, usage)
    if (sub === undefined) throw argError('ARG_MISSING', `machine needs a subcommand\n${usage.split('\n')[0]}`)
    if (sub !== 'deploy') throw argError('COMMAND_UNKNOWN', `unknown subcommand machine ${JSON.stringify(sub)} (did you mean \`machine deploy\`?)`)
    const { values, positionals } = parse(rest, {
      ...COMMON, rpc: { type: 'string' }, deployment: { type: 'string' }, ...KEY, contract: { type: 'string' }, name: { type: 'string' },
    }, usage, { min: 1, max: 1 })
    const file = positionals[0]!
    const compiled = file.endsWith('.json') ? readArtifactFile(file) : compileMachine(file, str(values, 'contract'))
    const name = str(values, 'name') ?? compiled.contractName
    if (!isMachineRecordName(name)) throw argError('ARG_INVALID', `--name must be an identifier (letters, digits, _), got ${JSON.stringify(name)}`)
    const abi = new MachineAbi(compiled.abi as never)
    const chain = await connect(values)
    try {
      const wallet = loadWallet(values, chain)
      progress(`machine: deploying ${compiled.contractName} from ${wallet.address} to chain ${chain.chainId} (${chain.rpc})…`)
      const contract = await new ContractFactory(compiled.abi as never, compiled.bytecode, wallet).deploy()
      const receipt = await contract.deploymentTransaction()!.wait()
      const address = (await contract.getAddress()).toLowerCase() as Hex
      const codeHash = keccak256(await chain.provider.getCode(address)) as Hex
      const record: MachineRecord = {
        name, chainId: chain.chainId, address, codeHash, abi: compiled.abi, source: compiled.source, ...(receipt ? { transactionHash: receipt.hash as Hex } : {}),
      }
      const path = writeMachineRecord(record)
      const moves = abi.moveSyntax || '(no move encoders: raw 0x… moves)'
      if (flag(values, 'json')) {
        out(toJson({ name, contract: compiled.contractName, chainId: chain.chainId, address, codeHash, file: path, gasUsed: receipt?.gasUsed, moves: abi.encoders.map((f) => f.format('sighash')), decodeState: abi.decodesState }))
      } else {
        out(table([
          ['machine', name], ['address', address], ['chain id', String(chain.chainId)], ['code hash', codeHash],
          ['moves', moves], ['states', abi.decodesState ? 'decodeState: printed field by field' : 'no decodeState: printed as their hash'],
          ['gas used', String(receipt?.gasUsed ?? '')], ['file', path],
        ]))
      }
      return 0
    } finally {
      chain.close()
    }
  },
}
