/**
 * The live view's server without a browser (test/ui drives it in Chromium): every request
 * needs the token, the Host must be its own and a command its own Origin's JSON; the event
 * stream replays the run so far, resumes after Last-Event-ID, and starts again when another
 * source is attached; commands reach the source as lines; a busy port is PORT_IN_USE; it
 * listens on 127.0.0.1 alone (not on another loopback address, ::1, or the machine's interfaces).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { connect } from 'node:net'
import { networkInterfaces } from 'node:os'
import { RuntimeError } from '../../src/errors/ParleyError.js'
import { Emitter } from '../../src/observe/Emitter.js'
import { startLiveView, type LiveViewSource } from './server.js'

function source(): LiveViewSource & { emit(e: Record<string, unknown>): void; lines: string[] } {
  const events = new Emitter<{ e: Record<string, unknown> }>()
  const lines: string[] = []
  return {
    lines,
    emit: (e) => events.emit('e', e),
    subscribe: (fn) => (fn({ event: 'hello', channelId: '0x01' }), events.on('e', fn)),
    command: (line) => void lines.push(line),
  }
}

/** One HTTP exchange; for an event stream, what arrives within `streamMs`. */
function http(url: string, o: { method?: string; headers?: Record<string, string>; body?: string; streamMs?: number } = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? 'GET', headers: o.headers ?? {} }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d))
      const done = () => resolve({ status: res.statusCode!, body, headers: res.headers })
      if (res.headers['content-type']?.startsWith('text/event-stream')) setTimeout(() => (req.destroy(), done()), o.streamMs ?? 200)
      else res.on('end', done)
    })
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)))
    req.end(o.body)
  })
}

const frames = (body: string): Record<string, unknown>[] => [...body.matchAll(/^id: (\d+)\ndata: (.*)$/gm)].map((m) => ({ id: Number(m[1]), ...(JSON.parse(m[2]!) as Record<string, unknown>) }))

describe('the live view server', () => {
  it('refuses requests without the token, for another Host, and commands from another Origin or not JSON', async () => {
    const src = source()
    const view = await startLiveView({ source: src, port: 0 })
    try {
      const base = `http://127.0.0.1:${view.port}`
      assert.match(view.url, new RegExp(`^${base}/\\?token=[0-9a-f]{64}$`))
      for (const path of ['/', '/events', '/?token=wrong', `/?token=${view.token.slice(0, -1)}`, '/nothing']) {
        const r = await http(base + path)
        assert.equal(r.status, 401, path)
        assert.deepEqual(JSON.parse(r.body).error.code, 'UI_TOKEN_INVALID')
      }
      assert.equal((await http(view.url)).status, 200)
      assert.equal((await http(view.url, { headers: { Host: `attacker.example:${view.port}` } })).status, 403)
      const post = (headers: Record<string, string>, body = '{"line":"pay 1 0.3"}') => http(`${base}/command`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body })
      assert.equal((await post({})).status, 401, 'no token')
      assert.equal((await post({ 'X-Parley-Token': 'x'.repeat(64) })).status, 401, 'a wrong token')
      assert.equal((await post({ 'X-Parley-Token': view.token, Origin: 'http://attacker.example' })).status, 403)
      assert.equal((await post({ 'X-Parley-Token': view.token, Origin: `http://127.0.0.1:${view.port + 1}` })).status, 403, 'another port is another origin')
      assert.equal((await http(`${base}/command`, { method: 'POST', headers: { 'Content-Type': 'text/plain', 'X-Parley-Token': view.token }, body: '{"line":"x"}' })).status, 400)
      assert.equal((await post({ 'X-Parley-Token': view.token }, '{"line":"a\\nb"}')).status, 400, 'one line only')
      assert.deepEqual(src.lines, [], 'no refused request reached the peer')
      const ok = await post({ 'X-Parley-Token': view.token, Origin: `http://127.0.0.1:${view.port}` })
      assert.equal(ok.status, 202)
      assert.deepEqual(src.lines, ['pay 1 0.3'])
      assert.equal(ok.headers['access-control-allow-origin'], undefined, 'no CORS header')
      const page = await http(view.url)
      assert.match(String(page.headers['content-security-policy']), /script-src 'nonce-/)
      assert.equal(page.headers['referrer-policy'], 'no-referrer')
      assert.match(page.body, new RegExp(`<meta name="parley-token" content="${view.token}">`))
      assert.doesNotMatch(page.body, /<!--(TOKEN|STYLE|SCRIPT)-->/, 'the page is complete')
    } finally {
      await view.close()
    }
  })

  it('streams the run so far, resumes after Last-Event-ID, and starts again on another source', async () => {
    const a = source()
    const view = await startLiveView({ port: 0 })
    try {
      view.attach(a)
      a.emit({ event: 'state', seq: 1n })
      const events = `http://127.0.0.1:${view.port}/events?token=${view.token}`
      const first = frames((await http(events)).body)
      assert.deepEqual(first.map((f) => [f.id, f.event]), [[0, 'hello'], [1, 'state']])
      assert.equal(first[1]!.seq, '1', 'bigints as decimal strings')
      a.emit({ event: 'final', seq: 1n })
      assert.deepEqual(frames((await http(events, { headers: { 'Last-Event-ID': '1' } })).body).map((f) => f.event), ['final'])
      const b = source()
      view.attach(b)
      b.emit({ event: 'ready' })
      assert.deepEqual(frames((await http(events, { headers: { 'Last-Event-ID': '2' } })).body).map((f) => f.event), ['hello', 'ready'], 'a page that had the old channel gets the new one from its hello')
      a.emit({ event: 'state', seq: 9n })
      assert.deepEqual(frames((await http(events)).body).map((f) => f.event), ['hello', 'ready'], 'the old source is no longer shown')
    } finally {
      await view.close()
    }
  })

  it('listens on 127.0.0.1 only: the port is closed on every other address of the machine', async () => {
    const view = await startLiveView({ port: 0 })
    try {
      /** Whether a TCP connection to host:port is accepted. */
      const accepts = (host: string) => new Promise<boolean>((resolve) => {
        const socket = connect({ host, port: view.port, timeout: 2000 })
        socket.once('connect', () => (socket.destroy(), resolve(true)))
        socket.once('timeout', () => (socket.destroy(), resolve(false)))
        socket.once('error', () => resolve(false))
      })
      assert.equal(await accepts('127.0.0.1'), true)
      // Another loopback address (all of 127/8 is local on Linux), IPv6's, and every interface's but link-local ones.
      const others = ['127.0.0.2', '::1', ...Object.values(networkInterfaces()).flat().flatMap((i) => (i && !i.internal && !i.address.startsWith('fe80:') ? [i.address] : []))]
      for (const host of others) assert.equal(await accepts(host), false, `${host}:${view.port} must not answer`)
    } finally {
      await view.close()
    }
  })

  it('a busy port is PORT_IN_USE', async () => {
    const view = await startLiveView({ port: 0 })
    try {
      await assert.rejects(startLiveView({ port: view.port }), (e: unknown) => e instanceof RuntimeError && e.code === 'PORT_IN_USE')
    } finally {
      await view.close()
    }
  })
})
