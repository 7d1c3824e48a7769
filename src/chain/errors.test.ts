/**
 * toParleyError on what ethers really throws: the JSON-RPC answers are turned into errors by
 * ethers' own `getRpcError` (no node needed). ethers reports every JSON-RPC error of eth_call and
 * eth_estimateGas as CALL_EXCEPTION; only an execution failure may become a ProtocolError (the
 * court takes that as the chain's final word), a node failing to answer stays a RuntimeError.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { JsonRpcProvider, makeError } from 'ethers'
import { ProtocolError, RuntimeError } from '../errors/ParleyError.js'
import { contractInterface } from '../contracts/artifacts.js'
import { isExecutionFailure, toParleyError } from './errors.js'

const provider = new JsonRpcProvider('http://127.0.0.1:9', 31337, { staticNetwork: true })
const rpcError = (method: string, error: { code: number; message: string; data?: string }) =>
  provider.getRpcError({ jsonrpc: '2.0', id: 1, method, params: [{ to: `0x${'11'.repeat(20)}`, data: '0x' }] }, { id: 1, error })

const custom = contractInterface('StateChannelManager').encodeErrorResult('AccusedInvalid', [2])

const cases: { what: string; error: unknown; kind: typeof ProtocolError | typeof RuntimeError; code: string }[] = [
  { what: 'a load balancer\'s "header not found" on eth_estimateGas', error: rpcError('eth_estimateGas', { code: -32000, message: 'header not found' }), kind: RuntimeError, code: 'RPC_FAILED' },
  { what: 'a rate limit on eth_call', error: rpcError('eth_call', { code: -32005, message: 'limit exceeded' }), kind: RuntimeError, code: 'RPC_FAILED' },
  { what: 'an internal error on eth_estimateGas', error: rpcError('eth_estimateGas', { code: -32603, message: 'internal error' }), kind: RuntimeError, code: 'RPC_FAILED' },
  { what: 'an empty revert (anvil)', error: rpcError('eth_estimateGas', { code: 3, message: 'execution reverted', data: '0x' }), kind: ProtocolError, code: 'CONTRACT_REVERTED' },
  { what: 'an invalid opcode (anvil)', error: rpcError('eth_call', { code: -32603, message: 'EVM error InvalidFEOpcode' }), kind: ProtocolError, code: 'CONTRACT_REVERTED' },
  { what: 'an estimate out of gas (anvil)', error: rpcError('eth_estimateGas', { code: -32003, message: 'Out of gas: gas required exceeds allowance: 30000000' }), kind: ProtocolError, code: 'CONTRACT_REVERTED' },
  { what: 'a custom error', error: rpcError('eth_estimateGas', { code: 3, message: 'execution reverted: custom error', data: custom }), kind: ProtocolError, code: 'ACCUSED_INVALID' },
  { what: 'a mined transaction with status 0', error: makeError('transaction execution reverted', 'CALL_EXCEPTION', { action: 'sendTransaction', data: null, reason: null, invocation: null, revert: null, transaction: { to: null, from: undefined, data: '' } }), kind: ProtocolError, code: 'CONTRACT_REVERTED' },
]

for (const c of cases) {
  test(`toParleyError: ${c.what} → ${c.kind.name} ${c.code}`, () => {
    const e = toParleyError(c.error, 'answer')
    assert.ok(e instanceof c.kind, `${e.name} ${e.code}: ${e.message}`)
    assert.equal(e.code, c.code)
    assert.equal(isExecutionFailure(c.error), c.kind === ProtocolError)
  })
}

test('toParleyError: the node\'s words are kept for a failure that is not the EVM\'s', () => {
  const e = toParleyError(rpcError('eth_estimateGas', { code: -32000, message: 'header not found' }), 'answer')
  assert.match(e.message, /header not found/)
})
