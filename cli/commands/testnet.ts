/**
 * `parley testnet`: a small HyperDHT bound to 127.0.0.1, so peers on this host find each other
 * without the public DHT (`parley run --bootstrap <printed address>`). Runs until Ctrl-C.
 */
import { startTestnet, type Testnet } from '../../src/testing/testnet.js'
import { COMMON, JSON_HELP, flag, int, parse, str } from '../lib/args.js'
import { untilSignal, type Command } from '../lib/command.js'
import { TESTNET_FILE, removeStateFile, writeTestnetFile } from '../lib/deployment.js'
import { portHint } from '../lib/errors.js'
import { out, progress, toJson } from '../lib/output.js'

const usage = `parley testnet [--nodes N] [--port P] [-o FILE] [--json]

Starts a local HyperDHT testnet on 127.0.0.1, prints its bootstrap address and writes it to
${TESTNET_FILE}, where \`parley run\` in this folder finds it (or pass it with --bootstrap).
Runs until Ctrl-C (then removes the file).

  --nodes <n>          DHT nodes, 1..20 (default 3)
  --port <p>           UDP port of the bootstrap node (default 0: any free port)
  -o, --out <file>     testnet file (default ${TESTNET_FILE})
${JSON_HELP}`

export const command: Command = {
  usage,
  async run(argv) {
    const { values } = parse(argv, { ...COMMON, nodes: { type: 'string' }, port: { type: 'string' }, out: { type: 'string', short: 'o' } }, usage)
    const file = str(values, 'out') ?? TESTNET_FILE
    const nodes = int(values, 'nodes', 3, { min: 1, max: 20 })
    const port = int(values, 'port', 0, { max: 65535 })
    progress(`testnet: starting ${nodes} DHT nodes on 127.0.0.1…`)
    const testnet: Testnet = await startTestnet({ nodes, port }).catch((e: unknown) => {
      throw portHint(e, 'testnet')
    })
    let written = false
    try {
      const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`)
      writeTestnetFile(file, bootstrap)
      written = true
      // Listening before the ready output: a caller may signal as soon as it reads it.
      const signalled = untilSignal()
      if (flag(values, 'json')) out(toJson({ bootstrap, file }))
      else out(`bootstrap ${bootstrap.join(',')}\nfile      ${file}`)
      progress(`testnet: running — \`parley run\` in this folder uses it (elsewhere: --bootstrap ${bootstrap.join(',')}); Ctrl-C to stop`)
      await signalled
      progress('testnet: stopping…')
    } finally {
      await testnet.destroy()
      if (written) removeStateFile(file)
    }
    return 0
  },
}
