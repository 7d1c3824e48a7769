/**
 * ChainListener on a real anvil: decoded events in chain order, confirmation depth, a restart
 * that resumes from the stored cursor without missing or repeating an event (also when the
 * previous run stopped in the middle of a block range), a node behind the head (a lagging
 * `eth_getLogs`, a head below blocks already read) neither skipping events nor passing for a
 * reorganisation, and RPC failures reported as
 * RuntimeErrors and retried until the node answers again (through a proxy that fails on
 * demand — the chain itself is real).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JsonRpcProvider, keccak256, toUtf8Bytes, type BlockTag, type Filter, type Provider, type Wallet } from 'ethers'
import { startAnvil, type Anvil } from './anvil.js'
import { deployLocalStack, type LocalStack } from './stack.js'
import { signOpenConsent } from './consent.js'
import { ChainListener, type ChainEvent } from './ChainListener.js'
import { RuntimeError } from '../errors/ParleyError.js'
import type { ParleyHasher } from '../protocol/eip712.js'
import { signDigest } from '../protocol/signatures.js'
import { ETH, type ChannelParams, type Hex, type Transaction } from '../protocol/types.js'
import { SqliteStore } from '../store/SqliteStore.js'
import type { Store } from '../store/types.js'
import { defaultTimes } from '../channel/params.js'
import { channelStruct } from './records.js'

let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let users: Wallet[]
let dir: string

before(async () => {
  anvil = await startAnvil({ accounts: 3 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  users = anvil.wallets.slice(1, 3)
  dir = mkdtempSync(join(tmpdir(), 'parley-listener-'))
})
after(async () => {
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** Opens a Payments channel; returns a poster that publishes pass moves (one TransactionPosted each). */
async function channel(label: string) {
  const p: ChannelParams = {
    participants: users.map((w) => w.address.toLowerCase() as Hex), machine: stack.machines.payments, asset: ETH,
    deposits: [0n, 0n], bond: 0n, ...defaultTimes,
    salt: keccak256(toUtf8Bytes(label)) as Hex, initData: '0x', openDeadline: 1n << 40n,
  }
  const opened = await stack.manager.open(p, users.map((w) => signOpenConsent(w.signingKey, hasher, p)))
  let seq = 0n
  const post = async (k: number) => {
    for (let i = 0; i < k; i++) {
      seq++
      const tx: Transaction = { channelId: opened.channelId, fork: 0n, seq, timestamp: opened.genesis.timestamp + seq, actor: 0, previousStateHash: opened.genesis.stateHash, data: '0x', stateHash: opened.genesis.stateHash }
      await stack.manager.postTransaction(opened.channelId, p.participants, tx, signDigest(users[0]!.signingKey, hasher.transaction(tx)))
    }
  }
  /** The next post as a signed raw transaction by `users[1]` (not sent): for anvil_reorg. */
  const rawPost = async (): Promise<string> => {
    seq++
    const tx: Transaction = { channelId: opened.channelId, fork: 0n, seq, timestamp: opened.genesis.timestamp + seq, actor: 0, previousStateHash: opened.genesis.stateHash, data: '0x', stateHash: opened.genesis.stateHash }
    // Posts change no record: the record of the open is the one every post re-supplies.
    const record = channelStruct((await stack.manager.track(opened.channelId))!.record)
    const req = await stack.manager.contract.getFunction('postTransaction').populateTransaction(opened.channelId, record, p.participants, tx, signDigest(users[0]!.signingKey, hasher.transaction(tx)))
    return users[1]!.signTransaction(await users[1]!.populateTransaction({ ...req, gasLimit: 500_000n }))
  }
  return { p, channelId: opened.channelId, openBlock: opened.blockNumber, post, rawPost }
}

/**
 * anvil seen through a node behind the head (the listener only calls getBlock and getLogs): the
 * head `headBehind` blocks older; logs as a node `logsBehind` blocks behind answers them — by
 * range nothing above its head, by block hash an error for a block it does not have (EIP-234).
 */
