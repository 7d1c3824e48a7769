/**
 * The court split (docs/contracts.md §1): StateChannelManager serves balances, channels and
 * finality itself and runs StateChannelCourt's code by delegatecall from its fallback for every
 * dispute function but the one it serves itself (IRespond: respond), and for the views
 * (verifySignatures, eip712Domain, …) — one address, one storage, one ABI. Called straight,
 * the court sees an empty store: every dispute call reverts and nothing changes anywhere. Through the manager, the
 * court's custom errors pass unchanged, events come from the manager, and channelWord reads the
 * manager's storage.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Contract, Interface, ZeroHash } from 'ethers'
import { setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, NO_DISPUTE, expectRevert, assertSolvent } from '../helpers/court.js'
import { deploy } from '../../src/chain/deploy.js'
import { loadArtifact } from '../../src/contracts/artifacts.js'
import { channelStruct, channelWordOf, NO_CHANNEL } from '../../src/chain/records.js'
import { recordArg, trackOf } from '../helpers/records.js'
import { Phase, type Hex } from '../../src/protocol/types.js'
import { responseArgs } from '../../src/protocol/disputes.js'

const ALICE = 0
const BOB = 1

let f: Fixture
let sim: Sim
let court: Contract
let restore: () => Promise<void>
/** The channel's record as its events give it (what a client re-supplies). */
const rec = () => recordArg(f.rawManager, sim.channelId)

