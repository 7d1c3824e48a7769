/**
 * The attacks reproduced in issue 16 (funds safety II), cases 16.4–16.6, end to end: honest
 * clients run the real client with its court on a real anvil; the byzantine participants are
 * driven by the test with the byzantine toolkit. Each test asserts the exact credits of every
 * participant, solvency and the channel's end (16.1–16.3: attacks-ii.test.ts).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Contract, Wallet } from 'ethers'
import { startAnvil } from '../../src/chain/anvil.js'
import type { ContractName } from '../../src/contracts/artifacts.js'
import { deploy } from '../../src/chain/deploy.js'
import { NO_DISPUTE } from '../../src/chain/ManagerClient.js'
import { deployLocalStack } from '../../src/chain/stack.js'
import { hashState } from '../../src/protocol/eip712.js'
import { DisputeKind, type Hex, type PackedSignedTransaction } from '../../src/protocol/types.js'
import { Byzantine, anchoredList, signedHistory, type Parent } from '../helpers/byzantine.js'
import {
  ALICE, BOB, C, MALLORY, assertRemovedEnding, cell, deltas, genesisHash, heldTx, honestCarryOn, round, scene, settledAfter, timeOutMallory,
  type Scene, type SceneContext,
} from '../helpers/attackPlay.js'
import { BOND, ETH1, move, pastDeadline, pay, solvent, travel } from '../helpers/courtPeers.js'
import { QUIRK, quirk, setQuirk } from '../helpers/court.js'
import { abi } from '../helpers/fixture.js'

let ctx: SceneContext
let wallets: Wallet[]
let quirky: Hex
before(async () => {
  const anvil = await startAnvil({ accounts: 6 })
  const stack = await deployLocalStack(anvil.wallets[0]!)
  ctx = { anvil, stack, hasher: await stack.manager.hasher() }
  wallets = anvil.wallets.slice(1, 6)
  quirky = ((await deploy('QuirkyMachine' as ContractName, anvil.wallets[0]!)) as unknown as Contract & { address: Hex }).address
})
after(() => ctx.anvil.stop())

const X = ALICE
const O = 1

/** TicTacToe between honest Alice (X, court attached) and byzantine Mallory (O), 1 ETH each. */
const duel = (label: string): Promise<Scene> => scene(ctx, wallets.slice(0, 2), label, { machine: ctx.stack.machines.tictactoe, deposits: [ETH1, ETH1] })

/** Plays `cells` in turn, everyone seeing every move; all final. */
async function play(s: Scene, cells: number[]): Promise<bigint> {
  const all = s.c.roles.map((r) => r.channel)
  let last = 0n
  for (const c of cells) last = await move(all[all[0]!.state.nextActor]!, cell(c), all)
  await Promise.all(all.map((ch) => ch.waitFinal(last)))
  return last
}

/** X took the pot: Alice 2 ETH + bond, Mallory her bond; solvent. */
async function assertXWon(s: Scene): Promise<void> {
  assert.deepEqual(await deltas(ctx, s), [2n * ETH1 + BOND, BOND])
  await solvent(ctx.anvil, ctx.stack)
}

