/**
 * Link probes: the liveness check of one link, below the protocol messages. A probe travels as
 * the second message type of the `parley/1` protomux channel (docs/net.md §2), so it is
 * answered by the network layer itself, whatever the Channel above is busy with, and never
 * reaches the Channel. Encoding: kind uint8 (0 = ping, 1 = pong), nonce uint32 — 5 bytes,
 * strict like every decoder that reads a peer's bytes.
 */
import { Invalid, decode, encode, u32, u8, type Codec } from './codec.js'

/** A ping asks the other end to echo its nonce in a pong, on the same link. */
export interface Probe {
  kind: 'ping' | 'pong'
  nonce: number
}

const KINDS = ['ping', 'pong'] as const

export const probeCodec: Codec<Probe> = {
  preencode(s) {
    s.end += 5
  },
  encode(s, p) {
    const k = KINDS.indexOf(p.kind)
    if (k < 0) throw new Invalid(`unknown probe kind ${String(p.kind)}`)
    u8.encode(s, k)
    u32.encode(s, p.nonce)
  },
  decode(s) {
    const k = u8.decode(s)
    const kind = KINDS[k]
    if (kind === undefined) throw new Invalid(`unknown probe kind ${k}`)
    return { kind, nonce: u32.decode(s) }
  },
}

/**
 * Encodes a link probe.
 * @example link.sendProbe(encodeProbe({ kind: 'ping', nonce: 7 }))
 */
export function encodeProbe(p: Probe): Uint8Array {
  return encode(probeCodec, p, 'probe')
}

/**
 * Decodes a peer's link probe; throws DecodeError `MESSAGE_MALFORMED` for anything but 5 valid bytes.
 * @example decodeProbe(bytes) // { kind: 'pong', nonce: 7 }
 */
export function decodeProbe(bytes: Uint8Array): Probe {
  return decode(probeCodec, bytes, 'probe')
}
