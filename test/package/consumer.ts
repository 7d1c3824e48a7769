// Type-checked against the installed package's declarations by package.test.ts.
import { channelParams, defaultTimes, ParleyError, type ChannelParams, type Peer } from 'parley'
import { startAnvil, type Anvil } from 'parley/testing'
import { verifyTransaction, ParleyHasher } from 'parley/protocol'
import { encodeMessage } from 'parley/net'
import { decodeManagerLog } from 'parley/chain'

export const times: number = defaultTimes.challengeTime
export const make = (p: ChannelParams): ChannelParams => channelParams({ participants: p.participants, machine: p.machine, deposits: p.deposits })
export type Used = [Peer, Anvil, typeof startAnvil, typeof verifyTransaction, typeof ParleyHasher, typeof encodeMessage, typeof decodeManagerLog]
export const isParley = (e: unknown): boolean => e instanceof ParleyError