describe('16.4 a winning move is enforceable; walking away never pays', () => {
  test('16.4 X\'s winning move that O never confirms: X\'s court concludes by itself and X is paid the pot', { timeout: 120_000 }, async () => {
    const s = await duel('16.4-win')
    const alice = s.c.roles[X]!
    try {
      await play(s, [0, 3, 1, 4])
      s.c.hub.filter = (from, to) => from !== O && to !== O // O never hears of the win nor confirms it
      await move(alice.channel, cell(2), [])
      const raised = alice.court!.next('dispute')
      await travel(ctx.anvil, s.c, 60 + 30 + 1)
      const { record } = await raised
      assert.deepEqual([record.kind, record.seq, record.disputer, record.removals], [DisputeKind.Conclude, 5n, X, 0n])
      const closed = alice.court!.next('closed')
      await pastDeadline(ctx.anvil, s.c, record)
      await closed
      await assertXWon(s)
    } finally {
      await s.c.close()
    }
  })

  // X0 O1 X4 O8 X6: X threatens 2 (diagonal 2-4-6) and 3 (column 0-3-6); O cannot block both.
  const forcedLoss = [0, 1, 4, 8, 6]
  const choices: { name: string; run: (s: Scene) => Promise<void> }[] = [
    {
      name: 'plays on (blocks 3; X wins at 2)',
      run: async (s) => {
        await play(s, [3, 2])
        const closed = s.c.roles[X]!.court!.next('closed')
        await travel(ctx.anvil, s.c, 60 + 30 + 1) // the terminal head is final: the court concludes it
        await closed
      },
    },
    {
      name: 'force-closes from the final position',
      run: async (s) => {
        const m = s.c.roles[O]!.channel
        const { record } = await s.mallory.call('exit', [NO_DISPUTE, m.finalityProof(), false, m.state.finalState])
        assert.deepEqual([record!.kind, record!.seq], [DisputeKind.ForceClose, 5n])
        await settledAfter(ctx, s, record!.deadline)
      },
    },
    {
      name: 'withholds her confirmation of X6 and force-closes from seq 4 (X\'s court extends with X6)',
      run: async (s) => {
        const four = heldTx(s, 4n)
        const answered = s.c.roles[X]!.court!.next('answered')
        const { record } = await s.mallory.call('exit', [NO_DISPUTE, s.c.roles[O]!.channel.finalityProof(4n), false, four.state])
        assert.equal((await answered).record.seq, 5n, 'extended with X6')
        await settledAfter(ctx, s, record!.deadline)
      },
    },
    {
      name: 'exits',
      run: async (s) => {
        const m = s.c.roles[O]!.channel
        const { record } = await s.mallory.call('exit', [NO_DISPUTE, m.finalityProof(), true, m.state.finalState])
        assert.equal(record!.kind, DisputeKind.Exit)
        await settledAfter(ctx, s, record!.deadline)
      },
    },
    {
      name: 'goes silent',
      run: async (s) => settledAfter(ctx, s, (await timeOutMallory(ctx, s)).deadline),
    },
  ]
  for (const choice of choices) {
    test(`16.4 TicTacToe: O facing a forced loss ${choice.name} — gains nothing over playing on (X 2 ETH + bond, O her bond)`, { timeout: 120_000 }, async () => {
      const s = await duel(`16.4-${choice.name.slice(0, 10)}`)
      try {
        if (choice.name.startsWith('withholds')) {
          await play(s, forcedLoss.slice(0, 4))
          s.c.hub.filter = (from) => from !== O // O receives X6, her confirmation never arrives
          await move(s.c.roles[X]!.channel, cell(6), [s.c.roles[O]!.channel])
        } else {
          await play(s, forcedLoss)
        }
        await choice.run(s)
        await assertXWon(s)
      } finally {
        await s.c.close()
      }
    })
  }

  test('16.4 TicTacToe: O\'s forged win (a Conclude on an invented terminal board) is proven from its event; O slashed, X paid the pot and O\'s bond', { timeout: 120_000 }, async () => {
    const s = await duel('16.4-forged')
    const alice = s.c.roles[X]!
    try {
      await play(s, [4])
      const one = heldTx(s, 1n)
      // O "wins" with a made-up board: three Os on the top row, result O_WON, stakes unchanged.
      const board = abi.encode(['tuple(uint8[9],uint16,uint8,uint256[2])'], [[[2, 2, 2, 0, 1, 0, 0, 0, 0], X, 2, [ETH1, ETH1]]]) as Hex
      const fake = s.mallory.tx(one.transaction, { data: cell(0), stateHash: hashState(board) })
      const history = signedHistory(s.c.roles[O]!.store, s.c.channelId, 0n, 1n, 1n)
      const list = anchoredList([...history, { transaction: fake, signatures: new Map([[O, s.mallory.sign(fake)]]) }], { genesisHash: genesisHash(s), active: 0b11n })
      const proven = alice.court!.next('dispute', { filter: (d) => d.record.kind === DisputeKind.Fraud })
      const { record } = await s.mallory.call('disputeTimeout', [list, board])
      assert.equal(record!.kind, DisputeKind.Conclude)
      const fraud = (await proven).record
      assert.deepEqual([fraud.disputer, fraud.removals, fraud.seq], [X, 1n << BigInt(O), 1n])
      const closed = alice.court!.next('closed')
      await pastDeadline(ctx.anvil, s.c, fraud)
      await closed
      assert.deepEqual(await deltas(ctx, s), [2n * ETH1 + 2n * BOND, 0n])
      await solvent(ctx.anvil, ctx.stack)
    } finally {
      await s.c.close()
    }
  })

  test('16.4 Payments: Mallory force-closes from an older final state after Bob\'s unconfirmed payment to Alice; the courts extend with Bob\'s move and the settlement includes it', { timeout: 120_000 }, async () => {
    const s = await scene(ctx, wallets.slice(0, 3), '16.4-payments')
    const [alice, bob, mallory] = s.c.roles
    try {
      await round(ctx, s)
      const all = s.c.roles.map((r) => r.channel)
      const four = await move(alice!.channel, pay(BOB, s.m.pay(ALICE, BOB, ETH1 / 5n)), all)
      await Promise.all(all.map((ch) => ch.waitFinal(four)))
      s.c.hub.filter = (from) => from !== MALLORY // Mallory receives Bob's payment, never confirms it
      await move(bob!.channel, pay(ALICE, s.m.pay(BOB, ALICE, ETH1)), [alice!.channel, mallory!.channel])
      const answered = alice!.court!.next('answered')
      const { record } = await s.mallory.call('exit', [NO_DISPUTE, mallory!.channel.finalityProof(four), false, heldTx(s, four).state])
      assert.deepEqual([record!.kind, record!.seq], [DisputeKind.ForceClose, four])
      assert.equal((await answered).record.seq, four + 1n, 'extended with Bob\'s payment')
      await settledAfter(ctx, s, record!.deadline)
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
    }
  })

  test('16.4 Payments: Mallory exits from the genesis after paying Alice; the courts answer with the latest final state and she leaves with what she holds there', { timeout: 120_000 }, async () => {
    const s = await scene(ctx, wallets.slice(0, 3), '16.4-exit-genesis')
    try {
      await round(ctx, s, { amount: (who) => (who === MALLORY ? ETH1 : ETH1 / 10n) })
      const answered = s.c.roles[ALICE]!.court!.next('answered')
      const { record } = await s.mallory.call('exit', [NO_DISPUTE, [], true, s.c.roles[ALICE]!.court!.chain.genesis.state])
      assert.deepEqual([record!.kind, record!.seq], [DisputeKind.Exit, 0n])
      assert.equal((await answered).record.seq, 3n)
      await honestCarryOn(ctx, s, record!.deadline)
      await assertRemovedEnding(ctx, s)
    } finally {
      await s.c.close()
    }
  })
})