function lagging() {
  const node = { headBehind: 0, logsBehind: 0, provider: undefined as unknown as Provider }
  const p = anvil.provider
  node.provider = {
    async getBlock(tag: BlockTag) {
      if (tag !== 'latest' || node.headBehind === 0) return p.getBlock(tag)
      return p.getBlock(Math.max(0, (await p.getBlockNumber()) - node.headBehind))
    },
    async getLogs(filter: Filter & { blockHash?: string }) {
      const head = (await p.getBlockNumber()) - node.logsBehind
      if (filter.blockHash !== undefined) {
        const b = await p.getBlock(filter.blockHash)
        if (!b || b.number > head) throw new Error('unknown block')
        return p.getLogs(filter)
      }
      if (Number(filter.fromBlock) > head) return []
      return p.getLogs({ ...filter, toBlock: Math.min(Number(filter.toBlock), head) })
    },
  } as unknown as Provider
  return node
}

const seqOf = (e: ChainEvent) => (e.name === 'TransactionPosted' ? e.args.transaction.seq : undefined)

const id = (e: ChainEvent) => `${e.blockNumber}:${e.logIndex}`

/** Collects a channel's events; resolves `until(n)` once n are in. */
function collector() {
  const seen: ChainEvent[] = []
  const waiters: { n: number; resolve: () => void }[] = []
  return {
    seen,
    push(e: ChainEvent) {
      seen.push(e)
      for (const w of waiters.filter((x) => seen.length >= x.n)) w.resolve()
    },
    until(n: number) {
      return seen.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))
    },
  }
}

