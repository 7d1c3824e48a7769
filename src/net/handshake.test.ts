/** Identity binding, as pure functions: who the proof accepts and what it refuses. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Wallet } from 'ethers'
import type { Hex } from '../protocol/types.js'
import { ProtocolError } from '../errors/ParleyError.js'
import { DecodeError } from './errors.js'
import { createHandshake, handshakeDigest, verifyHandshake, type HandshakeContext } from './handshake.js'
import { channelTopic } from './topic.js'

const wallets = [0, 1, 2].map(() => Wallet.createRandom())
const participants = wallets.map((w) => w.address.toLowerCase() as Hex)
const channelId = `0x${randomBytes(32).toString('hex')}` as Hex
const aliceKey = randomBytes(32)
const bobKey = randomBytes(32)
const hash = randomBytes(64)
/** Alice (index 0) proves herself to Bob (index 1). */
const ctx: HandshakeContext = { channelId, signerKey: aliceKey, verifierKey: bobKey, handshakeHash: hash }
const asBob = { ...ctx, participants, me: 1 }

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof ProtocolError, String(e))
    return e.code
  }
  return 'ACCEPTED'
}

describe('net handshake', () => {
  it('accepts a participant proving its own index over this connection', () => {
    assert.equal(verifyHandshake(createHandshake(wallets[0]!.signingKey, 0, ctx), asBob), 0)
    assert.equal(verifyHandshake(createHandshake(wallets[2]!.signingKey, 2, ctx), asBob), 2)
  })

  it('refuses a proof replayed on another channel, connection or towards another peer', () => {
    const proof = createHandshake(wallets[0]!.signingKey, 0, ctx)
    assert.equal(code(() => verifyHandshake(proof, { ...asBob, channelId: `0x${randomBytes(32).toString('hex')}` })), 'PEER_NOT_PARTICIPANT')
    assert.equal(code(() => verifyHandshake(proof, { ...asBob, handshakeHash: randomBytes(64) })), 'PEER_NOT_PARTICIPANT')
    assert.equal(code(() => verifyHandshake(proof, { ...asBob, verifierKey: randomBytes(32) })), 'PEER_NOT_PARTICIPANT')
    // the keys are ordered (signer, verifier): a proof cannot be reflected back at its author
    assert.equal(code(() => verifyHandshake(proof, { ...asBob, signerKey: bobKey, verifierKey: aliceKey })), 'PEER_NOT_PARTICIPANT')
  })

  it('refuses impostors, strangers, our own index and bad versions', () => {
    // participant 2 claims to be participant 0
    assert.equal(code(() => verifyHandshake(createHandshake(wallets[2]!.signingKey, 0, ctx), asBob)), 'HANDSHAKE_INVALID')
    // a stranger claims index 0
    assert.equal(code(() => verifyHandshake(createHandshake(Wallet.createRandom().signingKey, 0, ctx), asBob)), 'PEER_NOT_PARTICIPANT')
    assert.equal(code(() => verifyHandshake(createHandshake(wallets[0]!.signingKey, 3, ctx), asBob)), 'PEER_NOT_PARTICIPANT')
    assert.equal(code(() => verifyHandshake(createHandshake(wallets[1]!.signingKey, 1, ctx), asBob)), 'HANDSHAKE_INVALID')
    const v2 = Buffer.from(createHandshake(wallets[0]!.signingKey, 0, ctx))
    v2[0] = 2
    assert.equal(code(() => verifyHandshake(v2, asBob)), 'HANDSHAKE_INVALID')
    const badSig = Buffer.from(createHandshake(wallets[0]!.signingKey, 0, ctx))
    badSig[badSig.length - 1] = 30 // v ∉ {27, 28}
    assert.equal(code(() => verifyHandshake(badSig, asBob)), 'HANDSHAKE_INVALID')
    assert.throws(() => verifyHandshake(badSig.subarray(0, 10), asBob), DecodeError)
  })

  it('signs an EIP-191 message that a wallet produces with signMessage', async () => {
    const inner = handshakeDigest(ctx)
    const { keccak256, concat, toUtf8Bytes, hashMessage, getBytes } = await import('ethers')
    const payload = keccak256(concat([toUtf8Bytes('parley/net/handshake/v1'), channelId, aliceKey, bobKey, hash]))
    assert.equal(inner, hashMessage(getBytes(payload)))
    const sig = await wallets[0]!.signMessage(getBytes(payload))
    assert.equal(createHandshake(wallets[0]!.signingKey, 0, ctx).subarray(3).toString(), Buffer.from(sig.slice(2), 'hex').toString())
  })

  it('derives a distinct 32-byte topic per channel', () => {
    assert.equal(channelTopic(channelId).length, 32)
    assert.deepEqual(channelTopic(channelId), channelTopic(channelId.toUpperCase().replace('0X', '0x') as Hex))
    assert.notDeepEqual(channelTopic(channelId), channelTopic(`0x${randomBytes(32).toString('hex')}`))
  })
})
