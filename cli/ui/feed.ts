/**
 * What the live view of `parley run --ui` shows, as one stream of events: a `hello` (the
 * channel, the participants, the machine's move forms from its ABI, the asset), then every line
 * the run prints (the `--json` objects, with their text), each signature as it is recorded, our
 * move window's deadline after each state, and the participants' manager balances whenever the
 * chain may have changed them. Commands from the page go to the run's driver, like typed lines.
 */
import type { Asset } from '../lib/assets.js'
import type { ChannelContext } from '../lib/channel.js'
import type { MachineSpeaker } from '../lib/speaker.js'
import { readMachineRecord } from '../lib/machineRecords.js'
import { loadArtifact, type ContractName } from '../../src/contracts/artifacts.js'
import { MachineAbi } from '../../src/machine/MachineAbi.js'
import { broadcastDeadline } from '../../src/protocol/timing.js'
import { Emitter } from '../../src/observe/Emitter.js'
import { localDeadline } from '../run/deadlines.js'
import type { Driver } from '../run/driver.js'
import type { Peer } from '../run/peer.js'
import type { Printer } from '../run/printer.js'
import type { LiveViewSource } from './server.js'

/** One move encoder of the machine (a `pure` function returning `bytes move`): a form on the page. */
export interface MoveForm {
  name: string
  inputs: { name: string; type: string }[]
}

const EXAMPLE_ARTIFACTS: Record<string, ContractName> = { payments: 'Payments', tictactoe: 'TicTacToe', counter: 'Counter' }

/** The machine's move encoders from its ABI (the example's artifact, or `machine deploy`'s record); none for a machine known by address only. */
export function moveForms(speaker: MachineSpeaker): MoveForm[] {
  const name = speaker.name
  if (!name) return []
  const example = EXAMPLE_ARTIFACTS[name]
  const abi = example ? loadArtifact(example).abi : readMachineRecord(name).abi
  return new MachineAbi(abi as never).encoders.map((f) => ({ name: f.name, inputs: f.inputs.map((p, i) => ({ name: p.name || `arg${i}`, type: p.type })) }))
}

type Event = Record<string, unknown>

/**
 * The live view's source for a running peer. Call it before the run prints `ready`, so the
 * page sees every line; returns the source and its stop.
 * @example const { source, stop } = liveFeed({ ctx, peer, printer, driver, speaker, asset, me })
 */
export function liveFeed(o: { ctx: Pick<ChannelContext, 'params' | 'channelId' | 'manager'>; peer: Peer; printer: Printer; driver: Driver; speaker: MachineSpeaker; asset: Asset; me: number }): { source: LiveViewSource; stop: () => void } {
  const { ctx, peer, printer, driver, asset, me } = o
  const events = new Emitter<{ event: Event }>()
  const emit = (e: Event) => events.emit('event', { at: new Date().toISOString(), ...e })
  const p = ctx.params
  const s = peer.channel.state
  const hello: Event = {
    event: 'hello', channelId: ctx.channelId, me, participants: p.participants.map((a) => a.toLowerCase()),
    machine: o.speaker.name ?? null, machineAddress: p.machine, moves: o.speaker.moves, forms: moveForms(o.speaker),
    asset: { address: asset.address, symbol: asset.symbol, decimals: asset.decimals },
    times: { p2pTime: p.p2pTime, agreementTime: p.agreementTime, chainFallbackTime: p.chainFallbackTime, challengeTime: p.challengeTime },
    deposits: p.deposits, bond: p.bond, phase: s.phase, fork: s.fork, connected: peer.transport.connected,
  }

  // Manager balances: read again whenever the chain may have moved them (one read at a time).
  let reading = false
  let again = false
  const balances = async (): Promise<void> => {
    if (reading) return void (again = true)
    reading = true
    try {
      do {
        again = false
        const manager = await Promise.all(p.participants.map((a) => ctx.manager.balanceOf(a, p.asset)))
        emit({ event: 'balances', manager })
      } while (again)
    } catch (e) {
      printer.error(e, 'live view: manager balances')
    } finally {
      reading = false
    }
  }

  const moveWindow = (seq: bigint, fork: bigint, timestamp: bigint, actor: number) => {
    const deadline = broadcastDeadline(timestamp, p)
    const d = localDeadline(deadline, peer.clock)
    emit({ event: 'deadline', kind: 'move-window', fork, seq, actor, deadline, deadlineLocal: d.local })
  }

  const offs: (() => void)[] = []
  let started = false
  const start = () => {
    if (started) return
    started = true
    offs.push(
      printer.tap((e) => events.emit('event', e)),
      peer.channel.on('signature', (g) => emit({ event: 'signature', fork: g.fork, seq: g.seq, signer: g.signer })),
      peer.channel.on('state', (st) => moveWindow(st.seq, st.fork, st.transaction.timestamp, st.nextActor)),
      ...(['closed', 'credited', 'slashed', 'removed', 'resolved', 'submitted'] as const).map((name) => peer.court.on(name, () => void balances())),
    )
    void balances()
    const now = peer.channel.state
    moveWindow(now.seq, now.fork, now.timestamp, now.nextActor)
  }

  const source: LiveViewSource = {
    subscribe(fn) {
      fn({ at: new Date().toISOString(), ...hello })
      const off = events.on('event', fn)
      start()
      return off
    },
    command(line) {
      emit({ event: 'command', line, text: `> ${line}` })
      driver.line(line)
    },
  }
  return { source, stop: () => offs.forEach((off) => off()) }
}
