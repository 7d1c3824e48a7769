/**
 * A busy port is named, not worked around: `parley devnet --port P` on a taken TCP port and
 * `parley testnet --port P` on a taken UDP port fail with PORT_IN_USE naming --port (exit 1);
 * startTestnet refuses it too (hyperdht alone would bind the next port and hand out an address
 * nobody asked for).
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createSocket, type Socket } from 'node:dgram'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ParleyError } from '../src/errors/ParleyError.js'
import { startTestnet } from '../src/testing/testnet.js'
import { parley } from './harness.js'

let dir: string
let tcp: Server
let udp: Socket
let tcpPort: number
let udpPort: number

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-ports-'))
  tcp = createServer()
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve))
  tcpPort = (tcp.address() as { port: number }).port
  udp = createSocket('udp4')
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve))
  udpPort = udp.address().port
})
after(() => {
  tcp.close()
  udp.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('busy ports', () => {
  it('parley devnet on a taken port: PORT_IN_USE naming --port', async () => {
    const r = await parley(['devnet', '--port', String(tcpPort)], dir)
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, new RegExp(`error PORT_IN_USE: port ${tcpPort} on 127.0.0.1 is in use .*another --port`))
  })

  it('parley testnet on a taken port: PORT_IN_USE naming --port', async () => {
    const r = await parley(['testnet', '--port', String(udpPort)], dir)
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, new RegExp(`error PORT_IN_USE: UDP port ${udpPort} on 127.0.0.1 is in use .*another --port`))
  })

  it('startTestnet refuses a taken port instead of binding another', async () => {
    await assert.rejects(startTestnet({ nodes: 1, port: udpPort }), (e: unknown) => e instanceof ParleyError && e.code === 'PORT_IN_USE' && e.details?.port === udpPort)
  })
})