describe('16.5 a machine padding its return data cannot lock funds', () => {
  const cases = [
    { fn: 'nextActor' as const, who: 'Alice force-closes the stuck channel (nobody can move)' },
    { fn: 'isTerminal' as const, who: 'Mallory exits' },
  ]
  for (const c of cases) {
    test(`16.5 QuirkyMachine: Mallory's move makes ${c.fn} pad its answer with 1.4 MB; ${c.who}; the courts resolve within a block's gas and everyone is paid`, { timeout: 120_000 }, async () => {
      const s = await scene(ctx, wallets.slice(0, 3), `16.5-${c.fn}`, { machine: quirky })
      const [alice, bob] = s.c.roles
      try {
        const all = s.c.roles.map((r) => r.channel)
        await move(all[ALICE]!, setQuirk(0n), all)
        await move(all[BOB]!, setQuirk(0n), all)
        const three = await move(all[MALLORY]!, setQuirk(quirk({ [c.fn]: QUIRK.PAD })), all)
        await Promise.all(all.map((ch) => ch.waitFinal(three)))
        const resolved = Promise.race([alice!, bob!].map((r) => r.court!.next('submitted', { filter: (x) => x.action.kind === 'resolve' })))
        let deadline: bigint
        if (c.fn === 'nextActor') {
          assert.equal(alice!.channel.state.isMyTurn, false, 'nobody can move')
          deadline = (await alice!.court!.forceClose()).raised.dispute.deadline
        } else {
          const m = s.c.roles[MALLORY]!.channel
          deadline = (await s.mallory.call('exit', [NO_DISPUTE, m.finalityProof(), true, m.state.finalState])).record!.deadline
        }
        await settledAfter(ctx, s, deadline)
        const { gasUsed } = await resolved
        const { gasLimit } = (await ctx.anvil.provider.getBlock('latest'))!
        assert.ok(gasUsed < 6_500_000n && gasUsed < gasLimit, `resolve used ${gasUsed} gas`)
        assert.deepEqual(await deltas(ctx, s), s.c.params.deposits.map((d) => d + BOND))
        await solvent(ctx.anvil, ctx.stack)
      } finally {
        await s.c.close()
      }
    })
  }
})

