/**
 * Contract-level regressions, one per attack reproduced against the contracts before the rules
 * of docs/protocol.md §7; each is named after what the attacker tried. Every scenario that
 * moves money ends with the solvency invariant.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Contract } from 'ethers'
import { abi, atTime, setup, type Fixture } from '../helpers/fixture.js'
import { Sim, inc, pay, QUIRK, quirk, setQuirk, assertSolvent, expectRevert } from '../helpers/court.js'
import { deploy } from '../../src/chain/deploy.js'
import type { ContractName } from '../../src/contracts/artifacts.js'
import { timeoutDeadline } from '../../src/protocol/disputes.js'
import { hashState } from '../../src/protocol/eip712.js'
import { DisputeKind, Phase, type Hex, type PackedSignedTransaction } from '../../src/protocol/types.js'

const [ALICE, BOB, CAROL, DAVE] = [0, 1, 2, 3]
const ETH1 = 10n ** 18n
const BOND = ETH1 / 10n
const W = BigInt(60 + 30 + 120) // postingWindow of the default params
const C = 300n

let f: Fixture
let quirky: Contract
let base: string

before(async () => {
  f = await setup(7)
  quirky = (await deploy('QuirkyMachine' as ContractName, f.wallets[0]!)) as unknown as Contract
})
after(() => f.stop())
beforeEach(async () => (base = (await f.anvil.provider.send('evm_snapshot', [])) as string))
afterEach(() => f.anvil.provider.send('evm_revert', [base]))

const open = (machine: Contract, n: number, over = {}) =>
  Sim.open(f, f.wallets.slice(1, n + 1), machine, { bond: BOND, deposits: Array.from({ length: n }, (_, i) => BigInt(i + 1) * ETH1), ...over })

/** Waits until a timeout on a state stamped `T` may be raised. */
async function pastPostingDeadline(sim: Sim, T = sim.head.timestamp): Promise<void> {
  const wait = timeoutDeadline(T, sim.params) + 1n - (await sim.now())
  if (wait > 0n) await f.anvil.increaseTime(Number(wait))
}

async function deltas(sim: Sim, run: () => Promise<unknown>): Promise<bigint[]> {
  const before = await sim.balances()
  await run()
  return (await sim.balances()).map((b, i) => b - before[i]!)
}

const cell = (c: number) => abi.encode(['uint256'], [c]) as Hex

