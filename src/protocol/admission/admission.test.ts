/**
 * The admission reference without a chain: the contract's order of checks where two rules
 * would both refuse (a malleable s before a bad v; an earlier entry's signature before a later
 * entry's link; data before timestamps), and the timeout's posting window bound. The contract
 * itself is held to this reference on anvil by test/differential.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SigningKey, computeAddress } from 'ethers'
import { hashState, ParleyHasher } from '../eip712.js'
import { packSignatures, signDigest } from '../signatures.js'
import { MAX_DATA_BYTES, Phase, type Hex, type PackedSignedTransaction, type Transaction } from '../types.js'
import { admission, signaturesVerdict, type ChainFacts, type MachineCalls } from './index.js'

const keys = [1, 2, 3].map((i) => new SigningKey(`0x${i.toString(16).padStart(64, '0')}`))
const participants = keys.map((k) => computeAddress(k.publicKey).toLowerCase() as Hex)
const hasher = new ParleyHasher({ chainId: 31337n, verifyingContract: `0x${'ab'.repeat(20)}` })
const channelId = `0x${'01'.repeat(32)}` as Hex
const genesis = '0x00' as Hex
const T0 = 1_000n

const facts = (over: Partial<ChainFacts> = {}): ChainFacts => ({
  channelId, participants, phase: Phase.Open, fork: 0n, active: 0b111n, slashed: 0n, genesisStateHash: hashState(genesis), genesisTimestamp: T0,
  latestSeq: 0n, agreementTime: 30, challengeTime: 300n, postingWindow: 210n, locked: 3n, blockTime: T0 + 500n, digest: (t) => hasher.transaction(t), ...over,
})

const tx = (seq: bigint, actor: number, over: Partial<Transaction> = {}): Transaction => ({
  channelId, fork: 0n, seq, timestamp: T0 + seq, actor, previousStateHash: hashState(`0x0${seq - 1n}`), data: '0x', stateHash: hashState(`0x0${seq}`), ...over,
})
const signed = (t: Transaction, who: number[]): PackedSignedTransaction => ({
  transaction: t, ...packSignatures(new Map(who.map((i) => [i, signDigest(keys[i]!, hasher.transaction(t))]))),
})
/** s → n − s with v flipped: the malleable twin; then v set to `v`. */
function twin(sig: Hex, v?: number): Hex {
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
  const s = BigInt(`0x${sig.slice(66, 130)}`)
  const flipped = sig.slice(130) === '1b' ? '1c' : '1b'
  return `${sig.slice(0, 66)}${(n - s).toString(16).padStart(64, '0')}${v === undefined ? flipped : v.toString(16).padStart(2, '0')}` as Hex
}

const machine: MachineCalls = {
  nextActor: async () => ({ ok: true, value: 2 }),
  isTerminal: async () => ({ ok: true, value: false }),
  transition: async () => ({ ok: false, error: 'MachineCallFailed' }),
  onRemove: async (s) => ({ ok: true, value: s }),
  outcome: async () => ({ ok: true, value: [1n, 1n, 1n] }),
}

test('signatures: a malleable s is reported before a bad v, as the contract checks s first', () => {
  const digest = hasher.transaction(tx(1n, 0))
  const sig = signDigest(keys[0]!, digest)
  assert.equal(signaturesVerdict(digest, participants, 0b1n, sig), 'ok')
  assert.equal(signaturesVerdict(digest, participants, 0b1n, twin(sig, 29)), 'SignatureMalleable')
  assert.equal(signaturesVerdict(digest, participants, 0b1n, `${sig.slice(0, 130)}1d` as Hex), 'SignatureInvalid')
  assert.equal(signaturesVerdict(digest, participants, 0b1000n, sig), 'SignerIndexOutOfRange')
  assert.equal(signaturesVerdict(digest, participants, 0b11n, sig), 'SignaturesLengthInvalid')
  const other = signDigest(keys[1]!, digest)
  assert.equal(signaturesVerdict(digest, participants, 0b1n, other), 'SignerMismatch')
  assert.equal(signaturesVerdict(digest, participants, 0b11n, `${other}${other.slice(2)}` as Hex), 'SignatureDuplicate')
  assert.equal(signaturesVerdict(digest, participants, 0b1n, signDigest(new SigningKey(`0x${'09'.repeat(32)}`), digest)), 'SignerNotParticipant')
})

