import { after, before, beforeEach, afterEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { AbiCoder, JsonRpcProvider, keccak256, toUtf8Bytes, type Wallet } from 'ethers'
import { startAnvil, type Anvil } from './anvil.js'
import { deployLocalStack, type LocalStack } from './stack.js'
import { signCloseConsent, signOpenConsent } from './consent.js'
import { RpcStateMachine } from './RpcStateMachine.js'
import { errorCode } from './errors.js'
import { ProtocolError, RuntimeError, UsageError } from '../errors/ParleyError.js'
import { hashState, type ParleyHasher } from '../protocol/eip712.js'
import { packSignedTransaction, signDigest } from '../protocol/signatures.js'
import { ETH, Phase, type ChannelParams, type Hex, type SignedTransaction } from '../protocol/types.js'
import { defaultTimes } from '../channel/params.js'

const abi = AbiCoder.defaultAbiCoder()
const ONE = 10n ** 18n

let anvil: Anvil
let stack: LocalStack
let hasher: ParleyHasher
let users: Wallet[]
let snapshot: string

before(async () => {
  anvil = await startAnvil({ accounts: 4 })
  stack = await deployLocalStack(anvil.wallets[0]!)
  hasher = await stack.manager.hasher()
  users = anvil.wallets.slice(1, 4)
})
after(() => anvil.stop())
beforeEach(async () => (snapshot = await anvil.provider.send('evm_snapshot', [])))
afterEach(() => anvil.provider.send('evm_revert', [snapshot]))

function params(machine: Hex, initData: Hex = '0x', asset: Hex = ETH): ChannelParams {
  return {
    participants: users.map((w) => w.address.toLowerCase() as Hex), machine, asset,
    deposits: users.map(() => ONE), bond: 0n, ...defaultTimes,
    salt: keccak256(toUtf8Bytes('chain-test')) as Hex, initData, openDeadline: 1n << 40n,
  }
}

async function fundAndOpen(p: ChannelParams) {
  for (const w of users) {
    if (p.asset !== ETH) await stack.mintAndApprove(w, ONE)
    await stack.manager.connect(w).deposit(p.asset, ONE)
  }
  return stack.manager.open(p, users.map((w) => signOpenConsent(w.signingKey, hasher, p)))
}

/** One Counter step by participant 0 (increment 1), signed by `signers`. */
async function counterStep(channelId: Hex, genesis: Hex, signers: number[]) {
  const machine = new RpcStateMachine(stack.machines.counter, anvil.provider)
  const data = abi.encode(['uint64'], [1]) as Hex
  // Stamped at chain time: the manager takes no transaction stamped before the fork's genesis.
  const timestamp = BigInt(await anvil.now())
  const state = await machine.transition(genesis, 0, data, timestamp)
  const tx = { channelId, fork: 0n, seq: 1n, timestamp, actor: 0, previousStateHash: hashState(genesis), data, stateHash: hashState(state) }
  const digest = hasher.transaction(tx)
  const st: SignedTransaction = { transaction: tx, signatures: new Map(signers.map((i) => [i, signDigest(users[i]!.signingKey, digest)])) }
  return { state, proof: [packSignedTransaction(st)] }
}

describe('ManagerClient', () => {
  test('deposits ETH and tokens, opens, and reads the channel record', async () => {
    const p = params(stack.machines.payments)
    const opened = await fundAndOpen(p)
    assert.equal(opened.channelId, hasher.channelId(p))
    assert.equal(opened.genesis.fork, 0n)
    assert.equal(opened.genesis.active, 0b111n)
    const expected = await new RpcStateMachine(stack.machines.payments, anvil.provider).initialState(p.deposits, '0x')
    assert.equal(opened.genesis.state, expected)
    assert.equal(opened.genesis.stateHash, hashState(expected))
    assert.ok(opened.gasUsed > 21_000n)
    const rec = await stack.manager.getChannel(opened.channelId)
    assert.deepEqual([rec.phase, rec.n, rec.locked, rec.machine], [Phase.Open, 3, 3n * ONE, stack.machines.payments])
    assert.equal(await stack.manager.balanceOf(p.participants[0]!, ETH), 0n)

    const token = stack.token.address
    await stack.mintAndApprove(users[0]!, 5n)
    await stack.manager.connect(users[0]!).deposit(token, 5n)
    assert.equal(await stack.manager.balanceOf(p.participants[0]!, token), 5n)
  })

  test('verifies a finality proof, concludes a terminal state and withdraws', async () => {
    const p = params(stack.machines.counter, abi.encode(['uint64'], [1]) as Hex)
    const { channelId, genesis } = await fundAndOpen(p)
    const { state, proof } = await counterStep(channelId, genesis.state, [0, 1, 2])
    assert.deepEqual(await stack.manager.verifyFinalityProof(channelId, p.participants, proof), { stateHash: hashState(state), seq: 1n })
    const settled = await stack.manager.conclude(channelId, p.participants, proof, state)
    assert.deepEqual(settled.closed.payouts, [ONE, ONE, ONE])
    assert.deepEqual(settled.credits.map((c) => [c.account, c.amount]), p.participants.map((a) => [a, ONE]))
    assert.equal((await stack.manager.getChannel(channelId)).phase, Phase.Closed)

    const bob = users[1]!
    const before = await anvil.provider.getBalance(bob.address)
    const w = await stack.manager.connect(bob).withdraw(ETH, ONE)
    const price = w.receipt.gasPrice
    assert.equal(await anvil.provider.getBalance(bob.address), before + ONE - w.gasUsed * price)
    assert.equal(await stack.manager.balanceOf(p.participants[1]!, ETH), 0n)
  })

  test('closes cooperatively with CloseChannel signatures and pays the outcome', async () => {
    const p = params(stack.machines.payments)
    const { channelId, genesis } = await fundAndOpen(p)
    const machine = new RpcStateMachine(stack.machines.payments, anvil.provider)
    const state = await machine.transition(genesis.state, 0, abi.encode(['uint16', 'uint256'], [2, ONE / 4n]) as Hex, 1n)
    const payouts = await stack.manager.closePayouts(channelId, state)
    assert.deepEqual(payouts, await machine.outcome(state), 'every participant active: the outcome as it is')
    // A consent over other payouts than submitted recovers another account: CLOSE_SIGNERS_MISMATCH.
    const other = new Map(users.map((w, i) => [i, signCloseConsent(w.signingKey, hasher, channelId, 0n, state, [ONE, ONE, ONE])]))
    await assert.rejects(stack.manager.close(channelId, p.participants, state, payouts, other), (e: unknown) => e instanceof ProtocolError && e.code === 'CLOSE_SIGNERS_MISMATCH')
    const sigs = new Map(users.map((w, i) => [i, signCloseConsent(w.signingKey, hasher, channelId, 0n, state, payouts)]))
    const settled = await stack.manager.close(channelId, p.participants, state, payouts, sigs)
    assert.deepEqual(settled.closed.payouts, [ONE - ONE / 4n, ONE, ONE + ONE / 4n])
    assert.deepEqual(settled.closed.payouts, await machine.outcome(state))
    assert.equal(await stack.manager.balanceOf(p.participants[2]!, ETH), ONE + ONE / 4n)
  })

  test('decodes contract reverts into ProtocolErrors with the error name and arguments', async () => {
    const p = params(stack.machines.counter, abi.encode(['uint64'], [1]) as Hex)
    const { channelId, genesis } = await fundAndOpen(p)
    const partial = await counterStep(channelId, genesis.state, [0])
    await assert.rejects(stack.manager.verifyFinalityProof(channelId, p.participants, partial.proof), (e: unknown) => {
      assert.ok(e instanceof ProtocolError)
      assert.equal(e.code, 'PROOF_NOT_FINAL')
      assert.equal(e.details?.error, 'ProofNotFinal')
      assert.equal((e.details?.args as { missing: bigint }).missing, 0b110n)
      return true
    })
    // The same failure on a state-changing call (reverted in gas estimation).
    await assert.rejects(stack.manager.conclude(channelId, p.participants, partial.proof, partial.state), { code: 'PROOF_NOT_FINAL' })
    // A proof of a non-terminal state: Counter with no target never ends.
    const open = params(stack.machines.counter, '0x')
    const o = await fundAndOpen({ ...open, salt: keccak256(toUtf8Bytes('other')) as Hex })
    const step = await counterStep(o.channelId, o.genesis.state, [0, 1, 2])
    await assert.rejects(stack.manager.conclude(o.channelId, open.participants, step.proof, step.state), { code: 'STATE_NOT_TERMINAL' })
    await assert.rejects(stack.manager.connect(users[0]!).withdraw(ETH, ONE), (e: unknown) => {
      assert.ok(e instanceof ProtocolError && e.code === 'BALANCE_INSUFFICIENT')
      assert.equal((e.details?.args as { needed: bigint }).needed, ONE)
      return true
    })
    await assert.rejects(stack.manager.open(p, []), UsageError)
    await assert.rejects(stack.manager.connect(anvil.provider).deposit(ETH, 1n), { code: 'SIGNER_REQUIRED' })
  })

  test('errorCode maps Solidity error names to stable codes', () => {
    assert.equal(errorCode('ProofNotFinal'), 'PROOF_NOT_FINAL')
    assert.equal(errorCode('SafeERC20FailedOperation'), 'SAFE_ERC20_FAILED_OPERATION')
    assert.equal(errorCode('ERC20InsufficientAllowance'), 'ERC20_INSUFFICIENT_ALLOWANCE')
    assert.equal(errorCode('ECDSAInvalidSignature'), 'ECDSA_INVALID_SIGNATURE')
  })

  test('judgedAt: a refusal stands only if it holds on the block we acted on (else REFUSAL_UNCONFIRMED, retried)', async () => {
    const me = stack.manager.connect(users[0]!)
    await me.deposit(ETH, ONE)
    const rich = (await anvil.provider.getBlock('latest'))!.hash!
    await me.withdraw(ETH, ONE)
    // Refused now (nothing left). Judged on the block where the balance was there, as by a client
    // that has not read the withdrawal yet, or was answered by a node ahead: not the chain's word.
    await assert.rejects(me.judgedAt(() => rich).withdraw(ETH, ONE), (e: unknown) => {
      assert.ok(e instanceof RuntimeError && e.code === 'REFUSAL_UNCONFIRMED', String(e))
      assert.equal(e.details?.refusal, 'BALANCE_INSUFFICIENT')
      return true
    })
    // A block the node does not have (we read a head it lacks: it is behind): not the chain's word either.
    await assert.rejects(me.judgedAt(() => `0x${'ab'.repeat(32)}`).withdraw(ETH, ONE), { code: 'REFUSAL_UNCONFIRMED' })
    // Refused on the block we acted on as well: final.
    const now = (await anvil.provider.getBlock('latest'))!.hash!
    await assert.rejects(me.judgedAt(() => now).withdraw(ETH, ONE), (e: unknown) => e instanceof ProtocolError && e.code === 'BALANCE_INSUFFICIENT')
    await assert.rejects(me.judgedAt(() => undefined).withdraw(ETH, ONE), { code: 'BALANCE_INSUFFICIENT' })
  })

  test('an unreachable node is a RuntimeError', async () => {
    const dead = new JsonRpcProvider('http://127.0.0.1:9', 31337, { staticNetwork: true })
    await assert.rejects(stack.manager.connect(dead).balanceOf(ETH, ETH), (e: unknown) => e instanceof RuntimeError && e.code === 'RPC_FAILED')
    dead.destroy()
  })
})

describe('RpcStateMachine', () => {
  test('runs the deployed machine and decodes its custom errors', async () => {
    const m = new RpcStateMachine(stack.machines.payments, anvil.provider)
    const s0 = await m.initialState([ONE, ONE], '0x')
    assert.equal(await m.nextActor(s0), 0)
    assert.equal(await m.isTerminal(s0), false)
    const s1 = await m.transition(s0, 0, '0x', 1n)
    assert.equal(await m.nextActor(s1), 1)
    await assert.rejects(m.transition(s1, 0, '0x', 1n), (e: unknown) => {
      assert.ok(e instanceof ProtocolError && e.code === 'MACHINE_REVERTED')
      assert.equal(e.details?.error, 'MachineNotYourTurn')
      assert.deepEqual(e.details?.args, { actor: 0n, expected: 1n })
      return true
    })
    const pay = abi.encode(['uint16', 'uint256'], [0, 2n * ONE]) as Hex
    await assert.rejects(m.transition(s1, 1, pay, 1n), (e: unknown) => {
      assert.ok(e instanceof ProtocolError && e.code === 'MACHINE_REVERTED')
      assert.equal(e.details?.error, 'PaymentsInsufficientBalance')
      assert.deepEqual(e.details?.args, { from: 1n, balance: ONE, amount: 2n * ONE })
      return true
    })
    const tiny = new RpcStateMachine(stack.machines.payments, anvil.provider, { gasCap: 100n })
    await assert.rejects(tiny.transition(s0, 0, '0x', 1n), { code: 'MACHINE_OUT_OF_GAS' })
  })
})

describe('fundShare: each participant funds its share in order', () => {
  test('out of order refused, a partly funded share topped up, a funded one left, then the open takes no balance', async () => {
    const p = params(stack.machines.counter)
    const id = hasher.channelId(p)
    await assert.rejects(stack.manager.connect(users[1]!).fundShare(p, 1), (e: unknown) => e instanceof UsageError && e.code === 'FUNDING_ORDER')
    await assert.rejects(stack.manager.connect(users[0]!).fundShare(p, 3), (e: unknown) => e instanceof UsageError && e.code === 'PARTICIPANT_INDEX_INVALID')
    // A griefer funds 1 wei first: participant 0's share is then 1 wei funded, and it funds the rest.
    await stack.manager.connect(anvil.wallets[0]!).fund(id, ETH, 0n, 1n)
    const sent: bigint[] = []
    const first = await stack.manager.connect(users[0]!).fundShare(p, 0, { onSend: (a) => sent.push(a) })
    assert.ok(first)
    assert.deepEqual(sent, [ONE - 1n], 'onSend hears the rest of the share, just before sending')
    assert.deepEqual(await stack.manager.funding(id), { held: ONE, asset: ETH, setAside: 0n, setAsideAsset: ETH })
    // Someone funds participant 1's share for it: nothing left for participant 1 to send.
    await stack.manager.connect(anvil.wallets[0]!).fund(id, ETH, ONE, ONE)
    assert.equal(await stack.manager.connect(users[1]!).fundShare(p, 1, { onSend: (a) => sent.push(a) }), undefined)
    assert.equal(sent.length, 1, 'nothing sent, nothing heard')
    await stack.manager.connect(users[2]!).fundShare(p, 2)
    assert.deepEqual(await stack.manager.funding(id), { held: 3n * ONE, asset: ETH, setAside: 0n, setAsideAsset: ETH })
    const opened = await stack.manager.open(p, users.map((w) => signOpenConsent(w.signingKey, hasher, p)))
    assert.equal(opened.channelId, id)
    for (const w of users) assert.equal(await stack.manager.balanceOf(w.address.toLowerCase() as Hex, ETH), 0n)
  })

  test('a channel funded in another asset: FUNDING_ASSET_MISMATCH, nothing sent', async () => {
    const p = params(stack.machines.counter)
    const id = hasher.channelId(p)
    await stack.mintAndApprove(anvil.wallets[0]!, 5n)
    await stack.manager.connect(anvil.wallets[0]!).fund(id, stack.token.address, 0n, 5n)
    await assert.rejects(stack.manager.connect(users[0]!).fundShare(p, 0), (e: unknown) => e instanceof UsageError && e.code === 'FUNDING_ASSET_MISMATCH')
  })

  test('reclaim before the consents expire: FUNDS_IN_USE (decoded from the contract)', async () => {
    const p = params(stack.machines.counter)
    await stack.manager.connect(users[0]!).fundShare(p, 0)
    await assert.rejects(stack.manager.reclaim(p), (e: unknown) => e instanceof ProtocolError && e.code === 'FUNDS_IN_USE')
  })
})
