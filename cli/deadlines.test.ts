/**
 * Deadlines in local time: the pure conversion and wording, then `parley run` on a channel with a
 * 12 s broadcast window — the participant whose turn it is gets `warning MOVE_WINDOW_CLOSING`
 * before the window passes, with the deadline in chain time and in local time, and every event
 * carries the local time it happened; and when a timeout accuses it (an SDK peer's court raises
 * one), `warning TIMEOUT_DEADLINE_NEAR` before the timeout ends, in local time too.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAnvil, type Anvil } from '../src/chain/anvil.js'
import { deployLocalStack, type LocalStack } from '../src/chain/stack.js'
import { channelParams } from '../src/channel/params.js'
import { ManualClock } from '../src/clock/ManualClock.js'
import { openChannel } from '../src/peer/openChannel.js'
import { startTestnet, type Testnet } from '../src/testing/testnet.js'
import { createPeer, type Peer } from '../src/peer/createPeer.js'
import { silentLogger } from '../src/net/logger.js'
import { DisputeKind } from '../src/protocol/types.js'
import { MemoryStore } from '../src/store/MemoryStore.js'
import { Running } from './harness.js'
import { writeParamsFile } from './lib/params.js'
import { describeDeadline, leadTime, localDeadline } from './run/deadlines.js'

describe('local deadlines (pure)', () => {
  it('converts chain time by the clock, and words it', () => {
    const clock = new ManualClock(1_000n)
    const d = localDeadline(1_090n, clock, Date.UTC(2030, 0, 1, 12, 0, 0))
    assert.deepEqual(d, { deadline: 1_090n, local: '2030-01-01T12:01:30.000Z', inSeconds: 90 })
    assert.match(describeDeadline(d), /^\d\d:\d\d:\d\d local time \(in 90 s; chain time 1090\)$/)
    assert.match(describeDeadline(localDeadline(700n, clock)), /\(5 min ago; chain time 700\)$/)
    assert.deepEqual([leadTime(2), leadTime(60), leadTime(12), leadTime(3600)], [1, 15, 3, 60])
  })
})

let anvil: Anvil
let stack: LocalStack
let testnet: Testnet
let dir: string

before(async () => {
  ;[anvil, testnet] = await Promise.all([startAnvil({ accounts: 3, args: ['--block-time', '1'] }), startTestnet()])
  stack = await deployLocalStack(anvil.wallets[0]!)
  dir = mkdtempSync(join(tmpdir(), 'parley-deadlines-'))
})
after(async () => {
  await testnet.destroy()
  await anvil.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('parley run: deadlines', () => {
  it('warns before our broadcast window passes, in local time', async () => {
    const [alice, bob] = [anvil.wallets[1]!, anvil.wallets[2]!]
    const params = channelParams({
      participants: [alice.address, bob.address], machine: stack.machines.payments, deposits: [0n, 0n], times: { p2pTime: 12 }, now: BigInt(await anvil.now()),
    })
    const opened = await openChannel(stack.manager.connect(alice), params, [alice, bob])
    writeParamsFile(join(dir, 'c.json'), { params, chainId: 31337n, manager: stack.manager.address, channelId: opened.channelId, machineName: 'payments' })
    const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
    const run = new Running(['run', 'c.json', '--key', alice.privateKey, '--store', 'a.db', '--rpc', anvil.url, '--bootstrap', bootstrap, '--poll', '200', '--json'], dir)
    try {
      const ready = await run.on('ready', {}, 60_000)
      assert.equal(ready.isMyTurn, true)
      assert.ok(!Number.isNaN(Date.parse(String(ready.at))), 'events carry their local time')
      const w = await run.on('warning', { code: 'MOVE_WINDOW_CLOSING' }, 60_000)
      const deadline = opened.genesis.timestamp + 12n
      assert.equal(w.deadline, String(deadline))
      const local = Date.parse(String(w.deadlineLocal))
      assert.ok(Math.abs(local - Number(deadline) * 1000) < 5_000, `local deadline ${String(w.deadlineLocal)} ≈ chain time ${deadline}`)
      assert.ok(Date.parse(String(w.at)) <= local + 1_000, 'warned before the window passed (or at once when it already had)')
      assert.match(String(w.message), /your move window clos\w+ at \d\d:\d\d:\d\d local time .*posted on-chain/)
    } finally {
      await run.stop()
    }
  })

  it('warns before the timeout that accuses us ends, in local time', async () => {
    const [alice, bob] = [anvil.wallets[1]!, anvil.wallets[2]!]
    // Alice (the CLI peer) never moves; bob's court accuses her once her turn's windows passed.
    const times = { p2pTime: 4, agreementTime: 2, chainFallbackTime: 4, challengeTime: 24 }
    const params = channelParams({ participants: [alice.address, bob.address], machine: stack.machines.payments, deposits: [0n, 0n], times, now: BigInt(await anvil.now()) })
    const opened = await openChannel(stack.manager.connect(alice), params, [alice, bob])
    writeParamsFile(join(dir, 't.json'), { params, chainId: 31337n, manager: stack.manager.address, channelId: opened.channelId, machineName: 'payments' })
    const bootstrap = testnet.bootstrap.map((b) => `${b.host}:${b.port}`).join(',')
    const run = new Running(['run', 't.json', '--key', alice.privateKey, '--store', 't.db', '--rpc', anvil.url, '--bootstrap', bootstrap, '--poll', '200', '--json'], dir)
    let peer: Peer | undefined
    try {
      await run.on('ready', {}, 60_000)
      peer = await createPeer({ wallet: bob, manager: stack.manager, channelId: opened.channelId, params, store: new MemoryStore(), pollMs: 200, net: { bootstrap: testnet.bootstrap, host: '127.0.0.1', logger: silentLogger } })
      const { record } = await peer.court.next('dispute')
      assert.equal(record.kind, DisputeKind.Timeout)
      const w = await run.on('warning', { code: 'TIMEOUT_DEADLINE_NEAR' }, 60_000)
      assert.equal(w.deadline, String(record.deadline))
      const local = Date.parse(String(w.deadlineLocal))
      assert.ok(Math.abs(local - Number(record.deadline) * 1000) < 5_000, `local deadline ${String(w.deadlineLocal)} ≈ chain time ${record.deadline}`)
      assert.ok(Date.parse(String(w.at)) <= local + 1_000, 'warned before the timeout ended')
      assert.match(String(w.message), /a timeout accuses you and ends at \d\d:\d\d:\d\d local time .*type your move/)
    } finally {
      await run.stop()
      await peer?.stop()
    }
  })
})
