/**
 * Bounded, strictly decoded machine returns in fraud judgement (docs/contracts.md §7.4): a
 * transition is invalid when nextActor fails or names someone else, or transition reverts, runs
 * out of MACHINE_GAS, returns more than 64 + MAX_STATE_BYTES bytes (nothing is copied), returns
 * malformed ABI, or a state other than the claimed one. A naive decoder (ethers, abi.decode)
 * reads a padded or malformed answer as a valid state; the manager never does.
 *
 * Base: QuirkyMachine channel of Alice (0), Bob (1), Carol (2). Alice's tx1 (signed by everyone)
 * gives state 1 a quirk; Bob's tx2 on it claims the state a sound machine would produce.
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Contract } from 'ethers'
import { setup, type Fixture } from '../helpers/fixture.js'
import { Sim, QUIRK, quirk, setQuirk, assertSolvent, expectRevert } from '../helpers/court.js'
import { deploy } from '../../src/chain/deploy.js'
import type { ContractName } from '../../src/contracts/artifacts.js'
import { hashState } from '../../src/protocol/eip712.js'
import { DisputeKind, type Hex, type Transaction } from '../../src/protocol/types.js'

const ALICE = 0
const BOB = 1
const CAROL = 2
const ETH1 = 10n ** 18n

let f: Fixture
let sim: Sim
let quirky: Contract
let restore: () => Promise<void>

before(async () => {
  f = await setup(5)
  quirky = (await deploy('QuirkyMachine' as ContractName, f.wallets[0]!)) as unknown as Contract
  sim = await Sim.open(f, f.wallets.slice(1, 4), quirky, { bond: ETH1 / 10n, deposits: [ETH1, 2n * ETH1, 3n * ETH1] })
})
after(() => f.stop())
beforeEach(async () => (restore = await sim.checkpoint()))
afterEach(() => restore())

/**
 * State 1 with quirk `q`, and Bob's tx2 on it claiming what a sound machine returns: the same
 * move on state 1 without the quirk (the answer does not depend on the quirk of the state before).
 */
async function claim(q: bigint): Promise<{ state1: Hex; tx2: Transaction }> {
  const s1 = await sim.move(ALICE, setQuirk(q))
  const sound = (await quirky.getFunction('transition')(sim.genesis, ALICE, setQuirk(0n), s1.tx.timestamp)) as Hex
  const data = setQuirk(0n)
  const next = (await quirky.getFunction('transition')(sound, BOB, data, s1.tx.timestamp)) as Hex
  return { state1: s1.state, tx2: sim.forge({ actor: BOB, data, stateHash: hashState(next) }) }
}

describe('proveInvalidTransition: what counts as invalid', () => {
  const invalid: { name: string; q: bigint; naive?: boolean }[] = [
    { name: 'transition pads a valid state with 1.4 MB', q: quirk({ transition: QUIRK.PAD }), naive: true },
    { name: 'transition returns a wrong offset word', q: quirk({ transition: QUIRK.BAD_OFFSET }) },
    { name: 'transition returns a length beyond its data', q: quirk({ transition: QUIRK.LENGTH_BEYOND }) },
    { name: 'transition returns a state above MAX_STATE_BYTES', q: quirk({ transition: QUIRK.TOO_LARGE }) },
    { name: 'transition reverts', q: quirk({ transition: QUIRK.REVERT }) },
    { name: 'nextActor returns a value above 0xffff', q: quirk({ nextActor: QUIRK.BIG }) },
    { name: 'nextActor pads its answer with 1.4 MB', q: quirk({ nextActor: QUIRK.PAD }), naive: true },
  ]
  for (const c of invalid) {
    test(`${c.name}: Bob is slashed`, async () => {
      const { state1, tx2 } = await claim(c.q)
      if (c.naive) {
        // What a decoder that ignores trailing bytes makes of the answer: exactly Bob's claim.
        const read = (await quirky.getFunction('transition')(state1, BOB, tx2.data, tx2.timestamp)) as Hex
        assert.equal(hashState(read), tx2.stateHash)
      }
      const r = await sim.proveInvalid(ALICE, sim.signed(tx2, [BOB]), state1, sim.final(1n))
      assert.deepEqual([sim.record.kind, sim.record.removals, sim.record.disputer], [DisputeKind.Fraud, 1n << BigInt(BOB), ALICE])
      // The padding costs the machine its own gas (at most MACHINE_GAS per call), never the manager's.
      assert.ok(r.gasUsed < 8_000_000n, `gas used: ${r.gasUsed}`)
      await assertSolvent(f)
    })
  }

  test('control: the same move on a sound state is valid → FraudNotProven', async () => {
    const { state1, tx2 } = await claim(0n)
    await expectRevert(sim.proveInvalid(ALICE, sim.signed(tx2, [BOB]), state1, sim.final(1n)), 'FraudNotProven')
  })

  test('control: isTerminal and onRemove misbehaving do not make a transition invalid', async () => {
    const { state1, tx2 } = await claim(quirk({ isTerminal: QUIRK.BIG, onRemove: QUIRK.REVERT, removeIndex: BigInt(CAROL) }))
    await expectRevert(sim.proveInvalid(ALICE, sim.signed(tx2, [BOB]), state1, sim.final(1n)), 'FraudNotProven')
  })
})
