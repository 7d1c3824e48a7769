/**
 * The live view's HTTP server (`parley run --ui`): one page and one event stream, on 127.0.0.1
 * only, for whoever holds the random token printed in the terminal.
 *
 * - `GET /?token=T`: the page (cli/ui/page/: HTML with its script and style inlined, the token
 *   in a meta tag); `GET /events?token=T`: server-sent events, every event the peer reports
 *   from the start of the run, then each as it happens; `POST /command` with the header
 *   `X-Parley-Token: T` and `{"line": "pay 1 0.3"}`: one line, as if typed in the terminal.
 * - Every request needs the token (constant-time compare): 401 `UI_TOKEN_INVALID` otherwise.
 *   The Host must be this server's (no DNS rebinding): 403 `UI_ORIGIN_REFUSED`. A command must
 *   come from the page's own origin (an `Origin` header of another is refused) as JSON, and no
 *   CORS header is ever sent, so no other origin can read the stream or act.
 * - The token travels in the page's address, so responses say `Referrer-Policy: no-referrer`
 *   and `Cache-Control: no-store`; the page's script runs under a nonce-only CSP.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { RuntimeError, UsageError } from '../../src/errors/ParleyError.js'
import { toJson } from '../lib/output.js'

/** What the server shows and what it hands commands to. */
export interface LiveViewSource {
  /** Subscribes to every event (JSON-ready objects, bigints allowed); returns the unsubscribe. */
  subscribe(fn: (event: Record<string, unknown>) => void): () => void
  /** One command line, as typed in the terminal (its errors come back as `error` events). */
  command(line: string): void
}

export interface LiveViewOptions {
  /** What it shows (or later, with {@link LiveView.attach}: the port is taken before the peer starts). */
  source?: LiveViewSource
  /** TCP port on 127.0.0.1 (0: any free one); RuntimeError `PORT_IN_USE` when taken. */
  port?: number
  /** The access token (default: 32 random bytes, hex). */
  token?: string
  /** Events kept for a page that connects later (default 5000; the first one, `hello`, always stays). */
  history?: number
}

export interface LiveView {
  port: number
  token: string
  /** The page's address with the token: what the terminal prints. */
  url: string
  /**
   * Shows `source`. Attaching another replaces the one before: the history starts again, and
   * open pages reconnect and load the new channel (the demo's second scenario).
   */
  attach(source: LiveViewSource): void
  /** Resolves once a page has opened the event stream. */
  opened: Promise<void>
  close(): Promise<void>
}

const PAGE_DIR = join(import.meta.dirname, 'page')
const MAX_BODY = 4096

/**
 * Starts the live view on 127.0.0.1.
 * @example const view = await startLiveView({ source, port: 0 }); console.log(view.url)
 */
