/**
 * Named differential cases: issue 16's reproduced attacks as the adversary would send them
 * today (each refused by the contract, or accepted and proven by the honest client); the by-design
 * disagreements (./known.ts: posts) pinned to their exact outcome, the fixed ones as cases that
 * must agree, the open ones as todo tests until the product closes them.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { judge } from './judge.js'
import { BY_DESIGN, FIXED, KNOWN } from './known.js'
import type { CaseRecipe } from './recipes.js'
import { createWorld, type World } from './world.js'

let world: World
before(async () => {
  world = await createWorld()
})
after(() => world?.stop())

/** The usual call of `point` on channel `scenario`, with a forged last list entry (FORGES[forge]). */
const forged = (scenario: number, point: 'disputeTimeout' | 'extend', forge: number): CaseRecipe => ({
  scenario, point, situation: { kind: point === 'extend' ? 'forceClose' : 'open', pick: 0 }, delay: point === 'extend' ? 2 : 9, caller: 'default',
  list: { shape: 'proof', at: 0, len: 0, sigs: 'all', edits: [], ops: [{ op: 'forge', index: forge }] },
  tx: { base: 'default', at: 0, edits: [] }, second: { base: 'default', at: 0, edits: [] }, state: 'candidate', record: 'same', leave: false,
})

describe('issue 16, reproduced attacks', () => {
  const cases: [string, CaseRecipe, (r: Awaited<ReturnType<typeof judge>>) => void][] = [
    ['1. a candidate entry with 4097 bytes of data and an invented state: refused (ProofDataTooLarge)', forged(0, 'disputeTimeout', 4), (r) => assert.equal(r.contract, 'ProofDataTooLarge')],
    ['1b. the same theft with normal-size data: accepted, and the client proves the invalid transition', forged(0, 'disputeTimeout', 0), (r) => {
      assert.equal(r.contract, 'ok')
      assert.match(r.client ?? '', /proven/)
    }],
    ['1c. a theft state whose payouts exceed the locked deposits: refused at raise (OutcomeExceedsLocked)', forged(3, 'disputeTimeout', 1), (r) => assert.equal(r.contract, 'OutcomeExceedsLocked')],
    ['2. a candidate entry stamped before its parent: refused (ProofTimestampInvalid)', forged(1, 'disputeTimeout', 5), (r) => assert.equal(r.contract, 'ProofTimestampInvalid')],
    ['3. a candidate entry stamped after block time + skew: refused (ProofTimestampInvalid)', forged(4, 'disputeTimeout', 6), (r) => assert.equal(r.contract, 'ProofTimestampInvalid')],
    ['3b. a post stamped 2^64 − 1: refused (TransactionTimestampInvalid)', {
      ...forged(4, 'disputeTimeout', 0), point: 'postTransaction', delay: 1, list: { shape: 'proof', at: 0, len: 0, sigs: 'all', edits: [], ops: [] },
      tx: { base: 'default', at: 0, edits: [{ kind: 'field', field: 'timestamp', variant: 6, keepSignatures: false, recompute: false }] },
    }, (r) => assert.equal(r.contract, 'TransactionTimestampInvalid')],
    ['3c. a response stamped one second past block time + skew: refused (TransactionTimestampInvalid)', {
      ...forged(3, 'disputeTimeout', 0), point: 'respond', situation: { kind: 'timeout', pick: 0 }, delay: 1, list: { shape: 'proof', at: 0, len: 0, sigs: 'all', edits: [], ops: [] },
      tx: { base: 'default', at: 0, edits: [{ kind: 'field', field: 'timestamp', variant: 5, keepSignatures: false, recompute: false }] },
    }, (r) => assert.equal(r.contract, 'TransactionTimestampInvalid')],
    ['an extension of a force-close by a withheld valid move: accepted, and the client takes the move', forged(4, 'extend', 3), (r) => {
      assert.equal(r.contract, 'ok')
      assert.equal(r.client, 'accepted')
    }],
  ]
  for (const [name, recipe, check] of cases) {
    test(name, async () => {
      const r = await judge(world, recipe)
      check(r)
      assert.equal(r.reference, r.contract, 'the reference agrees')
      assert.deepEqual(r.disagreements, [])
    })
  }
})

describe('posts are data availability only (by design): the contract emits, the client drops or holds', () => {
  for (const k of BY_DESIGN) {
    test(k.name, async () => {
      const r = await judge(world, k.recipe)
      assert.equal(r.contract, 'ok')
      assert.equal(r.reference, r.contract)
      const keys = r.disagreements.map((d) => d.key)
      assert.equal(keys.length, 1, `one disagreement: ${keys.join('; ')}`)
      assert.match(keys[0]!, k.match)
    })
  }
})

describe('disagreements found and fixed: contract and client agree', () => {
  for (const k of FIXED) {
    test(k.name, async () => {
      const r = await judge(world, k.recipe)
      assert.equal(r.contract, 'ok')
      assert.equal(r.reference, r.contract)
      assert.match(r.client ?? '', /evidence TX_EQUIVOCATION proven/)
      assert.deepEqual(r.disagreements.map((d) => d.key), [])
    })
  }
})

describe('open disagreements (todo until fixed)', () => {
  for (const k of KNOWN) {
    test(k.name, { todo: 'contract and client disagree: see docs/differential.md' }, async () => {
      const r = await judge(world, k.recipe)
      assert.equal(r.reference, r.contract)
      assert.deepEqual(r.disagreements.map((d) => d.key), [])
    })
  }
})
