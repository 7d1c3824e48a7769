/**
 * Machine metadata: `.parley/machines/<Name>.json`, written by `parley machine deploy` — the
 * machine's address, chain id, runtime code hash and ABI. `params new --machine <Name>` finds
 * the address there; `run` and `status` read the ABI to speak the machine (moves typed as
 * calls, states field by field, errors by name). Before anyone trusts the ABI, the chain's code
 * at the address must hash to the recorded code hash (`MACHINE_METADATA_MISMATCH` otherwise:
 * the file describes another contract than the one the channel runs).
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { isAddress, keccak256, type Provider } from 'ethers'
import type { Hex } from '../../src/protocol/types.js'
import { argError } from './errors.js'
import { readJson, writeText } from './files.js'
import { toPrettyJson } from './output.js'

/** Where machine metadata lives, relative to the working folder. */
export const MACHINES_DIR = '.parley/machines'

/** A deployed machine's metadata. */
export interface MachineRecord {
  name: string
  chainId: bigint
  address: Hex
  /** keccak256 of the runtime code at `address`. */
  codeHash: Hex
  abi: unknown[]
  /** The .sol or artifact it was deployed from. */
  source?: string
  transactionHash?: Hex
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/

/** Whether `text` can name a deployed machine (a Solidity identifier). */
export function isMachineRecordName(text: string): boolean {
  return NAME.test(text)
}

/** The metadata file of machine `name`. */
export function machineRecordPath(name: string, dir = MACHINES_DIR): string {
  return join(dir, `${name}.json`)
}

/** Whether machine `name` has metadata here. */
export function hasMachineRecord(name: string, dir = MACHINES_DIR): boolean {
  return isMachineRecordName(name) && existsSync(machineRecordPath(name, dir))
}

/**
 * Reads machine `name`'s metadata; ArgumentError `MACHINE_NOT_FOUND` when there is none,
 * `FILE_INVALID` naming a bad field.
 * @example const rps = readMachineRecord('RockPaperScissors')
 */
export function readMachineRecord(name: string, dir = MACHINES_DIR): MachineRecord {
  const path = machineRecordPath(name, dir)
  if (!hasMachineRecord(name, dir)) {
    throw argError('MACHINE_NOT_FOUND', `no machine ${JSON.stringify(name)}: ${path} does not exist (\`parley machine deploy\` writes it; copy it from whoever deployed the machine)`, { name, path })
  }
  const o = readJson(path, 'machine metadata') as Record<string, unknown> | null
  const bad = (field: string) => argError('FILE_INVALID', `machine metadata ${path}: bad or missing ${field}`, { path, field })
  if (typeof o !== 'object' || o === null) throw bad('object')
  if (typeof o.address !== 'string' || !isAddress(o.address)) throw bad('address')
  if (typeof o.codeHash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(o.codeHash)) throw bad('codeHash')
  if (typeof o.chainId !== 'string' || !/^\d+$/.test(o.chainId)) throw bad('chainId')
  if (!Array.isArray(o.abi)) throw bad('abi')
  return {
    name, chainId: BigInt(o.chainId), address: o.address.toLowerCase() as Hex, codeHash: o.codeHash.toLowerCase() as Hex, abi: o.abi,
    ...(typeof o.source === 'string' ? { source: o.source } : {}),
    ...(typeof o.transactionHash === 'string' ? { transactionHash: o.transactionHash as Hex } : {}),
  }
}

/**
 * The name of the machine whose metadata here records `address` on `chainId`, if any (so that
 * `params new --machine 0x…` of a deployed machine still speaks its ABI).
 * @example const name = machineRecordNameAt(params.machine, chain.chainId)
 */
export function machineRecordNameAt(address: Hex, chainId: bigint, dir = MACHINES_DIR): string | undefined {
  if (!existsSync(dir)) return undefined
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const name = file.slice(0, -'.json'.length)
    if (!isMachineRecordName(name)) continue
    try {
      const r = readMachineRecord(name, dir)
      if (r.address === address.toLowerCase() && r.chainId === chainId) return name
    } catch {
      continue // a malformed file names no machine; `--machine <its name>` reports it
    }
  }
  return undefined
}

/** Writes machine metadata; returns its path. */
export function writeMachineRecord(r: MachineRecord, dir = MACHINES_DIR): string {
  const path = machineRecordPath(r.name, dir)
  writeText(path, `${toPrettyJson({
    name: r.name, chainId: String(r.chainId), address: r.address, codeHash: r.codeHash,
    ...(r.source ? { source: r.source } : {}), ...(r.transactionHash ? { transactionHash: r.transactionHash } : {}), abi: r.abi,
  })}\n`)
  return path
}

/**
 * Checks that `r` describes the contract the chain runs at `address` (default: the record's):
 * same chain, same address, same code hash. ArgumentError `MACHINE_METADATA_MISMATCH` otherwise.
 * @example await checkMachineRecord(rps, chain.provider, chain.chainId, params.machine)
 */
export async function checkMachineRecord(r: MachineRecord, provider: Provider, chainId: bigint, address: Hex = r.address): Promise<void> {
  const path = machineRecordPath(r.name)
  const mismatch = (why: string) => argError('MACHINE_METADATA_MISMATCH', `${path} does not describe the machine at ${address}: ${why}`, { name: r.name, address })
  if (r.chainId !== chainId) throw mismatch(`it was deployed on chain ${r.chainId}, this is chain ${chainId}`)
  if (r.address !== address.toLowerCase()) throw mismatch(`it records address ${r.address}`)
  const code = await provider.getCode(address)
  if (code === '0x') throw mismatch('there is no contract there')
  const hash = keccak256(code).toLowerCase()
  if (hash !== r.codeHash) throw mismatch(`the chain's code hashes to ${hash}, the metadata says ${r.codeHash}`)
}
