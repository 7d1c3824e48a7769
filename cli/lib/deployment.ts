/**
 * Deployment files: where a manager and the example machines live, written by `parley devnet`
 * (with the devnet's funded keys) and `parley deploy`, read by every other command so that
 * `--rpc` and `--manager` can be left out.
 */
import { existsSync, rmSync } from 'node:fs'
import { isAddress } from 'ethers'
import { HARDFORKS, isHardfork, type Hardfork } from '../../src/chain/hardfork.js'
import type { Hex } from '../../src/protocol/types.js'
import { str, type Values } from './args.js'
import { argError } from './errors.js'
import { readJson, writeText } from './files.js'
import { toPrettyJson } from './output.js'

export const DEVNET_FILE = '.parley/devnet.json'
export const DEPLOYMENT_FILE = '.parley/deployment.json'
/** Written by `parley testnet` while it runs: the local DHT's bootstrap nodes. */
export const TESTNET_FILE = '.parley/testnet.json'

/** A devnet account: anvil's deterministic keys, funded with ETH and test tokens. */
export interface Account {
  address: Hex
  key: Hex
}

export interface Deployment {
  rpc: string
  chainId: string
  /**
   * The chain's hardfork, detected when the file was written; the peer's EVM runs it and
   * refuses to start if the chain no longer does. Absent in files from before the field:
   * read as cancun (see {@link expectedHardfork}).
   */
  hardfork?: Hardfork
  /**
   * Blocks on top of an event's block before a peer acts on it (optional; `parley run
   * --confirmations` overrides it; absent: 0 on anvil and hardhat, 12 elsewhere).
   */
  confirmations?: number
  manager: Hex
  machines: { payments: Hex; tictactoe: Hex; counter: Hex }
  /** TestToken (open mint), an ERC-20 for token channels. */
  token: Hex
  deployer: Hex
  /** Funded keys (devnet only). */
  accounts?: Account[]
}

/**
 * The deployment file in use: `--deployment`, else $PARLEY_DEPLOYMENT, else
 * ./.parley/deployment.json, else ./.parley/devnet.json; undefined when none exists.
 */
export function findDeployment(values: Values): { path: string; deployment: Deployment } | undefined {
  const explicit = str(values, 'deployment') ?? process.env.PARLEY_DEPLOYMENT
  if (explicit) return { path: explicit, deployment: readDeployment(explicit) }
  for (const path of [DEPLOYMENT_FILE, DEVNET_FILE]) if (existsSync(path)) return { path, deployment: readDeployment(path) }
  return undefined
}

/** Reads and checks a deployment file (ArgumentError `FILE_NOT_FOUND` / `FILE_INVALID`). */
export function readDeployment(path: string): Deployment {
  const d = readJson(path, 'deployment file') as Partial<Deployment> | null
  const bad = (field: string) => argError('FILE_INVALID', `deployment file ${path}: ${field} is missing or invalid`, { path, field })
  if (typeof d !== 'object' || d === null) throw bad('the top-level object')
  if (typeof d.rpc !== 'string') throw bad('rpc')
  if (typeof d.chainId !== 'string' || !/^\d+$/.test(d.chainId)) throw bad('chainId')
  if (d.hardfork !== undefined && !isHardfork(d.hardfork)) throw bad(`hardfork (one of ${HARDFORKS.join(', ')})`)
  if (d.confirmations !== undefined && (!Number.isInteger(d.confirmations) || d.confirmations < 0)) throw bad('confirmations (a non-negative integer)')
  if (typeof d.manager !== 'string' || !isAddress(d.manager)) throw bad('manager')
  if (typeof d.token !== 'string' || !isAddress(d.token)) throw bad('token')
  const m = d.machines
  if (!m || !(['payments', 'tictactoe', 'counter'] as const).every((k) => typeof m[k] === 'string' && isAddress(m[k]))) throw bad('machines')
  if (d.accounts !== undefined && (!Array.isArray(d.accounts) || d.accounts.some((a) => !/^0x[0-9a-fA-F]{64}$/.test(String(a?.key))))) throw bad('accounts')
  return d as Deployment
}

/**
 * The hardfork a deployment file says `chainId`'s chain runs, for the peer to check against the
 * chain: the recorded one; cancun for a file written before the field existed (every Parley
 * chain ran cancun then; if the chain has moved on, the check fails instead of guessing), with
 * `recorded` false; undefined when the file describes another chain.
 * @example const expected = expectedHardfork(deployment, chain.chainId) // { hardfork: 'prague', recorded: true }
 */
export function expectedHardfork(d: Deployment, chainId: bigint): { hardfork: Hardfork; recorded: boolean } | undefined {
  if (BigInt(d.chainId) !== chainId) return undefined
  return d.hardfork === undefined ? { hardfork: 'cancun', recorded: false } : { hardfork: d.hardfork, recorded: true }
}

/** Writes a deployment file (mode 600 when it holds keys). */
export function writeDeployment(path: string, d: Deployment): void {
  writeText(path, `${toPrettyJson(d)}\n`, d.accounts ? 0o600 : undefined)
}

/** Removes a file describing a service that stopped (devnet, testnet). */
export function removeStateFile(path: string): void {
  rmSync(path, { force: true })
}

/** The bootstrap nodes of a running `parley testnet` in this folder, if any. */
export function readTestnetFile(path = TESTNET_FILE): string[] | undefined {
  if (!existsSync(path)) return undefined
  const o = readJson(path, 'testnet file') as { bootstrap?: unknown } | null
  if (!Array.isArray(o?.bootstrap) || o.bootstrap.some((b) => typeof b !== 'string')) {
    throw argError('FILE_INVALID', `testnet file ${path}: bootstrap must be a list of host:port strings`, { path })
  }
  return o.bootstrap as string[]
}

/** Writes the testnet file. */
export function writeTestnetFile(path: string, bootstrap: string[]): void {
  writeText(path, `${toPrettyJson({ bootstrap })}\n`)
}
