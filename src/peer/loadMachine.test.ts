/**
 * Why the client EVM must run the chain's hardfork, shown on real anvils running cancun,
 * prague and osaka: HardforkProbeMachine's transition calls a precompile that only some
 * hardforks have, so EvmStateMachine computes the chain's next state under the chain's
 * hardfork and a different one under any other. loadMachine detects the hardfork, builds the
 * machine under it, and refuses a caller's expectation the chain does not meet.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, generateKeyPairSync, sign } from 'node:crypto'
import { AbiCoder, concat, type Contract } from 'ethers'
import { startAnvil, type Anvil } from '../chain/anvil.js'
import { deploy } from '../chain/deploy.js'
import { HARDFORKS, type Hardfork } from '../chain/hardfork.js'
import type { ParleyError } from '../errors/ParleyError.js'
import { EvmStateMachine } from '../machine/EvmStateMachine.js'
import type { Hex } from '../protocol/types.js'
import { loadMachine } from './loadMachine.js'

const abi = AbiCoder.defaultAbiCoder()
const anvils = {} as Record<Hardfork, Anvil>
const probes = {} as Record<Hardfork, Contract & { address: Hex }>

before(async () => {
  const started = await Promise.all(HARDFORKS.map((hardfork) => startAnvil({ accounts: 1, hardfork })))
  for (const [i, h] of HARDFORKS.entries()) {
    anvils[h] = started[i]!
    probes[h] = (await deploy('HardforkProbeMachine', started[i]!.wallets[0]!)) as unknown as Contract & { address: Hex }
  }
})
after(async () => {
  await Promise.all(Object.values(anvils).map((a) => a.stop()))
})

/** A valid P256VERIFY input: sha256(message) ‖ r ‖ s ‖ x ‖ y (EIP-7951). */
function p256Input(): Hex {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const message = Buffer.from('parley hardfork probe')
  const rs = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' })
  const jwk = publicKey.export({ format: 'jwk' })
  const xy = [jwk.x!, jwk.y!].map((c) => Buffer.from(c, 'base64url'))
  return concat([createHash('sha256').update(message).digest(), rs, ...xy]) as Hex
}

/** Moves: a precompile on every hardfork (control), one from prague on, one from osaka on. */
const MOVES = {
  ecrecover: abi.encode(['address', 'bytes'], ['0x0000000000000000000000000000000000000001', `0x${'00'.repeat(128)}`]) as Hex,
  g1add: abi.encode(['address', 'bytes'], ['0x000000000000000000000000000000000000000b', `0x${'00'.repeat(256)}`]) as Hex, // ∞ + ∞
  p256verify: abi.encode(['address', 'bytes'], ['0x0000000000000000000000000000000000000100', p256Input()]) as Hex,
}
type Results = Record<keyof typeof MOVES, Hex>

const GENESIS = abi.encode(['tuple(uint256[], bool, uint256, bytes)'], [[[1n, 2n], false, 0n, '0x']]) as Hex
const TIMESTAMP = 1_700_000_000n

/** The next state of every move as the chain computes it (eth_call of the deployed machine). */
async function onChain(h: Hardfork): Promise<Results> {
  const out = {} as Results
  for (const [name, move] of Object.entries(MOVES) as [keyof Results, Hex][]) out[name] = (await probes[h].getFunction('transition')(GENESIS, 0, move, TIMESTAMP)) as Hex
  return out
}

/** The same, computed by `machine` in the client's EVM. */
async function locally(machine: EvmStateMachine): Promise<Results> {
  const out = {} as Results
  for (const [name, move] of Object.entries(MOVES) as [keyof Results, Hex][]) out[name] = await machine.transition(GENESIS, 0, move, TIMESTAMP)
  return out
}

const decode = (state: Hex) => {
  const [, ok, gasUsed, output] = abi.decode(['tuple(uint256[], bool, uint256, bytes)'], state)[0] as [unknown, boolean, bigint, string]
  return { ok, gasUsed, outputBytes: (output.length - 2) / 2 }
}

test('the probe machine sees each hardfork on chain: G1ADD from prague on, P256VERIFY from osaka on', async () => {
  const [cancun, prague, osaka] = await Promise.all(HARDFORKS.map(onChain))
  assert.equal(decode(cancun!.g1add).outputBytes, 0)
  assert.equal(decode(prague!.g1add).outputBytes, 128)
  assert.equal(decode(prague!.p256verify).outputBytes, 0)
  assert.equal(decode(osaka!.p256verify).outputBytes, 32)
  // Before its hardfork a precompile's address is an empty account, cold (2,600 gas to touch);
  // from it on, the address is warm in the machine's frame (100) plus what the precompile costs.
  assert.equal(decode(cancun!.g1add).gasUsed, decode(prague!.p256verify).gasUsed)
  assert.ok(decode(prague!.g1add).gasUsed < decode(cancun!.g1add).gasUsed - 1_500n)
  assert.deepEqual(cancun!.ecrecover, osaka!.ecrecover)
})

test("EvmStateMachine under the chain's hardfork computes the chain's states; under any other it does not", async () => {
  for (const chain of HARDFORKS) {
    const expected = await onChain(chain)
    for (const local of HARDFORKS) {
      const machine = await EvmStateMachine.fromChain({ provider: anvils[chain].provider, address: probes[chain].address, hardfork: local })
      assert.equal(machine.hardfork, local)
      const got = await locally(machine)
      assert.equal(got.ecrecover, expected.ecrecover, `${local} on ${chain}: the control move agrees`)
      if (local === chain) assert.deepEqual(got, expected, `${local} on ${chain}`)
      else assert.notDeepEqual(got, expected, `${local} on ${chain} must differ`)
    }
  }
})

test('EvmStateMachine runs cancun unless told otherwise', async () => {
  const m = await EvmStateMachine.fromChain({ provider: anvils.prague.provider, address: probes.prague.address })
  assert.equal(m.hardfork, 'cancun')
})

test("loadMachine runs the machine under the chain's hardfork and refuses an expectation the chain does not meet", async () => {
  for (const chain of HARDFORKS) {
    const m = await loadMachine({ provider: anvils[chain].provider, address: probes[chain].address })
    assert.equal(m.hardfork, chain)
    assert.deepEqual(await locally(m), await onChain(chain))
    assert.equal((await loadMachine({ provider: anvils[chain].provider, address: probes[chain].address, hardfork: chain })).hardfork, chain)
  }
  await assert.rejects(loadMachine({ provider: anvils.prague.provider, address: probes.prague.address, hardfork: 'cancun' }), (e: ParleyError) => {
    assert.equal(e.code, 'HARDFORK_MISMATCH')
    assert.deepEqual(e.details, { expected: 'cancun', chain: 'prague' })
    return true
  })
})
