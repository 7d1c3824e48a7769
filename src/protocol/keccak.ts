/**
 * keccak256 (the pre-FIPS Keccak with 0x01 padding that Ethereum uses), written for the
 * client's hot path: every transaction is hashed several times by every peer (EIP-712 digest,
 * state hash, signer address), and the generic hash libraries spend most of that time in
 * per-round table lookups and helper calls. Pure; checked against ethers' keccak256 by the
 * property tests in keccak.test.ts.
 *
 * The 25 lanes of 64 bits are kept as 50 uint32 halves (lane i = x + 5y: lo at 2i, hi at
 * 2i + 1), little-endian as the sponge absorbs bytes. The permutation is written out lane by
 * lane with the halves in local variables — the usual shape of a fast JavaScript Keccak, and
 * 2–3× faster than a loop over the state array. Its rotation offsets r[i] and π destinations
 * (lane x + 5y goes to y + 5·((2x + 3y) mod 5)) are those of FIPS 202, §3.2.2–3.2.3.
 */

/** Bytes absorbed per permutation for a 256-bit capacity-512 sponge. */
const RATE = 136

/** Round constants of ι, as (lo, hi) pairs. */
const IOTA = new Uint32Array([
  0x00000001, 0x00000000, 0x00008082, 0x00000000, 0x0000808a, 0x80000000, 0x80008000, 0x80000000,
  0x0000808b, 0x00000000, 0x80000001, 0x00000000, 0x80008081, 0x80000000, 0x00008009, 0x80000000,
  0x0000008a, 0x00000000, 0x00000088, 0x00000000, 0x80008009, 0x00000000, 0x8000000a, 0x00000000,
  0x8000808b, 0x00000000, 0x0000008b, 0x80000000, 0x00008089, 0x80000000, 0x00008003, 0x80000000,
  0x00008002, 0x80000000, 0x00000080, 0x80000000, 0x0000800a, 0x00000000, 0x8000000a, 0x80000000,
  0x80008081, 0x80000000, 0x00008080, 0x80000000, 0x80000001, 0x00000000, 0x80008008, 0x80000000,
])

