/**
 * 64-bit participant bitmaps as bigint (bit i = participant i), as the contracts use them.
 */

/** Bitmap with bits `0 … n-1` set. */
export function fullBitmap(n: number): bigint {
  return (1n << BigInt(n)) - 1n
}

/** Whether bit `i` is set. */
export function hasBit(map: bigint, i: number): boolean {
  return ((map >> BigInt(i)) & 1n) === 1n
}

/** `map` with bit `i` set. */
export function withBit(map: bigint, i: number): bigint {
  return map | (1n << BigInt(i))
}

/** Number of set bits. */
export function bitCount(map: bigint): number {
  let c = 0
  for (let m = map; m > 0n; m &= m - 1n) c++ // clears the lowest set bit: one step per member
  return c
}

/** Indices of set bits, ascending. */
export function bitIndices(map: bigint): number[] {
  const out: number[] = []
  for (let i = 0, m = map; m > 0n; i++, m >>= 1n) if (m & 1n) out.push(i)
  return out
}

/** Bitmap of the given indices. */
export function bitmapOf(indices: Iterable<number>): bigint {
  let m = 0n
  for (const i of indices) m = withBit(m, i)
  return m
}
