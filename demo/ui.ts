/**
 * `npm run demo -- --ui [PORT]`: the live view of `parley run --ui` (cli/ui) on alice's client
 * of each scenario — the same page, fed by the same events (the CLI's printer, silent here), and
 * from which the user can play alice's moves while the scenario waits for nothing. The page
 * follows the demo from one scenario's channel to the next.
 */
import { ETH_ASSET } from '../cli/lib/assets.js'
import { exampleSpeaker } from '../cli/lib/speaker.js'
import { Driver } from '../cli/run/driver.js'
import { Printer } from '../cli/run/printer.js'
import { liveFeed } from '../cli/ui/feed.js'
import type { LiveView } from '../cli/ui/server.js'
import type { ChannelParams, Hex } from '../src/protocol/types.js'
import type { Client } from './clients.js'
import type { World } from './world.js'

/**
 * Shows `client` (a running demo client) in `view`; returns the stop.
 * @example const stop = showClient(view, world, clients[0], params, channelId)
 */
export function showClient(view: LiveView, world: World, client: Client, params: ChannelParams, channelId: Hex): () => void {
  const speaker = exampleSpeaker('payments', { participants: params.participants, asset: ETH_ASSET })
  const printer = new Printer({ json: true, silent: true, speaker, asset: ETH_ASSET, participants: params.participants })
  const detach = printer.attach(client.peer)
  const driver = new Driver(client.peer, printer, speaker, () => undefined)
  const feed = liveFeed({ ctx: { params, channelId, manager: world.stack.manager }, peer: client.peer, printer, driver, speaker, asset: ETH_ASSET, me: client.index })
  view.attach(feed.source)
  const s = client.peer.channel.state
  printer.stateEvent('ready', s.state, s.stateHash, (v) => [
    { channelId, me: client.index, phase: s.phase, fork: s.fork, seq: s.seq, finalSeq: s.finalSeq, nextActor: s.nextActor, connected: client.peer.transport.connected, ...v.data },
    `${client.name} (#${client.index}) on channel ${channelId}: fork ${s.fork} seq ${s.seq}, ${v.text}`,
  ])
  return () => {
    driver.stop()
    feed.stop()
    detach()
  }
}
