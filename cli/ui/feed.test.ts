/**
 * The live view's feed (feed.ts) without a browser or a chain: the `hello` carries a form per move
 * encoder of the machine's ABI; each signature the channel records reaches the page as its own
 * event, in order; each state brings our move window's deadline in local time; the manager
 * balances are read again when the court reports something that moves them, and never on a timer;
 * a command from the page goes to the driver as a line and shows in the stream; the printer's
 * lines pass through; stop unsubscribes.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ETH_ASSET } from '../lib/assets.js'
import { exampleSpeaker } from '../lib/speaker.js'
import { Emitter } from '../../src/observe/Emitter.js'
import { broadcastDeadline } from '../../src/protocol/timing.js'
import { liveFeed } from './feed.js'

const participants = ['0x70997970C51812dc3A010C7d01b50e0d17dc79C8', '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC', '0x90F79bf6EB2c4f870365E785982E1f101E93b906'] as `0x${string}`[]
const params = {
  participants, machine: '0x00000000000000000000000000000000000000aa', asset: ETH_ASSET.address,
  p2pTime: 60, agreementTime: 30, chainFallbackTime: 120, challengeTime: 300, deposits: [1n, 2n, 3n], bond: 0n,
}
const CHAIN_NOW = 1_800_000_000n

function fixture() {
  const channel = new Emitter<{ signature: { fork: bigint; seq: bigint; signer: number }; state: { seq: bigint; fork: bigint; nextActor: number; transaction: { timestamp: bigint } } }>()
  const court = new Emitter<Record<'closed' | 'credited' | 'slashed' | 'removed' | 'resolved' | 'submitted', unknown>>()
  const taps = new Set<(e: Record<string, unknown>) => void>()
  const lines: string[] = []
  let reads = 0
  const peer = {
    channel: Object.assign(channel, { state: { phase: 'open', fork: 0n, seq: 0n, timestamp: CHAIN_NOW, nextActor: 0 } }),
    court, transport: { connected: [1] }, clock: { now: () => CHAIN_NOW },
  }
  const printer = {
    tap: (fn: (e: Record<string, unknown>) => void) => (taps.add(fn), () => void taps.delete(fn)),
    error: (e: unknown) => assert.fail(`unexpected printer error: ${String(e)}`),
  }
  const manager = { balanceOf: async (a: string) => (reads++, BigInt(participants.indexOf(a as `0x${string}`) + 1) * 10n ** 18n) }
  const feed = liveFeed({
    ctx: { params, channelId: '0x01', manager } as never, peer: peer as never, printer: printer as never,
    driver: { line: (l: string) => void lines.push(l) } as never,
    speaker: exampleSpeaker('payments', { participants, asset: ETH_ASSET }), asset: ETH_ASSET, me: 0,
  })
  const events: Record<string, unknown>[] = []
  const off = feed.source.subscribe((e) => void events.push(e))
  return { channel, court, taps, lines, events, off, feed, reads: () => reads }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20))
const named = (events: Record<string, unknown>[], name: string) => events.filter((e) => e.event === name)

describe('the live view feed', () => {
  it('says hello first, with a form per move encoder of the machine ABI', () => {
    const f = fixture()
    const hello = f.events[0]!
    assert.equal(hello.event, 'hello')
    assert.deepEqual(hello.participants, participants.map((a) => a.toLowerCase()))
    const forms = hello.forms as { name: string; inputs: unknown[] }[]
    assert.deepEqual(forms.map((g) => g.name).sort(), ['pass', 'pay'], "Payments' move encoders")
    assert.deepEqual(forms.find((g) => g.name === 'pay')!.inputs, [{ name: 'to', type: 'uint16' }, { name: 'amount', type: 'uint256' }])
    assert.deepEqual(forms.find((g) => g.name === 'pass')!.inputs, [])
    assert.deepEqual(hello.connected, [1])
    f.feed.stop()
  })

  it('pushes each signature as it is recorded, one by one, and the move window after each state', async () => {
    const f = fixture()
    await settle()
    f.channel.emit('state', { seq: 1n, fork: 0n, nextActor: 1, transaction: { timestamp: CHAIN_NOW } })
    for (const signer of [0, 2, 1]) f.channel.emit('signature', { fork: 0n, seq: 1n, signer })
    assert.deepEqual(named(f.events, 'signature').map((e) => [e.seq, e.signer]), [[1n, 0], [1n, 2], [1n, 1]])
    const window = named(f.events, 'deadline').at(-1)!
    assert.equal(window.kind, 'move-window')
    assert.equal(window.actor, 1)
    const deadline = broadcastDeadline(CHAIN_NOW, params)
    assert.equal(window.deadline, deadline)
    const inMs = Date.parse(String(window.deadlineLocal)) - Date.now()
    assert.ok(Math.abs(inMs - Number(deadline - CHAIN_NOW) * 1000) < 5_000, `the deadline in local time is ${deadline - CHAIN_NOW} s away (${inMs} ms)`)
    f.feed.stop()
  })

  it('reads the manager balances when the court moved them, not on a timer', async () => {
    const f = fixture()
    await settle()
    const first = named(f.events, 'balances')
    assert.equal(first.length, 1, 'read once when the page subscribes')
    assert.deepEqual(first[0]!.manager, [10n ** 18n, 2n * 10n ** 18n, 3n * 10n ** 18n])
    const reads = f.reads()
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(f.reads(), reads, 'no read without a court event (no polling)')
    f.court.emit('slashed', {})
    await settle()
    assert.equal(named(f.events, 'balances').length, 2)
    assert.equal(f.reads(), reads + participants.length)
    f.feed.stop()
    f.court.emit('closed', {})
    await settle()
    assert.equal(named(f.events, 'balances').length, 2, 'stopped: nothing more')
  })

  it('hands a command to the driver as a typed line and shows it; the printer lines pass through', () => {
    const f = fixture()
    f.feed.source.command('pay 1 0.3')
    assert.deepEqual(f.lines, ['pay 1 0.3'])
    assert.equal(named(f.events, 'command').at(-1)!.text, '> pay 1 0.3')
    for (const tap of f.taps) tap({ event: 'error', code: 'MOVE_INVALID', text: 'error MOVE_INVALID: pay 9 1: no participant #9' })
    assert.equal(named(f.events, 'error').at(-1)!.text, 'error MOVE_INVALID: pay 9 1: no participant #9')
    f.feed.stop()
    assert.equal(f.taps.size, 0, 'stop unsubscribes from the printer')
  })
})
