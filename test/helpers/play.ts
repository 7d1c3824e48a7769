/**
 * Scripted play on a Payments channel for scenario tests: moves follow the machine's turn
 * order, every move is signed by every active participant unless told otherwise, and a plain
 * mirror of the balances (by height) gives the exact amounts each participant must end with.
 */
import assert from 'node:assert/strict'
import { bitIndices } from '../../src/protocol/bitmap.js'
import type { Hex } from '../../src/protocol/types.js'
import type { Fixture } from './fixture.js'
import { Sim, assertSolvent, pay, type Entry } from './court.js'

export const ETH1 = 10n ** 18n
export const BOND = ETH1 / 10n
/** Role names by index; the last participant of a scenario is its cheater or its silent one. */
export const NAMES = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin']

export class Play {
  /** Payments balances of the head state. */
  bal: bigint[]
  /** What each participant's manager balance must be. */
  expected: bigint[]

  private constructor(readonly sim: Sim, readonly n: number) {
    this.bal = sim.params.deposits.slice()
    this.expected = this.bal.map(() => 0n)
  }

  /** Opens a Payments channel of `n` participants with deposits 1, 2, … n ETH and bond 0.1 ETH. */
  static async open(f: Fixture, n: number): Promise<Play> {
    const wallets = f.wallets.slice(1, n + 1)
    const sim = await Sim.open(f, wallets, f.payments, { bond: BOND, deposits: wallets.map((_, i) => BigInt(i + 1) * ETH1) })
    return new Play(sim, n)
  }

  get active(): number[] {
    return bitIndices(this.sim.active)
  }

  /** The next move, by whoever's turn it is (signatures are made when a proof needs them). */
  async move(data: Hex): Promise<Entry> {
    const actor = await this.sim.turn()
    const e = await this.sim.move(actor, data)
    if (data !== '0x') {
      const [to, amount] = this.sim.f.manager.interface.getAbiCoder().decode(['uint16', 'uint256'], data) as unknown as [bigint, bigint]
      this.bal[actor]! -= amount
      this.bal[Number(to)]! += amount
    }
    return e
  }

  /** One move per active participant: actor i pays `amount(i)` to the next active one (0 = pass). */
  async round(amount: (actor: number) => bigint, moves = this.active.length): Promise<void> {
    for (let k = 0; k < moves; k++) {
      const actor = await this.sim.turn()
      const act = this.active
      const to = act[(act.indexOf(actor) + 1) % act.length]!
      const a = amount(actor)
      await this.move(a === 0n ? '0x' : pay(to, a))
    }
  }

  /** `to` is credited `amount` (a removal, a bond, a settlement). */
  credit(to: number, amount: bigint): void {
    this.expected[to]! += amount
  }

  /** Settlement: every active participant gets its balance and bond. */
  settleActive(): void {
    for (const i of this.active) this.credit(i, this.bal[i]! + BOND)
  }

  /**
   * Every participant's manager balance is exactly what the script expects and the manager is
   * solvent; once `closed`, everything locked (deposits + N bonds) was paid out, no more.
   */
  async check(closed = false): Promise<void> {
    assert.deepEqual(await this.sim.balances(), this.expected, 'manager balances')
    if (closed) {
      const locked = this.sim.params.deposits.reduce((a, b) => a + b, 0n) + BigInt(this.n) * BOND
      assert.equal(this.expected.reduce((a, b) => a + b, 0n), locked, 'total paid = deposits + N bonds')
      assert.equal((await this.sim.channel()).locked, 0n)
    }
    await assertSolvent(this.sim.f)
  }
}
