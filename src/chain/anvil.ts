/**
 * Starts a real anvil node (npm `@foundry-rs/anvil`) on a free loopback port and stops it.
 * Used by tests, benchmarks and the demo; production points the SDK at any JSON-RPC URL.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { JsonRpcProvider, Wallet, HDNodeWallet, Mnemonic } from 'ethers'
import { RuntimeError, UsageError } from '../errors/ParleyError.js'
import { DEFAULT_HARDFORK, HARDFORKS, isHardfork, type Hardfork } from './hardfork.js'

const require = createRequire(import.meta.url)

/** anvil's default mnemonic; its accounts are funded with `balance` ETH each. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk'

export interface AnvilOptions {
  /** Number of funded accounts (default 10). */
  accounts?: number
  /** ETH per account (default 10000). */
  balance?: number
  /** Extra command-line flags. */
  args?: string[]
  /** Seconds to wait for the node (default 30). */
  timeoutSeconds?: number
  /** Port on 127.0.0.1 (default 0: any free port). */
  port?: number
  /**
   * The chain's hardfork (default: the contracts' evmVersion, cancun). The contracts run on
   * any of them; the client EVM must then run the same one (see chain/hardfork.ts).
   */
  hardfork?: Hardfork
}

export interface Anvil {
  url: string
  port: number
  provider: JsonRpcProvider
  /** Funded wallets connected to `provider` (anvil's deterministic accounts). */
  wallets: Wallet[]
  /** Advances the chain clock by `seconds` and mines a block. */
  increaseTime(seconds: number): Promise<void>
  /** Mines one block. */
  mine(): Promise<void>
  /** Timestamp of the latest block. */
  now(): Promise<number>
  stop(): Promise<void>
}

function anvilBinary(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch
  const platform = process.platform === 'win32' ? 'win32' : process.platform
  try {
    const pkg = require.resolve(`@foundry-rs/anvil-${platform}-${arch}/package.json`)
    return join(dirname(pkg), 'bin', platform === 'win32' ? 'anvil.exe' : 'anvil')
  } catch (cause) {
    throw new RuntimeError('ANVIL_MISSING', `no anvil binary for ${platform}-${arch}: install the optional peer dependency (\`npm install -D @foundry-rs/anvil\`; in a clone of Parley, \`npm install\`)`, { cause })
  }
}

/** The anvil processes this process started and has not stopped. */
const live = new Set<ChildProcess>()
let reaping = false

/**
 * Kills every anvil still running when this process exits (normally, by `process.exit`, or by a
 * test runner's forced exit), so a caller that never reached `stop()` leaves no node behind.
 */
function reapOnExit(child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
  if (reaping) return
  reaping = true
  process.once('exit', () => {
    for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  })
}

/**
 * Starts anvil on 127.0.0.1 (any free port unless `port` is given) and waits until it listens.
 * An anvil not stopped when this process exits is killed then.
 * @example
 * const anvil = await startAnvil()
 * try { await anvil.provider.getBlockNumber() } finally { await anvil.stop() }
 * const prague = await startAnvil({ hardfork: 'prague' }) // EIP-7702 transactions, BLS precompiles
 */
export async function startAnvil(opts: AnvilOptions = {}): Promise<Anvil> {
  const accounts = opts.accounts ?? 10
  const wanted = opts.port ?? 0
  if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535) throw new UsageError('ANVIL_PORT_INVALID', `port must be an integer in 0..65535, got ${wanted}`)
  const hardfork = opts.hardfork ?? DEFAULT_HARDFORK
  if (!isHardfork(hardfork)) throw new UsageError('HARDFORK_INVALID', `hardfork must be one of ${HARDFORKS.join(', ')}, got ${JSON.stringify(hardfork)}`)
  const args = [
    '--host', '127.0.0.1', '--port', String(wanted),
    '--hardfork', hardfork,
    '--accounts', String(accounts),
    '--balance', String(opts.balance ?? 10000),
    '--mnemonic', ANVIL_MNEMONIC,
    ...(opts.args ?? []),
  ]
  const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] })
  reapOnExit(child)
  const port = await waitForPort(child, (opts.timeoutSeconds ?? 30) * 1000, wanted)
  const url = `http://127.0.0.1:${port}`
  const provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1, staticNetwork: true, pollingInterval: 50 })
  const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(ANVIL_MNEMONIC), "m/44'/60'/0'/0")
  const wallets = Array.from({ length: accounts }, (_, i) => new Wallet(root.deriveChild(i).privateKey, provider))
  let stopped = false
  return {
    url,
    port,
    provider,
    wallets,
    async increaseTime(seconds) {
      await provider.send('evm_increaseTime', [seconds])
      await provider.send('evm_mine', [])
    },
    async mine() {
      await provider.send('evm_mine', [])
    },
    async now() {
      const b = await provider.getBlock('latest')
      return b!.timestamp
    },
    async stop() {
      if (stopped) return
      stopped = true
      provider.destroy()
      await new Promise<void>((res) => {
        if (child.exitCode !== null) return res()
        child.once('exit', () => res())
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 2000).unref()
      })
    },
  }
}

function waitForPort(child: ChildProcess, timeoutMs: number, wanted: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let log = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new RuntimeError('ANVIL_TIMEOUT', `anvil did not start within ${timeoutMs} ms`, { details: { log } }))
    }, timeoutMs)
    const onData = (buf: Buffer) => {
      log += buf.toString()
      const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(log)
      if (m) {
        clearTimeout(timer)
        child.stdout!.off('data', onData)
        child.stdout!.resume() // keep draining so anvil never blocks on a full pipe
        resolve(Number(m[1]))
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (b: Buffer) => (log += b.toString()))
    child.once('exit', (code) => {
      clearTimeout(timer)
      const last = log.trim().split('\n').filter((l) => l.trim() !== '').at(-1)
      if (wanted !== 0 && /address already in use/i.test(log)) {
        reject(new RuntimeError('PORT_IN_USE', `port ${wanted} on 127.0.0.1 is in use (another anvil or devnet?)`, { details: { port: wanted, log } }))
        return
      }
      reject(new RuntimeError('ANVIL_EXITED', `anvil exited with code ${code}${last ? `: ${last.trim()}` : ''}`, { details: { log } }))
    })
  })
}
