import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PUBLIC_CONFIRMATIONS, defaultConfirmations } from './confirmations.js'

test('default confirmation depth: 0 on local development chains, a public depth everywhere else', () => {
  assert.equal(defaultConfirmations(31337n), 0) // anvil, hardhat
  assert.equal(defaultConfirmations(1337n), 0) // geth --dev
  for (const id of [1n, 11155111n, 10n, 8453n, 42161n, 123456789n]) assert.equal(defaultConfirmations(id), PUBLIC_CONFIRMATIONS)
  assert.ok(PUBLIC_CONFIRMATIONS >= 12)
})
