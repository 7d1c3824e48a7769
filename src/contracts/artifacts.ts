/**
 * Loads compiled contract artifacts (ABI + bytecode) written by `npm run build:contracts`.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Interface } from 'ethers'
import { RuntimeError } from '../errors/ParleyError.js'
import type { Hex } from '../protocol/types.js'

/** Contracts the build produces. */
export type ContractName = 'StateChannelManager' | 'StateChannelCourt' | 'Counter' | 'Payments' | 'TicTacToe' | 'RockPaperScissors' | 'TestToken' | 'QuirkyToken' | 'ReentrantReceiver' | 'Relay' | 'LoopingMachine' | 'SignaturesHarness' | 'HashHarness' | 'BitmapHarness' | 'HardforkProbeMachine' | 'Forwarder'

export interface Artifact {
  contractName: ContractName
  sourceName: string
  abi: unknown[]
  bytecode: Hex
  deployedBytecode: Hex
}

const ARTIFACTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../artifacts')
const cache = new Map<ContractName, Artifact>()

/**
 * The artifact of a contract; throws RuntimeError `ARTIFACT_MISSING` if the build has not run.
 * @example const { abi, bytecode } = loadArtifact('Counter')
 */
export function loadArtifact(name: ContractName): Artifact {
  let a = cache.get(name)
  if (!a) {
    const path = join(ARTIFACTS_DIR, `${name}.json`)
    if (!existsSync(path)) {
      throw new RuntimeError('ARTIFACT_MISSING', `no artifact for ${name}: run \`npm run build:contracts\``, { details: { path } })
    }
    a = JSON.parse(readFileSync(path, 'utf8')) as Artifact
    cache.set(name, a)
  }
  return a
}

/** The ethers Interface of a contract (for encoding, decoding errors and events). */
export function contractInterface(name: ContractName): Interface {
  return new Interface(loadArtifact(name).abi as never)
}
