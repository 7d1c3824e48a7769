/**
 * What every benchmark prints first: the machine and toolchain the figures were measured on.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { cpus, totalmem, type as osType, release, arch } from 'node:os'
import { SOLC_SETTINGS } from '../../src/contracts/compiler.js'

const require = createRequire(import.meta.url)

export interface MachineInfo {
  cpu: string
  cores: number
  ramGiB: number
  os: string
  node: string
  solc: string
  evmVersion: string
  /** solc optimizer and pipeline, e.g. `optimizer runs 200, viaIR`. */
  solcSettings: string
  anvil: string
}

/** Reads the machine, Node, solc (npm solc-js), anvil (npm package) and the EVM version. */
export function machineInfo(): MachineInfo {
  const cpuList = cpus()
  const solc = require('solc') as { version(): string }
  let anvil = 'unknown'
  try {
    anvil = (JSON.parse(readFileSync(require.resolve('@foundry-rs/anvil/package.json'), 'utf8')) as { version: string }).version
  } catch {
    // Leave 'unknown': the benchmark itself will fail to start anvil with a clear error.
  }
  return {
    cpu: cpuList[0]?.model.trim() ?? 'unknown CPU',
    cores: cpuList.length,
    ramGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${osType()} ${release()} ${arch()}`,
    node: process.version,
    solc: solc.version(),
    evmVersion: SOLC_SETTINGS.evmVersion,
    solcSettings: describeSettings(SOLC_SETTINGS as { optimizer: { enabled: boolean; runs: number }; viaIR?: boolean }),
    anvil,
  }
}

function describeSettings(s: { optimizer: { enabled: boolean; runs: number }; viaIR?: boolean }): string {
  const opt = s.optimizer.enabled ? `optimizer runs ${s.optimizer.runs}` : 'optimizer off'
  return s.viaIR ? `${opt}, viaIR` : opt
}

/** One line, e.g. `Machine: AMD EPYC … (2 cores), 23.4 GiB RAM, Linux 6.1 x64; Node v20…`. */
export function machineLine(m: MachineInfo = machineInfo()): string {
  return `Machine: ${m.cpu} (${m.cores} cores), ${m.ramGiB} GiB RAM, ${m.os}; Node ${m.node}; ` +
    `solc ${m.solc} (evmVersion ${m.evmVersion}, ${m.solcSettings}); anvil ${m.anvil} (npm)`
}
