/**
 * Funding a channel before it opens (the manager's `fund`): participants fund in order, so the
 * amount held tells whose share is covered. Pure rules shared by the client and its tests; the
 * contract applies the same ones in `open` (`_lock`) and `reclaim`.
 */
import type { ChannelParams } from './types.js'

/** What participant `i` locks at open: its deposit and the bond. */
export function shareOf(params: Pick<ChannelParams, 'deposits' | 'bond'>, i: number): bigint {
  return params.deposits[i]! + params.bond
}

/** The funding participant `i` expects to find before it funds: the shares of 0..i-1. */
export function fundingBefore(params: Pick<ChannelParams, 'deposits' | 'bond'>, i: number): bigint {
  let sum = 0n
  for (let k = 0; k < i; k++) sum += shareOf(params, k)
  return sum
}

/**
 * How much of each participant's share a funding of `held` covers, in funding order; what it does
 * not cover, `open` takes from the participant's balance. `surplus` is what is held beyond every
 * share (it joins the locked deposits at open).
 */
export function fundingCoverage(params: Pick<ChannelParams, 'deposits' | 'bond'>, held: bigint): { covered: bigint[]; surplus: bigint } {
  let left = held
  const covered = params.deposits.map((_, i) => {
    const need = shareOf(params, i)
    const c = left < need ? left : need
    left -= c
    return c
  })
  return { covered, surplus: left }
}
