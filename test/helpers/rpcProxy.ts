/**
 * A fault-injecting JSON-RPC proxy on 127.0.0.1 in front of a real node (anvil), for tests of
 * "chain and network reality" (issue 11). Faults are set per method (`'*'` for the others) and
 * may be changed at any time during a test; every random choice comes from a seeded generator.
 *
 * - `drop`: no answer — the connection is closed before the request reaches the node;
 *   `lose`: the request reaches the node (a transaction is sent) and the answer is lost;
 *   `hang`: the request is never answered (the client's own timeout ends it).
 * - `httpError` (503 without a body) and `rpcError` (a JSON-RPC error, by default the
 *   "header not found" a load-balanced node gives when the request lands on a node behind).
 * - `delay`: extra latency in ms, fixed or drawn from `[min, max]`.
 * - `stale`: answers as a node `stale` blocks behind the head would — `eth_blockNumber` and the
 *   `latest` block are older; blocks, receipts above its head do not exist (null); `eth_getLogs`
 *   by range covers nothing above its head (silently, as geth did), by `blockHash` fails with
 *   "unknown block" for a block it does not have (EIP-234); `eth_call` / `eth_estimateGas` run on
 *   its head.
 * - `duplicateLogs`: every log of an `eth_getLogs` answer twice, shuffled.
 *
 * `reorder` works across methods: `batch` shuffles the elements of a batch answer (and repeats
 * one), `holdMs` keeps each answer up to that long and releases the waiting ones newest first.
 *
 * @example
 * const proxy = await startRpcProxy({ target: anvil.url, seed: 7 })
 * proxy.set('eth_getLogs', { stale: 3 })          // a node 3 blocks behind answers the logs
 * proxy.set('*', { drop: 0.1, delay: [0, 50] })
 * const provider = proxy.provider()               // ethers, with a short request timeout
 * // … later
 * proxy.set('eth_getLogs', undefined); await proxy.close()
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { FetchRequest, JsonRpcProvider } from 'ethers'
import { prng } from './prng.js'

/** What happens to the calls of one method. Shares are probabilities in 0..1. */
export interface RpcFault {
  drop?: number
  lose?: number
  hang?: number
  httpError?: number
  rpcError?: number
  /** The JSON-RPC error of `rpcError` (default -32000 "header not found"). */
  rpcErrorAs?: { code: number; message: string }
  delay?: number | [number, number]
  stale?: number
  duplicateLogs?: boolean
}

/** How answers are reordered (across methods). */
export interface Reorder {
  /** Batch answers shuffled, one element repeated. */
  batch?: boolean
  /** Each answer waits up to this long; the waiting ones are released newest first. */
  holdMs?: number
}

export interface RpcProxyOptions {
  /** The node's URL. */
  target: string
  /** Seed of the fault choices (default 1). */
  seed?: number
  faults?: Record<string, RpcFault>
  reorder?: Reorder
}

/** What the proxy did, per method. */
export interface RpcProxyStats {
  calls: Record<string, number>
  /** Calls that met a fault, by `method:fault`. */
  faults: Record<string, number>
}

export interface RpcProxy {
  url: string
  stats: RpcProxyStats
  /** Sets (or with undefined clears) the fault of `method` (`'*'`: every method without its own). */
  set(method: string, fault: RpcFault | undefined): void
  /** Clears every fault and the reordering. */
  clear(): void
  reorder: Reorder
  /** An ethers provider through the proxy: no cache, a fixed network, a `timeoutMs` (default 1500) per request. */
  provider(o?: { timeoutMs?: number; pollingInterval?: number }): JsonRpcProvider
  close(): Promise<void>
}

interface Call {
  jsonrpc: '2.0'
  id: number | string
  method: string
  params?: unknown[]
}

type Answer = { jsonrpc: '2.0'; id: Call['id']; result?: unknown; error?: { code: number; message: string } }