/** keccak-f[1600] on `s` in place: 24 rounds over the 50 halves held in locals. */
function permute(s: Uint32Array): void {
  let l0 = s[0]!, h0 = s[1]!, l1 = s[2]!, h1 = s[3]!, l2 = s[4]!, h2 = s[5]!, l3 = s[6]!, h3 = s[7]!, l4 = s[8]!, h4 = s[9]!
  let l5 = s[10]!, h5 = s[11]!, l6 = s[12]!, h6 = s[13]!, l7 = s[14]!, h7 = s[15]!, l8 = s[16]!, h8 = s[17]!, l9 = s[18]!, h9 = s[19]!
  let l10 = s[20]!, h10 = s[21]!, l11 = s[22]!, h11 = s[23]!, l12 = s[24]!, h12 = s[25]!, l13 = s[26]!, h13 = s[27]!, l14 = s[28]!, h14 = s[29]!
  let l15 = s[30]!, h15 = s[31]!, l16 = s[32]!, h16 = s[33]!, l17 = s[34]!, h17 = s[35]!, l18 = s[36]!, h18 = s[37]!, l19 = s[38]!, h19 = s[39]!
  let l20 = s[40]!, h20 = s[41]!, l21 = s[42]!, h21 = s[43]!, l22 = s[44]!, h22 = s[45]!, l23 = s[46]!, h23 = s[47]!, l24 = s[48]!, h24 = s[49]!
  let lo: number, hi: number
  for (let round = 0; round < 48; round += 2) {
    // θ: column parities C[x], then D[x] = C[x − 1] ^ rotl1(C[x + 1])
    const c0l = l0 ^ l5 ^ l10 ^ l15 ^ l20, c0h = h0 ^ h5 ^ h10 ^ h15 ^ h20
    const c1l = l1 ^ l6 ^ l11 ^ l16 ^ l21, c1h = h1 ^ h6 ^ h11 ^ h16 ^ h21
    const c2l = l2 ^ l7 ^ l12 ^ l17 ^ l22, c2h = h2 ^ h7 ^ h12 ^ h17 ^ h22
    const c3l = l3 ^ l8 ^ l13 ^ l18 ^ l23, c3h = h3 ^ h8 ^ h13 ^ h18 ^ h23
    const c4l = l4 ^ l9 ^ l14 ^ l19 ^ l24, c4h = h4 ^ h9 ^ h14 ^ h19 ^ h24
    const d0l = c4l ^ ((c1l << 1) | (c1h >>> 31)), d0h = c4h ^ ((c1h << 1) | (c1l >>> 31))
    const d1l = c0l ^ ((c2l << 1) | (c2h >>> 31)), d1h = c0h ^ ((c2h << 1) | (c2l >>> 31))
    const d2l = c1l ^ ((c3l << 1) | (c3h >>> 31)), d2h = c1h ^ ((c3h << 1) | (c3l >>> 31))
    const d3l = c2l ^ ((c4l << 1) | (c4h >>> 31)), d3h = c2h ^ ((c4h << 1) | (c4l >>> 31))
    const d4l = c3l ^ ((c0l << 1) | (c0h >>> 31)), d4h = c3h ^ ((c0h << 1) | (c0l >>> 31))
    // θ applied, then ρ (rotate lane i by ROTATE[i]) and π (move it to lane DEST[i]), into b
    const b0l = l0 ^ d0l, b0h = h0 ^ d0h
    lo = l1 ^ d1l, hi = h1 ^ d1h
    const b10l = (lo << 1) | (hi >>> 31), b10h = (hi << 1) | (lo >>> 31)
    lo = l2 ^ d2l, hi = h2 ^ d2h
    const b20l = (hi << 30) | (lo >>> 2), b20h = (lo << 30) | (hi >>> 2)
    lo = l3 ^ d3l, hi = h3 ^ d3h
    const b5l = (lo << 28) | (hi >>> 4), b5h = (hi << 28) | (lo >>> 4)
    lo = l4 ^ d4l, hi = h4 ^ d4h
    const b15l = (lo << 27) | (hi >>> 5), b15h = (hi << 27) | (lo >>> 5)
    lo = l5 ^ d0l, hi = h5 ^ d0h
    const b16l = (hi << 4) | (lo >>> 28), b16h = (lo << 4) | (hi >>> 28)
    lo = l6 ^ d1l, hi = h6 ^ d1h
    const b1l = (hi << 12) | (lo >>> 20), b1h = (lo << 12) | (hi >>> 20)
    lo = l7 ^ d2l, hi = h7 ^ d2h
    const b11l = (lo << 6) | (hi >>> 26), b11h = (hi << 6) | (lo >>> 26)
    lo = l8 ^ d3l, hi = h8 ^ d3h
    const b21l = (hi << 23) | (lo >>> 9), b21h = (lo << 23) | (hi >>> 9)
    lo = l9 ^ d4l, hi = h9 ^ d4h
    const b6l = (lo << 20) | (hi >>> 12), b6h = (hi << 20) | (lo >>> 12)
    lo = l10 ^ d0l, hi = h10 ^ d0h
    const b7l = (lo << 3) | (hi >>> 29), b7h = (hi << 3) | (lo >>> 29)
    lo = l11 ^ d1l, hi = h11 ^ d1h
    const b17l = (lo << 10) | (hi >>> 22), b17h = (hi << 10) | (lo >>> 22)
    lo = l12 ^ d2l, hi = h12 ^ d2h
    const b2l = (hi << 11) | (lo >>> 21), b2h = (lo << 11) | (hi >>> 21)
    lo = l13 ^ d3l, hi = h13 ^ d3h
    const b12l = (lo << 25) | (hi >>> 7), b12h = (hi << 25) | (lo >>> 7)
    lo = l14 ^ d4l, hi = h14 ^ d4h
    const b22l = (hi << 7) | (lo >>> 25), b22h = (lo << 7) | (hi >>> 25)
    lo = l15 ^ d0l, hi = h15 ^ d0h
    const b23l = (hi << 9) | (lo >>> 23), b23h = (lo << 9) | (hi >>> 23)
    lo = l16 ^ d1l, hi = h16 ^ d1h
    const b8l = (hi << 13) | (lo >>> 19), b8h = (lo << 13) | (hi >>> 19)
    lo = l17 ^ d2l, hi = h17 ^ d2h
    const b18l = (lo << 15) | (hi >>> 17), b18h = (hi << 15) | (lo >>> 17)
    lo = l18 ^ d3l, hi = h18 ^ d3h
    const b3l = (lo << 21) | (hi >>> 11), b3h = (hi << 21) | (lo >>> 11)
    lo = l19 ^ d4l, hi = h19 ^ d4h
    const b13l = (lo << 8) | (hi >>> 24), b13h = (hi << 8) | (lo >>> 24)
    lo = l20 ^ d0l, hi = h20 ^ d0h
    const b14l = (lo << 18) | (hi >>> 14), b14h = (hi << 18) | (lo >>> 14)
    lo = l21 ^ d1l, hi = h21 ^ d1h
    const b24l = (lo << 2) | (hi >>> 30), b24h = (hi << 2) | (lo >>> 30)
    lo = l22 ^ d2l, hi = h22 ^ d2h
    const b9l = (hi << 29) | (lo >>> 3), b9h = (lo << 29) | (hi >>> 3)
    lo = l23 ^ d3l, hi = h23 ^ d3h
    const b19l = (hi << 24) | (lo >>> 8), b19h = (lo << 24) | (hi >>> 8)
    lo = l24 ^ d4l, hi = h24 ^ d4h
    const b4l = (lo << 14) | (hi >>> 18), b4h = (hi << 14) | (lo >>> 18)
    // χ: lane x of each row ^= ~lane x+1 & lane x+2
    l0 = b0l ^ (~b1l & b2l), h0 = b0h ^ (~b1h & b2h)
    l1 = b1l ^ (~b2l & b3l), h1 = b1h ^ (~b2h & b3h)
    l2 = b2l ^ (~b3l & b4l), h2 = b2h ^ (~b3h & b4h)
    l3 = b3l ^ (~b4l & b0l), h3 = b3h ^ (~b4h & b0h)
    l4 = b4l ^ (~b0l & b1l), h4 = b4h ^ (~b0h & b1h)
    l5 = b5l ^ (~b6l & b7l), h5 = b5h ^ (~b6h & b7h)
    l6 = b6l ^ (~b7l & b8l), h6 = b6h ^ (~b7h & b8h)
    l7 = b7l ^ (~b8l & b9l), h7 = b7h ^ (~b8h & b9h)
    l8 = b8l ^ (~b9l & b5l), h8 = b8h ^ (~b9h & b5h)
    l9 = b9l ^ (~b5l & b6l), h9 = b9h ^ (~b5h & b6h)
    l10 = b10l ^ (~b11l & b12l), h10 = b10h ^ (~b11h & b12h)
    l11 = b11l ^ (~b12l & b13l), h11 = b11h ^ (~b12h & b13h)
    l12 = b12l ^ (~b13l & b14l), h12 = b12h ^ (~b13h & b14h)
    l13 = b13l ^ (~b14l & b10l), h13 = b13h ^ (~b14h & b10h)
    l14 = b14l ^ (~b10l & b11l), h14 = b14h ^ (~b10h & b11h)
    l15 = b15l ^ (~b16l & b17l), h15 = b15h ^ (~b16h & b17h)
    l16 = b16l ^ (~b17l & b18l), h16 = b16h ^ (~b17h & b18h)
    l17 = b17l ^ (~b18l & b19l), h17 = b17h ^ (~b18h & b19h)
    l18 = b18l ^ (~b19l & b15l), h18 = b18h ^ (~b19h & b15h)
    l19 = b19l ^ (~b15l & b16l), h19 = b19h ^ (~b15h & b16h)
    l20 = b20l ^ (~b21l & b22l), h20 = b20h ^ (~b21h & b22h)
    l21 = b21l ^ (~b22l & b23l), h21 = b21h ^ (~b22h & b23h)
    l22 = b22l ^ (~b23l & b24l), h22 = b22h ^ (~b23h & b24h)
    l23 = b23l ^ (~b24l & b20l), h23 = b23h ^ (~b24h & b20h)
    l24 = b24l ^ (~b20l & b21l), h24 = b24h ^ (~b20h & b21h)
    // ι
    l0 ^= IOTA[round]!
    h0 ^= IOTA[round + 1]!
  }
  s[0] = l0, s[1] = h0, s[2] = l1, s[3] = h1, s[4] = l2, s[5] = h2, s[6] = l3, s[7] = h3, s[8] = l4, s[9] = h4
  s[10] = l5, s[11] = h5, s[12] = l6, s[13] = h6, s[14] = l7, s[15] = h7, s[16] = l8, s[17] = h8, s[18] = l9, s[19] = h9
  s[20] = l10, s[21] = h10, s[22] = l11, s[23] = h11, s[24] = l12, s[25] = h12, s[26] = l13, s[27] = h13, s[28] = l14, s[29] = h14
  s[30] = l15, s[31] = h15, s[32] = l16, s[33] = h16, s[34] = l17, s[35] = h17, s[36] = l18, s[37] = h18, s[38] = l19, s[39] = h19
  s[40] = l20, s[41] = h20, s[42] = l21, s[43] = h21, s[44] = l22, s[45] = h22, s[46] = l23, s[47] = h23, s[48] = l24, s[49] = h24
}