export async function startLiveView(o: LiveViewOptions): Promise<LiveView> {
  const token = o.token ?? randomBytes(32).toString('hex')
  const expected = createHash('sha256').update(token).digest()
  const limit = o.history ?? 5000
  const history: { id: number; frame: string }[] = []
  let nextId = 0
  const streams = new Set<ServerResponse>()
  let port = 0
  let source: LiveViewSource | undefined
  let off = () => {}
  let pageOpened!: () => void
  const opened = new Promise<void>((resolve) => (pageOpened = resolve))
  const attach = (s: LiveViewSource) => {
    if (source) {
      off()
      history.length = 0
      for (const res of streams) res.end() // the page reconnects and sees the new `hello`
      streams.clear()
    }
    source = s
    off = s.subscribe((event) => {
      const id = nextId++
      const frame = `id: ${id}\ndata: ${toJson(event)}\n\n`
      history.push({ id, frame })
      if (history.length > limit) history.splice(1, 1) // keep `hello`, the first
      for (const res of streams) res.write(frame)
    })
  }

  const tokenOk = (given: string | undefined | null) =>
    typeof given === 'string' && timingSafeEqual(createHash('sha256').update(given).digest(), expected)

  const server = createServer((req, res) => {
    try {
      handle(req, res)
    } catch (e) {
      refuse(res, 400, new UsageError('UI_REQUEST_INVALID', e instanceof Error ? e.message : String(e)))
    }
  })

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const host = req.headers.host ?? ''
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      return refuse(res, 403, new UsageError('UI_ORIGIN_REFUSED', `this live view answers requests to 127.0.0.1:${port} only, not to ${JSON.stringify(host)}`))
    }
    const given = req.method === 'POST' ? req.headers['x-parley-token'] : url.searchParams.get('token')
    if (!tokenOk(Array.isArray(given) ? given[0] : given)) {
      return refuse(res, 401, new UsageError('UI_TOKEN_INVALID', 'the live view needs the token printed in the terminal (open the address it printed)'))
    }
    if (req.method === 'GET' && url.pathname === '/') return page(res)
    if (req.method === 'GET' && url.pathname === '/events') return stream(req, res)
    if (req.method === 'POST' && url.pathname === '/command') return command(req, res)
    refuse(res, 404, new UsageError('UI_REQUEST_INVALID', `no ${req.method} ${url.pathname} here`))
  }

  function page(res: ServerResponse): void {
    const nonce = randomBytes(16).toString('base64')
    const read = (name: string) => readFileSync(join(PAGE_DIR, name), 'utf8')
    const html = read('index.html')
      .replace('<!--TOKEN-->', `<meta name="parley-token" content="${token}">`)
      .replace('<!--STYLE-->', () => `<style nonce="${nonce}">${read('style.css')}</style>`)
      .replace('<!--SCRIPT-->', () => `<script nonce="${nonce}">${read('app.js')}</script>`)
    res.writeHead(200, {
      ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    })
    res.end(html)
  }

  function stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' })
    // A reconnecting EventSource says what it has seen: it gets only what came after.
    const seen = Number(req.headers['last-event-id'] ?? -1)
    const after = Number.isInteger(seen) ? seen : -1
    res.write(`retry: 1000\n\n${history.filter((h) => h.id > after).map((h) => h.frame).join('')}`)
    streams.add(res)
    req.on('close', () => streams.delete(res))
    pageOpened()
  }

  function command(req: IncomingMessage, res: ServerResponse): void {
    const origin = req.headers.origin
    if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`) {
      return refuse(res, 403, new UsageError('UI_ORIGIN_REFUSED', `commands come from the live view's own page, not from ${origin}`))
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return refuse(res, 400, new UsageError('UI_REQUEST_INVALID', 'a command is a JSON body {"line": "…"}'))
    }
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
      if (body.length > MAX_BODY) req.destroy()
    })
    req.on('end', () => {
      let line: unknown
      try {
        line = (JSON.parse(body) as { line?: unknown }).line
      } catch {
        line = undefined
      }
      if (typeof line !== 'string' || line.includes('\n') || line.trim() === '') {
        return refuse(res, 400, new UsageError('UI_REQUEST_INVALID', 'a command is a JSON body {"line": "…"} with one non-empty line'))
      }
      if (!source) return refuse(res, 503, new UsageError('UI_REQUEST_INVALID', 'the peer is not running yet'))
      source.command(line)
      res.writeHead(202, { ...SECURITY_HEADERS, 'Content-Type': 'application/json' })
      res.end(toJson({ accepted: line }))
    })
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE'
        ? new RuntimeError('PORT_IN_USE', `TCP port ${o.port} on 127.0.0.1 is in use: start the live view with another --ui port (0 = any free port)`, { details: { port: o.port } })
        : e)
    })
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve())
  })
  if (o.source) attach(o.source)
  const address = server.address()
  port = typeof address === 'object' && address ? address.port : 0
  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    attach,
    opened,
    async close() {
      off()
      for (const res of streams) res.end()
      streams.clear()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin', 'Cross-Origin-Opener-Policy': 'same-origin',
}

/** A refusal: the status and the CLI's error object (`{"error":{"code","name","message"}}`). */
function refuse(res: ServerResponse, status: number, e: UsageError): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json' })
  res.end(toJson({ error: { code: e.code, name: e.name, message: e.message } }))
}
