/**
 * The params file: a channel's ChannelParams as JSON (bigints as decimal strings), plus the
 * metadata `parley params new` adds so later commands need fewer flags and catch mix-ups —
 * the chain id and manager the channel id was computed for, the channel id itself, and the
 * machine's name — an example machine, or one deployed with `parley machine deploy`, whose
 * metadata (.parley/machines/<name>.json) `run` and `status` read to parse moves and print states.
 */
import { isAddress } from 'ethers'
import type { ChannelParams, Hex } from '../../src/protocol/types.js'
import { argError } from './errors.js'
import { readJson, writeText } from './files.js'
import { toPrettyJson } from './output.js'
import { isMachineRecordName } from './machineRecords.js'
import { MACHINE_NAMES, type MachineName } from './machines.js'

export interface ParamsFile {
  params: ChannelParams
  chainId?: bigint
  manager?: Hex
  channelId?: Hex
  /** An example machine (payments, tictactoe, counter) or a deployed one (.parley/machines/<name>.json). */
  machineName?: MachineName | string
}

const HEX = /^0x([0-9a-fA-F]{2})*$/
const UINT = /^\d+$/

/**
 * Reads and checks a params file; ArgumentError `PARAMS_INVALID` naming the bad field.
 * @example const { params, manager } = readParamsFile('channel.json')
 */
export function readParamsFile(path: string): ParamsFile {
  const o = readJson(path, 'params file') as Record<string, unknown> | null
  const bad = (field: string, want: string) => argError('PARAMS_INVALID', `params file ${path}: ${field} must be ${want}`, { path, field })
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw bad('the top level', 'an object')
  const address = (v: unknown, field: string): Hex => {
    if (typeof v !== 'string' || !isAddress(v)) throw bad(field, 'an address')
    return v.toLowerCase() as Hex
  }
  const uint = (v: unknown, field: string): bigint => {
    if (typeof v !== 'string' || !UINT.test(v)) throw bad(field, 'a decimal string')
    return BigInt(v)
  }
  const seconds = (v: unknown, field: string): number => {
    if (!Number.isInteger(v) || (v as number) < 1) throw bad(field, 'a positive integer (seconds)')
    return v as number
  }
  if (!Array.isArray(o.participants)) throw bad('participants', 'an array of addresses')
  if (!Array.isArray(o.deposits)) throw bad('deposits', 'an array of decimal strings')
  const params: ChannelParams = {
    participants: o.participants.map((a, i) => address(a, `participants[${i}]`)),
    machine: address(o.machine, 'machine'),
    asset: address(o.asset, 'asset'),
    deposits: o.deposits.map((d, i) => uint(d, `deposits[${i}]`)),
    bond: uint(o.bond, 'bond'),
    p2pTime: seconds(o.p2pTime, 'p2pTime'),
    agreementTime: seconds(o.agreementTime, 'agreementTime'),
    chainFallbackTime: seconds(o.chainFallbackTime, 'chainFallbackTime'),
    challengeTime: seconds(o.challengeTime, 'challengeTime'),
    salt: typeof o.salt === 'string' && /^0x[0-9a-fA-F]{64}$/.test(o.salt) ? (o.salt.toLowerCase() as Hex) : (() => { throw bad('salt', '32-byte hex') })(),
    initData: typeof o.initData === 'string' && HEX.test(o.initData) ? (o.initData.toLowerCase() as Hex) : (() => { throw bad('initData', 'hex bytes') })(),
    openDeadline: uint(o.openDeadline, 'openDeadline'),
  }
  if (params.deposits.length !== params.participants.length) throw bad('deposits', `one per participant (${params.participants.length})`)
  if (o.signers !== undefined) {
    if (!Array.isArray(o.signers)) throw bad('signers', 'an array of addresses (session keys, one per participant)')
    const signers = o.signers.map((a, i) => address(a, `signers[${i}]`))
    if (signers.length > 0) {
      const why = signersProblem(params.participants, signers)
      if (why) throw bad('signers', why)
      params.signers = signers
    }
  }
  const file: ParamsFile = { params }
  if (o.chainId !== undefined) file.chainId = uint(o.chainId, 'chainId')
  if (o.manager !== undefined) file.manager = address(o.manager, 'manager')
  if (o.channelId !== undefined) {
    if (typeof o.channelId !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(o.channelId)) throw bad('channelId', '32-byte hex')
    file.channelId = o.channelId.toLowerCase() as Hex
  }
  if (o.machineName !== undefined) {
    if (typeof o.machineName !== 'string' || !isMachineRecordName(o.machineName)) throw bad('machineName', `one of ${MACHINE_NAMES.join(', ')} or a deployed machine's name`)
    file.machineName = o.machineName
  }
  return file
}

/** The JSON text of a params file. */
export function encodeParamsFile(f: ParamsFile): string {
  const { params: p } = f
  return `${toPrettyJson({
    ...(f.channelId ? { channelId: f.channelId } : {}),
    ...(f.chainId !== undefined ? { chainId: String(f.chainId) } : {}),
    ...(f.manager ? { manager: f.manager } : {}),
    ...(f.machineName ? { machineName: f.machineName } : {}),
    participants: p.participants, machine: p.machine, asset: p.asset, deposits: p.deposits.map(String), bond: String(p.bond),
    p2pTime: p.p2pTime, agreementTime: p.agreementTime, chainFallbackTime: p.chainFallbackTime, challengeTime: p.challengeTime,
    salt: p.salt, initData: p.initData, openDeadline: String(p.openDeadline),
    ...(p.signers && p.signers.length > 0 ? { signers: p.signers } : {}),
  })}\n`
}

/**
 * What is wrong with a list of session keys (the contract's open rules, checked before anyone
 * signs): one per participant, distinct, none a participant's address. Undefined when fine.
 * @example const why = signersProblem(params.participants, signers); if (why) throw argError('PARAMS_INVALID', why)
 */
export function signersProblem(participants: readonly Hex[], signers: readonly Hex[]): string | undefined {
  if (signers.length !== participants.length) return `one session key per participant (${participants.length}), got ${signers.length}`
  const all = [...participants, ...signers].map((a) => a.toLowerCase())
  if (new Set(all).size !== all.length) return 'distinct addresses, none of them a participant\'s'
  if (signers.some((s) => /^0x0{40}$/.test(s))) return 'non-zero addresses'
  return undefined
}

/** Writes a params file. */
export function writeParamsFile(path: string, f: ParamsFile): void {
  writeText(path, encodeParamsFile(f))
}
