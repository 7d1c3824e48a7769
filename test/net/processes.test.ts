/**
 * Peers as separate OS processes (`node --import tsx test/net/peer-process.ts`): three
 * processes find each other on a local HyperDHT and play a Counter channel; one is killed
 * with SIGKILL mid-channel and restarted from its SQLite file with the same Noise seed — it
 * catches up and every process sees the same final state.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { AbiCoder, keccak256, toUtf8Bytes } from 'ethers'
import { startAnvil, type Anvil } from '../../src/chain/anvil.js'
import { signOpenConsent } from '../../src/chain/consent.js'
import { deployLocalStack, type LocalStack } from '../../src/chain/stack.js'
import type { ParleyHasher } from '../../src/protocol/eip712.js'
import { ETH, type ChannelParams, type Hex } from '../../src/protocol/types.js'
import { startTestnet, type Testnet } from '../helpers/net.js'
import { seedOf } from '../helpers/netpeers.js'
import type { PeerConfig } from './peer-process.js'
import { defaultTimes } from '../../src/channel/params.js'

let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let testnet: Testnet
let dir: string
const children: ChildProcess[] = []

before(async () => {
  ;[anvil, testnet] = await Promise.all([startAnvil({ accounts: 4 }), startTestnet()])
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  dir = mkdtempSync(join(tmpdir(), 'parley-procs-'))
})
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  await testnet.destroy()
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

interface Peer {
  child: ChildProcess
  events: Record<string, string>[]
  /** Resolves with the first event matching `pred` (past or future). */
  when(pred: (e: Record<string, string>) => boolean): Promise<Record<string, string>>
  exited: Promise<number | null>
  stderr: string[]
}

function spawnPeer(config: PeerConfig): Peer {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'peer-process.ts'), JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] })
  children.push(child)
  const events: Record<string, string>[] = []
  const waiters: { pred: (e: Record<string, string>) => boolean; resolve: (e: Record<string, string>) => void }[] = []
  const stderr: string[] = []
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()))
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const e = JSON.parse(line) as Record<string, string>
    events.push(e)
    for (const w of [...waiters]) if (w.pred(e)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(e))
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    child, events, stderr, exited,
    when: (pred) => {
      const seen = events.find(pred)
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ pred, resolve }))
    },
  }
}

/** `p`, or a failure with the processes' recent output after `ms`. */
function within<T>(ms: number, p: Promise<T>, diagnostics: () => string): Promise<T> {
  let timer: NodeJS.Timeout
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms\n${diagnostics()}`)), ms))),
  ])
}

describe('peers as separate OS processes', () => {
  it('three processes play to finality; one killed mid-channel and restarted from its store catches up', async () => {
    const wallets = anvil.wallets.slice(1, 4)
    const params: ChannelParams = {
      participants: wallets.map((w) => w.address.toLowerCase() as Hex), machine: stack.machines.counter, asset: ETH,
      deposits: wallets.map(() => 0n), bond: 0n, ...defaultTimes,
      salt: keccak256(toUtf8Bytes(`procs-${Date.now()}`)) as Hex, initData: AbiCoder.defaultAbiCoder().encode(['uint64'], [0]) as Hex, openDeadline: 1n << 40n,
    }
    const opened = await stack.manager.open(params, wallets.map((w) => signOpenConsent(w.signingKey, hasher, params)))
    const config = (i: number, restore: boolean): PeerConfig => ({
      bootstrap: testnet.bootstrap, rpc: anvil.url, chainId: String(hasher.domain.chainId), manager: hasher.domain.verifyingContract as Hex,
      key: wallets[i]!.privateKey as Hex, seed: seedOf(`procs-${opened.channelId}`, i), channelId: opened.channelId,
      params: JSON.parse(JSON.stringify(params, (_, v) => (typeof v === 'bigint' ? String(v) : v))) as Record<string, unknown>,
      genesis: { state: opened.genesis.state, timestamp: String(opened.genesis.timestamp) },
      store: join(dir, `peer${i}.db`), target: '12', restore,
    })
    const peers = [0, 1, 2].map((i) => spawnPeer(config(i, false)))
    const diagnostics = () => peers.map((p, i) => `peer ${i}: ${JSON.stringify(p.events.slice(-5))}\n${p.stderr.join('').slice(-2000)}`).join('\n')
    try {
      // let the channel get going, then kill participant 2 without warning
      await within(40_000, peers[2]!.when((e) => e.event === 'final' && BigInt(e.seq!) >= 4n), diagnostics)
      peers[2]!.child.kill('SIGKILL')
      assert.equal(await peers[2]!.exited, null)
      const restarted = spawnPeer(config(2, true))
      peers[2] = restarted
      const ready = await within(40_000, restarted.when((e) => e.event === 'ready' || e.event === 'fatal'), diagnostics)
      assert.equal(ready.event, 'ready', diagnostics())
      assert.ok(BigInt(ready.seq!) >= 4n, 'it resumes from its store, not from genesis')
      const done = await within(60_000, Promise.all(peers.map((p) => p.when((e) => e.event === 'done' || e.event === 'fatal'))), diagnostics)
      assert.deepEqual(done.map((d) => d.event), ['done', 'done', 'done'], diagnostics())
      assert.deepEqual(done.map((d) => d.finalSeq), ['12', '12', '12'])
      assert.equal(new Set(done.map((d) => d.finalStateHash)).size, 1)
      for (const p of peers) p.child.stdin!.write('exit\n')
      assert.deepEqual(await within(20_000, Promise.all(peers.map((p) => p.exited)), diagnostics), [0, 0, 0], diagnostics())
    } finally {
      for (const p of peers) if (p.child.exitCode === null) p.child.kill('SIGKILL')
    }
  })
})