/** Two different transactions on `parent` (made-up results), both signed by `culprit`. */
function equivocation(culprit: Byzantine, parent: Parent): [PackedSignedTransaction, PackedSignedTransaction] {
  const [a, b] = (['0xa1', '0xb2'] as const).map((x) => culprit.signed(culprit.tx(parent, { stateHash: hashState(x) })))
  return [a!, b!]
}

describe('16.6 provers slashed later; colluders sacrificing members', () => {
  test('16.6 a prover slashed later loses its earlier bounty to whoever proved it (Mallory proves Trudy, then is proven herself)', { timeout: 120_000 }, async () => {
    const TRUDY = 2
    const M = 3
    const s = await scene(ctx, wallets.slice(0, 4), '16.6-bounty')
    const trudy = new Byzantine({ ...s.mallory.o, wallet: s.c.roles[TRUDY]!.wallet })
    const alice = s.c.roles[ALICE]!
    try {
      const head = await round(ctx, s)
      const [sT, sM] = [s.m.bal[TRUDY]!, s.m.bal[M]!]
      const [a, b] = equivocation(trudy, heldTx(s, head).transaction)
      const m = s.c.roles[M]!.channel
      const seen = Promise.all([ALICE, BOB].map((i) => s.c.roles[i]!.court!.next('dispute')))
      const { record } = await s.mallory.call('proveEquivocation', [NO_DISPUTE, a, b, m.finalityProof(), m.state.finalState])
      assert.deepEqual([record!.kind, record!.disputer, record!.removals], [DisputeKind.Fraud, M, 1n << BigInt(TRUDY)])
      await seen // (evidence that reaches a court before the dispute does is lost: see attacks-found.test.ts)

      // Mallory's own equivocation reaches the honest clients: a second version of her seq 4.
      const three = heldTx(s, head - 1n)
      const { transaction: again } = await s.mallory.move(three.transaction, three.state, pay(ALICE, ETH1 / 3n))
      const slashed = alice.court!.next('slashed', { filter: (x) => x.index === M })
      for (const to of [ALICE, BOB]) s.c.hub.route(M, to, { type: 'tx', transaction: again, signature: s.mallory.sign(again) })
      const { beneficiary } = await slashed
      assert.ok(beneficiary === ALICE || beneficiary === BOB)
      assert.equal(alice.court!.chain.dispute!.record.deadline, record!.deadline, 'a join keeps the deadline')

      await honestCarryOn(ctx, s, record!.deadline)
      const expected = s.m.bal.map((x, i) => (i >= TRUDY ? 0n : x + BOND))
      expected[beneficiary]! += sT + BOND + sM + BOND
      assert.deepEqual(await deltas(ctx, s), expected)
      await solvent(ctx.anvil, ctx.stack)
    } finally {
      await s.c.close()
    }
  })

  test('16.6 colluders sacrificing one member per fork cannot hold an honest force-close past 3(n − 1)·C (n = 4: Alice against Trudy, Uma and Mallory)', { timeout: 180_000 }, async (t) => {
    const n = 4
    const [TRUDY, UMA, M] = [1, 2, 3]
    const s = await scene(ctx, wallets.slice(0, n), '16.6-colluders', { honest: [ALICE] })
    const [trudy, uma] = [TRUDY, UMA].map((i) => new Byzantine({ ...s.mallory.o, wallet: s.c.roles[i]!.wallet }))
    const alice = s.c.roles[ALICE]!
    try {
      await round(ctx, s, { amount: (who) => (who === M ? 2n * ETH1 : ETH1 / 10n) })
      const shares = [...s.m.bal]
      const start = await alice.court!.forceClose()
      const t0 = BigInt((await ctx.anvil.provider.getBlock(start.blockNumber))!.timestamp)
      let open = start.raised.dispute
      for (const [culprit, fork] of [[trudy!, 0n], [uma!, 1n]] as const) {
        // At the last second of the force-close, Mallory proves a colluder's fraud from the fork
        // genesis; Alice's court answers with its latest final state; the resolution starts a fork.
        await ctx.anvil.provider.send('evm_setNextBlockTimestamp', [Number(open.deadline)])
        const g = alice.court!.chain.genesis
        const [a, b] = equivocation(culprit, { fork, seq: 0n, stateHash: g.stateHash, timestamp: g.timestamp })
        const forked = alice.channel.next('fork')
        // Alice asked to force-close once: her court raises it again by itself on the next fork.
        const again = alice.court!.next('dispute', { filter: (d) => d.fork === fork + 1n && d.record.kind === DisputeKind.ForceClose })
        const answered = fork === 0n ? alice.court!.next('answered') : undefined
        const { record } = await s.mallory.call('proveEquivocation', [open, a, b, [], g.state])
        assert.deepEqual([record!.kind, record!.deadline], [DisputeKind.Fraud, open.deadline + BigInt(C)])
        // On fork 0 the candidate went back to the genesis: Alice's court answers with her final state.
        if (answered) assert.deepEqual((await answered).record.seq, 4n)
        await pastDeadline(ctx.anvil, s.c, record!)
        assert.equal((await forked).fork, fork + 1n)
        open = (await again).record
      }
      const closed = alice.court!.next('closed')
      await pastDeadline(ctx.anvil, s.c, open)
      await closed
      const t1 = BigInt(await ctx.anvil.now())
      const bound = BigInt(3 * (n - 1) * C + 2 * n)
      t.diagnostic(`settled ${t1 - t0} s (${Number(t1 - t0) / C} C) after Alice's first force-close; bound 3(n − 1)·C + 2n = ${bound} s`)
      assert.ok(t1 - t0 <= bound, `settled ${t1 - t0} s after Alice's force-close; bound ${bound}`)
      assert.ok(t1 - t0 >= BigInt(8 * C), `the colluders did delay it (${t1 - t0} s)`)
      const expected = [shares[ALICE]! + BOND, 0n, 0n, shares[M]! + BOND + shares[TRUDY]! + BOND + shares[UMA]! + BOND]
      assert.deepEqual(await deltas(ctx, s), expected)
      await solvent(ctx.anvil, ctx.stack)
    } finally {
      await s.c.close()
    }
  })
})
