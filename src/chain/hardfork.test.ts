/**
 * Hardfork detection: on real anvils running each supported hardfork; on older chains (an
 * in-memory chain: ethereumjs running the probe as a deployment, as a node's eth_call does,
 * because anvil here only starts with a supported hardfork); answers no hardfork gives; and the
 * expected-versus-chain check.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createEVM, paramsEVM } from '@ethereumjs/evm'
import { Common, Hardfork as EjsHardfork, Mainnet } from '@ethereumjs/common'
import type { ParleyError } from '../errors/ParleyError.js'
import { startAnvil, type Anvil } from './anvil.js'
import { HARDFORKS, PROBE_CODE, detectHardfork, hardforkOfMask, resolveHardfork, type Hardfork } from './hardfork.js'

const anvils = {} as Record<Hardfork, Anvil>

before(async () => {
  const started = await Promise.all(HARDFORKS.map((hardfork) => startAnvil({ accounts: 1, hardfork })))
  for (const [i, h] of HARDFORKS.entries()) anvils[h] = started[i]!
})
after(async () => {
  await Promise.all(Object.values(anvils).map((a) => a.stop()))
})

/** A chain that only answers eth_call: ethereumjs under `hardfork`, `to`-less calls as deployments. */
async function memoryChain(hardfork: EjsHardfork): Promise<{ call(tx: { data?: string | null }): Promise<string> }> {
  const evm = await createEVM({ common: new Common({ chain: Mainnet, hardfork, params: paramsEVM }) })
  return {
    async call(tx) {
      const r = await evm.runCall({ data: Buffer.from(String(tx.data).slice(2), 'hex'), gasLimit: 30_000_000n })
      if (r.execResult.exceptionError) throw new Error(`execution reverted: ${r.execResult.exceptionError.error}`)
      return `0x${Buffer.from(r.execResult.returnValue).toString('hex')}`
    },
  }
}

const code = (c: string) => (e: ParleyError) => e.code === c

test('each anvil hardfork is detected as itself with one plain eth_call', async () => {
  for (const h of HARDFORKS) {
    let calls = 0
    const provider = anvils[h].provider
    const counting = { call: (tx: Parameters<typeof provider.call>[0]) => (calls++, provider.call(tx)) }
    assert.equal(await detectHardfork(counting), h)
    assert.equal(calls, 1)
  }
})

test('the probe answers one bit per feature: cancun 001, prague 011, osaka 111', async () => {
  assert.equal(await anvils.cancun.provider.call({ data: PROBE_CODE }), '0x01')
  assert.equal(await anvils.prague.provider.call({ data: PROBE_CODE }), '0x03')
  assert.equal(await anvils.osaka.provider.call({ data: PROBE_CODE }), '0x07')
})

test('ethereumjs agrees with anvil on every supported hardfork, and answers 0 before cancun', async () => {
  const want: [EjsHardfork, string][] = [
    [EjsHardfork.London, '0x00'], [EjsHardfork.Paris, '0x00'], [EjsHardfork.Shanghai, '0x00'],
    [EjsHardfork.Cancun, '0x01'], [EjsHardfork.Prague, '0x03'], [EjsHardfork.Osaka, '0x07'],
  ]
  for (const [h, answer] of want) assert.equal(await (await memoryChain(h)).call({ data: PROBE_CODE }), answer, h)
})

test('a chain older than cancun is HARDFORK_UNSUPPORTED', async () => {
  for (const h of [EjsHardfork.Paris, EjsHardfork.Shanghai]) {
    await assert.rejects(detectHardfork(await memoryChain(h)), (e: ParleyError) => e.code === 'HARDFORK_UNSUPPORTED' && e.name === 'RuntimeError' && e.details?.mask === 0)
  }
})

test('answers no hardfork gives are HARDFORK_UNSUPPORTED; an RPC failure is RPC_FAILED', async () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map(hardforkOfMask), [undefined, 'cancun', undefined, 'prague', undefined, undefined, undefined, 'osaka'])
  const answering = (answer: string) => ({ call: async () => answer })
  await assert.rejects(detectHardfork(answering('0x05')), code('HARDFORK_UNSUPPORTED'))
  await assert.rejects(detectHardfork(answering('0x')), code('HARDFORK_UNSUPPORTED'))
  await assert.rejects(detectHardfork(answering(`0x${'00'.repeat(32)}`)), code('HARDFORK_UNSUPPORTED'))
  await assert.rejects(detectHardfork({ call: async () => { throw new Error('connection refused') } }), code('RPC_FAILED'))
})

test('resolveHardfork: the chain must run the expected hardfork', async () => {
  assert.equal(await resolveHardfork({ provider: anvils.prague.provider }), 'prague')
  assert.equal(await resolveHardfork({ provider: anvils.prague.provider, expected: 'prague' }), 'prague')
  await assert.rejects(resolveHardfork({ provider: anvils.prague.provider, expected: 'cancun' }), (e: ParleyError) => {
    assert.equal(e.code, 'HARDFORK_MISMATCH')
    assert.deepEqual(e.details, { expected: 'cancun', chain: 'prague' })
    return true
  })
  await assert.rejects(resolveHardfork({ provider: anvils.osaka.provider, expected: 'prague' }), code('HARDFORK_MISMATCH'))
  await assert.rejects(resolveHardfork({ provider: anvils.cancun.provider, expected: 'shanghai' as Hardfork }), code('HARDFORK_INVALID'))
})

test('startAnvil refuses a hardfork the client does not support', async () => {
  await assert.rejects(startAnvil({ hardfork: 'shanghai' as Hardfork }), code('HARDFORK_INVALID'))
})