describe('ChainListener', () => {
  test('delivers decoded events in chain order, only once they are confirmations deep', { timeout: 120_000 }, async () => {
    const c = await channel('order')
    await c.post(3)
    const listener = new ChainListener({ provider: anvil.provider, manager: stack.manager.address, confirmations: 2, pollMs: 20 })
    const got = collector()
    listener.watch(c.channelId, (e) => got.push(e), { fromBlock: c.openBlock })
    await listener.poll()
    // open (ChannelOpened, StateSet) and the first post are 2+ blocks deep; the last two are not
    assert.deepEqual(got.seen.map((e) => e.name), ['ChannelOpened', 'StateSet', 'TransactionPosted'])
    await anvil.mine()
    await anvil.mine()
    await got.until(5)
    const names = got.seen.map((e) => e.name)
    assert.deepEqual(names, ['ChannelOpened', 'StateSet', 'TransactionPosted', 'TransactionPosted', 'TransactionPosted'])
    const posted = got.seen.filter((e) => e.name === 'TransactionPosted').map((e) => (e.name === 'TransactionPosted' ? e.args.transaction.seq : 0n))
    assert.deepEqual(posted, [1n, 2n, 3n])
    const opened = got.seen[0]!
    assert.ok(opened.name === 'ChannelOpened' && opened.args.channelId === c.channelId)
    assert.ok(got.seen.every((e, i) => i === 0 || e.blockNumber > got.seen[i - 1]!.blockNumber || e.logIndex > got.seen[i - 1]!.logIndex))
    assert.ok(got.seen.every((e) => e.blockTimestamp > 0n))
    await listener.close()
  })

  test('(f) resumes after a restart from the stored cursor: nothing missed, nothing repeated', { timeout: 120_000 }, async () => {
    const c = await channel('restart')
    const path = join(dir, 'listener.db')
    const open = (): Store => {
      const s = new SqliteStore(path)
      if (!s.getChannel(c.channelId)) s.putChannel({ channelId: c.channelId, params: c.p, me: 0 })
      return s
    }
    await c.post(4) // 2 open events + 4 posts
    let store = open()
    const first = new ChainListener({ provider: anvil.provider, manager: stack.manager.address, pollMs: 20 })
    const got = collector()
    let stop!: () => void
    const stopped = new Promise<void>((resolve) => (stop = resolve))
    const unwatch = first.watch(c.channelId, (e) => {
      got.push(e)
      if (got.seen.length === 3) (unwatch(), stop()) // stop in the middle of the range
    }, { store, fromBlock: c.openBlock })
    await stopped
    await first.close()
    store.close()

    await c.post(3) // while the client is down
    store = open()
    const second = new ChainListener({ provider: anvil.provider, manager: stack.manager.address, pollMs: 20 })
    second.watch(c.channelId, (e) => got.push(e), { store }) // no fromBlock: the cursor decides
    await got.until(9)
    await c.post(1)
    await got.until(10)
    await second.close()
    store.close()

    const reference = new ChainListener({ provider: anvil.provider, manager: stack.manager.address })
    const all = collector()
    reference.watch(c.channelId, (e) => all.push(e), { fromBlock: c.openBlock })
    await reference.poll()
    await reference.close()
    assert.equal(all.seen.length, 10)
    assert.deepEqual(got.seen.map(id), all.seen.map(id), 'the same events, in the same order, each once')
  })

  test('reorg: a post inserted into a block already read is delivered after the watch is told to retract that block', { timeout: 120_000 }, async () => {
    const c = await channel('reorg-insert')
    await c.post(1)
    await anvil.mine() // an empty block the listener reads past
    const listener = new ChainListener({ provider: anvil.provider, manager: stack.manager.address, pollMs: 20 })
    const got = collector()
    const reorgs: number[] = []
    listener.watch(c.channelId, (e) => got.push(e), { fromBlock: c.openBlock, onReorg: (r) => void reorgs.push(r.ancestor) })
    await listener.poll()
    assert.deepEqual(got.seen.map(seqOf).filter(Boolean), [1n])
    const head = await anvil.provider.getBlockNumber()
    await anvil.provider.send('anvil_reorg', [1, [[await c.rawPost(), 0]]])
    assert.equal(await anvil.provider.getBlockNumber(), head, 'same height, another block')
    await listener.poll()
    assert.deepEqual(reorgs, [head - 1], 'told: blocks after the last common one are retracted')
    assert.deepEqual(got.seen.map(seqOf).filter(Boolean), [1n, 2n], 'the post of the new block is delivered')
    await listener.close()
  })

  test('reorg: an event whose block was reorganised away is retracted (onReorg) and not delivered again', { timeout: 120_000 }, async () => {
    const c = await channel('reorg-drop')
    const listener = new ChainListener({ provider: anvil.provider, manager: stack.manager.address, pollMs: 20 })
    const got = collector()
    const reorgs: number[] = []
    listener.watch(c.channelId, (e) => got.push(e), { fromBlock: c.openBlock, onReorg: (r) => void reorgs.push(r.ancestor) })
    await listener.poll()
    const before = await anvil.provider.getBlockNumber()
    const snapshot = await anvil.provider.send('evm_snapshot', [])
    await c.post(1)
    await listener.poll()
    assert.deepEqual(got.seen.map(seqOf).filter(Boolean), [1n])
    await anvil.provider.send('evm_revert', [snapshot])
    await anvil.mine()
    await anvil.mine() // a longer chain without the post
    await listener.poll()
    assert.deepEqual(reorgs, [before])
    assert.equal(got.seen.length, 3, 'nothing new delivered')
    await c.post(1) // the chain goes on; its events arrive as usual
    await listener.poll()
    assert.equal(got.seen.at(-1)!.name, 'TransactionPosted')
    assert.equal(got.seen.length, 4)
    await listener.close()
  })

  test('reorg while the client was down: the stored cursor\'s block is checked at restart and the watch rewound', { timeout: 120_000 }, async () => {
    const c = await channel('reorg-restart')
    const path = join(dir, 'listener-reorg.db')
    const open = (): Store => {
      const s = new SqliteStore(path)
      if (!s.getChannel(c.channelId)) s.putChannel({ channelId: c.channelId, params: c.p, me: 0 })
      return s
    }
    const snapshot = await anvil.provider.send('evm_snapshot', [])
    await c.post(1)
    let store = open()
    const first = new ChainListener({ provider: anvil.provider, manager: stack.manager.address, pollMs: 20 })
    const got = collector()
    first.watch(c.channelId, (e) => got.push(e), { store, fromBlock: c.openBlock })
    await first.poll()
    await first.close()
    store.close()
    assert.deepEqual(got.seen.map((e) => e.name), ['ChannelOpened', 'StateSet', 'TransactionPosted'])

    await anvil.provider.send('evm_revert', [snapshot]) // while the client is down
    await anvil.mine()
    await anvil.mine()
    store = open()
    const second = new ChainListener({ provider: anvil.provider, manager: stack.manager.address, pollMs: 20, reorgDepth: 16 })
    const again = collector()
    const reorgs: number[] = []
    second.watch(c.channelId, (e) => again.push(e), { store, onReorg: (r) => void reorgs.push(r.ancestor) })
    await second.poll()
    await second.close()
    store.close()
    assert.equal(reorgs.length, 1, 'told at restart')
    assert.ok(reorgs[0]! < c.openBlock + 1)
    assert.deepEqual(again.seen.map((e) => e.name), ['ChannelOpened', 'StateSet'], 'read again from before the lost block; the lost post is gone')
  })

  test('a node behind: logs from a node that lags the head never move the cursor past blocks they did not cover', { timeout: 120_000 }, async () => {
    const c = await channel('lagging-logs')
    const node = lagging()
    const listener = new ChainListener({ provider: node.provider, manager: stack.manager.address, pollMs: 20 })
    const got = collector()
    listener.watch(c.channelId, (e) => got.push(e), { fromBlock: c.openBlock })
    await listener.poll()
    node.logsBehind = 3 // a fresh head, logs from a node 3 blocks behind (a load balancer)
    await c.post(2)
    await anvil.mine()
    const lagged = await listener.poll().then(() => undefined, (e: unknown) => e)
    assert.equal(got.seen.length, 2, 'nothing the lagging node could not serve')
    node.logsBehind = 0
    await listener.poll()
    assert.deepEqual(got.seen.map(seqOf).filter(Boolean), [1n, 2n], 'both posts, once, in order')
    assert.ok(lagged instanceof RuntimeError && lagged.code === 'CHAIN_POLL_FAILED', 'the round the node could not serve failed (and is retried)')
    await listener.close()
  })

  test('a node behind: a head below a block already read is not a reorganisation', { timeout: 120_000 }, async () => {
    const c = await channel('lagging-head')
    const node = lagging()
    const listener = new ChainListener({ provider: node.provider, manager: stack.manager.address, pollMs: 20 })
    const got = collector()
    const reorgs: number[] = []
    listener.on('reorg', (r) => reorgs.push(r.ancestor))
    listener.watch(c.channelId, (e) => got.push(e), { fromBlock: c.openBlock, onReorg: (r) => void reorgs.push(r.ancestor) })
    await c.post(1)
    await listener.poll()
    node.headBehind = 2 // the node now answers 2 blocks behind what was read
    const lagged = await listener.poll().then(() => undefined, (e: unknown) => e)
    node.headBehind = 0
    await c.post(1)
    await listener.poll()
    assert.deepEqual(reorgs, [], 'nothing retracted')
    assert.ok(lagged instanceof RuntimeError && lagged.code === 'CHAIN_POLL_FAILED', 'the round failed (and is retried)')
    assert.deepEqual(got.seen.map(seqOf).filter(Boolean), [1n, 2n])
    await listener.close()
  })

  test('RPC failures are reported as RuntimeErrors and retried until the node answers again', { timeout: 120_000 }, async () => {
    const c = await channel('failures')
    let failing = false
    let requests = 0
    const proxy: Server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (b: Buffer) => chunks.push(b))
      req.on('end', () => {
        requests++
        if (failing) return void res.writeHead(503).end('down')
        fetch(anvil.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.concat(chunks) })
          .then(async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()))
          .catch(() => res.writeHead(502).end())
      })
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    const port = (proxy.address() as { port: number }).port
    const provider = new JsonRpcProvider(`http://127.0.0.1:${port}`, undefined, { staticNetwork: true, cacheTimeout: -1 })
    const listener = new ChainListener({ provider, manager: stack.manager.address, pollMs: 20, retry: { initialMs: 20, maxMs: 80 } })
    try {
      const got = collector()
      const errors: unknown[] = []
      listener.on('error', ({ error }) => errors.push(error))
      listener.watch(c.channelId, (e) => got.push(e), { fromBlock: c.openBlock })
      await got.until(2)
      failing = true
      await c.post(2)
      while (errors.length < 3) await new Promise((r) => setTimeout(r, 20))
      assert.ok(errors.every((e) => e instanceof RuntimeError && e.code === 'CHAIN_POLL_FAILED'), String(errors[0]))
      assert.equal(got.seen.length, 2, 'nothing delivered while the node is unreachable')
      const during = requests
      failing = false
      await got.until(4)
      assert.ok(requests > during)
      assert.deepEqual(got.seen.map((e) => e.name), ['ChannelOpened', 'StateSet', 'TransactionPosted', 'TransactionPosted'])
    } finally {
      await listener.close()
      provider.destroy()
      await new Promise((resolve) => proxy.close(resolve))
    }
  })
})