before(async () => {
  f = await setup(4)
  sim = await Sim.open(f, f.wallets.slice(1, 3), f.counter, { bond: 10n ** 17n })
  await sim.move(ALICE, inc())
  const address = (await f.manager.getFunction('court')()) as string
  court = new Contract(address, loadArtifact('StateChannelCourt').abi as never, f.wallets[1]!)
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

/** What the manager holds of the channel and the parties: unchanged by anything sent to the court. */
async function snapshotState(): Promise<unknown[]> {
  return [await sim.channel(), [...(await f.manager.getFunction('getDispute')(sim.channelId))], await sim.balances(),
    await f.anvil.provider.getBalance(await f.manager.getAddress()), await f.anvil.provider.getBalance(await court.getAddress())]
}

describe('the court called straight', () => {
  const calls: { name: string; error: string; prepare?: () => Promise<unknown>; call: () => Promise<unknown>; args?: () => unknown[] }[] = [
    { name: 'postTransaction', error: 'ChannelNotOpen', args: () => [sim.channelId, Phase.None],
      call: async () => { const t = sim.entry(1n).tx; return court.getFunction('postTransaction')(sim.channelId, await rec(), sim.participants, t, sim.sig(t, ALICE)) } },
    { name: 'disputeTimeout', error: 'ChannelNotOpen', args: () => [sim.channelId, Phase.None],
      call: async () => court.getFunction('disputeTimeout')(sim.channelId, await rec(), sim.participants, ALICE, sim.chain(1n, 1n), sim.head.state) },
    { name: 'exit', error: 'ChannelNotOpen', args: () => [sim.channelId, Phase.None],
      call: async () => court.getFunction('exit')(sim.channelId, await rec(), sim.participants, ALICE, sim.record, sim.final(1n), false, sim.head.state) },
    { name: 'proveEquivocation', error: 'ChannelNotOpen', args: () => [sim.channelId, Phase.None],
      call: async () => {
        const a = sim.forge({ actor: BOB, data: inc(1n) })
        return court.getFunction('proveEquivocation')(sim.channelId, await rec(), sim.participants, ALICE, NO_DISPUTE, sim.signed(a, [BOB]), sim.signed({ ...a, data: inc(2n) }, [BOB]), [], sim.genesis)
      } },
    { name: 'resolve of the manager\'s open dispute', error: 'DisputeNotOpen', args: () => [sim.channelId],
      prepare: async () => { await sim.exit(ALICE, sim.final(1n), false); await f.anvil.increaseTime(601) },
      call: async () => court.getFunction('resolve')(sim.channelId, await rec(), sim.participants, sim.record, sim.head.state) },
    { name: 'answer to the manager\'s open dispute', error: 'DisputeNotOpen', args: () => [sim.channelId],
      prepare: () => sim.exit(ALICE, [], false),
      call: async () => court.getFunction('answer')(sim.channelId, await rec(), sim.participants, BOB, sim.record, sim.final(1n), sim.head.state) },
  ]
  for (const c of calls) {
    test(`${c.name} reverts (${c.error}) and touches nothing`, async () => {
      await c.prepare?.()
      const before = await snapshotState()
      await expectRevert(c.call(), c.error, c.args?.())
      assert.deepEqual(await snapshotState(), before)
      assert.deepEqual([...(await court.getFunction('channelWord')(sim.channelId))], [BigInt(Phase.None), ZeroHash])
    })
  }
})

describe('through the manager', () => {
  test('the court\'s custom errors pass through the fallback byte for byte', async () => {
    const other = `0x${'77'.repeat(32)}` as Hex
    const data = court.interface.encodeFunctionData('disputeTimeout', [other, channelStruct(NO_CHANNEL), sim.participants, ALICE, [], sim.genesis])
    const raw = async (to: string) => {
      try {
        await f.anvil.provider.call({ to, data, from: f.wallets[1]!.address })
      } catch (e) {
        return (e as { data: string }).data
      }
      assert.fail('expected a revert')
    }
    const expected = f.manager.interface.encodeErrorResult('ChannelNotOpen', [other, Phase.None])
    assert.equal(await raw(await f.manager.getAddress()), expected)
    assert.equal(await raw(await court.getAddress()), expected)
  })

  test('respond (IRespond) is the manager\'s own: the court has no code for it', async () => {
    const abi = new Interface(loadArtifact('StateChannelManager').abi as never)
    const t = sim.entry(1n).tx
    const data = abi.encodeFunctionData('respond', [sim.channelId, await rec(), sim.participants, BOB, sim.record, ...responseArgs(t), sim.sig(t, ALICE)])
    assert.equal(court.interface.getFunction('respond'), null, 'the court\'s ABI has respond')
    // Called straight, the court has no function of this selector and no fallback: no data.
    await assert.rejects(f.anvil.provider.call({ to: await court.getAddress(), data }), (e: { data?: string }) => (e.data ?? '0x') === '0x')
    // Through the manager it runs there, on the manager's storage: no dispute is open.
    await expectRevert(f.anvil.provider.call({ to: await f.manager.getAddress(), data, from: f.wallets[2]!.address }), 'DisputeNotOpen', [sim.channelId])
  })

  test('verifySignatures and eip712Domain are the court\'s views: at the manager\'s address, with the manager\'s domain', async () => {
    for (const name of ['verifySignatures', 'eip712Domain']) assert.ok(court.interface.getFunction(name), `the court's ABI lacks ${name}`)
    const d = await f.manager.getFunction('eip712Domain')()
    assert.equal(d.verifyingContract, await f.manager.getAddress())
    assert.equal(d.name, 'Parley')
    // Straight at the court, the domain is the court's own address: it is the delegatecall that
    // makes it the manager's.
    assert.equal((await court.getFunction('eip712Domain')()).verifyingContract, await court.getAddress())
  })

  test('a selector neither contract serves reverts without data', async () => {
    await assert.rejects(f.anvil.provider.call({ to: await f.manager.getAddress(), data: '0xdeadbeef' }), (e: { data?: string }) => (e.data ?? '0x') === '0x')
  })

  test('channelWord reads the manager\'s storage; dispute events come from the manager\'s address', async () => {
    assert.deepEqual([...(await f.manager.getFunction('getDispute')(sim.channelId))], [ZeroHash, 0n])
    const r = await sim.exit(ALICE, sim.final(1n), true)
    assert.deepEqual([...(await f.manager.getFunction('channelWord')(sim.channelId))], [BigInt(Phase.Disputed), channelWordOf((await trackOf(f.rawManager, sim.channelId))!)])
    const manager = (await f.manager.getAddress()).toLowerCase()
    assert.ok(r.logs.length > 0 && r.logs.every((l) => l.address.toLowerCase() === manager))
    // The court sees the caller (msg.sender survives the delegatecall).
    await expectRevert(sim.send(BOB, 'answer', sim.channelId, sim.participants, ALICE, sim.record, sim.final(1n), sim.head.state), 'CallerNotParticipant', [ALICE, f.wallets[2]!.address])
    await assertSolvent(f)
  })

  test('the manager refuses a court without code', async () => {
    const eoa = f.wallets[3]!.address
    await expectRevert(deploy('StateChannelManager', f.wallets[0]!, [eoa]), 'CourtInvalid', [eoa])
  })
})