test('lists: an earlier entry’s bad signature is reported before a later entry’s broken link, data before time', async () => {
  const a = signed(tx(1n, 0, { previousStateHash: hashState(genesis) }), [0, 1])
  const b = signed(tx(2n, 1, { previousStateHash: a.transaction.stateHash }), [1, 2])
  const ok = await admission(facts(), { point: 'verifyFinalityProof', args: { participants, proof: [a, b] } }, machine)
  assert.equal(ok, 'ok')
  const badSig = { ...a, signatures: `${a.signatures.slice(0, 130)}1d${a.signatures.slice(132)}` as Hex }
  const unlinked = { ...b, transaction: { ...b.transaction, previousStateHash: hashState('0x99') } }
  assert.equal(await admission(facts(), { point: 'verifyFinalityProof', args: { participants, proof: [badSig, unlinked] } }, machine), 'SignatureInvalid')
  const big = signed({ ...a.transaction, data: `0x${'00'.repeat(MAX_DATA_BYTES + 1)}`, timestamp: T0 - 1n }, [0, 1])
  assert.equal(await admission(facts(), { point: 'verifyFinalityProof', args: { participants, proof: [big, b] } }, machine), 'ProofDataTooLarge')
})

test('timeouts: due strictly after the candidate’s posting deadline', async () => {
  const a = signed(tx(1n, 0, { previousStateHash: hashState(genesis), stateHash: hashState('0x01') }), [0])
  const call = { point: 'disputeTimeout' as const, args: { caller: { index: 0, address: participants[0]! }, participants, txs: [a], state: '0x01' as Hex } }
  const deadline = a.transaction.timestamp + 210n
  assert.equal(await admission(facts({ blockTime: deadline }), call, machine), 'DisputeTooEarly')
  assert.equal(await admission(facts({ blockTime: deadline + 1n }), call, machine), 'ok')
  assert.equal(await admission(facts({ blockTime: deadline + 1n, latestSeq: 2n }), call, machine), 'DisputeStale')
  const self = { ...call, args: { ...call.args, caller: { index: 2, address: participants[2]! } } }
  assert.equal(await admission(facts({ blockTime: deadline + 1n }), self, machine), 'DisputerNotSigned')
})

test('session keys: the member list is participants ‖ signers; list entries must be signed by the signers, not the accounts', async () => {
  const sessions = [7, 8, 9].map((i) => new SigningKey(`0x${i.toString(16).padStart(64, '0')}`))
  const members = [...participants, ...sessions.map((k) => computeAddress(k.publicKey).toLowerCase() as Hex)]
  const f = facts({ participants: members, n: 3 })
  const by = (t: Transaction, ks: SigningKey[], who: number[]): PackedSignedTransaction => ({
    transaction: t, ...packSignatures(new Map(who.map((i) => [i, signDigest(ks[i]!, hasher.transaction(t))]))),
  })
  const t = tx(1n, 0, { previousStateHash: hashState(genesis) })
  const call = (proof: PackedSignedTransaction[], list = members) => ({ point: 'verifyFinalityProof' as const, args: { participants: list, proof } })
  assert.equal(await admission(f, call([by(t, sessions, [0, 1, 2])]), machine), 'ok')
  assert.equal(await admission(f, call([by(t, keys, [0, 1, 2])]), machine), 'SignerNotParticipant')
  assert.equal(await admission(f, call([by(t, sessions, [0, 1, 2])], participants), machine), 'ChannelParticipantsMismatch')
  // The outcome has n entries, not one per member.
  const a = by(tx(1n, 0, { previousStateHash: hashState(genesis), stateHash: hashState('0x01') }), sessions, [0])
  const timeout = { point: 'disputeTimeout' as const, args: { caller: { index: 0, address: participants[0]! }, participants: members, txs: [a], state: '0x01' as Hex } }
  assert.equal(await admission({ ...f, blockTime: a.transaction.timestamp + 211n }, timeout, machine), 'ok')
})
