/**
 * `parley testnet`: a small HyperDHT bound to 127.0.0.1, so peers on this host find each other
 * without the public DHT (`parley run --bootstrap <printed address>`). Runs until Ctrl-C.
 */
import { RuntimeError } from '../../src/errors/ParleyError.js'
import { COMMON, JSON_HELP, flag, int, parse } from '../lib/args.js'
import { untilSignal, type Command } from '../lib/command.js'
import { out, progress, toJson } from '../lib/output.js'

const usage = `parley testnet [--nodes N] [--port P] [--json]

Starts a local HyperDHT testnet on 127.0.0.1 and prints its bootstrap address; pass it to
\`parley run --bootstrap\`. Runs until Ctrl-C.

  --nodes <n>          DHT nodes, 1..20 (default 3)
  --port <p>           UDP port of the bootstrap node (default 0: any free port)
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values } = parse(argv, { ...COMMON, nodes: { type: 'string' }, port: { type: 'string' } }, usage)
    const nodes = int(values, 'nodes', 3, { min: 1, max: 20 })
    const port = int(values, 'port', 0, { max: 65535 })
    let createTestnet: typeof import('@hyperswarm/testnet')
    try {
      createTestnet = (await import('@hyperswarm/testnet')).default
    } catch (cause) {
      throw new RuntimeError('TESTNET_MISSING', '@hyperswarm/testnet is not installed (a dev dependency: run `npm install` in the repository)', { cause })
    }
    progress(`testnet: starting ${nodes} DHT nodes on 127.0.0.1…`)
    let testnet: Awaited<ReturnType<typeof createTestnet>>
    try {
      testnet = await createTestnet(nodes, { host: '127.0.0.1', ...(port ? { port } : {}) })
    } catch (cause) {
      throw new RuntimeError('TESTNET_FAILED', `the DHT testnet did not start: ${(cause as Error).message}`, { cause })
    }
    try {
      const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`)
      if (flag(values, 'json')) out(toJson({ bootstrap }))
      else out(`bootstrap ${bootstrap.join(',')}`)
      progress(`testnet: running — peers use \`parley run … --bootstrap ${bootstrap.join(',')}\`; Ctrl-C to stop`)
      await untilSignal()
      progress('testnet: stopping…')
    } finally {
      await testnet.destroy()
    }
    return 0
  },
}