const hex = (n: number) => `0x${n.toString(16)}`
const TAGS = new Set(['latest', 'pending', 'safe', 'finalized'])

/**
 * Starts the proxy on a free port of 127.0.0.1.
 * @example const proxy = await startRpcProxy({ target: anvil.url, seed: 3, faults: { '*': { drop: 0.2 } } })
 */
export async function startRpcProxy(o: RpcProxyOptions): Promise<RpcProxy> {
  const random = prng(o.seed ?? 1)
  const faults = new Map(Object.entries(o.faults ?? {}))
  const stats: RpcProxyStats = { calls: {}, faults: {} }
  const sockets = new Set<Socket>()
  const providers: JsonRpcProvider[] = []
  const held: (() => void)[] = []
  let holdTimer: NodeJS.Timeout | undefined
  let closed = false

  const faultOf = (method: string): RpcFault => faults.get(method) ?? faults.get('*') ?? {}
  const hit = (share: number | undefined) => share !== undefined && share > 0 && random() < share
  const count = (method: string, what: string) => void (stats.faults[`${method}:${what}`] = (stats.faults[`${method}:${what}`] ?? 0) + 1)

  async function node(body: unknown): Promise<unknown> {
    const r = await fetch(o.target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (!r.ok) throw new Error(`node answered ${r.status}`)
    return r.json()
  }
  async function ask(method: string, params: unknown[]): Promise<unknown> {
    const a = (await node({ jsonrpc: '2.0', id: 0, method, params })) as Answer
    if (a.error) throw new Error(a.error.message)
    return a.result
  }

  /** The answer of one call, as a node `behind` blocks behind the head would give it. */
  async function staleAnswer(c: Call, behind: number): Promise<Answer | Call> {
    const head = Math.max(0, Number(await ask('eth_blockNumber', [])) - behind)
    const p = [...(c.params ?? [])]
    const num = (v: unknown) => (typeof v === 'string' && TAGS.has(v) ? head : v === 'earliest' ? 0 : Number(v))
    const answer = (result: unknown): Answer => ({ jsonrpc: '2.0', id: c.id, result })
    switch (c.method) {
      case 'eth_blockNumber':
        return answer(hex(head))
      case 'eth_getBlockByNumber':
        if (num(p[0]) > head) return answer(null)
        return { ...c, params: [hex(num(p[0])), ...p.slice(1)] }
      case 'eth_getBlockByHash':
      case 'eth_getTransactionReceipt': {
        const r = (await ask(c.method, p)) as { number?: string; blockNumber?: string } | null
        return answer(r && Number(r.number ?? r.blockNumber) <= head ? r : null)
      }
      case 'eth_call':
      case 'eth_estimateGas': {
        const at = p[1] as string | { blockHash?: string } | undefined
        const hash = typeof at === 'object' ? at.blockHash : typeof at === 'string' && at.length === 66 ? at : undefined
        if (hash === undefined) return { ...c, params: [p[0], hex(at === undefined ? head : Math.min(num(at), head)), ...p.slice(2)] }
        const b = (await ask('eth_getBlockByHash', [hash, false])) as { number: string } | null
        if (!b || Number(b.number) > head) return { jsonrpc: '2.0', id: c.id, error: { code: -32000, message: `header for hash not found` } }
        return c
      }
      case 'eth_getLogs': {
        const f = { ...(p[0] as Record<string, unknown>) }
        if (f.blockHash !== undefined) {
          const b = (await ask('eth_getBlockByHash', [f.blockHash, false])) as { number: string } | null
          if (!b || Number(b.number) > head) return { jsonrpc: '2.0', id: c.id, error: { code: -32000, message: 'unknown block' } }
          return c
        }
        const from = num(f.fromBlock ?? 'latest')
        if (from > head) return answer([])
        return { ...c, params: [{ ...f, toBlock: hex(Math.min(num(f.toBlock ?? 'latest'), head)) }] }
      }
      default:
        return c
    }
  }

  /** One call through its fault: an answer of the proxy's (rpcError, stale), or the call to send to the node. */
  async function prepare(c: Call): Promise<Answer | Call> {
    const f = faultOf(c.method)
    if (hit(f.rpcError)) {
      count(c.method, 'rpcError')
      return { jsonrpc: '2.0', id: c.id, error: f.rpcErrorAs ?? { code: -32000, message: 'header not found' } }
    }
    if (f.stale) {
      count(c.method, 'stale')
      return staleAnswer(c, f.stale)
    }
    return c
  }

  function shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[xs[i], xs[j]] = [xs[j]!, xs[i]!]
    }
    return xs
  }

  /** Sends the answer, through the reordering hold when it is on. */
  function release(send: () => void): void {
    const hold = proxy.reorder.holdMs
    if (!hold) return send()
    held.push(send)
    holdTimer ??= setTimeout(() => {
      holdTimer = undefined
      for (const s of held.splice(0).reverse()) s()
    }, hold)
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const b of req) chunks.push(b as Buffer)
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Call | Call[]
    const calls = Array.isArray(body) ? body : [body]
    for (const c of calls) stats.calls[c.method] = (stats.calls[c.method] ?? 0) + 1
    // The transport's faults: the worst any call of the request draws.
    let fate: 'drop' | 'lose' | 'hang' | 'httpError' | undefined
    let delay = 0
    for (const c of calls) {
      const f = faultOf(c.method)
      for (const k of ['hang', 'drop', 'lose', 'httpError'] as const) {
        if (!fate && hit(f[k])) (fate = k), count(c.method, k)
      }
      const d = f.delay === undefined ? 0 : typeof f.delay === 'number' ? f.delay : f.delay[0] + random() * (f.delay[1] - f.delay[0])
      delay = Math.max(delay, d)
    }
    if (delay > 0) await new Promise((r) => setTimeout(r, delay))
    if (fate === 'hang') return
    if (fate === 'drop') return void req.socket.destroy()
    if (fate === 'httpError') return void res.writeHead(503).end()
    const prepared = await Promise.all(calls.map(prepare))
    const forward = prepared.filter((x): x is Call => 'method' in x)
    const fromNode = forward.length === 0 ? [] : ((await node(forward)) as Answer[])
    if (fate === 'lose') return void req.socket.destroy()
    let answers = prepared.map((x) => ('method' in x ? fromNode.find((a) => a.id === x.id)! : x))
    answers = answers.map((a, i) => {
      const c = calls[i]!
      if (c.method !== 'eth_getLogs' || !faultOf(c.method).duplicateLogs || !Array.isArray(a.result)) return a
      count(c.method, 'duplicateLogs')
      return { ...a, result: shuffle([...a.result, ...a.result]) }
    })
    if (Array.isArray(body) && proxy.reorder.batch && answers.length > 1) answers = shuffle([...answers, answers[0]!])
    const text = JSON.stringify(Array.isArray(body) ? answers : answers[0])
    release(() => void (res.headersSent || res.writeHead(200, { 'content-type': 'application/json' }).end(text)))
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502).end()
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`

  const proxy: RpcProxy = {
    url,
    stats,
    reorder: { ...o.reorder },
    set(method, fault) {
      if (fault) faults.set(method, fault)
      else faults.delete(method)
    },
    clear() {
      faults.clear()
      proxy.reorder = {}
    },
    provider(p = {}) {
      const req = new FetchRequest(url)
      req.timeout = p.timeoutMs ?? 1500
      const provider = new JsonRpcProvider(req, 31337, { staticNetwork: true, cacheTimeout: -1, pollingInterval: p.pollingInterval ?? 50 })
      providers.push(provider)
      return provider
    },
    async close() {
      if (closed) return
      closed = true
      for (const p of providers) p.destroy()
      if (holdTimer) clearTimeout(holdTimer)
      for (const s of held.splice(0)) s()
      for (const s of sockets) s.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  return proxy
}