// One state for the process: keccak256 is synchronous and never re-entered.
const state = new Uint32Array(50)

/** XORs `len` bytes of `data` from `at` into the state (len ≤ RATE), 4 bytes per word. */
function absorb(data: Uint8Array, at: number, len: number): void {
  let i = 0
  for (; i + 4 <= len; i += 4) {
    const p = at + i
    state[i >> 2] = state[i >> 2]! ^ (data[p]! | (data[p + 1]! << 8) | (data[p + 2]! << 16) | (data[p + 3]! << 24))
  }
  for (; i < len; i++) xorByte(i, data[at + i]!)
}

function xorByte(i: number, byte: number): void {
  state[i >> 2] = state[i >> 2]! ^ (byte << (8 * (i & 3)))
}

/**
 * keccak256 of `data`, as 32 bytes.
 * @example Buffer.from(keccak256(new Uint8Array(0))).toString('hex') // 'c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'
 */
export function keccak256(data: Uint8Array): Uint8Array {
  state.fill(0)
  let at = 0
  for (; data.length - at >= RATE; at += RATE) {
    absorb(data, at, RATE)
    permute(state)
  }
  const rest = data.length - at
  absorb(data, at, rest)
  // Padding pad10*1 with Keccak's domain bit (0x01; FIPS 202 SHA3 uses 0x06 instead).
  xorByte(rest, 0x01)
  xorByte(RATE - 1, 0x80)
  permute(state)
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) out[i] = state[i >> 2]! >>> (8 * (i & 3))
  return out
}
