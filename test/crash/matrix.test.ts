/**
 * The crash matrix, short version (issue 11): peers as OS processes — three `parley run`
 * processes, each with its SQLite store and court, on a local anvil and HyperDHT testnet — and
 * one of them killed with SIGKILL exactly at a crash point (src/testing/crashPoint.ts,
 * docs/protocol.md §7.12), restarted on the same store; every run ends with the exact on-chain
 * credit of each participant and the manager solvent. Nothing typed is typed again after the
 * restart: what the killed peer had done must come back from its store.
 *
 * Why each case can fail:
 * - tx.persisted (bob's payment signed and stored, not sent): only bob's store holds it; the
 *   others get it from him after the restart (sync), or the payment is missing from the payouts.
 *   Checked by mutation: a client that crashes before its store write (the point moved in front
 *   of StateManager's store transaction, i.e. a signature sent before it is persisted and lost
 *   with the process) fails this case (`seq 1 everywhere` never happens).
 * - signatures.unsaved (alice verified the others' confirmations of her payment and holds them
 *   in memory, to be stored with her next commit): they die with the process; the restarted
 *   alice must not count them (her store does not hold them) and gets them back by catch-up, or
 *   her payment never becomes final for her and the close (which needs a final state) never comes.
 * - close.signed (every close signature stored, alice's `close` not sent): the channel closes
 *   only if a court submits the stored close (the restarted alice's or another's, docs §9.1).
 *   Checked by mutation: with decide.ts's signedClose returning undefined the channel never
 *   closes.
 * - court.respond (carol accused by a timeout, her answer stored, not sent): her restarted court
 *   must respond from the store; otherwise the timeout removes her at its deadline and her answer
 *   is missing from the payouts (and the step times out).
 * - court.resolve / court.resolve.mined (carol, resp. bob, alone resolves her/his force-close): the restarted
 *   court must send the resolution (the key was stored as pending: a client that kept it would
 *   never send it), resp. must see the mined ChannelClosed from its cursor and stop settled.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { playRun, startWorld, type Ending, type World } from './world.js'

let w: World
before(async () => {
  w = await startWorld()
})
after(async () => {
  await w?.stop()
})

const PAYMENTS: [number, number][] = [[1, 30], [2, 10], [0, 5]]
const ONLY = process.env.CRASH_CASE
const CASES: { point: string; role: number; ending: Ending; alone?: boolean }[] = [
  { point: 'tx.persisted', role: 1, ending: 'close' },
  { point: 'signatures.unsaved', role: 0, ending: 'close' },
  { point: 'close.signed', role: 0, ending: 'close' },
  { point: 'court.respond', role: 0, ending: 'timeout' },
  { point: 'court.resolve', role: 2, ending: 'force-close', alone: true },
  { point: 'court.resolve.mined', role: 1, ending: 'force-close', alone: true },
]

describe('crash matrix (short): each role killed at a crash point, restarted on its store', () => {
  for (const c of CASES.filter((x) => !ONLY || x.point === ONLY)) {
    it(`${c.point}: #${c.role} killed and restarted; exact credits, solvent`, async () => {
      const r = await playRun(w, { payments: PAYMENTS, ending: c.ending, role: c.role, crashAt: c.point, ...(c.alone ? { alone: true } : {}), stepMs: 45_000 })
      assert.ok(r.killed, `#${c.role} died at ${c.point}`)
      assert.deepEqual(r.credits, r.expected)
    })
  }
})
