/** Minimal ambient types for `hyperswarm` (only what src/net uses). */
declare module 'hyperswarm' {
  import type { EventEmitter } from 'node:events'
  import type { Duplex } from 'node:stream'
  import type HyperDHT from 'hyperdht'

  namespace Hyperswarm {
    /** The Noise-encrypted, framed stream of one connection (@hyperswarm/secret-stream). */
    interface Connection extends Duplex {
      readonly isInitiator: boolean
      /** Our Noise public key on this connection. */
      readonly publicKey: Buffer
      /** The authenticated Noise public key of the other end. */
      readonly remotePublicKey: Buffer
      /** Hash of the Noise handshake transcript: unique to this connection, equal on both ends. */
      readonly handshakeHash: Buffer
      userData: unknown
    }
    interface PeerInfo {
      publicKey: Buffer
      topics: Buffer[]
      prioritized: boolean
      ban(banned?: boolean): void
    }
    interface PeerDiscovery {
      flushed(): Promise<void>
      refresh(opts?: { client?: boolean; server?: boolean }): Promise<void>
      destroy(): Promise<void>
    }
    interface Options {
      keyPair?: HyperDHT.KeyPair
      seed?: Uint8Array
      dht?: HyperDHT
      maxPeers?: number
      firewall?: (remotePublicKey: Buffer) => boolean
    }
  }

  class Hyperswarm extends EventEmitter {
    constructor(opts?: Hyperswarm.Options)
    readonly keyPair: HyperDHT.KeyPair
    readonly dht: HyperDHT
    readonly connections: Set<Hyperswarm.Connection>
    readonly destroyed: boolean
    join(topic: Uint8Array, opts?: { server?: boolean; client?: boolean }): Hyperswarm.PeerDiscovery
    leave(topic: Uint8Array): Promise<void>
    /** Connects to (and keeps reconnecting to) one peer by its Noise public key. */
    joinPeer(publicKey: Uint8Array): void
    leavePeer(publicKey: Uint8Array): void
    listen(): Promise<void>
    flush(): Promise<boolean>
    destroy(opts?: { force?: boolean }): Promise<void>
    on(event: 'connection', listener: (conn: Hyperswarm.Connection, info: Hyperswarm.PeerInfo) => void): this
    on(event: string, listener: (...args: any[]) => void): this
  }

  export = Hyperswarm
}
