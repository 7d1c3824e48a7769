/**
 * JSON with bigints, for the dispute handler's state in the store's meta (which holds strings).
 * A bigint is written as `{"$n":"123"}`; nothing else changes.
 */

/**
 * @example encodeJson({ seq: 5n }) === '{"seq":{"$n":"5"}}'
 */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? { $n: v.toString() } : v))
}

/**
 * @example decodeJson<{ seq: bigint }>('{"seq":{"$n":"5"}}').seq === 5n
 */
export function decodeJson<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v)
      if (keys.length === 1 && keys[0] === '$n' && typeof (v as { $n: unknown }).$n === 'string') return BigInt((v as { $n: string }).$n)
    }
    return v
  }) as T
}
