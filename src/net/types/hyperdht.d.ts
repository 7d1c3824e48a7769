/** Minimal ambient types for `hyperdht` (only what src/net uses). */
declare module 'hyperdht' {
  import type { EventEmitter } from 'node:events'

  namespace HyperDHT {
    interface KeyPair {
      publicKey: Buffer
      secretKey: Buffer
    }
    interface Node {
      host: string
      port: number
    }
    interface Options {
      /** Bootstrap nodes as `{ host, port }` or `'host:port'`; default: the public HyperDHT. */
      bootstrap?: (Node | string)[]
      /** Address the UDP sockets bind to (default 0.0.0.0). */
      host?: string
      port?: number
      keyPair?: KeyPair
      ephemeral?: boolean
      firewalled?: boolean
    }
  }

  class HyperDHT extends EventEmitter {
    constructor(opts?: HyperDHT.Options)
    /** Deterministic Noise (ed25519) key pair from a 32-byte seed; random without one. */
    static keyPair(seed?: Uint8Array): HyperDHT.KeyPair
    readonly destroyed: boolean
    ready(): Promise<void>
    fullyBootstrapped(): Promise<void>
    address(): { host: string; port: number }
    /** The nodes of the routing table. */
    toArray(opts?: { limit?: number }): { host: string; port: number }[]
    destroy(opts?: { force?: boolean }): Promise<void>
  }

  export = HyperDHT
}

declare module 'hyperdht/testnet' {
  import type HyperDHT from 'hyperdht'

  namespace createTestnet {
    interface Testnet {
      bootstrap: HyperDHT.Node[]
      nodes: HyperDHT[]
      createNode(opts?: HyperDHT.Options): HyperDHT
      destroy(): Promise<void>
    }
  }
  function createTestnet(size?: number, opts?: { host?: string; port?: number; bootstrap?: HyperDHT.Node[] }): Promise<createTestnet.Testnet>
  export = createTestnet
}

declare module '@hyperswarm/testnet' {
  import createTestnet from 'hyperdht/testnet'
  export = createTestnet
}

declare module 'hyperdht/testnet.js' {
  import createTestnet from 'hyperdht/testnet'
  export = createTestnet
}
