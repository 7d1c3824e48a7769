/**
 * Discovery topic of a channel: the 32-byte key peers join on the HyperDHT.
 *
 *     topic = keccak256("parley/net/topic/v1" ‖ channelId)
 *
 * Deterministic, so every participant derives it from the channel id alone with no rendezvous;
 * the domain tag keeps it apart from any other use of the channel id as a 32-byte key. The
 * channel id is public (it is in `ChannelOpened`), so the topic hides nothing from an observer
 * of the DHT — the handshake, not the topic, decides who may talk on the channel.
 */
import { concat, keccak256, toUtf8Bytes } from 'ethers'
import type { Hex } from '../protocol/types.js'

export const TOPIC_TAG = 'parley/net/topic/v1'

/**
 * The HyperDHT topic of a channel.
 * @example swarm.join(channelTopic(channelId))
 */
export function channelTopic(channelId: Hex): Buffer {
  return Buffer.from(keccak256(concat([toUtf8Bytes(TOPIC_TAG), channelId])).slice(2), 'hex')
}
