/** Minimal ambient types for `protomux` (only what src/net uses). */
declare module 'protomux' {
  import type { Duplex } from 'node:stream'

  namespace Protomux {
    /** compact-encoding style encoder. */
    interface Encoding<T> {
      preencode(state: { start: number; end: number; buffer: Uint8Array | null }, value: T): void
      encode(state: { start: number; end: number; buffer: Uint8Array | null }, value: T): void
      decode(state: { start: number; end: number; buffer: Uint8Array | null }): T
    }
    interface Message<T> {
      send(value: T): boolean
    }
    interface Channel {
      readonly opened: boolean
      readonly closed: boolean
      readonly protocol: string
      readonly id: Buffer | null
      userData: unknown
      open(handshake?: unknown): void
      close(): void
      cork(): void
      uncork(): void
      fullyOpened(): Promise<boolean>
      fullyClosed(): Promise<void>
      addMessage<T>(opts: { encoding: Encoding<T>; onmessage?: (value: T, channel: Channel) => void | Promise<void> }): Message<T>
    }
    interface ChannelOptions {
      protocol: string
      id?: Uint8Array | null
      unique?: boolean
      userData?: unknown
      handshake?: Encoding<any>
      onopen?: (handshake: any, channel: Channel) => void | Promise<void>
      onclose?: (isRemote: boolean, channel: Channel) => void | Promise<void>
      ondestroy?: (channel: Channel) => void | Promise<void>
    }
  }

  class Protomux {
    constructor(stream: Duplex)
    static from(stream: Duplex): Protomux
    readonly stream: Duplex
    /** Null when the channel is a duplicate or the stream is gone. */
    createChannel(opts: Protomux.ChannelOptions): Protomux.Channel | null
    opened(opts: { protocol: string; id?: Uint8Array | null }): boolean
    pair(opts: { protocol: string; id?: Uint8Array | null }, notify: (id: Buffer | null) => void | Promise<void>): void
    unpair(opts: { protocol: string; id?: Uint8Array | null }): void
    cork(): void
    uncork(): void
    [Symbol.iterator](): Iterator<Protomux.Channel>
  }

  export = Protomux
}