describe('reproduced attacks (contract)', () => {
  test('(a) a timeout candidate entry with 5,000 bytes of data is refused (ProofDataTooLarge)', async () => {
    const sim = await open(f.counter, 3)
    await sim.move(ALICE, inc())
    const bloated = sim.forge({ actor: BOB, data: `0x${'ff'.repeat(5000)}` })
    await pastPostingDeadline(sim)
    await expectRevert(sim.timeout(BOB, [...sim.chain(1n, 1n), sim.signed(bloated, [BOB])], sim.entry(1n).state), 'ProofDataTooLarge', [1, 5000, 4096])
  })

  test('(b) a candidate entry stamped before its parent is refused (ProofTimestampInvalid)', async () => {
    const sim = await open(f.counter, 3)
    await f.anvil.increaseTime(1_000)
    const t1 = (await sim.move(ALICE, inc())).tx
    // Bob backdates his move to before Alice's, so that his timeout against Carol is due at once.
    const t2 = { ...(await sim.move(BOB, inc(), t1.timestamp - 500n)).tx }
    await atTime(f, (await sim.now()) + 1n)
    const latest = (await sim.now()) + 1n + sim.skew
    await expectRevert(sim.timeout(BOB, [sim.signed(t1, [ALICE]), sim.signed(t2, [BOB])], sim.head.state), 'ProofTimestampInvalid',
      [1, t1.timestamp - 500n, t1.timestamp, latest])
  })

  for (const [label, ts] of [['2^62', 2n ** 62n], ['2^64 − 1', 2n ** 64n - 1n]] as const) {
    test(`(c) postTransaction and respond stamped ${label} are refused (TransactionTimestampInvalid)`, async () => {
      const sim = await open(f.counter, 3)
      await sim.move(ALICE, inc())
      await sim.move(BOB, inc())
      const far = sim.forge({ actor: CAROL, data: inc(), timestamp: ts })
      await expectRevert(sim.post(CAROL, far, sim.sig(far, CAROL)), 'TransactionTimestampInvalid')
      await pastPostingDeadline(sim)
      await sim.timeout(BOB, sim.chain(1n, 2n), sim.head.state)
      const r = await expectRevert(sim.respond(CAROL, far, sim.sig(far, CAROL)), 'TransactionTimestampInvalid')
      assert.deepEqual(r.args.slice(0, 2), [ts, sim.entry(2n).tx.timestamp])
    })
  }

  test('(d) a backdated candidate the accused never signed gives it postingWindow + challengeTime', async () => {
    const sim = await open(f.counter, 3)
    await sim.move(ALICE, inc())
    await f.anvil.increaseTime(1_000)
    // Bob stamps his move as early as the rules allow (his parent's time), keeps it from Carol
    // and accuses her at once.
    const t2 = await sim.move(BOB, inc(), sim.head.timestamp)
    const r = await sim.timeout(BOB, [...sim.final(1n), sim.signed(t2.tx, [BOB])], t2.state)
    const now = BigInt((await f.anvil.provider.getBlock(r.blockNumber))!.timestamp)
    assert.equal(sim.record.deadline, now + C + W)
    // Carol learns the move from the event and answers in the last second of her window.
    assert.equal(sim.events('DisputeRaised')[0]!.state, t2.state)
    await atTime(f, sim.record.deadline)
    const move = await sim.move(CAROL, inc(), sim.record.deadline)
    await sim.respond(CAROL, move.tx, sim.sig(move.tx, CAROL))
    assert.equal(Number((await sim.channel()).phase), Phase.Open)
    await assertSolvent(f)
  })

  test('(e) a Payments timeout on a signed state with balances = [] is refused at raise (OutcomeLengthInvalid); the fraud is then proven', async () => {
    const sim = await open(f.payments, 3)
    const MALLORY = CAROL
    await sim.move(ALICE, pay(BOB, ETH1 / 2n))
    await sim.move(BOB, pay(MALLORY, ETH1))
    await f.anvil.increaseTime(Number(W) + 1)
    // Mallory signs a "state" with no balances, Alice to move, and accuses Alice of silence.
    const empty = abi.encode(['tuple(uint64,uint16,uint256[])'], [[0b111n, ALICE, []]]) as Hex
    const fake = sim.forge({ actor: MALLORY, data: '0x', stateHash: hashState(empty) })
    const list: PackedSignedTransaction[] = [...sim.final(2n), sim.signed(fake, [MALLORY])]
    await expectRevert(sim.timeout(MALLORY, list, empty), 'OutcomeLengthInvalid', [0n, 3n])
    assert.equal(Number((await sim.channel()).phase), Phase.Open) // nothing locked
    // Her signature on an invalid transition is slashable; the others continue without her.
    await sim.proveInvalid(ALICE, sim.signed(fake, [MALLORY]), sim.entry(2n).state, sim.final(2n))
    const d = await deltas(sim, () => sim.resolve(sim.entry(2n).state))
    assert.deepEqual(d, [4n * ETH1 + BOND, 0n, 0n]) // Mallory's 3 + 1 ETH and her bond to Alice
    assert.deepEqual([sim.fork, sim.active], [1n, 0b011n])
    await assertSolvent(f)
  })

  describe('(f) a TicTacToe winning move the loser never confirms is enforced', () => {
    /** X0 O3 X1 O4 final; Alice's winning X2 signed by her alone. */
    async function game(): Promise<{ sim: Sim; win: Awaited<ReturnType<Sim['move']>> }> {
      const sim = await open(f.tictactoe, 2, { deposits: [ETH1, ETH1] })
      for (const [k, c] of [0, 3, 1, 4].entries()) await sim.move(k % 2, cell(c))
      return { sim, win: await sim.move(ALICE, cell(2), undefined, false) }
    }

    test('the winner raises disputeTimeout on its terminal move → Conclude → resolve pays the winner', async () => {
      const { sim, win } = await game()
      await sim.timeout(ALICE, [...sim.final(4n), sim.signed(win.tx, [ALICE])], win.state)
      assert.equal(sim.record.kind, DisputeKind.Conclude)
      const d = await deltas(sim, () => sim.resolve(win.state))
      assert.deepEqual(d, [2n * ETH1 + BOND, BOND])
      await assertSolvent(f)
    })

    test('the loser\'s force-close from the last final position pays the winner (it is removed through onRemove)', async () => {
      const { sim } = await game()
      await sim.exit(BOB, sim.final(4n), false)
      const d = await deltas(sim, () => sim.resolve(sim.entry(4n).state))
      assert.deepEqual(d, [2n * ETH1 + BOND, BOND])
      await assertSolvent(f)
    })
  })

  test('(g) a machine padding its answers with ~1.4 MB cannot make resolve exceed a block', async () => {
    const { gasLimit } = (await f.anvil.provider.getBlock('latest'))!
    for (const q of [quirk({ nextActor: QUIRK.PAD }), quirk({ isTerminal: QUIRK.PAD })]) {
      const sim = await open(quirky, 3)
      const s1 = await sim.move(ALICE, setQuirk(q))
      // A naive client pays for the padding: ethers reads it all and decodes the first word.
      await quirky.getFunction(q === quirk({ nextActor: QUIRK.PAD }) ? 'nextActor' : 'isTerminal')(s1.state)
      await sim.exit(CAROL, sim.final(1n), true)
      const r = await sim.resolve(s1.state)
      // The padded call fails (nothing copied), so the channel settles instead of continuing.
      assert.equal(sim.events('ChannelClosed').length, 1)
      assert.ok(r.gasUsed < 5_000_000n + 1_500_000n, `resolve used ${r.gasUsed} gas`)
      assert.ok(r.gasUsed < gasLimit)
      await assertSolvent(f)
    }
  })

  test('(h) a prover slashed later loses its earlier bounty to whoever proved it', async () => {
    const sim = await open(f.counter, 4)
    for (const actor of [ALICE, BOB, CAROL, DAVE]) await sim.move(actor, inc())
    const equivocation = (culprit: number): [PackedSignedTransaction, PackedSignedTransaction] => {
      const a = sim.forge({ actor: ALICE, data: inc(1n) })
      return [sim.signed(a, [culprit]), sim.signed({ ...a, data: inc(2n) }, [culprit])]
    }
    // Alice proves Bob's fraud, then is shown to have committed one herself.
    await sim.proveEquivocation(ALICE, ...equivocation(BOB), sim.final(4n))
    await sim.proveEquivocation(CAROL, ...equivocation(ALICE))
    const d = await deltas(sim, () => sim.resolve(sim.entry(4n).state))
    assert.deepEqual(d, [0n, 0n, 3n * ETH1 + 2n * BOND, 0n])
    await assertSolvent(f)
  })

  test('(i) colluders\' fraud proofs joining a fraud dispute never push its deadline', async () => {
    const sim = await open(f.counter, 4)
    for (const actor of [ALICE, BOB, CAROL, DAVE]) await sim.move(actor, inc())
    const equivocation = (culprit: number, k: bigint): [PackedSignedTransaction, PackedSignedTransaction] => {
      const a = sim.forge({ actor: ALICE, data: inc(k) })
      return [sim.signed(a, [culprit]), sim.signed({ ...a, data: inc(k + 1n) }, [culprit])]
    }
    // Alice proves Bob's fraud. Carol and Dave, colluding with Bob, sacrifice each other in
    // proofs sent at the last second of the dispute, hoping to keep it open.
    await sim.proveEquivocation(ALICE, ...equivocation(BOB, 1n), sim.final(4n))
    const deadline = sim.record.deadline
    await atTime(f, deadline)
    await sim.proveEquivocation(CAROL, ...equivocation(DAVE, 3n))
    assert.equal(sim.record.deadline, deadline)
    await atTime(f, deadline + 1n)
    await expectRevert(sim.send(CAROL, 'resolve', sim.channelId, sim.participants, sim.record, '0x'), 'StateHashMismatch')
    const d = await deltas(sim, () => sim.send(ALICE, 'resolve', sim.channelId, sim.participants, sim.record, sim.entry(4n).state))
    assert.deepEqual(d, [2n * ETH1 + BOND, 0n, 4n * ETH1 + BOND, 0n])
    await assertSolvent(f)
  })
})
